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


class MoveNotice:
    """Says in *window*'s status bar what a drag changed; an undo or any later edit clears it.

    Parameters
    ----------
    window : QMainWindow
        Its status bar shows the message.
    session : app.session.ReadingSession
        Where the measurement, its lesion and timepoint are looked up; its signals make the
        message stale (after Ctrl+Z, "T2 at C3 moved … (Ctrl+Z undoes)" would stay up).
    """

    def __init__(self, window: Any, session: Any) -> None:
        self.window, self.session = window, session
        self.last_message = ""

    def connect(self) -> None:
        """Clear the message when a measurement changes after it (an undo, another edit)."""
        s = self.session
        for signal in (s.measurement_added, s.measurement_changed, s.measurement_removed):
            signal.connect(lambda *_: self._clear())

    def before(self, measurement_id: int) -> Any:
        """The measurement as stored before the move (call before moving it), or None."""
        return self.session.find_measurement(measurement_id)

    def announce(self, before: Any) -> str:
        """Show what became of *before* (a measurement just moved); returns the message.

        ``""`` when the measurement did not change (nothing is shown).
        """
        if before is None or before.id is None:
            return ""
        session = self.session
        after = session.find_measurement(before.id)
        if after is None or after.geometry == before.geometry:
            return ""
        code = next((les.code for les in session.lesions() if les.id == after.lesion_id), "Lesion")
        label = next(
            (tp.label for tp in session.timepoints() if tp.id == after.timepoint_id),
            "this timepoint",
        )
        self.last_message = move_message(before, after, code, label)
        self.window.statusBar().showMessage(self.last_message, MESSAGE_MS)
        return self.last_message

    def _clear(self) -> None:
        bar = self.window.statusBar()
        if self.last_message and bar.currentMessage() == self.last_message:
            bar.clearMessage()
        self.last_message = ""
