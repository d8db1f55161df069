"""A drag with the Smart caliper that starts on another lesion's caliper measures; it does not
move that caliper (found driving the demo: the stored T2 changed, silently, while the reader
meant to measure another lesion).  Any caliper moved by a drag is named in the status bar.

The drags hover over the start point first, as a real mouse does: pyqtgraph gives a drag to
the item the last hover chose (a handle claims it), not only to the item under the press.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from recist.model import Method
from tests.viewer.test_series_viewer_widget import _overlay
from tests.viewer.test_series_viewer_widget import to_viewport as widget_point
from tests.viewer.test_workflow import add_timepoint, to_viewport
from viewer.main_window.move_notice import size_text
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

Qt = QtCore.Qt
DEMO_T1 = (-95.2, 39.6, -301.4)  # LPS mm: the demo's T1 at the baseline


def _hover_drag(qtbot, viewport, p0: QtCore.QPoint, p1: QtCore.QPoint, steps: int = 6) -> None:
    """Move onto *p0* (the hover picks the item that takes the drag), press, drag to *p1*."""
    qtbot.mouseMove(viewport, pos=p0 + QtCore.QPoint(3, 3))
    qtbot.wait(15)  # pyqtgraph drops mouse moves closer than 10 ms apart
    qtbot.mouseMove(viewport, pos=p0)
    qtbot.wait(15)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=p0)
    for i in range(1, steps + 1):
        qtbot.wait(15)
        qtbot.mouseMove(viewport, pos=p0 + (p1 - p0) * (i / steps))
    qtbot.wait(15)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=p1)


# -- the image view alone ----------------------------------------------------------------


def _widget_drag(qtbot, viewer, start, end) -> None:
    viewport = viewer.graphics_view.viewport()
    _hover_drag(qtbot, viewport, widget_point(viewer, *start), widget_point(viewer, *end))


def test_a_smart_drag_from_another_calipers_handle_measures_and_moves_nothing(
    qtbot, viewer, ct_chest
) -> None:
    k = viewer.slice_index
    viewer.set_overlays([_overlay(ct_chest, k, ((150, 200), (250, 200)), ((200, 180), (200, 220)))])
    viewer.set_tool("smart")
    edited: list[object] = []
    asked: list[tuple[float, float, float]] = []
    viewer.measurement_edited.connect(lambda mid, g: edited.append((mid, g)))
    viewer.smart_caliper_requested.connect(asked.append)
    _widget_drag(qtbot, viewer, (250, 200), (290, 200))  # starts on the long axis' end
    assert edited == []  # before: the caliper's end point followed the drag
    assert len(asked) == 1  # the drag across: its middle is the seed
    assert asked[0] == pytest.approx(viewer.display_to_lps(270.0, 200.0), abs=1.5)
    (item,) = viewer.overlay_items.values()
    assert item.axes_points()[0][1] == pytest.approx((250, 200), abs=0.01)
    assert item.locked
    # and a drag that starts on its line (not a handle) does not carry the whole caliper
    _widget_drag(qtbot, viewer, (180, 200), (180, 240))
    assert edited == []
    assert len(asked) == 2


def test_the_smart_calipers_own_proposal_keeps_its_handles(qtbot, viewer, ct_chest) -> None:
    k = viewer.slice_index
    viewer.set_overlays([_overlay(ct_chest, k, ((150, 200), (250, 200)), ((200, 180), (200, 220)))])
    viewer.set_tool("smart")
    viewer.set_smart_proposal(7)  # the caliper the Smart caliper just stored
    edited: list[object] = []
    asked: list[object] = []
    viewer.measurement_edited.connect(lambda mid, g: edited.append((mid, g)))
    viewer.smart_caliper_requested.connect(asked.append)
    _widget_drag(qtbot, viewer, (250, 200), (270, 200))
    assert len(edited) == 1
    assert edited[0][0] == 7
    assert asked == []
    # the other tools leave every caliper editable, whatever the proposal
    viewer.set_smart_proposal(None)
    viewer.set_tool("bidirectional")
    (item,) = viewer.overlay_items.values()
    assert not item.locked


# -- the main window: the session's measurements -----------------------------------------


def _proposal_and_hand_drawn(qtbot, window: MainWindow) -> tuple[object, object]:
    """The demo at a new baseline: T1 measured with the Smart caliper, then T2 drawn by hand
    on the same slice; returns (T1, T2) as stored.  The Smart caliper tool is active."""
    from app.main import DEMO_FOLDER

    window.add_patient("DEMO-HANDLES")
    window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    add_timepoint(qtbot, window, "baseline")
    window.viewer.view_box.autoRange(padding=0.0)
    window.set_tool("smart")
    window.smart_caliper.measure_at(DEMO_T1)
    qtbot.waitUntil(lambda: len(window.session.measurements()) == 1, timeout=30000)
    (t1,) = window.session.measurements()
    window.set_tool("bidirectional")
    window.assign_bar.set_organ("liver")
    with qtbot.waitSignal(window.session.measurement_added, timeout=5000) as added:
        _hover_drag(
            qtbot,
            window.viewer.graphics_view.viewport(),
            to_viewport(window, 330.0, 330.0),
            to_viewport(window, 360.0, 330.0),
        )
    t2 = added.args[0]
    window.set_tool("smart")
    return t1, t2


def _handle_drag(qtbot, window: MainWindow, end_px, dx: float) -> None:
    viewport = window.viewer.graphics_view.viewport()
    p0 = to_viewport(window, *end_px)
    p1 = to_viewport(window, end_px[0] + dx, end_px[1])
    _hover_drag(qtbot, viewport, p0, p1)


def _stored(window: MainWindow, measurement_id) -> object:
    (m,) = [m for m in window.session.measurements() if m.id == measurement_id]
    return m


def test_smart_drag_from_a_stored_calipers_handle_leaves_its_measurement_alone(
    qtbot, window: MainWindow
) -> None:
    t1, t2 = _proposal_and_hand_drawn(qtbot, window)
    asked: list[object] = []
    window.viewer.smart_caliper_requested.connect(asked.append)
    changed: list[object] = []
    window.session.measurement_changed.connect(changed.append)
    _handle_drag(qtbot, window, t2.geometry.long_axis.end_px, 15.0)
    window.smart_caliper.cancel()  # the measurement it started is not what is tested here
    assert changed == []
    assert _stored(window, t2.id) == t2  # before: T2 followed the drag, an edit nobody saw
    assert len(asked) == 1  # the drag went to the Smart caliper
    assert window.undo_action.text() != "Undo Move measurement"


def test_the_proposal_is_still_adjusted_by_its_handle_with_the_smart_caliper(
    qtbot, window: MainWindow
) -> None:
    t1, _t2 = _proposal_and_hand_drawn(qtbot, window)
    assert window.viewer.smart_proposal_id == t1.id
    with qtbot.waitSignal(window.session.measurement_changed, timeout=5000):
        _handle_drag(qtbot, window, t1.geometry.long_axis.end_px, 8.0)
    moved = _stored(window, t1.id)
    assert moved.geometry != t1.geometry
    assert moved.method == Method.SEMI_AUTO  # adjusted, still the Smart caliper's
    assert "T1 at baseline moved: " in window.statusBar().currentMessage()


def test_a_handle_drag_with_the_caliper_tool_moves_it_and_says_so(
    qtbot, window: MainWindow
) -> None:
    _t1, t2 = _proposal_and_hand_drawn(qtbot, window)
    window.set_tool("bidirectional")
    with qtbot.waitSignal(window.session.measurement_changed, timeout=5000):
        _handle_drag(qtbot, window, t2.geometry.long_axis.end_px, 15.0)
    moved = _stored(window, t2.id)
    assert moved.long_axis_mm > t2.long_axis_mm
    message = window.statusBar().currentMessage()
    assert message == (
        f"T2 at baseline moved: {size_text(t2)} → {size_text(moved)} mm (Ctrl+Z undoes)"
    )
    assert " × " in size_text(moved)  # both axes, long × short
    window.undo_action.trigger()  # Ctrl+Z: the message saying it was moved goes with it
    assert _stored(window, t2.id).geometry == t2.geometry
    assert "moved" not in window.statusBar().currentMessage()
