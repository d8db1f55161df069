"""Esc with a Smart caliper segmentation and a liver segmentation running at once (issue 16).

Found driving the demo: each had Esc as its Cancel key; with both running Qt found the
shortcut ambiguous and Esc cancelled neither.  Now Esc cancels the one started last, then
the other, and the status bar says which was cancelled.

Real CT: ``crlm-ct-1006``; the liver seed and the metastasis of ``test_volumetry`` and
``test_smart_caliper``.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from tests.viewer.test_smart_caliper import METASTASIS
from tests.viewer.test_volumetry import SEED
from tests.viewer.test_volumetry import _open as open_crlm
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

ESC = QtCore.Qt.Key.Key_Escape


def _ready(qtbot, window: MainWindow, shared_data) -> None:
    open_crlm(qtbot, window, shared_data)
    window.volumetry.open()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.viewer.setFocus()


def _start_liver(window: MainWindow):  # noqa: ANN202 - a ComputeTask
    task = window.volumetry.segment_at(window.viewer.display_to_lps(SEED[2], SEED[1]))
    assert task is not None
    return task


def _start_lesion(window: MainWindow):  # noqa: ANN202 - a ComputeTask
    point = window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    task = window.smart_caliper.measure_at(point)
    assert task is not None
    return task


def _esc(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window.viewer.graphics_view, ESC)


def _finish(qtbot, window: MainWindow, *tasks) -> None:  # noqa: ANN002 - ComputeTasks
    for task in tasks:
        task.wait(30.0)
    qtbot.wait(50)  # late results of cancelled tasks are dropped


def test_esc_cancels_the_smart_caliper_started_last_then_the_liver(
    qtbot, window: MainWindow, shared_data
) -> None:
    _ready(qtbot, window, shared_data)
    liver = _start_liver(window)
    lesion = _start_lesion(window)  # started last
    bar = window.statusBar()

    _esc(qtbot, window)
    assert lesion.is_cancelled
    assert not liver.is_cancelled
    assert window.smart_caliper.task is None
    assert window.volumetry.task is liver
    assert bar.currentMessage() == (
        "Smart caliper: cancelled. The liver segmentation still runs: Esc cancels it."
    )

    _esc(qtbot, window)
    assert liver.is_cancelled
    assert window.volumetry.task is None
    assert bar.currentMessage() == "Liver volumetry: cancelled."

    # nothing runs: Esc is the image's again (neither key fires)
    assert window.escape_cancels.active() is None
    fired: list[str] = []
    window.smart_caliper.cancel_key.triggered.connect(lambda *_: fired.append("lesion"))
    window.volumetry.cancel_key.triggered.connect(lambda *_: fired.append("liver"))
    _esc(qtbot, window)
    assert fired == []
    _finish(qtbot, window, liver, lesion)
    assert window.session.measurements() == []
    assert window.volumetry.liver is None


def test_esc_cancels_the_liver_started_last_then_the_smart_caliper(
    qtbot, window: MainWindow, shared_data
) -> None:
    _ready(qtbot, window, shared_data)
    lesion = _start_lesion(window)
    liver = _start_liver(window)  # started last
    assert window.escape_cancels.running() == [
        "the Smart caliper segmentation",
        "the liver segmentation",
    ]
    _esc(qtbot, window)
    assert liver.is_cancelled
    assert not lesion.is_cancelled
    assert window.statusBar().currentMessage() == (
        "Liver volumetry: cancelled. The Smart caliper segmentation still runs: Esc cancels it."
    )
    _esc(qtbot, window)
    assert lesion.is_cancelled
    assert window.statusBar().currentMessage() == "Smart caliper: cancelled."
    _finish(qtbot, window, liver, lesion)
    assert window.session.measurements() == []


def test_a_new_smart_caliper_click_takes_esc_back_from_the_liver(
    qtbot, window: MainWindow, shared_data
) -> None:
    """A new Smart caliper click while the liver runs replaces its task and is the one
    started last."""
    _ready(qtbot, window, shared_data)
    lesion = _start_lesion(window)
    liver = _start_liver(window)
    assert window.escape_cancels.active() is window.volumetry.cancel_key
    first = _start_lesion(window)  # a new click replaces the Smart caliper's task
    assert lesion.is_cancelled
    assert window.escape_cancels.active() is window.smart_caliper.cancel_key
    _esc(qtbot, window)
    assert first.is_cancelled
    assert not liver.is_cancelled
    _esc(qtbot, window)
    assert liver.is_cancelled
    _finish(qtbot, window, liver, lesion, first)


def test_a_closed_volumetry_dock_leaves_esc_to_the_smart_caliper(
    qtbot, window: MainWindow, shared_data
) -> None:
    """The liver started last but its dock (and Cancel button) was closed: Esc cancels the
    Smart caliper's segmentation, which can be seen, not nothing."""
    _ready(qtbot, window, shared_data)
    lesion = _start_lesion(window)
    liver = _start_liver(window)
    window.volumetry.close()
    assert window.escape_cancels.active() is window.smart_caliper.cancel_key
    _esc(qtbot, window)
    assert lesion.is_cancelled
    assert not liver.is_cancelled
    window.volumetry.open()  # shown again: Esc cancels the liver
    assert window.escape_cancels.active() is window.volumetry.cancel_key
    _esc(qtbot, window)
    assert liver.is_cancelled
    _finish(qtbot, window, liver, lesion)


def test_a_segmentation_that_ends_gives_esc_to_the_other_one(qtbot) -> None:
    """The coordinator alone, with two Cancel buttons: shown while "running", hidden when
    their segmentation ends (not by Esc)."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMainWindow, QPushButton

    from viewer.main_window.escape_cancels import CANCEL_KEY, EscapeCancels

    window = QMainWindow()
    qtbot.addWidget(window)
    cancels = EscapeCancels(window)
    made: list[tuple[QPushButton, QAction]] = []
    for name in ("a", "b"):
        button = QPushButton(f"Cancel {name}")
        window.statusBar().addPermanentWidget(button)
        key = QAction(name, button)
        key.setShortcut(CANCEL_KEY)
        button.addAction(key)
        button.hide()
        cancels.add(key, button, f"segmentation {name}")
        made.append((button, key))
    (a, key_a), (b, key_b) = made
    window.show()
    qtbot.waitExposed(window)
    assert cancels.active() is None  # nothing runs: no action has Esc
    assert key_a.shortcut().isEmpty()
    a.show()
    b.show()
    assert cancels.running() == ["segmentation a", "segmentation b"]
    assert cancels.active() is key_b
    assert key_a.shortcut().isEmpty()  # never two actions with Esc (ambiguous: neither fires)
    b.hide()  # b ended
    assert cancels.active() is key_a
    b.show()  # b again: last started
    a.hide()
    a.show()  # a restarted: now a is the last
    assert cancels.active() is key_a
    assert cancels.running() == ["segmentation b", "segmentation a"]
    a.hide()
    b.hide()
    assert cancels.active() is None
