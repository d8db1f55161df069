"""Asked before a follow-up caliper on a tracked lesion is recorded as a new lesion.

A new lesion at a follow-up is progressive disease.  When the Next caliper bar says "New
lesion" and the caliper lies where a tracked lesion was measured before
(``ReadingSession.tracked_lesion_near``), the reader chooses:

    This caliper lies where T1 was measured at baseline (28.6 mm).
    Record it as T1, or as a new lesion?
    [Record as T1]  [New lesion]  [Cancel]

Nothing is stored until the reader answers; Escape (or closing the box) is Cancel.  The box
is window-modal and does not block (``open``): the answer comes to ``on_answer``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtWidgets import QMessageBox, QWidget


class TrackedAnswer(Enum):
    """The reader's answer: record for the tracked lesion, as a new lesion, or nothing."""

    TRACKED = "tracked"
    NEW = "new"
    CANCEL = "cancel"


def question_text(code: str, timepoint_label: str, long_axis_mm: float) -> str:
    """``"This caliper lies where T1 was measured at baseline (28.6 mm). Record it as T1, …"``."""
    return (
        f"This caliper lies where {code} was measured at {timepoint_label} "
        f"({long_axis_mm:.1f} mm). Record it as {code}, or as a new lesion?"
    )


def ask_tracked_or_new(
    parent: QWidget | None,
    *,
    code: str,
    timepoint_label: str,
    long_axis_mm: float,
    on_answer: Callable[[TrackedAnswer], None],
    replaces: str = "",
) -> QMessageBox:
    """Open the question (window-modal, non-blocking) and return the box.

    Parameters
    ----------
    parent : QWidget or None
        The main window.
    code, timepoint_label, long_axis_mm
        The tracked lesion, where it was last measured and its long axis there.
    on_answer : callable
        Called once with the reader's answer.
    replaces : str, optional
        A line saying which measurement "Record as …" replaces at this timepoint, if any.
    """
    box = QMessageBox(parent)
    box.setObjectName("trackedLesionBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("New lesion or tracked lesion?")
    box.setText(question_text(code, timepoint_label, long_axis_mm))
    box.setInformativeText(
        "A new lesion at a follow-up is progressive disease."
        + (f"\n{replaces}" if replaces else "")
    )
    tracked = box.addButton(f"Record as {code}", QMessageBox.ButtonRole.AcceptRole)
    tracked.setObjectName("recordAsTracked")
    new = box.addButton("New lesion", QMessageBox.ButtonRole.DestructiveRole)
    new.setObjectName("recordAsNew")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(tracked)
    box.setEscapeButton(cancel)

    def answered(_result: int) -> None:
        clicked = box.clickedButton()
        if clicked is tracked:
            on_answer(TrackedAnswer.TRACKED)
        elif clicked is new:
            on_answer(TrackedAnswer.NEW)
        else:
            on_answer(TrackedAnswer.CANCEL)

    box.finished.connect(answered)
    box.open()
    return box
