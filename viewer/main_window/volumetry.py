"""Liver volumetry and virtual resection in the main window (issue 16).

Tools → "Liver volumetry…" opens a dock (:class:`VolumetryPanel`):

1. **Seed.** "Click in the liver", then a click on the image (pointer tool) segments the
   liver off the GUI thread (:class:`viewer.image.compute.ComputeTask` running
   ``app.segmentation.measure_liver``) with a progress bar and Cancel; the liver is outlined
   on the axial slices.
2. **Cut.** "Draw cut line", then two clicks on an axial slice: the cut is the plane through
   that line, perpendicular to the axial plane (``app.segmentation.resection``).  Its ends can
   be dragged; "Swap resected side" chooses which side is removed.  The resected liver is
   outlined in orange, the remnant in green.
3. **Figures.** Total liver, tumour, resected volume and the future liver remnant as % of
   (total − tumour) (``app.segmentation.volumetry``).  Total and resected liver are voxels of
   their masks; the tumour is the lesions' own volumes (as stored with their measurements:
   the Smart caliper's, partial-volume corrected, the mL the lesion shows) of the lesion
   contours of the current timepoint on this series in or touching the liver, each split
   between the resection and the remnant as its contour's voxels are
   (``app.segmentation.resection.lesion_tumour_volume``); the row says what it counted.
   Or **paint** it: "Paint resected region" chooses the contour brush (key E,
   ``viewer.main_window.contour_edit``) on the resected region: what is painted inside the liver
   is resected (2-D or 3-D brush; right-drag erases); the cut plane is then not used.  "Edit
   liver (brush)" corrects the liver contour with the same brush.
4. **Send to conversion record** stores the liver with its virtual resection
   (``ReadingSession.record_liver_volumetry`` / ``record_virtual_resection``, audited; a
   painted resection's mask too, ``record_painted_resection``, with the ids of the lesion
   contours counted as tumour, so the FLR can be computed again from the database) and
   writes ``ReadingSession.measured_flr_percent()`` into the conversion record
   (``session.endpoints.save_conversion``, audited; a signed record asks for a reason).
5. **Reopening** the patient and the panel on the series of the stored liver shows the
   stored liver and its painted resection (or its cut line, stored with the figures) again
   (``ReadingSession.liver_volumetry`` / ``painted_resection``), with their figures, ready to
   be edited further.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.errors import report_error
from viewer.image.compute import ComputeTask
from viewer.image.contours import Contour
from viewer.main_window.smart_caliper import contour_signals

#: Outline colours of the remnant and of the resected liver.
REMNANT_RGBA = (80, 220, 120, 230)
RESECTED_RGBA = (255, 160, 40, 230)
#: Pen of the cut line.
CUT_PEN = (255, 220, 0)

#: What the tumour volume is (its row's tooltip).
TUMOUR_TIP = (
    "The lesions' own volumes, as stored with their measurements (the Smart caliper's "
    "volume, partial-volume corrected: the mL the lesion's measurement shows), of this "
    "timepoint's lesion contours on this series that lie in or touch the liver. Each lesion "
    "is split between the resection and the remnant as its contour's voxels are. A lesion "
    "without a stored volume counts its contour's voxels."
)
TUMOUR_VOXELS_TIP = (
    "The voxels of the lesion contours inside the liver, counted as the liver is (these "
    "contours have no stored volume). A partial-volume corrected volume would count their "
    "blurred rim by fraction and can be larger."
)
#: What the other figures are.
FIGURE_TIPS = {
    "total_liver_ml": "The voxels of the liver contour, its tumours included.",
    "resected_ml": "The voxels of the liver inside the resection, tumour included.",
    "remnant_ml": "The voxels of the liver outside the resection, less the tumour there.",
    "flr_percent": "Future liver remnant: remnant / (total liver − tumour) × 100.",
}


def _segment(volume: Any, point_lps: tuple[float, float, float]) -> Callable[..., Any]:
    """The work of the seed click (Qt-free, ``app.segmentation``)."""

    def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
        from app.segmentation import measure_liver, seed_index
        from app.segmentation.measure import wait_until_loaded

        wait_until_loaded(volume, cancelled)  # unloaded slices are zeros, not tissue
        return measure_liver(
            volume, seed_index(volume, point_lps), progress=progress, cancelled=cancelled
        )

    return work


def _is_line(value: Any) -> bool:
    """True for ``[[row, column], [row, column]]`` of numbers (a stored cut line)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p)
            for p in value
        )
    )


def _spacing(volume: Any) -> tuple[float, float, float]:
    s = volume.spacing_mm
    return float(s[0]), float(s[1]), float(s[2])


class VolumetryPanel(QDockWidget):
    """The liver volumetry dock: seed, cut line, figures, hand-over of FLR %.

    Parameters
    ----------
    window : QMainWindow
        Hosts the dock; its ``set_tool`` (if any) selects the pointer for clicks.
    session : app.session.ReadingSession
        Lesion contours (tumour), storage of the volumetry and the conversion record.
    viewer : SeriesViewerWidget
        The image: ``position_picked`` clicks, contours, the cut line's view box.
    pool : QThreadPool, optional
        Where the segmentation runs (default: the global pool).
    """

    def __init__(
        self, window: QMainWindow, session: Any, viewer: Any, pool: QThreadPool | None = None
    ) -> None:
        super().__init__("Liver volumetry", window)
        self.setObjectName("volumetryDock")
        self.window_, self.session, self.viewer = window, session, viewer
        self._pool = pool or QThreadPool.globalInstance()
        self.mode = ""  # "seed", "cut" or ""
        self.task: ComputeTask | None = None
        self._task_volume: Any = None
        self._task_where: tuple[Any, Any] | None = None
        self.where: tuple[Any, Any] | None = None
        """(patient id, timepoint id) the liver shown was segmented or restored at."""
        self.volume: Any = None
        self.liver: Any = None  # app.segmentation.LiverSegmentation
        self.cut_points: list[tuple[float, float]] = []  # (row, column)
        self.flip = False
        self.painted: Any = None  # app.segmentation.editing.Box: the painted resection
        self.resection = "cut"  # how the resection is marked: "cut" (plane) or "paint"
        self.brush_target: Callable[[str], Any] | None = None  # set by the window
        self.result: Any = None  # app.segmentation.Volumetry
        self.stored_id: int | None = None
        self.last_message = ""
        self._contours: list[Contour] = []
        self._cut_item: Any = None
        self._all_mine: list[Contour] = []
        self._docked = False
        self._looked_up: tuple[Any, Any, str] | None = None  # (patient, timepoint, series)
        self._tumours: tuple[Any, ...] = ()  # the tumour key the figures were computed with

        body = QWidget()
        layout = QVBoxLayout(body)
        self.hint = QLabel("Click “Click in the liver”, then click inside the liver.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("volumetryHint")
        layout.addWidget(self.hint)
        self.seed_button = self._button("Click in the liver", "volumetrySeed", self.start_seed)
        self.progress = QProgressBar()
        self.progress.setObjectName("volumetryProgress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.cancel_button = self._button("Cancel", "volumetryCancel", self.cancel)
        self.cancel_button.setToolTip("Stop the liver segmentation (Esc)")
        # Esc while it segments: on only while the button shows (as the Smart caliper's)
        self.cancel_key = QAction("Cancel the liver segmentation", self.cancel_button)
        self.cancel_key.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_key.triggered.connect(lambda *_: self.cancel())
        self.cancel_button.addAction(self.cancel_key)
        self.cancel_button.hide()
        self.cut_button = self._button("Draw cut line", "volumetryCut", self.start_cut)
        self.swap_button = self._button("Swap resected side", "volumetrySwap", self.swap_side)
        self.paint_button = self._button(
            "Paint resected region", "volumetryPaint", lambda: self._brush("resected")
        )
        self.edit_button = self._button(
            "Edit liver (brush)", "volumetryEditLiver", lambda: self._brush("liver")
        )
        for w in (self.seed_button, self.progress, self.cancel_button):
            layout.addWidget(w)
        for w in (self.edit_button, self.cut_button, self.swap_button, self.paint_button):
            layout.addWidget(w)
        self.method_label = QLabel("")
        self.method_label.setObjectName("volumetryMethod")
        layout.addWidget(self.method_label)
        form = QFormLayout()
        self.labels: dict[str, QLabel] = {}
        self.row_labels: dict[str, QLabel] = {}  # the names of the rows (the tumour's says
        # what it counted)
        for key, text in (
            ("total_liver_ml", "Total liver"),
            ("tumour_ml", "Tumour"),
            ("resected_ml", "Resected"),
            ("remnant_ml", "Remnant"),
            ("flr_percent", "FLR % of (total − tumour)"),
        ):
            label = QLabel("—")
            label.setObjectName(f"volumetry_{key}")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.labels[key] = label
            name = QLabel(text)
            name.setObjectName(f"volumetry_{key}_name")
            self.row_labels[key] = name
            form.addRow(name, label)
        layout.addLayout(form)
        self.uncounted_label = QLabel("")
        self.uncounted_label.setObjectName("volumetryUncounted")
        self.uncounted_label.setWordWrap(True)
        layout.addWidget(self.uncounted_label)
        self.send_button = self._button(
            "Send to conversion record", "volumetrySend", self.send_to_conversion
        )
        layout.addWidget(self.send_button)
        layout.addStretch(1)
        self.setWidget(body)
        self._update_buttons()
        self.hide()

    def _button(self, text: str, name: str, slot: Callable[[], Any]) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.clicked.connect(lambda *_: slot())
        return b

    # -- wiring --------------------------------------------------------------------------
    def connect_signals(self) -> None:
        """Listen to clicks on the image and to what changes the contours shown."""
        self.viewer.position_picked.connect(self.on_picked)
        self.viewer.volume_changed.connect(self._on_volume_changed)
        self.viewer.slice_changed.connect(lambda *_: self._show_cut())
        for signal in contour_signals(self.session):
            # after the Smart caliper's contours are redrawn: add the liver again
            signal.connect(lambda *_: self._on_contours_changed())
        self.session.patient_opened.connect(lambda *_: self.reset())
        self.session.timepoint_selected.connect(lambda *_: self._on_timepoint_selected())

    def reset(self) -> None:
        """Forget the liver and the cut (another patient was opened)."""
        self.cancel(quiet=True)
        self.mode, self.volume, self.liver, self.result = "", None, None, None
        self.where = None
        self.cut_points, self.flip, self.stored_id = [], False, None
        self.painted, self.resection = None, "cut"
        self._looked_up = None
        self._remove_cut_item()
        self._contours = []
        self._show_contours()
        self._show_figures()
        self._update_buttons()
        if self.isVisible():  # the series may already be shown (opened with the patient)
            self.load_stored()

    def add_menu_action(self, menu: Any) -> QAction:
        """Add "Liver volumetry…" to ``menu``."""
        action = QAction("Liver volumetry…", self.window_)
        action.setObjectName("action_liver_volumetry")
        action.setStatusTip("Segment the liver from a click, draw a cut, get the FLR %")
        action.triggered.connect(self.open)
        menu.addAction(action)
        self.action = action
        return action

    def open(self) -> None:
        """Show the dock and wait for the seed click."""
        if not self._docked:
            self.window_.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
            self._docked = True
        self.show()
        self.raise_()
        if self.liver is None:
            self.load_stored()
        if self.liver is None:
            self.start_seed()

    def load_stored(self) -> bool:
        """Show the patient's stored liver volumetry (and painted resection) of this series.

        Only the current timepoint's (the latest liver, when it was stored at this timepoint).
        Looked up once per patient, timepoint and series; True when a stored liver was shown.
        """
        volume = self.viewer.volume
        session = self.session
        if volume is None or session.patient is None or self.task is not None:
            return False
        uid = str(getattr(volume, "series_instance_uid", ""))
        key = (*self._current_where(), uid)
        if self._looked_up == key:
            return False
        self._looked_up = key
        try:
            stored = session.liver_volumetry()
            if stored is None or stored.series_instance_uid != uid:
                return False
            if stored.timepoint_id != self._current_where()[1]:
                return False  # another timepoint's liver (its figures are not this one's)
            resection = session.painted_resection(stored)
        except Exception as exc:  # noqa: BLE001 - shown to the reader
            report_error(self.window_, "Could not read the stored liver volumetry", exc)
            return False
        self._restore(volume, stored, resection)
        return True

    def _restore(self, volume: Any, stored: Any, resection: Any) -> None:
        from app.segmentation.editing import Box
        from app.segmentation.lesion import RegionResult
        from app.segmentation.measure import LiverSegmentation

        n = volume.voxels.shape
        shape = (int(n[0]), int(n[1]), int(n[2]))
        mask = Box(tuple(stored.mask.offset), stored.mask.mask).full(shape)
        region = RegionResult(
            mask=mask,
            offset=(0, 0, 0),
            spacing_mm=_spacing(volume),
            lesion_hu=float("nan"),
            background_hu=float("nan"),
            partial_volume_ml=float(stored.volume_ml),
        )
        self.volume, self.stored_id, self.where = volume, stored.id, self._current_where()
        self.liver = LiverSegmentation(
            region,
            float(stored.volume_ml),
            stored.algorithm,
            stored.algorithm_version,
            dict(stored.parameters),
            0.0,
        )
        self.cut_points, self.flip = [], False
        self._remove_cut_item()
        line = stored.values.get("cut_line")
        if resection is not None:
            self.painted = Box(tuple(resection.mask.offset), np.array(resection.mask.mask))
            self.resection = "paint"
        else:
            self.painted, self.resection = None, "cut"
        if resection is None and _is_line(line):
            self.flip = bool(stored.values.get("cut_flip", False))
            self.set_cut(
                (float(line[0][0]), float(line[0][1])), (float(line[1][0]), float(line[1][1]))
            )
        else:
            self.recompute()
        what = (
            "and its painted resection "
            if resection is not None
            else "and its cut "
            if len(self.cut_points) == 2
            else ""
        )
        self._say(
            f"Liver volumetry: the liver {what}stored at this timepoint "
            f"({self._total_ml(stored.volume_ml):.1f} mL); paint or draw the cut to change it."
        )

    # -- seed -> segmentation ------------------------------------------------------------
    def start_seed(self) -> None:
        """The next click on the image is the liver seed."""
        self._pointer()
        self.mode = "seed"
        self._say("Liver volumetry: click inside the liver (axial slice).")

    def start_cut(self) -> None:
        """The next two clicks on an axial slice are the ends of the cut line."""
        if self.liver is None:
            self._say("Liver volumetry: segment the liver first.")
            return
        self._pointer()
        self.mode, self.cut_points, self.resection = "cut", [], "cut"
        self._remove_cut_item()
        self._say("Liver volumetry: click the two ends of the cut line on an axial slice.")

    def on_picked(self, point_lps: Any) -> None:
        """A click on the image: the seed or an end of the cut line, by mode."""
        if self.mode == "seed":
            self.mode = ""
            self.segment_at((float(point_lps[0]), float(point_lps[1]), float(point_lps[2])))
        elif self.mode == "cut":
            volume = self.viewer.volume
            if volume is None or volume is not self.volume or self.viewer.orientation != "axial":
                self._say("Liver volumetry: draw the cut line on an axial slice of the series.")
                return
            _, r, c = (float(v) for v in volume.lps_to_index(*point_lps))
            self.cut_points.append((r, c))
            if len(self.cut_points) == 2:
                self.mode = ""
                self.set_cut(self.cut_points[0], self.cut_points[1])

    def segment_at(self, point_lps: tuple[float, float, float]) -> ComputeTask | None:
        """Segment the liver from an LPS point off the GUI thread; returns the task."""
        volume = self.viewer.volume
        if volume is None:
            self._say("Liver volumetry: open a series first.")
            return None
        self.cancel(quiet=True)
        task = ComputeTask(_segment(volume, point_lps))
        task.signals.progress.connect(self._on_progress)
        task.signals.finished.connect(lambda result: self._on_finished(task, result))
        task.signals.failed.connect(lambda exc: self._on_failed(task, exc))
        self.task, self._task_volume = task, volume
        self._task_where = self._current_where()
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._update_buttons()
        self._say("Liver volumetry: segmenting the liver…")
        self._pool.start(task)
        return task

    def cancel(self, quiet: bool = False) -> None:
        """Stop the segmentation in progress (the previous liver, if any, is kept)."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
            if not quiet:
                self._say("Liver volumetry: cancelled.")
        self.progress.hide()
        self.cancel_button.hide()
        self._update_buttons()

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(fraction * 100)))

    def _on_failed(self, task: ComputeTask, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.cancel(quiet=True)
        self._say(f"Liver volumetry: {exc}")

    def _on_finished(self, task: ComputeTask, liver: Any) -> None:
        if task is not self.task:
            return
        self.cancel(quiet=True)
        if self._task_volume is not self.viewer.volume:
            self._say("Liver volumetry: the series changed; click again.")
            return
        if self._task_where != self._current_where():
            self._say("Liver volumetry: the timepoint changed; click again.")
            return
        self.volume, self.liver, self.stored_id = self._task_volume, liver, None
        self.where = self._task_where
        self.painted = None
        self.recompute()
        self._say(
            f"Liver volumetry: liver {self._total_ml(liver.volume_ml):.1f} mL "
            f"({liver.seconds:.1f} s). Draw the cut line."
        )

    def _total_ml(self, segmented_ml: float) -> float:
        """The total liver as the dock shows it (the tumours touching the liver added to the
        segmented liver), else ``segmented_ml``: one figure for the liver on screen."""
        return self.result.total_liver_ml if self.result is not None else segmented_ml

    # -- cut ---------------------------------------------------------------------------
    def set_cut(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Cut along the axial line from ``a`` to ``b`` (``(row, column)`` voxel indices)."""
        self.cut_points = [a, b]
        self._remove_cut_item()
        item = pg.LineSegmentROI(
            [(a[1], a[0]), (b[1], b[0])], pen=pg.mkPen(CUT_PEN, width=2), movable=False
        )
        item.setZValue(6)
        item.sigRegionChangeFinished.connect(self._on_cut_dragged)
        self.viewer.view_box.addItem(item)
        self._cut_item = item
        self.recompute()

    def swap_side(self) -> None:
        """Resect the other side of the cut."""
        self.flip = not self.flip
        self.recompute()

    def _on_cut_dragged(self, item: Any) -> None:
        ends = [self.viewer.view_box.mapSceneToView(p) for _, p in item.getSceneHandlePositions()]
        if len(ends) == 2:
            self.cut_points = [(float(p.y()), float(p.x())) for p in ends]
            self.recompute()

    def _remove_cut_item(self) -> None:
        if self._cut_item is not None:
            self.viewer.view_box.removeItem(self._cut_item)
            self._cut_item = None

    def _show_cut(self) -> None:
        if self._cut_item is not None:
            self._cut_item.setVisible(
                self.viewer.orientation == "axial"
                and self.viewer.volume is self.volume
                and self.resection == "cut"
            )

    # -- brush (viewer.main_window.contour_edit) ---------------------------------------
    def _brush(self, target: str) -> None:
        if self.liver is None:
            self._say("Liver volumetry: segment the liver first.")
            return
        if target == "resected":
            self.resection = "paint"
            self.recompute()
        if self.brush_target is not None:
            self.brush_target(target)

    def has_resection(self) -> bool:
        """True when a resection is marked: the cut line, or a painted region."""
        if self.resection == "paint":
            return self.painted is not None and bool(self.painted.mask.any())
        return len(self.cut_points) == 2

    def set_painted(self, box: Any) -> None:
        """The painted resection (an ``app.segmentation.editing.Box`` or None); recompute."""
        self.painted, self.resection = box, "paint"
        self.recompute()

    def set_liver_mask(self, mask: np.ndarray, edit: dict[str, Any]) -> None:
        """The liver as edited with the brush (``edit`` describes the stroke); recompute."""
        from app.segmentation.editing import edited_provenance

        liver = self.liver
        region = replace(liver.region, mask=mask, partial_volume_ml=None)
        name, version, params = edited_provenance(
            liver.algorithm, liver.algorithm_version, dict(liver.parameters), edit
        )
        self.restore_liver(
            replace(
                liver,
                region=region,
                volume_ml=region.volume_ml,
                algorithm=name,
                algorithm_version=version,
                parameters=params,
            )
        )

    def restore_liver(self, liver: Any) -> None:
        """Replace the liver (an edit, or its undo); it is stored again when sent."""
        self.liver, self.stored_id = liver, None
        self.recompute()

    def shown_contours(self) -> list[Contour]:
        """The liver, remnant and resection outlines this panel has on the image."""
        return list(self._all_mine)

    def refresh_contours(self) -> None:
        """Outline this panel's contours again (after the image's contours were replaced)."""
        self._show_contours()

    # -- figures -----------------------------------------------------------------------
    def tumour_contours(self) -> list[Any]:
        """The stored lesion contours of the current timepoint on this series."""
        uid = getattr(self.volume, "series_instance_uid", None)
        found = []
        if self.session.patient is not None and self.session.current_timepoint is not None:
            for m in self.session.measurements():
                if getattr(m.method, "value", m.method) != "semi_auto" or m.id is None:
                    continue
                seg = self.session.segmentation_for(m.id)
                if seg is not None and seg.series_instance_uid == uid:
                    found.append(seg)
        return found

    def uncounted_tumours(self) -> list[str]:
        """Codes of this timepoint's liver lesions measured on this series without a contour
        (by hand): the tumour volume cannot count them."""
        session = self.session
        uid = getattr(self.volume, "series_instance_uid", None)
        if session.patient is None or session.current_timepoint is None or uid is None:
            return []
        liver = {
            lesion.id: str(lesion.code)
            for lesion in session.lesions()
            if "liver" in str(getattr(lesion, "organ", "") or "").lower()
        }
        codes = []
        for m in session.measurements():
            geometry = m.geometry
            if m.lesion_id not in liver or m.id is None or geometry is None:
                continue
            if geometry.series_instance_uid != uid or session.segmentation_for(m.id) is not None:
                continue
            codes.append(liver[m.lesion_id])
        return sorted(set(codes))

    def tumour_boxes(
        self, contours: list[Any] | None = None
    ) -> list[tuple[tuple[int, int, int], np.ndarray]]:
        """The lesion contours ``(offset, mask)`` of the current timepoint on this series
        (of ``contours`` when the caller has just read :meth:`tumour_contours`)."""
        found = self.tumour_contours() if contours is None else contours
        return [(seg.mask.offset, seg.mask.mask) for seg in found]

    def _tumour_key(self, contours: list[Any] | None = None) -> tuple[Any, ...]:
        """What the tumour volume depends on: the contours counted, the lesions not counted."""
        found = self.tumour_contours() if contours is None else contours
        segs = tuple((seg.id, seg.volume_ml, tuple(seg.mask.offset)) for seg in found)
        return (segs, tuple(self.uncounted_tumours()))

    def _on_contours_changed(self) -> None:
        """A lesion contour came, went or was edited: the tumour volume and the FLR follow
        (they stayed as they were until the cut moved, and Send sent them so)."""
        mine = self.liver is not None and self.task is None
        here = self.where == self._current_where()  # not another timepoint's (reset follows)
        if mine and here and self._tumours != self._tumour_key():
            self.recompute(quiet=True)
        else:
            self._show_contours()

    def recompute(self, *, quiet: bool = False) -> None:
        """Figures and outlines of the liver and of the cut (if drawn).

        ``quiet``: no status message about the FLR (a lesion contour changed, not the cut).
        """
        from app.segmentation import SegmentationError, volumetry
        from app.segmentation.resection import (
            lesion_tumour_volume,
            resection_from_cut,
            touches,
            union_of_boxes,
        )

        if self.liver is None:
            return
        liver = self.liver.region.mask
        shape = liver.shape
        spacing = _spacing(self.volume)
        contours = self.tumour_contours()  # one read of the contours (each a database read)
        self._tumours = self._tumour_key(contours)
        inside = [seg for seg in contours if touches(liver, seg.mask.offset, seg.mask.mask)]
        tumours = union_of_boxes(shape, self.tumour_boxes(inside)) if inside else None
        if tumours is not None:
            liver = liver | tumours  # the liver volume includes its tumours
        if self.resection == "paint":
            painted = self.painted
            resected = painted.full(shape) if painted is not None else np.zeros(shape, bool)
        elif len(self.cut_points) == 2:
            a, b = self.cut_points
            try:
                resected = resection_from_cut(shape, spacing, a, b, flip=self.flip)
            except SegmentationError as exc:
                self._say(f"Liver volumetry: {exc}")
                resected = np.zeros(shape, dtype=bool)
        else:
            resected = np.zeros(shape, dtype=bool)
        # the tumour is the lesions' own volumes (the mL their measurements show), not the
        # voxels of their contours (the demo's T1: 7.9 mL, 5.0 mL of voxels)
        lesions = [(seg.mask.offset, seg.mask.mask, seg.volume_ml) for seg in inside]
        own = lesion_tumour_volume(spacing, resected, lesions) if lesions else None
        try:
            self.result = volumetry(liver, spacing, resected, tumours, tumour_volume=own)
        except SegmentationError as exc:
            self.result = None
            self._say(f"Liver volumetry: {exc}")
        self._show_figures()
        if not quiet:
            self._say_flr()
        cut = liver & resected
        if cut.any():
            self._contours = [
                Contour((0, 0, 0), liver & ~cut, REMNANT_RGBA),
                Contour((0, 0, 0), cut, RESECTED_RGBA),
            ]
        else:
            self._contours = [Contour((0, 0, 0), liver, REMNANT_RGBA)]
        self._show_contours()
        self._show_cut()
        self._update_buttons()

    def _say_flr(self) -> None:
        """The FLR in the status bar, with what to do next."""
        if self.result is not None and self.resection == "paint" and self.has_resection():
            self._say(
                f"Liver volumetry: FLR {self.result.flr_percent:.1f} % (painted resection). "
                "Paint more, right-drag to erase, Ctrl+Z undoes a stroke."
            )
        elif self.result is not None and self.resection == "paint":
            self._say(
                "Liver volumetry: paint what will be resected (drag; right-drag erases); "
                "the FLR follows."
            )
        elif self.result is not None and self.resection == "cut" and len(self.cut_points) == 2:
            self._say(
                f"Liver volumetry: FLR {self.result.flr_percent:.1f} %. Drag the ends of the cut "
                "line to adjust it; “Swap resected side” resects the other side."
            )

    def _show_figures(self) -> None:
        r = self.result
        has_cut = self.has_resection()
        self.method_label.setText(
            ""
            if not has_cut
            else "Resection: painted region"
            if self.resection == "paint"
            else "Resection: cut plane"
        )
        for key, label in self.labels.items():
            if r is None or (not has_cut and key in ("resected_ml", "remnant_ml", "flr_percent")):
                label.setText("—")
                continue
            value = float(getattr(r, key))
            label.setText(f"{value:.1f} %" if key == "flr_percent" else f"{value:.1f} mL")
        self._say_what_the_tumour_is()
        # "Tumour 0.0 mL" beside metastases measured by hand read as "no tumour"
        missing = self.uncounted_tumours() if r is not None else []
        self.uncounted_label.setText(
            f"Not in the tumour volume (measured by hand, no contour): {', '.join(missing)}. "
            "Measure them with the Smart caliper (M) to count them."
            if missing
            else ""
        )

    def _say_what_the_tumour_is(self) -> None:
        """The tumour row's name and tooltip: what its volume counted, and its split."""
        from app.segmentation.liver import TUMOUR_FROM_BOTH, TUMOUR_FROM_VOXELS

        r = self.result
        basis = getattr(r, "tumour_basis", "")
        if r is None or r.tumour_ml == 0.0:
            name, what = "Tumour", TUMOUR_TIP
        elif basis == TUMOUR_FROM_VOXELS:
            name, what = "Tumour (contour voxels)", TUMOUR_VOXELS_TIP
        elif basis == TUMOUR_FROM_BOTH:
            name, what = "Tumour (lesion volumes, some voxels)", TUMOUR_TIP
        else:
            name, what = "Tumour (lesion volumes)", TUMOUR_TIP
        split = (
            f"{r.tumour_ml:.1f} mL: {r.tumour_resected_ml:.1f} mL in the resection, "
            f"{r.tumour_remnant_ml:.1f} mL in the remnant.\n"
            if r is not None and self.has_resection() and r.tumour_ml > 0.0
            else ""
        )
        self.row_labels["tumour_ml"].setText(name)
        for widget in (self.row_labels["tumour_ml"], self.labels["tumour_ml"]):
            widget.setToolTip(split + what)
        for key in ("total_liver_ml", "resected_ml", "remnant_ml", "flr_percent"):
            for widget in (self.row_labels[key], self.labels[key]):
                widget.setToolTip(FIGURE_TIPS[key])

    def _show_contours(self) -> None:
        mine = self._contours if self.viewer.volume is self.volume else []
        others = [c for c in self.viewer.contours if not any(c is m for m in self._all_mine)]
        self._all_mine = list(mine)
        self.viewer.set_contours(others + mine)

    def _current_where(self) -> tuple[Any, Any]:
        patient, tp = self.session.patient, self.session.current_timepoint
        return (getattr(patient, "id", None), getattr(tp, "id", None))

    def _on_timepoint_selected(self) -> None:
        """Another timepoint: its liver is not the one shown (nor the one segmenting)."""
        here = self._current_where()
        busy_elsewhere = self.task is not None and self._task_where != here
        if busy_elsewhere or (self.liver is not None and self.where != here):
            self.reset()  # looks up this timepoint's stored liver when the dock is open
        elif self.liver is None and self.isVisible():
            self.load_stored()

    def _on_volume_changed(self, *_: object) -> None:
        if self.task is not None and self.viewer.volume is not self._task_volume:
            self.cancel()
        if self.liver is None and self.isVisible():
            self.load_stored()
        self._show_contours()
        self._show_cut()

    # -- hand-over -----------------------------------------------------------------------
    def send_to_conversion(self) -> bool:
        """Store the volumetry (audited) and write its FLR % into the conversion record."""
        if self.result is None or not self.has_resection():
            self._say(
                "Liver volumetry: segment the liver and draw the cut or paint the resection first."
            )
            return False
        if self.session.patient is None or self.session.current_timepoint is None:
            self._say("Liver volumetry: open a patient and a timepoint first.")
            return False
        if self.where != self._current_where():
            self._say("Liver volumetry: this liver is another timepoint's; segment it here.")
            return False
        values: dict[str, Any] = dict(self.result.to_dict())
        values["resection_method"] = "painted" if self.resection == "paint" else "cut plane"
        if self.resection == "cut":  # the line, so that reopening shows the same cut
            values["cut_line"] = [[round(float(v), 2) for v in p] for p in self.cut_points]
            values["cut_flip"] = bool(self.flip)
        reason: str | None = None
        while True:
            try:
                self._store(values, reason)
                return True
            except Exception as exc:  # noqa: BLE001 - shown to the reader
                if getattr(exc, "field", None) == "reason" and reason is None:
                    text, ok = QInputDialog.getText(
                        self, "Reason for the change", f"{exc}\n\nReason:"
                    )
                    if ok and text.strip():
                        reason = text.strip()
                        continue
                    self._say("Liver volumetry: not sent (a reason is needed).")
                    return False
                report_error(self.window_, "Could not send the FLR to the conversion record", exc)
                return False

    def _store(self, values: dict[str, Any], reason: str | None) -> None:
        s = self.session
        if self.stored_id is None:
            uid = str(getattr(self.volume, "series_instance_uid", ""))
            stored = s.record_liver_volumetry(self.liver, uid, volumetry=values, reason=reason)
            self.stored_id = stored.id
        elif self.resection != "paint":
            s.record_virtual_resection(self.stored_id, values, reason=reason)
        if self.resection == "paint" and self.painted is not None:
            from app.segmentation.editing import cropped

            tight = cropped(self.painted)
            if tight is not None:
                s.record_painted_resection(
                    self.stored_id,
                    tight.offset,
                    tight.mask,
                    values,
                    tumour_segmentation_ids=[
                        seg.id for seg in self.tumour_contours() if seg.id is not None
                    ],
                    reason=reason,
                )
        from recist.endpoints import FlrSource  # not before the window shows (issue 17)

        flr = s.measured_flr_percent()
        records = s.endpoints
        records.save_conversion(
            replace(records.conversion_form(), flr_pct=str(flr)), reason, FlrSource.MEASURED
        )
        self._say(f"Liver volumetry: FLR {flr} % sent to the conversion record.")

    # -- helpers -------------------------------------------------------------------------
    def _pointer(self) -> None:
        set_tool = getattr(self.window_, "set_tool", None)
        if callable(set_tool):
            set_tool("pointer")

    def _update_buttons(self) -> None:
        busy = self.task is not None
        self.seed_button.setEnabled(not busy)
        self.cut_button.setEnabled(not busy and self.liver is not None)
        self.swap_button.setEnabled(
            not busy and len(self.cut_points) == 2 and self.resection == "cut"
        )
        self.paint_button.setEnabled(not busy and self.liver is not None)
        self.edit_button.setEnabled(not busy and self.liver is not None)
        self.send_button.setEnabled(not busy and self.result is not None and self.has_resection())

    def _say(self, text: str, timeout_ms: int = 15000) -> None:
        self.last_message = text
        self.hint.setText(text.removeprefix("Liver volumetry: "))
        self.window_.statusBar().showMessage(text, timeout_ms)
