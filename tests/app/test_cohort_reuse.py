"""The cohort reuses each patient's case (issue 17): the same numbers as building it again.

``bor_up_to`` with the patient's whole case cuts that case at the cutoff instead of building
a case from the records of the timepoints up to it; every public case, at every cutoff from C1
to C12, must give the same best overall response both ways.  ``cohort_summary`` with the
cases equals the summary without them.
"""

from __future__ import annotations

from dataclasses import replace

import recist
from app.cohort.metrics import bor_up_to, cohort_summary
from storage.exchange.timeline import PatientTimeline
from tests.storage.exchange.factories import CASES


def _timeline(data: dict) -> tuple[PatientTimeline, recist.Case]:
    case = recist.case_from_dict({k: v for k, v in data.items() if k != "expected"})
    patient, tps, lesions, ms = recist.case_to_records(case)
    # stored records have ids: timepoint id = its order, lesion id = its index (as linked)
    tps = [replace(t, id=t.order) for t in tps]
    lesions = [replace(les, id=i) for i, les in enumerate(lesions)]
    case = recist.case_from_records(patient, tps, lesions, ms)
    result = recist.result_to_dict(recist.evaluate(case))
    return PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result, {}, ()), case


def test_cutting_the_case_gives_the_bor_of_the_records_up_to_the_cutoff() -> None:
    checked = 0
    for data in CASES:
        timeline, case = _timeline(data)
        for cycle in range(1, 13):
            assert bor_up_to(timeline, cycle, case) == bor_up_to(timeline, cycle), (
                data["id"],
                cycle,
            )
            checked += 1
    assert checked == 12 * len(CASES) >= 12 * 30


def test_summary_with_cases_equals_summary_without() -> None:
    pairs = [_timeline(data) for data in CASES]
    timelines = [t for t, _ in pairs]
    cases = {t.patient.subject_id: c for t, c in pairs}
    assert cohort_summary(timelines, cases=cases) == cohort_summary(timelines)
