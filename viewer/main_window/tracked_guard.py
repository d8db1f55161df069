"""A follow-up caliper drawn on a tracked lesion with "New lesion" in the bar: ask first.

At a follow-up with no lesion row selected the Next caliper bar says "New lesion".  A caliper
(drawn, or a Smart caliper result) on a lesion that is already tracked would then create a
new lesion N1 — progressive disease — silently.  :func:`ask_if_on_tracked` is called by
:class:`viewer.main_window.caliper_actions.CaliperActions` before it stores a caliper: when
the choice is a new lesion and the session says the caliper lies on a tracked lesion
(``ReadingSession.tracked_lesion_near``, rule in :mod:`app.session.proximity`), it opens
:func:`viewer.dialogs.tracked_lesion.ask_tracked_or_new` and nothing is stored until the
reader answers: "Record as T1" stores it for T1 (as if T1 had been chosen in the bar), "New
lesion" stores it as before, Cancel stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from recist.model import LesionKind
from viewer.dialogs.tracked_lesion import TrackedAnswer, ask_tracked_or_new


def ask_if_on_tracked(
    window: QWidget,
    session: Any,
    geometry: Any,
    choice: Any,
    *,
    record: Callable[[Any], None],
    cancel: Callable[[], None],
    run: Callable[[Callable[[], None]], None],
) -> QMessageBox | None:
    """Open the question when ``geometry`` would make a new lesion on a tracked one.

    Parameters
    ----------
    window : QWidget
        Parent of the question box.
    session : app.session.ReadingSession
        Says which tracked lesion, if any, the caliper lies on.
    geometry : DrawnGeometry
        The caliper about to be stored.
    choice : AssignTarget
        The Next caliper bar's choice it would be stored for.
    record : callable
        Stores the caliper for the choice it is given (the tracked lesion's, or ``choice``).
    cancel : callable
        Drops the caliper (Cancel).
    run : callable
        Runs ``record`` and shows its error to the reader (the answer comes from the box).

    Returns
    -------
    QMessageBox or None
        The question box (the caller stores nothing now), or None: no question, store it.
    """
    if choice.lesion_id is not None or choice.kind is not LesionKind.NEW:
        return None
    if session.patient is None or session.current_timepoint is None:
        return None  # the session's own error says so when it is stored
    near = session.tracked_lesion_near(geometry)
    if near is None:
        return None
    lesion = next((x for x in session.lesions() if x.id == near.lesion_id), None)
    if lesion is None:
        return None
    # the same AssignTarget type as ``choice``, for the tracked lesion (replace: this module is
    # imported before the window shows, the assign bar's module only with its dock)
    tracked = replace(
        choice,
        lesion_id=lesion.id,
        kind=lesion.kind,
        organ=lesion.organ,
        location=lesion.location,
        nodal=lesion.nodal,
    )

    def answered(answer: TrackedAnswer) -> None:
        if answer is TrackedAnswer.TRACKED:
            run(lambda: record(tracked))
        elif answer is TrackedAnswer.NEW:
            run(lambda: record(choice))
        else:
            cancel()

    return ask_tracked_or_new(
        window,
        code=near.code,
        timepoint_label=near.timepoint_label,
        long_axis_mm=near.long_axis_mm,
        on_answer=answered,
        replaces=_replaces(session, lesion),
    )


def _replaces(session: Any, lesion: Any) -> str:
    """The line "T1 is already measured at C3 (12.7 mm): …", or "" when nothing is replaced."""
    current = session.measurement_for(lesion.id)
    if current is None or current.reader_id != getattr(session.reader, "id", None):
        return ""  # nothing of this reader's is replaced
    tp = session.current_timepoint
    size = f" ({current.long_axis_mm:.1f} mm)" if current.long_axis_mm is not None else ""
    return (
        f"{lesion.code} is already measured at {tp.label}{size}: "
        f"recording it as {lesion.code} replaces that measurement."
    )
