"""Checks a drawn caliper passes before the reading session stores it (pure; no I/O).

* RECIST roles at assignment: targets and non-targets are chosen at baseline,
  new lesions appear only at follow-up (RECIST 1.1 §4.2–4.3, rules.md).
* Calipers that cannot be a lesion: longer than the image's field of view.
* Implausible size changes: a lesion that grows or shrinks by more than
  ``factor`` since its last measurement asks "are you sure?"
  (:class:`~app.session.errors.ConfirmationNeededError`); on yes the
  confirmation is kept in the measurement's ``note``, so it is in the audit
  trail with the edit.
"""

from __future__ import annotations

from fractions import Fraction

from app.session.errors import ConfirmationNeededError, SessionError
from recist.model import DrawnGeometry, Lesion, LesionKind, Measurement, Timepoint

__all__ = [
    "CONFIRMED_NOTE",
    "DEFAULT_PLAUSIBLE_FACTOR",
    "ask_unless_confirmed",
    "check_field_of_view",
    "check_kind_at",
    "check_size_change",
    "counted_mm",
    "note_after_check",
]

DEFAULT_PLAUSIBLE_FACTOR = 3
"""A lesion more than 3 times larger or smaller than at its last measurement asks first."""

CONFIRMED_NOTE = "size change confirmed by the reader: "
"""Start of the ``note`` of a measurement whose implausible size change was confirmed."""

_KIND_NAMES = {
    LesionKind.TARGET: "targets",
    LesionKind.NON_TARGET: "non-target lesions",
    LesionKind.NEW: "new lesions",
}


def check_kind_at(kind: LesionKind, timepoint: Timepoint, what: str) -> None:
    """Refuse a lesion of ``kind`` first recorded at ``timepoint`` where RECIST has none.

    Raises
    ------
    SessionError
        A target or non-target after baseline, or a new lesion at baseline;
        the message says what to record instead.
    """
    if timepoint.is_baseline and kind is LesionKind.NEW:
        raise SessionError(
            f"{what}: new lesions are recorded at follow-up only; at baseline record this as "
            "a target or non-target lesion (Next caliper: New target / New non-target)."
        )
    if not timepoint.is_baseline and kind is not LesionKind.NEW:
        raise SessionError(
            f"{what}: {_KIND_NAMES[kind]} are chosen at baseline; record this as a new lesion "
            f"(Next caliper: New lesion), or choose an existing lesion to measure it at "
            f"{timepoint.label}."
        )


def check_field_of_view(geometry: DrawnGeometry, field_of_view_mm: float | None, what: str) -> None:
    """Refuse a caliper line longer than the image's field of view (it left the lesion).

    Parameters
    ----------
    field_of_view_mm
        The larger side of the image in millimetres (None: not checked).

    Raises
    ------
    SessionError
    """
    if field_of_view_mm is None or field_of_view_mm <= 0:
        return
    lines = [geometry.long_axis] + ([geometry.short_axis] if geometry.short_axis else [])
    longest = max(segment.length_mm for segment in lines)
    if longest > field_of_view_mm + 0.05:
        raise SessionError(
            f"{what}: the caliper is {longest:.1f} mm long, longer than the "
            f"{field_of_view_mm:.1f} mm field of view of the image, so it cannot be a lesion. "
            "Draw it again from edge to edge of the lesion."
        )


def counted_mm(measurement: Measurement, lesion: Lesion) -> float | None:
    """The length RECIST counts: a node's short axis (when measured), else the long axis."""
    if lesion.nodal and measurement.short_axis_mm is not None:
        return measurement.short_axis_mm
    return measurement.long_axis_mm


def check_size_change(
    lesion: Lesion,
    new: Measurement,
    previous: tuple[Timepoint, Measurement] | None,
    factor: float | None,
) -> str | None:
    """The confirmation note for a size change beyond ``factor``, or None when within it.

    Exactly ``factor`` times is still plausible; lengths are compared as the
    0.1 mm decimals they are recorded with (exact fractions, no float edge).

    Returns
    -------
    str or None
        What the reader confirms (kept in the measurement's ``note``) when the
        change is beyond ``factor``; None when no question is needed.
    """
    if factor is None or previous is None:
        return None
    timepoint, old = previous
    before, after = counted_mm(old, lesion), counted_mm(new, lesion)
    if not before or after is None:
        return None
    limit = Fraction(str(factor))
    b, a = Fraction(str(before)), Fraction(str(after))
    if a > b * limit:
        change = f"grew ×{float(a / b):.1f}"
    elif a * limit < b:
        change = "shrank " + (f"÷{float(b / a):.1f}" if a else "to 0 mm")
    else:
        return None
    axis = "short axis " if lesion.nodal and new.short_axis_mm is not None else ""
    return (
        f"{lesion.code} {axis}{change}: {after:.1f} mm now, {before:.1f} mm at {timepoint.label} "
        f"(more than ×{factor} or ÷{factor} since its last measurement)"
    )


def ask_unless_confirmed(change: str | None, confirmed: bool) -> None:
    """Raise the "are you sure?" question for ``change`` unless the reader confirmed it.

    Raises
    ------
    ConfirmationNeededError
    """
    if change is not None and not confirmed:
        raise ConfirmationNeededError(  # a question, not a failure: no "Could not ..." prefix
            f"{change}. Are you sure this is the same lesion, measured edge to edge? "
            "Confirm to store it (your confirmation is recorded in the audit trail), or "
            "cancel and draw it again."
        )


def note_after_check(note: str, change: str | None) -> str:
    """The measurement note: the confirmed change, or the old note without a stale confirmation."""
    if change is not None:
        return CONFIRMED_NOTE + change
    return "" if note.startswith(CONFIRMED_NOTE) else note
