"""The status bar says what a caliper drag changed: "T2 at C3 moved: 11.1 × 9.0 → 12.4 × 9.3 mm".

A stored caliper moved by dragging one of its handles (or its line) is one undoable, audited
edit; without a word on screen the reader could change a stored measurement without noticing
(a drag meant for another lesion that started on this caliper's handle).  The message names
the lesion, the timepoint and both sizes, and says that Ctrl+Z undoes it.
"""

from __future__ import annotations

from typing import Any

#: How long the message stays in the status bar (ms).
MESSAGE_MS = 15000


def find_measurement(session: Any, measurement_id: int) -> Any:
    """The open patient's measurement *measurement_id* (any timepoint), or None."""
    for timepoint in session.timepoints():
        for measurement in session.measurements(timepoint.id):
            if measurement.id == measurement_id:
                return measurement
    return None


def size_text(measurement: Any) -> str:
    """``"11.1 × 9.0"`` (long × short axis, mm), ``"11.1"`` for a single line, ``"–"`` for none."""
    sizes = [v for v in (measurement.long_axis_mm, measurement.short_axis_mm) if v is not None]
    return " × ".join(f"{v:.1f}" for v in sizes) or "–"


def move_message(before: Any, after: Any, lesion_code: str, timepoint_label: str) -> str:
    """What the status bar says after a drag moved *before* to *after*."""
    return (
        f"{lesion_code} at {timepoint_label} moved: "
        f"{size_text(before)} → {size_text(after)} mm (Ctrl+Z undoes)"
    )


def announce_move(window: Any, session: Any, before: Any) -> str:
    """Show in *window*'s status bar what became of *before* (a measurement just moved).

    Returns the message, or ``""`` when the measurement did not change (nothing is shown).
    """
    if before is None or before.id is None:
        return ""
    after = find_measurement(session, before.id)
    if after is None or after.geometry == before.geometry:
        return ""
    code = next((les.code for les in session.lesions() if les.id == after.lesion_id), "Lesion")
    label = next(
        (tp.label for tp in session.timepoints() if tp.id == after.timepoint_id), "this timepoint"
    )
    text = move_message(before, after, code, label)
    window.statusBar().showMessage(text, MESSAGE_MS)
    return text
