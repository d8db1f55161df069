"""Survival data and the time-to-event endpoints PFS, OS and duration of response.

Censoring follows the FDA guidance *Clinical Trial Endpoints for the Approval
of Cancer Drugs and Biologics* (2018), table "PFS censoring", with the trial's
18-month cut-off.  Dates are calendar dates; the analysis value is in days,
``end - start + 1`` (the start day is day 1, as ADaM ADTTE's AVAL).

**PFS** (start: first dose) — applied in this order, first match wins:

==== ==================================================================== ==========================
CNSR situation                                                            end date
==== ==================================================================== ==========================
2    no baseline tumour assessment                                        start (censored)
0    progression (first overall RECIST 1.1 PD) or death, whichever        that date (event)
     first, on or before the cut-off and before new anticancer therapy,
     after at most one missed assessment
4    that event after two or more missed assessments: the gap since the   last adequate assessment
     last adequate assessment (or the start) exceeds                      before the event, or start
     ``2 × assessment_interval_days + window_days``
3    new anticancer therapy started before the event (or with none)       last adequate assessment
                                                                          on or before its start
5    the event lies after the 18-month cut-off, or follow-up went on      last adequate assessment
     past it                                                              on or before the cut-off
1    no event: last adequate assessment (also after going off study,      last adequate assessment
     the reason kept in the description)
2    no adequate post-baseline assessment (and nothing above)             start
==== ==================================================================== ==========================

An **adequate assessment** is a post-baseline timepoint with an overall
response other than NE.  A progression or death *on* the day new therapy
starts counts as an event (the therapy was not yet given); an assessment on
that day counts as "before new therapy".  Conversion surgery, ablation and SBRT
are protocol treatment, not new anticancer therapy.

**OS** (start: first dose): death on or before the cut-off is an event (CNSR
0); a death after it, or follow-up known past it, is censored at the cut-off
(5); otherwise censored at the last date known alive (1) — the latest of the
recorded last-known-alive date and every assessment date (and the start).

**Duration of response** (responders only): from the first CR or PR (the
response that makes the BOR) to progression or death, censored as PFS with the
response date as start.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from recist.errors import InvalidRecordError
from recist.limits import texts_problem

__all__ = [
    "CNSR_DESCRIPTIONS",
    "SurvivalRecord",
    "SurvivalSettings",
    "TimeToEvent",
    "TumourAssessment",
    "add_months",
    "derive_dor",
    "derive_os",
    "derive_pfs",
]

#: What each CNSR value means (ADTTE ``EVNTDESC`` / ``CNSDTDSC`` wording).
CNSR_DESCRIPTIONS = {
    0: "event",
    1: "censored at the last adequate assessment",
    2: "censored at the start: no baseline or no adequate post-baseline assessment",
    3: "censored at the last adequate assessment before new anticancer therapy",
    4: "censored at the last adequate assessment before two or more missed assessments",
    5: "censored at the cut-off",
}


def add_months(start: date, months: int) -> date:
    """*start* plus calendar months (day clamped to the month's end: 31 Aug + 6 -> 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class SurvivalRecord:
    """A patient's survival data.

    Raises
    ------
    InvalidRecordError
        Dates out of order (death before first dose, alive after death, ...),
        naming the fields.
    """

    id: int | None
    patient_id: int | None
    treatment_start: date | None = None
    death_date: date | None = None
    last_known_alive: date | None = None
    off_study_date: date | None = None
    off_study_reason: str = ""
    new_therapy_date: date | None = None
    death_cause: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        problem = texts_problem(
            ("off_study_reason", self.off_study_reason, "reason"),
            ("death_cause", self.death_cause, "reason"),
            ("note", self.note, "note"),
        )
        if problem is not None:
            raise InvalidRecordError(f"survival record {problem}")
        start = self.treatment_start
        for name in ("death_date", "last_known_alive", "off_study_date", "new_therapy_date"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, date):
                raise InvalidRecordError(f"{name} must be a date, got {value!r}")
            if value is not None and start is not None and value < start:
                raise InvalidRecordError(f"{name} {value} is before the treatment start {start}")
        if self.death_date and self.last_known_alive and self.last_known_alive > self.death_date:
            raise InvalidRecordError(
                f"last_known_alive {self.last_known_alive} is after death_date {self.death_date}"
            )
        if self.off_study_date and not self.off_study_reason.strip():
            raise InvalidRecordError("off_study_reason is required with off_study_date")


@dataclass(frozen=True, slots=True)
class TumourAssessment:
    """One post-baseline timepoint's overall RECIST 1.1 response, as survival sees it."""

    label: str
    date: date
    response: str | None

    @property
    def adequate(self) -> bool:
        """Evaluable: an overall response other than NE."""
        return self.response not in (None, "", "NE")


@dataclass(frozen=True, slots=True)
class SurvivalSettings:
    """Protocol values of the survival derivations.

    Attributes
    ----------
    cutoff_months : int
        Follow-up cut-off after the first dose (18 in this trial).
    assessment_interval_days : int
        Scheduled time between tumour assessments (3 cycles of 21 days = 63).
    window_days : int
        Tolerance added to two intervals before an event counts as coming
        after two or more missed assessments.
    """

    cutoff_months: int = 18
    assessment_interval_days: int = 63
    window_days: int = 14

    @property
    def max_gap_days(self) -> int:
        """The longest gap between the last adequate assessment and an event that still counts."""
        return 2 * self.assessment_interval_days + self.window_days


@dataclass(frozen=True, slots=True)
class TimeToEvent:
    """One time-to-event value (an ADTTE record).

    Attributes
    ----------
    param : str
        ``"PFS"``, ``"OS"`` or ``"DOR"``.
    start, end : date
    event : bool
    cnsr : int
        0 for an event, else a code of :data:`CNSR_DESCRIPTIONS`.
    description : str
        The event or censoring in words (ADTTE ``EVNTDESC``).
    source : str
        Which record the end date comes from (``"assessment C6"``, ``"death"``,
        ``"last known alive"``, ``"treatment start"``, ``"cut-off"``).
    """

    param: str
    start: date
    end: date
    event: bool
    cnsr: int
    description: str
    source: str

    @property
    def days(self) -> int:
        """``end - start + 1``."""
        return (self.end - self.start).days + 1

    @property
    def months(self) -> float:
        """Days / 30.4375 (display and plots)."""
        return self.days / 30.4375


def _last_adequate(
    assessments: Sequence[TumourAssessment], on_or_before: date, strictly: bool = False
) -> TumourAssessment | None:
    found = None
    for a in assessments:
        if not a.adequate:
            continue
        if a.date < on_or_before or (not strictly and a.date == on_or_before):
            found = a
    return found


def _censor(
    param: str, start: date, last: TumourAssessment | None, cnsr: int, extra: str = ""
) -> TimeToEvent:
    if last is None:
        cnsr = 2 if cnsr == 1 else cnsr
        text = (
            CNSR_DESCRIPTIONS[2] if cnsr == 2 else CNSR_DESCRIPTIONS[cnsr] + " (none: at the start)"
        )
        return TimeToEvent(param, start, start, False, cnsr, text + extra, "treatment start")
    return TimeToEvent(
        param,
        start,
        last.date,
        False,
        cnsr,
        CNSR_DESCRIPTIONS[cnsr] + extra,
        f"assessment {last.label}",
    )


def derive_pfs(
    record: SurvivalRecord,
    assessments: Sequence[TumourAssessment],
    *,
    has_baseline: bool = True,
    settings: SurvivalSettings | None = None,
    param: str = "PFS",
    start: date | None = None,
) -> TimeToEvent | None:
    """Progression-free survival with the censoring table of the module docstring.

    Parameters
    ----------
    record
        The survival data; ``treatment_start`` is the start unless *start* is given.
    assessments
        Post-baseline timepoints (any order); responses are RECIST 1.1 overall ones.
    has_baseline
        Whether a baseline tumour assessment exists.
    settings
        Cut-off and schedule (defaults: 18 months, 63 days, 14 days).
    param, start
        For duration of response: ``"DOR"`` and the first response's date.

    Returns
    -------
    TimeToEvent or None
        None when there is no start date (first dose not recorded).
    """
    s = settings or SurvivalSettings()
    origin = start or record.treatment_start
    if origin is None or record.treatment_start is None:
        return None
    cut = add_months(record.treatment_start, s.cutoff_months)
    if not has_baseline:
        return TimeToEvent(
            param,
            origin,
            origin,
            False,
            2,
            "censored at the start: no baseline tumour assessment",
            "treatment start",
        )
    include_origin = start is not None  # DOR: the response assessment itself is adequate
    post = sorted(
        (a for a in assessments if a.date > origin or (include_origin and a.date == origin)),
        key=lambda a: a.date,
    )
    progression = next((a for a in post if a.response == "PD"), None)
    candidates = []
    if progression is not None:
        candidates.append((progression.date, 0, "progression", f"assessment {progression.label}"))
    if record.death_date is not None:
        candidates.append((record.death_date, 1, "death", "death"))
    event = min(candidates) if candidates else None  # progression first on a tie
    therapy = record.new_therapy_date
    if event is not None and event[0] <= cut and (therapy is None or event[0] <= therapy):
        event_date, _, what, source = event
        ref = _last_adequate(post, event_date, strictly=True)
        ref_date = ref.date if ref is not None else origin
        gap = (event_date - ref_date).days
        if gap > s.max_gap_days:
            return _censor(param, origin, ref, 4, f" ({what} on {event_date}, {gap} days later)")
        text = "progressive disease (RECIST 1.1)" if what == "progression" else "death"
        return TimeToEvent(param, origin, event_date, True, 0, text, source)
    if therapy is not None and therapy <= cut:
        return _censor(
            param, origin, _last_adequate(post, therapy), 3, f" (new therapy on {therapy})"
        )
    beyond = (event is not None and event[0] > cut) or any(a.date > cut for a in post)
    if beyond:
        last = _last_adequate(post, cut)
        return _censor(param, origin, last, 5, f" ({s.cutoff_months} months: {cut})")
    last = _last_adequate(post, cut)
    extra = ""
    if record.off_study_date is not None:
        extra = f" (off study on {record.off_study_date}: {record.off_study_reason})"
    return _censor(param, origin, last, 1, extra)


def derive_os(
    record: SurvivalRecord,
    assessments: Sequence[TumourAssessment] = (),
    *,
    settings: SurvivalSettings | None = None,
) -> TimeToEvent | None:
    """Overall survival (module docstring); None without a treatment start."""
    s = settings or SurvivalSettings()
    start = record.treatment_start
    if start is None:
        return None
    cut = add_months(start, s.cutoff_months)
    if record.death_date is not None and record.death_date <= cut:
        return TimeToEvent("OS", start, record.death_date, True, 0, "death", "death")
    known = [start, *(a.date for a in assessments)]
    if record.last_known_alive is not None:
        known.append(record.last_known_alive)
    if record.off_study_date is not None:
        known.append(record.off_study_date)
    alive = max(known)
    if record.death_date is not None or alive > cut:
        reason = "death after the cut-off" if record.death_date else "followed beyond the cut-off"
        return TimeToEvent(
            "OS",
            start,
            cut,
            False,
            5,
            f"{CNSR_DESCRIPTIONS[5]} ({s.cutoff_months} months; {reason})",
            "cut-off",
        )
    source = (
        "last known alive"
        if alive == record.last_known_alive
        else ("treatment start" if alive == start else "last assessment")
    )
    return TimeToEvent(
        "OS", start, alive, False, 1, "censored at the last date known alive", source
    )


def derive_dor(
    record: SurvivalRecord,
    assessments: Sequence[TumourAssessment],
    response_date: date | None,
    *,
    settings: SurvivalSettings | None = None,
) -> TimeToEvent | None:
    """Duration of response from *response_date* (None: not a responder -> None)."""
    if response_date is None or record.treatment_start is None:
        return None
    later = [a for a in assessments if a.date > response_date]
    first = TumourAssessment("response", response_date, "PR")
    return derive_pfs(record, [first, *later], settings=settings, param="DOR", start=response_date)
