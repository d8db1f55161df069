"""The contour brush (key E): edit a lesion's or the liver's contour, paint a resection (issue 16).

:class:`ContourEditor` is a collaborator of :class:`viewer.main_window.window.MainWindow`,
built the first time the brush is chosen (the window imports this module lazily).  With the
"Contour brush" tool, on an axial slice or a coronal or sagittal reformat (the main pane in any
plane, and the coronal and sagittal panes of the 2×2 layout):

- **left drag** paints into the contour, **right drag** (or Shift + left drag) erases; a click
  paints one dab.  The brush is a disc of the radius set in the "Contour brush" tool bar
  (Ctrl+wheel changes it; the circle under the mouse shows it in mm) on the shown plane — on a
  reformat one coronal (or sagittal) plane of voxels, round in millimetres although slices are
  thicker than pixels — or, with "3D", a ball of that radius in millimetres.
- **What is edited** (the tool bar's "Edit" box): the *lesion contour* of a Smart caliper
  measurement of the current timepoint on this series — the one under the brush, else the
  lesion selected in the lesion table / Next caliper bar; the *liver* of the liver volumetry
  panel; or the *resected region* painted for a virtual resection.
- **On release** a lesion's edited mask is measured again
  (``app.segmentation.editing.edited_measurement``: RECIST long axis on the slice where it is
  longest and its perpendicular, volume, mean/SD HU) and stored with the caliper recomputed
  from it (``ReadingSession.record_contour_edit``: one audited, undoable "Edit contour"; a
  size change beyond the plausible factor asks first, like a moved caliper).  The liver and
  the painted resection go to the volumetry panel, whose figures (total, resected, remnant,
  FLR) are recomputed.
- **Ctrl+Z** undoes a lesion stroke through the session's undo stack; a liver or resection
  stroke (not stored until "Send to conversion record") is undone here, one stroke at a time
  (up to :data:`LOCAL_UNDO_DEPTH`), and **Ctrl+Shift+Z** / **Ctrl+Y** redoes it (a new stroke
  forgets what was undone).

The contour is outlined as it is painted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QToolBar,
)

from app.segmentation.editing import (
    MAX_RADIUS_MM,
    MIN_RADIUS_MM,
    PLANE_AXIS,
    Box,
    copy_box,
    distance_in_plane,
    in_plane,
    paint,
)
from viewer.errors import report_error
from viewer.image.brush import BrushCursor, BrushInput
from viewer.image.contours import Contour

#: What the brush edits.
TARGETS = {"lesion": "Lesion contour", "liver": "Liver", "resected": "Resected region"}
#: Default brush radius (mm) and the change per Ctrl+wheel notch.
DEFAULT_RADIUS_MM, RADIUS_STEP_MM = 5.0, 0.5
#: How many liver or resection strokes can be undone (and redone).
LOCAL_UNDO_DEPTH = 20
#: Colour of a contour while it is being painted.
LIVE_RGBA = (255, 230, 80, 230)


class _Stroke:
    """One drag: what is painted, the working mask, its plane and where the mouse went.

    ``axis`` is the voxel axis normal to the plane painted (0 axial, 1 coronal, 2 sagittal),
    ``plane_index`` the plane's index along it, ``slice_index`` the axial slice of the press.
    """

    def __init__(
        self,
        target: str,
        box: Box,
        erase: bool,
        at: tuple[int, int, int],
        others: list[Contour],
        view: Any = None,
    ) -> None:
        self.target, self.box, self.erase = target, box, erase
        self.axis, self.plane_index, self.slice_index = at
        self.view = view
        self.others = others
        self.last: tuple[float, float] | None = None
        self.measurement: Any = None
        self.segmentation: Any = None
        self.saved_contours: list[Contour] = []


class ContourEditor:
    """The contour brush of the main window (see the module docstring).

    Parameters
    ----------
    window : MainWindow
        Its ``session``, ``viewer``, ``calipers``, ``smart_caliper``, ``volumetry``,
        ``lesion_table``, ``tool_actions`` and ``amendment_reason`` are used.
    """

    def __init__(self, window: Any) -> None:
        self.window: Any = window
        self.session, self.viewer = window.session, window.viewer
        self.target = "lesion"
        self.stroke: _Stroke | None = None
        self.last_message = ""
        self.local_undo: list[tuple[str, Any]] = []
        self.local_redo: list[tuple[str, Any]] = []
        self.toolbar = QToolBar("Contour brush")
        self.toolbar.setObjectName("contourBrushBar")
        self.target_box = QComboBox()
        self.target_box.setObjectName("brushTarget")
        for key, text in TARGETS.items():
            self.target_box.addItem(text, key)
        self.target_box.setToolTip("What the brush edits")
        self.target_box.currentIndexChanged.connect(self._on_target_chosen)
        self.radius_box = QDoubleSpinBox()
        self.radius_box.setObjectName("brushRadius")
        self.radius_box.setRange(MIN_RADIUS_MM, MAX_RADIUS_MM)
        self.radius_box.setSingleStep(RADIUS_STEP_MM)
        self.radius_box.setDecimals(1)
        self.radius_box.setSuffix(" mm")
        self.radius_box.setValue(DEFAULT_RADIUS_MM)
        self.radius_box.setToolTip("Brush radius (Ctrl+wheel on the image)")
        self.radius_box.valueChanged.connect(self._on_radius_changed)
        self.sphere_box = QCheckBox("3D")
        self.sphere_box.setObjectName("brush3d")
        self.sphere_box.setToolTip(
            "3D: the brush is a ball and also paints the neighbouring slices within its "
            "radius; otherwise only the shown slice"
        )
        self.toolbar.addWidget(QLabel(" Edit "))
        self.toolbar.addWidget(self.target_box)
        self.toolbar.addWidget(QLabel(" Radius "))
        self.toolbar.addWidget(self.radius_box)
        self.toolbar.addWidget(self.sphere_box)
        hint = QLabel("  drag paints · right or Shift+drag erases · Ctrl+Z undoes a stroke")
        hint.setObjectName("brushHint")
        self.toolbar.addWidget(hint)
        self.panes: dict[Any, tuple[BrushInput, BrushCursor]] = {}
        self.input, self.cursor = self._attach(self.viewer)
        layout = getattr(window, "layout_view", None)
        if layout is not None:
            layout.layout_changed.connect(lambda *_: self._attach_reformats())
            self._attach_reformats()
        self.action = window.tool_actions["brush"]
        window.addToolBarBreak()
        window.addToolBar(self.toolbar)
        if not window.isVisible():
            # built while the window restores its settings (the brush was the last tool):
            # Qt re-applies the state restored before the first show, which did not have this
            # tool bar and would leave it outside every area; restore it with the tool bar
            window.restoreState(window.saveState())
        self.action.toggled.connect(self._on_tool_toggled)
        self.session.patient_opened.connect(lambda *_: self._forget())
        self.session.commands.changed.connect(self._on_commands_changed)
        self._on_tool_toggled(self.action.isChecked())

    def _attach(self, view: Any) -> tuple[BrushInput, BrushCursor]:
        if view not in self.panes:
            self.panes[view] = (BrushInput(view, self), BrushCursor(view.view_box))
        return self.panes[view]

    def _attach_reformats(self) -> None:
        """The brush on the coronal and sagittal panes too once the 2×2 layout built them."""
        layout = self.window.layout_view
        if layout.layout_name == "2x2":
            for view in layout.planes:
                self._attach(view)

    def _hide_cursors(self, but: Any = None) -> None:
        for view, (_, cursor) in self.panes.items():
            if view is not but:
                cursor.hide()

    # -- settings ----------------------------------------------------------------------
    @property
    def radius_mm(self) -> float:
        """The brush radius in millimetres."""
        return float(self.radius_box.value())

    @property
    def sphere(self) -> bool:
        """True when the brush is a 3-D ball."""
        return bool(self.sphere_box.isChecked())

    def set_target(self, target: str) -> None:
        """Edit ``target`` (``lesion``, ``liver`` or ``resected``) and choose the brush tool."""
        if target not in TARGETS:
            raise ValueError(f"unknown brush target {target!r}; expected one of {list(TARGETS)}")
        self.target_box.setCurrentIndex(list(TARGETS).index(target))
        set_tool = getattr(self.window, "set_tool", None)
        if callable(set_tool):
            set_tool("brush")
        self._say(self._target_hint())

    def _on_commands_changed(self) -> None:
        bar = self.window.statusBar()
        if bar.currentMessage().startswith("Contour brush: "):
            bar.clearMessage()  # an undo or redo: the figures of the last stroke are stale
        self._sync_undo()

    def _on_target_chosen(self, index: int) -> None:
        self.target = str(self.target_box.itemData(index))
        self._sync_undo()

    def _local_applies(self, stack: list[tuple[str, Any]]) -> bool:
        return (
            self.viewer.tool == "brush"
            and self.target != "lesion"
            and bool(stack)
            and self.window.volumetry.liver is not None
        )

    def _local_undo_applies(self) -> bool:
        return self._local_applies(self.local_undo)

    def _sync_undo(self) -> None:
        """Edit → Undo / Redo undo and redo a liver or resection stroke while the brush is on
        them (the session's own undo and redo otherwise)."""
        self.window._on_commands_changed()  # noqa: SLF001 - the session's own state
        if self.viewer.tool != "brush" or self.target == "lesion":
            return
        for action, stack, verb, keys in (
            (self.window.undo_action, self.local_undo, "Undo", "Ctrl+Z"),
            (self.window.redo_action, self.local_redo, "Redo", "Ctrl+Shift+Z"),
        ):
            if self._local_applies(stack):
                action.setEnabled(True)
                action.setText(f"{verb} brush stroke")
                action.setToolTip(f"{verb} brush stroke ({keys})")

    def _target_hint(self) -> str:
        return {
            "lesion": "Contour brush: drag on a Smart caliper contour to add to it; right-drag "
            "or Shift+drag erases. The caliper follows the contour.",
            "liver": "Contour brush: drag to add to the liver; right-drag or Shift+drag erases.",
            "resected": "Contour brush: paint what will be resected; right-drag or Shift+drag "
            "erases. The FLR follows.",
        }[self.target]

    def _on_tool_toggled(self, on: bool) -> None:
        # once shown, the bar stays (greyed out while another tool is on): hiding it moved the
        # whole window content up by its height, so the image jumped under the cursor at
        # every E, and a stroke began where the contour no longer was
        self.toolbar.setVisible(True)
        self.toolbar.setEnabled(on)
        self._sync_undo()
        if not on:
            self._hide_cursors()
            self._cancel_stroke()
        else:
            if self.target != "lesion" and getattr(self.window.volumetry, "liver", None) is None:
                self.target_box.setCurrentIndex(0)

    def _forget(self) -> None:
        self._cancel_stroke()
        self.local_undo.clear()
        self.local_redo.clear()
        self._sync_undo()

    # -- BrushHandler --------------------------------------------------------------------
    def brush_active(self, view: Any) -> bool:
        """True while the brush tool is chosen and ``view`` shows the series (any plane)."""
        return (
            view.tool == "brush"
            and view.volume is not None
            and view.volume is self.viewer.volume
            and view.orientation in PLANE_AXIS
        )

    def brush_hover(self, view: Any, x: float, y: float, erase: bool) -> None:
        """Move the circle to the mouse (in ``view``; the other panes show none)."""
        erase = erase or (self.stroke is not None and self.stroke.erase)
        viewport = view.graphics_view.viewport()
        if viewport.cursor().shape() != Qt.CursorShape.CrossCursor:
            viewport.setCursor(Qt.CursorShape.CrossCursor)  # the centre of the circle
        self._hide_cursors(but=view)
        self._attach(view)[1].show_at(x, y, self.radius_mm, view.pixel_mm, erase)

    def _on_radius_changed(self, radius_mm: float) -> None:
        """The circle shows the new radius at once (it waited for the next mouse move)."""
        for _, cursor in self.panes.values():
            cursor.resize(float(radius_mm))

    def brush_leave(self, view: Any) -> None:
        """The mouse left the image: no circle."""
        if view in self.panes:
            self.panes[view][1].hide()

    def brush_wheel(self, view: Any, steps: int) -> None:
        """Ctrl+wheel: a larger (away from the reader) or smaller brush."""
        self.radius_box.setValue(self.radius_mm + steps * RADIUS_STEP_MM)
        self._say(f"Contour brush: radius {self.radius_mm:g} mm.")

    def brush_press(self, view: Any, x: float, y: float, erase: bool) -> bool:
        """Start a stroke at display point ``(x, y)`` of ``view``; False (reason said) if
        nothing to edit there."""
        volume = view.volume
        index = tuple(float(v) for v in view.display_to_index(x, y))
        axis = PLANE_AXIS[view.orientation]
        try:
            stroke = self._start(volume, axis, (index[0], index[1], index[2]), erase)
        except Exception as exc:  # noqa: BLE001 - shown to the reader
            report_error(self.window, "Could not start the brush stroke", exc)
            return False
        if stroke is None:
            return False
        stroke.view = view
        self.stroke = stroke
        self._paint_to(in_plane(index, axis))
        return True

    def brush_move(self, view: Any, x: float, y: float) -> None:
        """Extend the stroke to display point ``(x, y)``."""
        stroke = self.stroke
        if stroke is None or view is not stroke.view:
            return
        self._paint_to(in_plane(view.display_to_index(x, y), stroke.axis))

    def brush_release(self, view: Any) -> None:
        """End the stroke: store the lesion edit, or hand the liver / resection to the panel."""
        stroke, self.stroke = self.stroke, None
        if stroke is None:
            return
        self.viewer.set_contours(stroke.saved_contours)
        try:
            if stroke.target == "lesion":
                self._store_lesion(stroke)
            elif stroke.target == "liver":
                self._store_liver(stroke)
            else:
                self._store_resected(stroke)
        except Exception as exc:  # noqa: BLE001 - shown to the reader
            self._redraw()
            report_error(self.window, "Could not store the edited contour", exc)

    # -- strokes -------------------------------------------------------------------------
    def _start(
        self, volume: Any, axis: int, index: tuple[float, float, float], erase: bool
    ) -> _Stroke | None:
        contours = list(self.viewer.contours)
        k, r, c = (int(round(v)) for v in index)
        plane_index = (k, r, c)[axis]
        at = (axis, plane_index, k)
        if self.target == "lesion":
            found = self._lesion_at(volume, axis, plane_index, in_plane(index, axis))
            if found is None:
                self._say(
                    "Contour brush: no Smart caliper contour here — measure the lesion with the "
                    "Smart caliper (M) first, or select it in the lesion table."
                )
                return None
            m, seg = found
            box = copy_box(seg.mask.offset, seg.mask.mask)
            others = [c_ for c_ in contours if not _same(c_, seg.mask.offset, seg.mask.mask)]
            stroke = _Stroke("lesion", box, erase, at, others)
            stroke.measurement, stroke.segmentation = m, seg
        else:
            panel = self.window.volumetry
            if panel.liver is None or panel.volume is not volume:
                self._say("Contour brush: segment the liver in Tools → Liver volumetry first.")
                return None
            mine = panel.shown_contours()
            if self.target == "liver":
                box = Box((0, 0, 0), np.array(panel.liver.region.mask, dtype=bool))
                others = [c_ for c_ in contours if not any(c_ is m_ for m_ in mine)]
            else:
                painted = panel.painted
                box = (
                    copy_box(painted.offset, painted.mask)
                    if painted is not None
                    else Box((k, r, c), np.zeros((0, 0, 0), dtype=bool))
                )
                others = contours
            stroke = _Stroke(self.target, box, erase, at, others)
        stroke.saved_contours = contours
        return stroke

    def _paint_to(self, point: tuple[float, float]) -> None:
        """Paint from the last point of the stroke to in-plane voxel ``point``."""
        stroke = self.stroke
        if stroke is None:
            return
        volume = self.viewer.volume
        spacing = _spacing(volume)
        points = [point] if stroke.last is None else [stroke.last, point]
        stroke.box = paint(
            stroke.box,
            stroke.plane_index,
            points,
            self.radius_mm,
            spacing,
            _shape(volume),
            sphere=self.sphere,
            erase=stroke.erase,
            axis=stroke.axis,
        )
        stroke.last = point
        rgba = (255, 160, 40, 230) if stroke.target == "resected" else LIVE_RGBA
        live = Contour(stroke.box.offset, stroke.box.mask, rgba)
        self.viewer.set_contours([*stroke.others, live])

    def _edit_record(self, stroke: _Stroke, added: int, removed: int) -> dict[str, Any]:
        return {
            "radius_mm": round(self.radius_mm, 2),
            "brush": "3D" if self.sphere else "2D",
            "erase": stroke.erase,
            "plane": {v: k for k, v in PLANE_AXIS.items()}[stroke.axis],
            "plane_index": stroke.plane_index,
            "slice_index": stroke.slice_index,
            "added_voxels": added,
            "removed_voxels": removed,
        }

    def _store_lesion(self, stroke: _Stroke, confirmed: bool = False) -> None:
        from app.segmentation.editing import changed_voxels, edited_measurement
        from viewer.image.calipers import field_of_view_mm
        from viewer.main_window.caliper_actions import needs_confirmation

        seg, m = stroke.segmentation, stroke.measurement
        before = Box(seg.mask.offset, seg.mask.mask)
        added, removed = changed_voxels(before, stroke.box)
        if added == 0 and removed == 0:
            self._say("Contour brush: the contour did not change.")
            return
        volume = self.viewer.volume
        edit = self._edit_record(stroke, added, removed)
        edit["edited_segmentation_id"] = seg.id
        proposal = edited_measurement(
            volume,
            stroke.box,
            algorithm=seg.algorithm,
            algorithm_version=seg.algorithm_version,
            parameters=dict(seg.parameters),
            edit=edit,
            before=before,
            before_volume_ml=seg.volume_ml,
        )
        calipers = self.window.calipers
        try:
            self.session.record_contour_edit(
                m.id,
                proposal,
                proposal.geometry(volume),
                reason=self.window.amendment_reason,
                field_of_view_mm=field_of_view_mm(volume),
                confirmed=confirmed,
            )
        except Exception as exc:
            if needs_confirmation(exc) and not confirmed:
                calipers.ask_to_confirm(
                    exc, lambda: self._store_lesion(stroke, confirmed=True), self._redraw
                )
                return
            raise
        self._say(
            f"Contour brush: {proposal.long_axis_mm:.1f} × {proposal.short_axis_mm:.1f} mm, "
            f"{proposal.volume_ml:.2f} mL, {proposal.mean_hu:.0f} ± {proposal.sd_hu:.0f} HU "
            "— Ctrl+Z undoes the stroke."
        )

    def _store_liver(self, stroke: _Stroke) -> None:
        from app.segmentation.editing import changed_voxels

        panel = self.window.volumetry
        old = panel.liver.region.mask
        added, removed = changed_voxels(Box((0, 0, 0), old), stroke.box)
        if added == 0 and removed == 0:
            self._say("Contour brush: the liver did not change.")
            return
        self._push_local("liver", self._local_state("liver"))
        panel.set_liver_mask(stroke.box.mask, self._edit_record(stroke, added, removed))

    def _store_resected(self, stroke: _Stroke) -> None:
        panel = self.window.volumetry
        self._push_local("resected", self._local_state("resected"))
        panel.set_painted(stroke.box)

    def _local_state(self, kind: str) -> Any:
        """What an undo (or redo) of a ``kind`` stroke restores: the panel's state now."""
        panel = self.window.volumetry
        if kind == "resected":
            return panel.painted
        liver = panel.liver
        mask = liver.region.mask
        light = replace(liver, region=replace(liver.region, mask=np.zeros((0, 0, 0), dtype=bool)))
        return (np.packbits(mask, axis=None), mask.shape, light)

    def _restore_local(self, kind: str, state: Any) -> None:
        panel = self.window.volumetry
        if kind == "liver":
            packed, shape, light = state
            mask = np.unpackbits(packed, count=int(np.prod(shape))).reshape(shape).astype(bool)
            panel.restore_liver(replace(light, region=replace(light.region, mask=mask)))
        else:
            panel.set_painted(state)

    def _push_local(self, kind: str, state: Any) -> None:
        self.local_undo.append((kind, state))
        del self.local_undo[:-LOCAL_UNDO_DEPTH]
        self.local_redo.clear()  # a new stroke: what was undone cannot be redone
        self._sync_undo()

    def _step_local(self, source: list[tuple[str, Any]], target: list[tuple[str, Any]]) -> None:
        kind, state = source.pop()
        target.append((kind, self._local_state(kind)))
        del target[:-LOCAL_UNDO_DEPTH]
        self._restore_local(kind, state)

    def undo_local(self) -> bool:
        """Undo the last liver or resection stroke (brush on the liver or the resection).

        Returns False when Ctrl+Z is the session's (a lesion stroke, another edit).
        """
        if not self._local_undo_applies():
            return False
        self._step_local(self.local_undo, self.local_redo)
        self._say("Contour brush: stroke undone — Ctrl+Shift+Z redoes it.")
        self._sync_undo()
        return True

    def redo_local(self) -> bool:
        """Redo the last undone liver or resection stroke.

        Returns False when Ctrl+Shift+Z is the session's (nothing of the brush to redo).
        """
        if not self._local_applies(self.local_redo):
            return False
        self._step_local(self.local_redo, self.local_undo)
        self._say("Contour brush: stroke redone.")
        self._sync_undo()
        return True

    # -- lesion lookup -------------------------------------------------------------------
    def _lesion_at(
        self, volume: Any, axis: int, plane_index: int, point: tuple[float, float]
    ) -> tuple[Any, Any] | None:
        """The Smart caliper measurement and contour under the brush (on the plane
        ``plane_index`` normal to voxel ``axis``, at in-plane ``point``), else the selected one."""
        if self.session.patient is None or self.session.current_timepoint is None:
            return None
        uid = getattr(volume, "series_instance_uid", None)
        spacing = _spacing(volume)
        found: list[tuple[Any, Any]] = []
        for m in self.session.measurements():
            if getattr(m.method, "value", m.method) != "semi_auto" or m.id is None:
                continue
            seg = self.session.segmentation_for(m.id)
            if seg is not None and seg.series_instance_uid == uid:
                found.append((m, seg))
        best: tuple[float, tuple[Any, Any]] | None = None
        reach = self.radius_mm + max(s for i, s in enumerate(spacing) if i != axis)
        for m, seg in found:
            box = Box(tuple(seg.mask.offset), seg.mask.mask)
            d = distance_in_plane(box, axis, plane_index, point, spacing)
            if d is not None and d <= reach and (best is None or d < best[0]):
                best = (d, (m, seg))
        if best is not None:
            return best[1]
        selected = {self.window.lesion_table.selected_lesion_id()}
        choice = self.window.assign_bar.choice()
        selected.add(getattr(choice, "lesion_id", None))
        for m, seg in found:
            if m.lesion_id is not None and m.lesion_id in selected:
                return m, seg
        return None

    # -- helpers -------------------------------------------------------------------------
    def _cancel_stroke(self) -> None:
        if self.stroke is not None:
            self.viewer.set_contours(self.stroke.saved_contours)
            self.stroke = None

    def _redraw(self) -> None:
        self.window.smart_caliper.refresh_contours()
        self.window.volumetry.refresh_contours()

    def _say(self, text: str) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, 15000)


def _same(contour: Contour, offset: tuple[int, int, int], mask: np.ndarray) -> bool:
    return (
        tuple(contour.offset) == tuple(offset)
        and contour.mask.shape == mask.shape
        and bool(np.array_equal(contour.mask, mask))
    )


def _spacing(volume: Any) -> tuple[float, float, float]:
    s = volume.spacing_mm
    return float(s[0]), float(s[1]), float(s[2])


def _shape(volume: Any) -> tuple[int, int, int]:
    s = volume.voxels.shape
    return int(s[0]), int(s[1]), int(s[2])
