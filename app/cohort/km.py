"""Kaplan–Meier estimate with the exponential Greenwood (log −log) 95 % CI, computed exactly.

The survival probability is a product of exact fractions ``(n − d)/n`` over the
event times; only the confidence bounds, which need logarithms, are floats.  The
definitions are those of lifelines' ``KaplanMeierFitter`` (which the tests run on
the same numbers):

* ``S(t) = Π_{t_i ≤ t} (1 − d_i/n_i)``, ``n_i`` the subjects with time ≥ ``t_i``;
* Greenwood sum ``V(t) = Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i))``;
* bounds ``exp(−exp(log(−log S) ∓ z √V / log S))``; 1 while ``S`` is 1 and 0 once
  ``S`` is 0, as lifelines gives them;
* the median (and each bound's median) is the first time at which the curve is
  ≤ 0.5; None ("not reached") when it never is;
* number at risk at time ``t``: subjects whose time is ≥ ``t``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

__all__ = ["KmCurve", "KmStep", "kaplan_meier"]


@dataclass(frozen=True, slots=True)
class KmStep:
    """The curve at one distinct time (event or censoring)."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: Fraction
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class KmCurve:
    """A Kaplan–Meier curve with its median and the median's confidence interval."""

    steps: tuple[KmStep, ...]
    n: int
    events: int
    median: float | None
    median_lower: float | None
    median_upper: float | None
    confidence: float = 0.95

    def at_risk(self, t: float) -> int:
        """Subjects still at risk at time *t* (time ≥ t)."""
        total = self.n
        for step in self.steps:
            if step.time < t:
                total -= step.events + step.censored
        return total

    def survival_at(self, t: float) -> Fraction:
        """S(t): the curve's value at time *t* (1 before the first event)."""
        value = Fraction(1)
        for step in self.steps:
            if step.time <= t:
                value = step.survival
        return value

    def censor_times(self) -> list[tuple[float, float]]:
        """``(time, S(time))`` of every censoring, for the tick marks."""
        return [(s.time, float(s.survival)) for s in self.steps for _ in range(s.censored)]


def _first_at_or_below(points: Sequence[tuple[float, float | Fraction]]) -> float | None:
    for time, value in points:
        if value <= Fraction(1, 2):
            return time
    return None


def kaplan_meier(
    times: Sequence[float], events: Sequence[bool], confidence: float = 0.95
) -> KmCurve:
    """Estimate the survival curve of right-censored times.

    Parameters
    ----------
    times
        Follow-up time of each subject (any unit; >= 0).
    events
        True for an event, False for a censoring, per subject.
    confidence
        Coverage of the pointwise bounds and the median's interval.

    Raises
    ------
    ValueError
        Lengths differ, or a time is negative or not finite.
    """
    if len(times) != len(events):
        raise ValueError(f"times ({len(times)}) and events ({len(events)}) differ in length")
    for t in times:
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"times must be finite and >= 0, got {t}")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    distinct = sorted(set(times))
    n_total = len(times)
    at_risk = n_total
    survival = Fraction(1)
    greenwood = Fraction(0)
    steps = []
    for t in distinct:
        d = sum(1 for ti, e in zip(times, events, strict=True) if ti == t and e)
        c = sum(1 for ti, e in zip(times, events, strict=True) if ti == t and not e)
        if d:
            survival *= Fraction(at_risk - d, at_risk)
            if at_risk > d:
                greenwood += Fraction(d, at_risk * (at_risk - d))
        if 0 < survival < 1:
            v = math.log(survival)
            spread = z * math.sqrt(greenwood) / v
            lower = math.exp(-math.exp(math.log(-v) - spread))
            upper = math.exp(-math.exp(math.log(-v) + spread))
        else:  # lifelines: NaN filled with 1 where S is 1; both bounds 0 once S is 0
            lower = upper = 1.0 if survival else 0.0
        steps.append(KmStep(t, at_risk, d, c, survival, lower, upper))
        at_risk -= d + c
    return KmCurve(
        steps=tuple(steps),
        n=n_total,
        events=sum(1 for e in events if e),
        median=_first_at_or_below([(s.time, s.survival) for s in steps]),
        median_lower=_first_at_or_below([(s.time, s.lower) for s in steps]),
        median_upper=_first_at_or_below([(s.time, s.upper) for s in steps]),
        confidence=confidence,
    )
