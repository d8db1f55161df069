"""Cohort statistics for the trial endpoints: ORR at C3 and C6 with exact 95 % CIs, BOR table.

Qt-free; the plots that draw these numbers are in :mod:`app.reports.plots`.

ORR at cycle *n* is the share of all patients (intention to treat: every patient
with a baseline is in the denominator) whose best overall response, computed by
the rules engine from the timepoints up to and including the one of cycle *n*
(label ``C<n>`` or ``Timepoint.cycle == n``), is CR or PR (iCR or iPR under
iRECIST).  The patient's own confirmation setting applies, so with confirmation
required an unconfirmed PR at C3 does not count at C3.  A patient with no
timepoint of cycle *n* is judged on the timepoints of cycles up to *n* (all of
them when cycles are not recorded), i.e. a patient who stopped early counts as a
non-responder unless an earlier response qualifies.

The exact (Clopper–Pearson) interval inverts the binomial tail: the lower limit
``p_L`` solves ``P(X >= k | n, p_L) = alpha/2`` and the upper ``p_U`` solves
``P(X <= k | n, p_U) = alpha/2``, found by bisection (no scipy).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import recist
from storage.exchange.timeline import PatientTimeline

RESPONDERS = frozenset({"CR", "PR", "iCR", "iPR"})
BOR_ORDER = (
    "CR",
    "iCR",
    "PR",
    "iPR",
    "SD",
    "iSD",
    "non-CR/non-PD",
    "PD",
    "iUPD",
    "iCPD",
    "NED",
    "NE",
)
CUTOFF_CYCLES = (3, 6)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (stable for large n)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        log_term = (
            math.lgamma(n + 1)
            - math.lgamma(i + 1)
            - math.lgamma(n - i + 1)
            + i * log_p
            + (n - i) * log_q
        )
        total += math.exp(log_term)
    return min(total, 1.0)


def _bisect(func: Any, target: float, increasing: bool) -> float:
    """p in [0, 1] where the monotone ``func(p)`` equals ``target`` (to 1e-12)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        value = func(mid)
        if (value < target) == increasing:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided confidence interval of a binomial proportion.

    Parameters
    ----------
    k
        Responders.
    n
        Patients.
    confidence
        Coverage, e.g. 0.95.

    Returns
    -------
    tuple of float
        ``(lower, upper)``; ``(0, 1)`` when ``n`` is 0.

    Raises
    ------
    ValueError
        When ``k`` is not in ``0..n`` or the confidence is not in (0, 1).
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    lower = (
        0.0
        if k == 0
        else _bisect(lambda p: 1 - binomial_cdf(k - 1, n, p), alpha / 2, increasing=True)
    )
    upper = 1.0 if k == n else _bisect(lambda p: binomial_cdf(k, n, p), alpha / 2, increasing=False)
    return lower, upper


@dataclass(frozen=True)
class PatientSummary:
    """One patient's line in the cohort tables and plots."""

    subject_id: str
    best_overall_response: str | None
    bor_at: dict[int, str | None]
    best_pct_change: float | None
    spider: tuple[tuple[int, float], ...]
    responses: tuple[tuple[int, str], ...]
    last_day: int
    progression_day: int | None


@dataclass(frozen=True)
class OrrEstimate:
    """ORR at one cutoff with its exact CI."""

    cutoff: str
    responders: int
    patients: int
    rate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class CohortSummary:
    """Everything ``caliper export cohort`` writes."""

    patients: tuple[PatientSummary, ...]
    orr: tuple[OrrEstimate, ...]
    bor_counts: dict[str, int] = field(default_factory=dict)
    #: The cutoff cycles some patient has a timepoint of (C3 without C6: ``(3,)``).
    cutoffs_found: tuple[int, ...] = ()
    #: ORR of the best overall response over all timepoints (every patient).
    overall: OrrEstimate | None = None

    def orr_shown(self) -> tuple[OrrEstimate, ...]:
        """The ORR rows worth showing: the cutoffs that exist, else the overall ORR."""
        found = [e for e in self.orr if int(e.cutoff.lstrip("C") or 0) in self.cutoffs_found]
        if found:
            return tuple(found)
        return (self.overall,) if self.overall is not None else self.orr


def _day(tp_date: date | None, baseline: date | None) -> int | None:
    return (tp_date - baseline).days if tp_date and baseline else None


def has_cycle(timeline: PatientTimeline, cycle: int) -> bool:
    """Whether the patient has a timepoint of cycle ``cycle`` (label ``C<n>`` or its cycle)."""
    return any(t.cycle == cycle or t.label.upper() == f"C{cycle}" for t in timeline.timepoints)


def _cutoff_timepoints(timeline: PatientTimeline, cycle: int) -> list[Any]:
    tps = sorted(timeline.timepoints, key=lambda t: t.order)
    hit = next((t for t in tps if t.cycle == cycle or t.label.upper() == f"C{cycle}"), None)
    if hit is not None:
        return [t for t in tps if t.order <= hit.order]
    if any(t.cycle is not None for t in tps):
        return [t for t in tps if t.order == 0 or (t.cycle is not None and t.cycle <= cycle)]
    return tps


def bor_up_to(timeline: PatientTimeline, cycle: int, case: recist.Case | None = None) -> str | None:
    """Best overall response from the timepoints up to cycle ``cycle`` (see module doc).

    ``case``: the timeline's whole case when already built; the cutoff's case is then
    its timepoints up to the cutoff (what ``case_from_records`` of those timepoints gives,
    each timepoint's entries coming from its own measurements only), not built again.
    """
    tps = _cutoff_timepoints(timeline, cycle)
    if len(tps) < 2:
        return None
    if case is not None:
        keep = {id(t) for t in tps}
        ordered = sorted(timeline.timepoints, key=lambda t: t.order)
        upto = tuple(
            entry for entry, t in zip(case.timepoints, ordered, strict=True) if id(t) in keep
        )
        return str(recist.evaluate(replace(case, timepoints=upto)).best_overall_response.value)
    ids = {t.id for t in tps}
    ms = [m for m in timeline.measurements if m.timepoint_id in ids]
    lesion_ids = {m.lesion_id for m in ms}
    lesions = [les for les in timeline.lesions if les.id in lesion_ids]
    result = recist.evaluate(recist.case_from_records(timeline.patient, tps, lesions, ms))
    return str(result.best_overall_response.value)


def summarize_patient(
    timeline: PatientTimeline,
    cycles: Sequence[int] = CUTOFF_CYCLES,
    case: recist.Case | None = None,
) -> PatientSummary:
    """The cohort line of one patient from its records and result (``case``: its case, if built)."""
    tps = sorted(timeline.timepoints, key=lambda t: t.order)
    baseline = tps[0].scan_date if tps else None
    spider: list[tuple[int, float]] = []
    responses: list[tuple[int, str]] = []
    last_day, progression_day = 0, None
    for tp in tps:
        day = _day(tp.scan_date, baseline)
        if day is None:
            continue
        last_day = max(last_day, day)
        res = timeline.result_for(tp.label)
        pct = 0.0 if tp.order == 0 else res.get("pct_from_baseline")
        if pct is not None:
            spider.append((day, float(pct)))
        overall = res.get("overall")
        if overall and tp.order > 0:
            responses.append((day, str(overall)))
            if progression_day is None and overall in ("PD", "iCPD"):
                progression_day = day
    changes = [p for d, p in spider[1:]]
    return PatientSummary(
        subject_id=timeline.patient.subject_id,
        best_overall_response=timeline.result.get("best_overall_response"),
        bor_at={c: bor_up_to(timeline, c, case) for c in cycles},
        best_pct_change=min(changes) if changes else None,
        spider=tuple(spider),
        responses=tuple(responses),
        last_day=last_day,
        progression_day=progression_day,
    )


def orr(patients: Sequence[PatientSummary], cycle: int, confidence: float = 0.95) -> OrrEstimate:
    """ORR at a cycle cutoff over all patients, with its Clopper–Pearson interval."""
    k = sum(1 for p in patients if p.bor_at.get(cycle) in RESPONDERS)
    n = len(patients)
    low, high = clopper_pearson(k, n, confidence)
    return OrrEstimate(f"C{cycle}", k, n, k / n if n else 0.0, low, high)


def cohort_summary(
    timelines: Sequence[PatientTimeline],
    cycles: Sequence[int] = CUTOFF_CYCLES,
    cases: Mapping[str, recist.Case] | None = None,
) -> CohortSummary:
    """Summaries of every patient, ORR at each cutoff and the BOR counts.

    ``cases``: the patients' cases by subject id when already built (not built again).
    """
    known = cases or {}
    patients = tuple(
        summarize_patient(t, cycles, known.get(t.patient.subject_id)) for t in timelines
    )
    counts = Counter(p.best_overall_response or "NE" for p in patients)
    ordered = {k: counts[k] for k in BOR_ORDER if counts.get(k)}
    ordered.update({k: v for k, v in counts.items() if k not in ordered})
    found = tuple(c for c in cycles if any(has_cycle(t, c) for t in timelines))
    k = sum(1 for p in patients if p.best_overall_response in RESPONDERS)
    low, high = clopper_pearson(k, len(patients))
    overall = OrrEstimate(
        "All timepoints", k, len(patients), k / len(patients) if patients else 0.0, low, high
    )
    return CohortSummary(patients, tuple(orr(patients, c) for c in cycles), ordered, found, overall)


def write_cohort_tables(summary: CohortSummary, out: Path) -> list[Path]:
    """Write ``orr.csv``, ``best_overall_response.csv`` and ``patients.csv`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "orr.csv", out / "best_overall_response.csv", out / "patients.csv"]
    with files[0].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["cutoff", "responders", "patients", "orr_pct", "ci95_low_pct", "ci95_high_pct"])
        for e in summary.orr:
            w.writerow(
                [
                    e.cutoff,
                    e.responders,
                    e.patients,
                    f"{100 * e.rate:.1f}",
                    f"{100 * e.ci_low:.1f}",
                    f"{100 * e.ci_high:.1f}",
                ]
            )
    total = len(summary.patients)
    with files[1].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["best_overall_response", "patients", "percent"])
        for response, count in summary.bor_counts.items():
            w.writerow([response, count, f"{100 * count / total:.1f}" if total else ""])
    cycles = sorted({c for p in summary.patients for c in p.bor_at})
    with files[2].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "subject_id",
                "best_overall_response",
                *[f"bor_at_C{c}" for c in cycles],
                "best_pct_change",
                "last_day",
            ]
        )
        for p in summary.patients:
            w.writerow(
                [
                    p.subject_id,
                    p.best_overall_response or "",
                    *[p.bor_at.get(c) or "" for c in cycles],
                    "" if p.best_pct_change is None else f"{p.best_pct_change:.1f}",
                    p.last_day,
                ]
            )
    return files
