"""Cohort statistics: exact binomial CIs, ORR at C3/C6, BOR table."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

import recist
from app.cohort.metrics import (
    RESPONDERS,
    binomial_cdf,
    bor_up_to,
    clopper_pearson,
    cohort_summary,
    summarize_patient,
    write_cohort_tables,
)
from storage.exchange.timeline import PatientTimeline, records_from_case
from tests.storage.exchange.factories import case


def _timeline(prefix: str) -> PatientTimeline:
    patient, tps, lesions, ms = records_from_case(case(prefix), subject_id=prefix)
    result = recist.result_to_dict(
        recist.evaluate(recist.case_from_records(patient, tps, lesions, ms))
    )
    return PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result)


# R's binom.test(k, n)$conf.int, to the 4th decimal
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (5, 20, 0.0866, 0.4910),
        (0, 10, 0.0, 0.3085),
        (10, 10, 0.6915, 1.0),
        (7, 30, 0.0993, 0.4228),
        (1, 1, 0.025, 1.0),
    ],
)
def test_clopper_pearson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    got = clopper_pearson(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize(("k", "n"), [(3, 17), (40, 120), (250, 600)])
def test_interval_limits_leave_alpha_over_two_in_each_tail(k: int, n: int) -> None:
    low, high = clopper_pearson(k, n, 0.95)
    assert 1 - binomial_cdf(k - 1, n, low) == pytest.approx(0.025, abs=1e-9)
    assert binomial_cdf(k, n, high) == pytest.approx(0.025, abs=1e-9)
    assert low < k / n < high


def test_binomial_cdf_equals_the_exact_sum() -> None:
    for n, p in ((12, 0.3), (25, 0.71)):
        for k in range(n + 1):
            exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
            assert binomial_cdf(k, n, p) == pytest.approx(exact, rel=1e-10, abs=1e-15)


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="k <= n"):
        clopper_pearson(5, 3)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson(1, 3, confidence=1.5)
    assert clopper_pearson(0, 0) == (0.0, 1.0)


def test_patient_summary_numbers_come_from_the_result() -> None:
    summary = summarize_patient(_timeline("R01"))
    assert summary.best_overall_response == "PR"
    assert summary.best_pct_change == pytest.approx(-45.1)
    assert summary.spider == ((0, 0.0), (63, -38.0), (126, -45.1))
    assert summary.bor_at == {3: "PR", 6: "PR"}
    assert summary.last_day == 126
    assert summary.progression_day is None


def test_unconfirmed_response_at_c3_does_not_count_at_c3() -> None:
    timeline = _timeline("R03")
    assert timeline.patient.confirmation_required
    assert bor_up_to(timeline, 3) not in RESPONDERS
    assert bor_up_to(timeline, 6) == timeline.result["best_overall_response"]


def test_cohort_orr_and_tables(tmp_path: Path) -> None:
    prefixes = ["R01", "R03", "R05", "R07"]
    summary = cohort_summary([_timeline(p) for p in prefixes])
    bors = {p.subject_id: p.best_overall_response for p in summary.patients}
    assert bors == {p: case(p)["expected"]["best_overall_response"] for p in prefixes}
    responders = sum(1 for b in bors.values() if b in RESPONDERS)
    c6 = next(e for e in summary.orr if e.cutoff == "C6")
    assert (c6.responders, c6.patients) == (responders, 4)
    assert (c6.ci_low, c6.ci_high) == pytest.approx(clopper_pearson(responders, 4))
    assert sum(summary.bor_counts.values()) == 4
    files = write_cohort_tables(summary, tmp_path)
    rows = {r["cutoff"]: r for r in csv.DictReader(files[0].open())}
    assert rows["C6"]["orr_pct"] == f"{100 * responders / 4:.1f}"
    patients = list(csv.DictReader(files[2].open()))
    assert [p["subject_id"] for p in patients] == prefixes
