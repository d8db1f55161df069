"""The trial's visit schedule: each timepoint's planned VISIT / VISITNUM (SDTMIG 4.4.5).

VISITNUM must mean the same visit for every subject of a study, so it comes from
the protocol's schedule, not from a subject's own timepoint order.  A timepoint
is mapped to the planned visit whose window holds its study day (scan date
minus the reference: first dose, else the baseline scan), else to the planned
visit of the same name; anything else is an unplanned visit numbered after the
last planned visit before it (``3.01``, ``3.02``, as the SDTMIG recommends) and
named ``UNSCHEDULED 3.01``.

The default schedule is the first trial's: baseline, C3 (week 9), C6 (week 18),
then every 9 weeks (C9, C12, ...) up to two years, each ±7 days.  Another trial
gives its own with ``caliper export sdtm --schedule FILE.json``::

    {"visits": [{"visit": "BASELINE", "visitnum": 1, "day": 0, "window_days": 28},
                {"visit": "WEEK 6", "visitnum": 2, "day": 42, "window_days": 7}]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from recist.model import Patient, Timepoint


class VisitScheduleError(ValueError):
    """A schedule file that cannot be used; the message names the file and field."""


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """One visit of the protocol: name, number, target study day and window (± days)."""

    visit: str
    visitnum: float
    day: int
    window_days: int


@dataclass(frozen=True, slots=True)
class VisitSchedule:
    """The planned visits, baseline first."""

    visits: tuple[PlannedVisit, ...]

    @property
    def baseline(self) -> PlannedVisit:
        """The first planned visit (the baseline)."""
        return self.visits[0]


def default_schedule(cycle_days: int = 21, years: int = 2) -> VisitSchedule:
    """Baseline, then an assessment every 3 cycles (C3, C6, C9, ...) ±7 days."""
    visits = [PlannedVisit("BASELINE", 1, 0, 28)]
    cycle = 3
    while cycle * cycle_days <= years * 365:
        visits.append(PlannedVisit(f"C{cycle}", len(visits) + 1, cycle * cycle_days, 7))
        cycle += 3
    return VisitSchedule(tuple(visits))


def read_schedule(path: str | Path) -> VisitSchedule:
    """Read a schedule JSON file (see the module docstring).

    Raises
    ------
    VisitScheduleError
        Naming the file and the entry that is wrong.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = data["visits"]
        visits = tuple(
            PlannedVisit(
                str(e["visit"]).upper(),
                float(e["visitnum"]),
                int(e["day"]),
                int(e.get("window_days", 7)),
            )
            for e in entries
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VisitScheduleError(f"{path}: not a visit schedule ({exc!r})") from exc
    numbers = [v.visitnum for v in visits]
    if not visits or numbers != sorted(set(numbers)):
        raise VisitScheduleError(f"{path}: visits need distinct, increasing visitnum values")
    return VisitSchedule(visits)


def assign_visits(
    patient: Patient, timepoints: Sequence[Timepoint], schedule: VisitSchedule
) -> dict[int | None, tuple[str, float]]:
    """(VISIT, VISITNUM) of each timepoint id of one subject."""
    ordered = sorted(timepoints, key=lambda t: t.order)
    baseline = next((t for t in ordered if t.is_baseline), None)
    reference: date | None = patient.first_dose_date or (baseline.scan_date if baseline else None)
    used: set[float] = set()
    assigned: dict[int | None, tuple[str, float]] = {}
    last_planned = schedule.baseline.visitnum
    unplanned = 0
    for tp in ordered:
        planned = _planned(tp, reference, schedule, used)
        if planned is not None:
            used.add(planned.visitnum)
            last_planned, unplanned = planned.visitnum, 0
            assigned[tp.id] = (planned.visit, planned.visitnum)
            continue
        unplanned += 1
        number = round(last_planned + unplanned / 100, 2)
        assigned[tp.id] = (f"UNSCHEDULED {number:.2f}", number)
    return assigned


def _planned(
    tp: Timepoint, reference: date | None, schedule: VisitSchedule, used: set[float]
) -> PlannedVisit | None:
    if tp.is_baseline:
        return schedule.baseline
    free = [v for v in schedule.visits[1:] if v.visitnum not in used]
    if tp.scan_date is not None and reference is not None:
        day = (tp.scan_date - reference).days
        inside = [v for v in free if abs(day - v.day) <= v.window_days]
        if inside:
            return min(inside, key=lambda v: abs(day - v.day))
        return None
    label = tp.label.strip().upper()
    return next((v for v in free if v.visit == label), None)
