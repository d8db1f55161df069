"""The contour brush (key E) on a real CT: the caliper follows the edited contour (issue 16).

Real CT: ``crlm-ct-1006`` (colorectal liver metastases); the ~8 mm metastasis of
``tests.viewer.test_smart_caliper`` and the liver seed of ``tests.viewer.test_volumetry``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.segmentation import volumetry
from recist.endpoints import FlrSource
from recist.model import Method
from tests.viewer.test_smart_caliper import METASTASIS
from tests.viewer.test_smart_caliper import _open as open_metastasis
from tests.viewer.test_volumetry import SEED
from tests.viewer.test_volumetry import _segment as segment_liver
from tests.viewer.test_workflow import to_viewport
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

_Button = QtCore.Qt.MouseButton
_Ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
_Shift = QtCore.Qt.KeyboardModifier.ShiftModifier


def pane_point(view: Any, s: float, r: float, c: float) -> QtCore.QPoint:
    """Viewport pixel of voxel (slice, row, column) on the plane *view* shows."""
    _, x, y = _display(view, s, r, c)
    return view.graphics_view.mapFromScene(view.view_box.mapViewToScene(QtCore.QPointF(x, y)))


def _display(view: Any, s: float, r: float, c: float) -> tuple[float, float, float]:
    """(plane index, display x, display y) of a voxel in *view*'s plane."""
    n = view.volume.voxels.shape[0]
    flipped = view.orientation != "axial" and view.display_to_index(0.0, 0.0)[0] == n - 1
    y_s = (n - 1 - s) if flipped else s
    return {
        "axial": (s, c, r),
        "coronal": (r, c, y_s),
        "sagittal": (c, r, y_s),
    }[view.orientation]


def brush_drag(
    qtbot,
    window: MainWindow,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    button: QtCore.Qt.MouseButton = _Button.LeftButton,
    steps: int = 8,
    view: Any = None,
) -> None:
    """Press at image point *start* (column, row), move to *end* in steps, release.

    With *view* (another pane), *start* and *end* are voxels (slice, row, column)."""
    if view is None:
        viewport = window.viewer.graphics_view.viewport()
        p0, p1 = to_viewport(window, *start), to_viewport(window, *end)
    else:
        viewport = view.graphics_view.viewport()
        p0, p1 = pane_point(view, *start), pane_point(view, *end)
    qtbot.mousePress(viewport, button, pos=p0)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, pos=p0 + (p1 - p0) * (i / steps))
    qtbot.mouseRelease(viewport, button, pos=p1)


def _measure_metastasis(qtbot, window: MainWindow, shared_data, key: bool = False) -> None:
    open_metastasis(qtbot, window, shared_data)
    if key:  # the key chooses the brush (before the measurement has moved the focus)
        window.viewer.setFocus()
        qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_E)
        assert window.viewer.tool == "brush"
    point = window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    window.viewer.set_slice(METASTASIS[0])


def test_painting_grows_the_caliper_erasing_shrinks_it_and_undo_restores_it(
    qtbot, window: MainWindow, shared_data
) -> None:
    _measure_metastasis(qtbot, window, shared_data, key=True)
    (m0,) = window.session.measurements()
    seg0 = window.session.segmentation_for(m0.id)
    assert seg0 is not None
    assert window.viewer.tool == "brush"
    editor = window.contour_editor()
    assert editor.toolbar.isVisible()
    tools = next(m for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "T&ools")
    assert window.tool_actions["brush"] in tools.actions()  # Tools → Contour brush too
    assert ("E", "Contour brush") in window.help.show_shortcuts().rows()  # F1 lists it
    editor.radius_box.setValue(3.0)
    assert not editor.sphere

    # paint: from the lesion's centre 20 voxels (~15 mm) to the right
    row, col = float(METASTASIS[1]), float(METASTASIS[2])
    brush_drag(qtbot, window, (col, row), (col + 20.0, row))
    (m1,) = window.session.measurements()
    assert m1.id == m0.id
    assert m1.method is Method.SEMI_AUTO
    assert (m1.long_axis_mm or 0) > (m0.long_axis_mm or 0) + 8.0
    seg1 = window.session.segmentation_for(m1.id)
    assert seg1 is not None
    assert seg1.id != seg0.id
    assert seg1.algorithm == "manual edit"
    assert seg1.parameters["source"]["algorithm"] == seg0.algorithm
    assert seg1.parameters["edit"]["brush"] == "2D"
    assert seg1.volume_ml > seg0.volume_ml
    # 2-D: only the shown slice gained voxels
    k0 = seg0.mask.offset[0]
    slices_before = {k0 + int(k) for k in np.nonzero(seg0.mask.mask.any(axis=(1, 2)))[0]}
    k1 = seg1.mask.offset[0]
    slices_after = {k1 + int(k) for k in np.nonzero(seg1.mask.mask.any(axis=(1, 2)))[0]}
    assert slices_after == slices_before | {METASTASIS[0]}
    assert m1.geometry is not None
    assert m1.geometry.slice_index == METASTASIS[0]
    assert window.viewer.contours  # outlined
    assert "Ctrl+Z undoes" in editor.last_message
    assert window.session.database.verify_audit().ok
    assert window.lesion_model.rowCount() == 1

    # erase (right drag) the painted band back: the caliper shrinks again
    brush_drag(qtbot, window, (col + 6.0, row), (col + 22.0, row), button=_Button.RightButton)
    (m2,) = window.session.measurements()
    assert (m2.long_axis_mm or 0) < (m1.long_axis_mm or 0) - 5.0
    seg2 = window.session.segmentation_for(m2.id)
    assert seg2 is not None
    assert seg2.parameters["edits"] == 2
    assert seg2.parameters["edit"]["erase"] is True

    # Ctrl+Z: one stroke back each time
    assert window.undo_action.text() == "Undo Edit contour"
    window.undo_action.trigger()
    (back,) = window.session.measurements()
    assert back.long_axis_mm == m1.long_axis_mm
    again = window.session.segmentation_for(back.id)
    assert again is not None
    assert again.id == seg1.id
    window.undo_action.trigger()
    (first,) = window.session.measurements()
    assert first.long_axis_mm == m0.long_axis_mm
    restored = window.session.segmentation_for(first.id)
    assert restored is not None
    assert restored.id == seg0.id
    assert window.session.database.verify_audit().ok


def test_a_3d_brush_paints_the_neighbouring_slices(qtbot, window: MainWindow, shared_data) -> None:
    _measure_metastasis(qtbot, window, shared_data)
    (m0,) = window.session.measurements()
    window.set_tool("brush")
    editor = window.contour_editor()
    editor.radius_box.setValue(6.0)  # 5 mm slices: the ball reaches one slice each side
    editor.sphere_box.setChecked(True)
    row, col = float(METASTASIS[1]), float(METASTASIS[2])
    brush_drag(qtbot, window, (col, row), (col + 4.0, row), steps=2)
    seg = window.session.segmentation_for(m0.id)
    assert seg is not None
    assert seg.parameters["edit"]["brush"] == "3D"
    full = np.zeros(window.viewer.volume.voxels.shape, dtype=bool)
    k, r, c = seg.mask.offset
    n = seg.mask.mask.shape
    full[k : k + n[0], r : r + n[1], c : c + n[2]] = seg.mask.mask
    for slice_index in (METASTASIS[0] - 1, METASTASIS[0], METASTASIS[0] + 1):
        assert full[slice_index, METASTASIS[1], METASTASIS[2] + 4]


def test_a_stroke_away_from_any_contour_is_refused(qtbot, window: MainWindow, shared_data) -> None:
    _measure_metastasis(qtbot, window, shared_data)
    (m0,) = window.session.measurements()
    window.set_tool("brush")
    editor = window.contour_editor()
    window.lesion_table.clearSelection()
    window.assign_bar.select_lesion(None)
    brush_drag(qtbot, window, (60.0, 60.0), (70.0, 60.0))
    assert "no Smart caliper contour here" in editor.last_message
    (m,) = window.session.measurements()
    assert m.long_axis_mm == m0.long_axis_mm


def _brush_on_the_liver(
    qtbot, window: MainWindow, shared_data, button: str
) -> tuple[Any, float, Any]:
    """The liver of the whole-body CT segmented in the volumetry panel, then its *button*
    ("paint_button" or "edit_button") clicked: (panel, total liver mL, the brush editor)."""
    from tests.viewer.test_volumetry import _open as open_liver

    open_liver(qtbot, window, shared_data)
    segment_liver(qtbot, window)
    panel = window.volumetry
    total = panel.result.total_liver_ml
    assert getattr(panel, button).isEnabled()
    getattr(panel, button).click()
    return panel, total, window.contour_editor()


def test_painted_resection_changes_the_flr_and_reaches_the_conversion_record(
    qtbot, window: MainWindow, shared_data
) -> None:
    panel, total, editor = _brush_on_the_liver(qtbot, window, shared_data, "paint_button")
    assert window.viewer.tool == "brush"
    assert editor.target == "resected"
    assert not panel.send_button.isEnabled()  # nothing painted yet
    editor.radius_box.setValue(20.0)
    editor.sphere_box.setChecked(True)
    row, col = float(SEED[1]), float(SEED[2])
    brush_drag(qtbot, window, (col - 30.0, row - 40.0), (col + 30.0, row + 40.0))
    r = panel.result
    assert panel.resection == "paint"
    assert 0.0 < r.resected_ml < total
    assert 0.0 < r.flr_percent < 100.0
    liver = panel.liver.region.mask
    spacing = window.viewer.volume.spacing_mm
    expected = volumetry(liver, spacing, panel.painted.full(liver.shape))
    assert r.flr_percent == pytest.approx(expected.flr_percent)
    assert panel.labels["flr_percent"].text() == f"{expected.flr_percent:.1f} %"
    assert panel.method_label.text() == "Resection: painted region"
    # a second stroke resects more; Ctrl+Z takes it back, Ctrl+Shift+Z puts it back
    first = r.flr_percent
    brush_drag(qtbot, window, (col + 40.0, row - 40.0), (col + 40.0, row + 40.0))
    second = panel.result.flr_percent
    assert second < first
    window.undo_action.trigger()
    assert panel.result.flr_percent == pytest.approx(first)
    assert window.redo_action.text() == "Redo brush stroke"
    window.redo_action.trigger()
    assert panel.result.flr_percent == pytest.approx(second)
    window.undo_action.trigger()
    assert panel.result.flr_percent == pytest.approx(first)

    assert panel.send_button.isEnabled()
    panel.send_button.click()
    flr = window.session.measured_flr_percent()
    assert flr == Decimal(str(round(first, 1))).quantize(Decimal("0.1"))
    assert window.session.endpoints.conversion_form().flr_pct == str(flr)
    stored = window.session.endpoints.records().conversion
    assert stored is not None
    assert stored.flr_source is FlrSource.MEASURED
    volumetry_row = window.session.liver_volumetry()
    assert volumetry_row is not None
    assert volumetry_row.values["resection_method"] == "painted"
    assert window.session.database.verify_audit().ok


def test_the_painted_resection_is_stored_reproduces_the_flr_and_comes_back(
    qtbot, window: MainWindow, shared_data
) -> None:
    from app.segmentation.editing import Box

    panel, _, editor = _brush_on_the_liver(qtbot, window, shared_data, "paint_button")
    editor.radius_box.setValue(20.0)
    editor.sphere_box.setChecked(True)
    row, col = float(SEED[1]), float(SEED[2])
    brush_drag(qtbot, window, (col - 30.0, row - 40.0), (col + 30.0, row + 40.0))
    shown = panel.result
    painted = panel.painted.full(panel.liver.region.mask.shape)
    panel.send_button.click()

    session = window.session
    liver_row = session.liver_volumetry()
    assert liver_row is not None
    resection = session.painted_resection(liver_row)
    assert resection is not None  # the painted mask is stored, not only its figures
    assert resection.kind == "resection"
    assert resection.values["liver_segmentation_id"] == liver_row.id
    assert resection.algorithm == "painted resection"
    # the FLR computed again from what the database holds is the FLR stored
    volume = window.viewer.volume
    shape = volume.voxels.shape
    liver = Box(liver_row.mask.offset, liver_row.mask.mask).full(shape)
    resected = Box(resection.mask.offset, resection.mask.mask).full(shape)
    assert np.array_equal(resected, painted)
    again = volumetry(liver, volume.spacing_mm, resected)
    assert again.flr_percent == pytest.approx(liver_row.values["flr_percent"], abs=0.05)  # to 0.1 %
    assert again.flr_percent == pytest.approx(shown.flr_percent)
    assert resection.volume_ml == pytest.approx(shown.resected_ml, abs=0.05)
    events = session.database.audit_events(entity="segmentation")
    assert any(e.after and e.after.get("kind") == "resection" for e in events)
    assert session.database.verify_audit().ok

    # the patient opened again: the open panel shows the stored liver and painted resection
    session.open_patient("CRLM-1006")
    assert panel.liver is not None
    assert panel.stored_id == liver_row.id
    assert panel.resection == "paint"
    assert np.array_equal(panel.painted.full(shape), painted)
    assert panel.result.flr_percent == pytest.approx(shown.flr_percent)
    assert panel.method_label.text() == "Resection: painted region"
    assert panel.labels["flr_percent"].text() == f"{shown.flr_percent:.1f} %"
    assert "painted resection stored" in panel.last_message
    # closed, the panel forgets it; Tools → Liver volumetry shows it again
    panel.hide()
    session.open_patient("CRLM-1006")
    assert panel.liver is None
    window.findChild(QtCore.QObject, "action_liver_volumetry").trigger()
    assert panel.liver is not None
    assert np.array_equal(panel.painted.full(shape), painted)
    assert panel.send_button.isEnabled()


def test_the_liver_contour_is_editable_and_the_volumes_follow(
    qtbot, window: MainWindow, shared_data
) -> None:
    panel, total, editor = _brush_on_the_liver(qtbot, window, shared_data, "edit_button")
    assert editor.target == "liver"
    editor.radius_box.setValue(10.0)
    row, col = float(SEED[1]), float(SEED[2])
    # erase a band through the liver on this slice (right drag): the liver shrinks
    brush_drag(qtbot, window, (col - 30.0, row), (col + 30.0, row), button=_Button.RightButton)
    smaller = panel.result.total_liver_ml
    assert smaller < total - 2.0  # about 5 mL: a 20 mm wide band on one 5 mm slice
    assert panel.liver.algorithm == "manual edit"
    assert panel.liver.volume_ml == pytest.approx(
        int(panel.liver.region.mask.sum()) * float(np.prod(window.viewer.volume.spacing_mm)) / 1e3
    )
    window.undo_action.trigger()
    assert panel.result.total_liver_ml == pytest.approx(total)
    # Edit → Redo (Ctrl+Shift+Z / Ctrl+Y) puts the stroke back, and undo takes it again
    assert window.redo_action.isEnabled()
    assert window.redo_action.text() == "Redo brush stroke"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # the window's shortcuts need it active
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_Y, _Ctrl)  # Ctrl+Y
    assert panel.result.total_liver_ml == pytest.approx(smaller)
    assert panel.liver.algorithm == "manual edit"
    assert not window.redo_action.isEnabled()
    window.undo_action.trigger()
    assert panel.result.total_liver_ml == pytest.approx(total)
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_Z, _Ctrl | _Shift)
    assert panel.result.total_liver_ml == pytest.approx(smaller)  # Ctrl+Shift+Z
    window.undo_action.trigger()
    assert panel.result.total_liver_ml == pytest.approx(total)
    # a new stroke forgets what was undone
    brush_drag(qtbot, window, (col - 10.0, row), (col + 10.0, row), button=_Button.RightButton)
    assert not editor.local_redo
    assert not window.redo_action.isEnabled()


def test_the_circle_shows_the_radius_and_ctrl_wheel_changes_it(
    qtbot, window: MainWindow, shared_data
) -> None:
    _measure_metastasis(qtbot, window, shared_data)
    window.set_tool("brush")
    editor = window.contour_editor()
    editor.radius_box.setValue(4.0)
    viewport = window.viewer.graphics_view.viewport()
    at = to_viewport(window, float(METASTASIS[2]), float(METASTASIS[1]))
    qtbot.mouseMove(viewport, pos=at)
    assert editor.cursor.visible
    assert editor.cursor.label == "4 mm"
    width_px = editor.cursor.rect().width()
    assert width_px == pytest.approx(2 * 4.0 / window.viewer.pixel_mm[0])
    zoom = window.viewer.zoom
    wheel = QtGui.QWheelEvent(
        QtCore.QPointF(at),
        QtCore.QPointF(viewport.mapToGlobal(at)),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, 240),  # two notches away from the reader
        _Button.NoButton,
        QtCore.Qt.KeyboardModifier.ControlModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(viewport, wheel)
    assert editor.radius_mm == pytest.approx(5.0)
    assert window.viewer.zoom == pytest.approx(zoom)  # the wheel did not zoom
    # the circle shows it at once, where it is (it showed "4 mm" until the mouse moved)
    assert editor.cursor.label == "5 mm"
    assert editor.cursor.rect().width() == pytest.approx(2 * 5.0 / window.viewer.pixel_mm[0])
    assert editor.cursor.rect().center().x() == pytest.approx(
        window.viewer.view_box.mapSceneToView(window.viewer.graphics_view.mapToScene(at)).x(),
        abs=1.0,
    )
    editor.radius_box.setValue(6.0)  # typed in the tool bar
    assert editor.cursor.label == "6 mm"
    qtbot.mouseMove(viewport, pos=at + QtCore.QPoint(1, 0))
    assert editor.cursor.label == "6 mm"
    corner = window.viewer.graphics_view.mapToGlobal(QtCore.QPoint(0, 0))
    window.set_tool("pointer")
    assert not editor.cursor.visible
    # the image stays where it was: the bar is greyed out, not hidden (hiding it moved the
    # window's content up by its height, and back down at the next E)
    assert window.viewer.graphics_view.mapToGlobal(QtCore.QPoint(0, 0)) == corner
    assert not editor.toolbar.isEnabled()
    window.set_tool("brush")
    assert window.viewer.graphics_view.mapToGlobal(QtCore.QPoint(0, 0)) == corner
    assert editor.toolbar.isEnabled()


def _full(seg: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    k, r, c = seg.mask.offset
    n = seg.mask.mask.shape
    out[k : k + n[0], r : r + n[1], c : c + n[2]] = seg.mask.mask
    return out


def test_the_brush_on_the_coronal_pane_of_2x2_edits_one_coronal_plane_and_the_caliper_follows(
    qtbot, window: MainWindow, shared_data
) -> None:
    _measure_metastasis(qtbot, window, shared_data)
    (m0,) = window.session.measurements()
    seg0 = window.session.segmentation_for(m0.id)
    assert seg0 is not None
    editor = window.contour_editor()  # built in 1x1: the 2x2 panes get the brush when shown
    window.findChild(QtCore.QObject, "layout_2x2").trigger()  # Ctrl+4
    window.set_tool("brush")
    coronal = window.layout_view.coronal
    assert coronal.isVisible()
    assert coronal.orientation == "coronal"
    assert coronal.tool == "brush"
    k, row, col = METASTASIS
    coronal.set_slice(row)  # the coronal plane through the metastasis
    assert coronal.contours  # the Smart caliper contour is outlined on the reformat too
    editor.radius_box.setValue(3.0)  # < half a 5 mm slice: one slice thick on this plane
    # the circle on the coronal pane is round in mm: wider in columns than in slices
    at = pane_point(coronal, k, row, col)
    qtbot.mouseMove(coronal.graphics_view.viewport(), pos=at + QtCore.QPoint(3, 3))
    qtbot.mouseMove(coronal.graphics_view.viewport(), pos=at)  # a move, as a mouse makes one
    _, cursor = editor.panes[coronal]
    assert cursor.visible
    assert not editor.cursor.visible
    assert cursor.rect().width() == pytest.approx(2 * 3.0 / coronal.pixel_mm[0])
    assert cursor.rect().height() == pytest.approx(2 * 3.0 / coronal.pixel_mm[1])

    # paint along the coronal plane, 20 columns (~15 mm) to the right of the lesion centre
    brush_drag(qtbot, window, (k, row, col), (k, row, col + 20.0), view=coronal)
    (m1,) = window.session.measurements()
    assert (m1.long_axis_mm or 0) > (m0.long_axis_mm or 0) + 8.0  # the axial caliper follows
    seg1 = window.session.segmentation_for(m1.id)
    assert seg1 is not None
    assert seg1.id != seg0.id
    assert seg1.parameters["edit"]["plane"] == "coronal"
    assert seg1.parameters["edit"]["plane_index"] == row
    shape = window.viewer.volume.voxels.shape
    added = _full(seg1, shape) & ~_full(seg0, shape)
    ks, rs, cs = np.nonzero(added)
    assert set(rs.tolist()) == {row}  # one coronal plane of voxels
    assert set(ks.tolist()) == {k}  # 3 mm does not reach the 5 mm neighbouring slices
    assert cs.max() >= col + 19
    assert m1.geometry is not None
    assert m1.geometry.slice_index == k

    # a 3-D brush on the coronal pane paints a ball in mm: rows and slices around the point
    editor.radius_box.setValue(6.0)
    editor.sphere_box.setChecked(True)
    brush_drag(qtbot, window, (k, row, col - 15.0), (k, row, col - 14.0), steps=1, view=coronal)
    seg2 = window.session.segmentation_for(m1.id)
    assert seg2 is not None
    assert seg2.parameters["edit"]["brush"] == "3D"
    ball = _full(seg2, shape) & ~_full(seg1, shape)
    ks, rs, _ = np.nonzero(ball)
    assert set(ks.tolist()) == {k - 1, k, k + 1}  # 6 mm reaches one 5 mm slice each side
    spacing_r = float(window.viewer.volume.spacing_mm[1])
    assert rs.max() - rs.min() == 2 * int(6.0 / spacing_r)  # and +-6 mm of rows
    # Ctrl+Z undoes the reformat stroke as any other
    window.undo_action.trigger()
    again = window.session.segmentation_for(m1.id)
    assert again is not None
    assert again.id == seg1.id
    assert window.session.database.verify_audit().ok


def test_the_resected_region_painted_on_a_sagittal_plane_1x1_changes_the_flr(
    qtbot, window: MainWindow, shared_data
) -> None:
    panel, total, editor = _brush_on_the_liver(qtbot, window, shared_data, "paint_button")
    window.view_actions.layout.set_plane("sagittal")  # 1x1, the main pane sagittal
    view = window.viewer
    assert view.orientation == "sagittal"
    k, row, col = SEED
    view.set_slice(col)
    assert view.contours  # the liver is outlined on the sagittal plane
    editor.radius_box.setValue(15.0)
    brush_drag(qtbot, window, (k - 4, row - 30, col), (k + 4, row + 30, col), view=view)
    assert panel.resection == "paint"
    painted = panel.painted.full(panel.liver.region.mask.shape)
    _, _, cs = np.nonzero(painted)
    assert set(cs.tolist()) == {col}  # one sagittal plane of voxels
    assert 0.0 < panel.result.resected_ml < total
    assert 0.0 < panel.result.flr_percent < 100.0
    # the liver edited on the same plane: erase the painted band from the liver
    editor.set_target("liver")
    brush_drag(
        qtbot, window, (k, row - 20, col), (k, row + 20, col), view=view, button=_Button.RightButton
    )
    assert panel.result.total_liver_ml < total
    _, _, removed_cols = np.nonzero(~panel.liver.region.mask & painted)
    assert set(removed_cols.tolist()) <= {col}
    window.undo_action.trigger()
    assert panel.result.total_liver_ml == pytest.approx(total)
