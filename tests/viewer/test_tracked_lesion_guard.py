"""A follow-up caliper on a tracked lesion with "New lesion" in the Next caliper bar asks first.

Found driving the demo: at C3 with no lesion row selected the bar says "New lesion"; a caliper
drawn on T1 (by hand or with the Smart caliper) silently created N1, a new lesion, so PD.  Now
the window asks "This caliper lies where T1 was measured at baseline (28.6 mm). Record it as
T1, or as a new lesion?" before anything is stored.  Real demo (CT with liver metastases, C3
simulated): T1 at baseline is 27.6 mm on the slice at z -296.44 mm, C3 is PR.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.demo import DEMO_LESIONS, slice_at
from app.main import open_demo
from recist.model import LesionKind, Method
from tests.viewer.test_workflow import drag
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

T1 = next(d for d in DEMO_LESIONS if d.code == "T1")


def _demo_at_c3(qtbot, window: MainWindow) -> None:
    """The demo at C3 on T1's slice, the whole image in view, "New lesion" in the bar."""
    open_demo(window.session, window.library)
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and window.viewer.volume.is_complete,
        timeout=30000,
    )
    assert window.session.current_timepoint.label == "C3"
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PR", timeout=10000)
    window.lesion_table.select_lesion(None)  # no row selected: the bar falls back to new
    window.assign_bar.select_new(LesionKind.NEW)
    assert window.assign_bar.choice().lesion_id is None
    assert window.assign_bar.choice().kind is LesionKind.NEW
    window.viewer.set_slice(slice_at(window.viewer.volume, T1.z_mm))
    # zoomed on the liver: a press beside the demo's C3 caliper starts a new one
    window.viewer.view_box.setRange(xRange=(60.0, 400.0), yRange=(150.0, 350.0), padding=0.0)
    window.set_tool("line")
    QApplication.processEvents()


def _boxes() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "trackedLesionBox" and w.isVisible()
    ]


def _press(box: QMessageBox, name: str) -> None:
    if name == "cancel":
        box.button(QMessageBox.StandardButton.Cancel).click()
        return
    (button,) = [b for b in box.findChildren(QPushButton) if b.objectName() == name]
    button.click()


def _codes(window: MainWindow) -> list[str]:
    return sorted(les.code for les in window.session.lesions())


def _t1_c3(window: MainWindow):  # noqa: ANN202 - a Measurement
    t1 = next(les for les in window.session.lesions() if les.code == "T1")
    return window.session.measurement_for(t1.id)


def _draw_on_t1(qtbot, window: MainWindow) -> None:
    """Drag a caliper across T1 at C3, about 20 mm (the demo's C3 caliper is 12.7 mm), from
    beside the demo's C3 caliper (a press on it, or on its label, moves that caliper)."""
    drag(qtbot, window, (100.0, 258.0), (124.0, 255.0))
    QApplication.processEvents()


def test_a_new_lesion_caliper_on_t1_asks_and_record_as_t1_stores_t1(
    qtbot, window: MainWindow
) -> None:
    _demo_at_c3(qtbot, window)
    before = _t1_c3(window)
    count = len(window.session.measurements())
    _draw_on_t1(qtbot, window)
    qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
    (box,) = _boxes()
    assert box.text() == (
        "This caliper lies where T1 was measured at baseline (27.6 mm). "
        "Record it as T1, or as a new lesion?"
    )
    assert "T1 is already measured at C3 (12.7 mm)" in box.informativeText()
    labels = [b.text() for b in box.buttons()]
    assert {"Record as T1", "New lesion", "Cancel"} <= set(labels)
    assert len(window.session.measurements()) == count  # nothing stored before the answer
    assert _codes(window) == ["NT1", "T1", "T2"]
    with qtbot.waitSignal(window.session.measurement_changed, timeout=5000):
        _press(box, "recordAsTracked")  # T1 was measured at C3: that measurement is replaced
    assert _codes(window) == ["NT1", "T1", "T2"]  # no N1
    after = _t1_c3(window)
    assert after.id == before.id  # T1's C3 measurement, replaced by the caliper drawn
    assert after.long_axis_mm is not None
    assert after.long_axis_mm > before.long_axis_mm  # about 20 mm, drawn, not the demo's 12.7
    assert after.timepoint_id == window.session.current_timepoint.id
    assert len(window.session.measurements()) == count
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PR", timeout=10000)
    assert _boxes() == []


def test_new_lesion_answer_stores_n1_as_before(qtbot, window: MainWindow) -> None:
    _demo_at_c3(qtbot, window)
    _draw_on_t1(qtbot, window)
    qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
    with qtbot.waitSignal(window.session.measurement_added, timeout=5000):
        _press(_boxes()[0], "recordAsNew")
    assert _codes(window) == ["N1", "NT1", "T1", "T2"]
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PD", timeout=10000)


def test_cancel_stores_nothing(qtbot, window: MainWindow) -> None:
    _demo_at_c3(qtbot, window)
    before = [(m.id, m.long_axis_mm) for m in window.session.measurements()]
    _draw_on_t1(qtbot, window)
    qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
    assert window.viewer.provisional_item is not None  # the caliper waits for the answer
    _press(_boxes()[0], "cancel")
    QApplication.processEvents()
    assert _boxes() == []
    assert window.viewer.provisional_item is None  # and leaves the image
    assert [(m.id, m.long_axis_mm) for m in window.session.measurements()] == before
    assert _codes(window) == ["NT1", "T1", "T2"]
    assert window.session.commands.can_undo_redo() == (False, False)  # no edit to undo
    assert window.response_panel.overall("C3") == "PR"


def test_a_caliper_far_from_every_lesion_is_a_new_lesion_without_asking(
    qtbot, window: MainWindow
) -> None:
    _demo_at_c3(qtbot, window)
    with qtbot.waitSignal(window.session.measurement_added, timeout=5000):
        # the other side of the abdomen, far from T1, T2 and NT1
        drag(qtbot, window, (360.0, 250.0), (385.0, 260.0))
    assert _boxes() == []
    assert _codes(window) == ["N1", "NT1", "T1", "T2"]


def test_a_smart_caliper_result_on_t1_asks_too(qtbot, window: MainWindow) -> None:
    _demo_at_c3(qtbot, window)
    count = len(window.session.measurements())
    (x0, y0), (x1, y1) = T1.follow_up or T1.baseline
    point = window.viewer.display_to_lps((x0 + x1) / 2, (y0 + y1) / 2)
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=30000)
    qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
    assert "where T1 was measured at baseline" in _boxes()[0].text()
    assert len(window.session.measurements()) == count
    assert "record it as that lesion" in window.statusBar().currentMessage()  # not "100 %"
    with qtbot.waitSignal(window.session.measurement_changed, timeout=5000):
        _press(_boxes()[0], "recordAsTracked")
    assert _codes(window) == ["NT1", "T1", "T2"]
    assert _t1_c3(window).method is Method.SEMI_AUTO
    assert "stored" in window.statusBar().currentMessage()
    # stored on the reader's answer, it is still the proposal whose handles adjust it
    assert window.viewer.smart_proposal_id == _t1_c3(window).id
