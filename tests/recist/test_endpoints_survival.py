"""PFS / OS / DoR censoring against a table of hand-worked cases (issue 15).

Start (first dose) 2026-01-05 = day 0; the 18-month cut-off is 2027-07-05 = day 546;
scans every 63 days; an event more than 2 x 63 + 14 = 140 days after the last
adequate assessment comes after two or more missed assessments.  AVAL = days + 1.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recist import case_from_dict, evaluate
from recist.endpoints import (
    SurvivalRecord,
    TumourAssessment,
    add_months,
    derive_dor,
    derive_endpoints,
    derive_os,
    derive_pfs,
)
from recist.errors import InvalidRecordError
from tests.recist.helpers import case, tp

START = date(2026, 1, 5)


def d(day: int | None) -> date | None:
    return None if day is None else START + timedelta(days=day)


def scans(*items: tuple[int, str]) -> list[TumourAssessment]:
    return [
        TumourAssessment(f"C{3 * (i + 1)}", d(day), resp) for i, (day, resp) in enumerate(items)
    ]


def test_cutoff_is_18_calendar_months() -> None:
    assert add_months(START, 18) == date(2027, 7, 5) == d(546)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


PFS_CASES = [
    # id, scans [(day, response)], record fields, has_baseline, (end day, CNSR) expected
    ("PD at C6", [(63, "SD"), (126, "PD")], {}, True, (126, 0)),
    ("no event: last adequate scan", [(63, "SD"), (126, "PR"), (189, "PR")], {}, True, (189, 1)),
    ("death between scans", [(63, "SD")], {"death": 100}, True, (100, 0)),
    ("death after two missed scans", [(63, "SD")], {"death": 300}, True, (63, 4)),
    ("PD after one missed scan counts", [(63, "SD"), (189, "PD")], {}, True, (189, 0)),
    ("PD after two missed scans (gap 147 > 140)", [(63, "SD"), (210, "PD")], {}, True, (63, 4)),
    (
        "NE scan counts as missed: gap 126 still counts",
        [(63, "SD"), (126, "NE"), (189, "PD")],
        {},
        True,
        (189, 0),
    ),
    (
        "NE, NE then PD: gap 189",
        [(63, "SD"), (126, "NE"), (189, "NE"), (252, "PD")],
        {},
        True,
        (63, 4),
    ),
    (
        "new therapy before PD",
        [(63, "SD"), (126, "SD"), (200, "PD")],
        {"therapy": 150},
        True,
        (126, 3),
    ),
    ("PD before new therapy", [(63, "SD"), (189, "PD")], {"therapy": 200}, True, (189, 0)),
    (
        "PD on the day new therapy starts",
        [(63, "SD"), (189, "PD")],
        {"therapy": 189},
        True,
        (189, 0),
    ),
    ("new therapy, no event", [(63, "PR"), (126, "PR")], {"therapy": 130}, True, (126, 3)),
    (
        "PD after the 18-month cut-off",
        [(63 * k, "SD") for k in range(1, 9)] + [(567, "PD")],
        {},
        True,
        (504, 5),
    ),
    (
        "followed beyond the cut-off without event",
        [(63 * k, "SD") for k in range(1, 10)],
        {},
        True,
        (504, 5),
    ),
    ("no baseline assessment", [(63, "PD")], {}, False, (0, 2)),
    ("no post-baseline assessment, alive", [], {}, True, (0, 2)),
    ("death before the first scan", [], {"death": 40}, True, (40, 0)),
    ("off study without progression", [(63, "SD")], {"off": 100}, True, (63, 1)),
    (
        "death on the day of a PD scan is progression",
        [(63, "SD"), (126, "PD")],
        {"death": 126},
        True,
        (126, 0),
    ),
]


@pytest.mark.parametrize(
    ("items", "fields", "has_baseline", "expected"),
    [c[1:] for c in PFS_CASES],
    ids=[c[0] for c in PFS_CASES],
)
def test_pfs_censoring_table(items, fields, has_baseline, expected) -> None:
    record = SurvivalRecord(
        None,
        1,
        START,
        death_date=d(fields.get("death")),
        new_therapy_date=d(fields.get("therapy")),
        off_study_date=d(fields.get("off")),
        off_study_reason="withdrew consent" if "off" in fields else "",
    )
    pfs = derive_pfs(record, scans(*items), has_baseline=has_baseline)
    assert pfs is not None
    end_day, cnsr = expected
    assert ((pfs.end - START).days, pfs.cnsr) == (end_day, cnsr), pfs.description
    assert pfs.event is (cnsr == 0)
    assert pfs.days == end_day + 1


def test_pfs_descriptions_say_why() -> None:
    record = SurvivalRecord(
        None, 1, START, off_study_date=d(100), off_study_reason="withdrew consent"
    )
    pfs = derive_pfs(record, scans((63, "SD")))
    assert pfs.description.endswith("(off study on 2026-04-15: withdrew consent)")
    assert pfs.source == "assessment C3"
    death = derive_pfs(SurvivalRecord(None, 1, START, death_date=d(300)), scans((63, "SD")))
    assert "death on 2026-11-01, 237 days later" in death.description
    assert derive_pfs(SurvivalRecord(None, 1), scans((63, "SD"))) is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"death": 300}, (300, 0)),  # death within the cut-off: event
        ({"alive": 400}, (400, 1)),  # censored at the last date known alive
        ({"death": 600}, (546, 5)),  # death after the cut-off: censored at it
        ({"alive": 700}, (546, 5)),  # followed beyond the cut-off
        ({}, (189, 1)),  # no alive date: the last scan
        ({"alive": 100}, (189, 1)),  # a later scan shows the patient alive
    ],
)
def test_os_hand_worked(fields, expected) -> None:
    record = SurvivalRecord(
        None, 1, START, death_date=d(fields.get("death")), last_known_alive=d(fields.get("alive"))
    )
    os_ = derive_os(record, scans((63, "SD"), (126, "SD"), (189, "SD")))
    assert ((os_.end - START).days, os_.cnsr) == expected, os_.description


def test_dor_from_first_response_to_progression() -> None:
    record = SurvivalRecord(None, 1, START)
    dor = derive_dor(record, scans((63, "PR"), (126, "PR"), (189, "PD")), d(63))
    assert (dor.start, dor.end, dor.event, dor.days) == (d(63), d(189), True, 127)
    censored = derive_dor(record, scans((63, "PR"), (126, "PR")), d(63))
    assert (censored.end, censored.cnsr) == (d(126), 1)
    assert derive_dor(record, scans((63, "SD")), None) is None


def test_survival_record_refuses_impossible_dates() -> None:
    with pytest.raises(InvalidRecordError, match="death_date 2026-01-01 is before the treatment"):
        SurvivalRecord(None, 1, START, death_date=date(2026, 1, 1))
    with pytest.raises(InvalidRecordError, match="last_known_alive .* is after death_date"):
        SurvivalRecord(None, 1, START, death_date=d(50), last_known_alive=d(60))
    with pytest.raises(InvalidRecordError, match="off_study_reason is required"):
        SurvivalRecord(None, 1, START, off_study_date=d(50))


def test_derive_endpoints_uses_the_recist_result_and_the_patient_first_dose() -> None:
    data = case(
        tp("BL", -7, {"T1": 50}, organs={"T1": "liver"}),
        tp("C3", 56, {"T1": 30}, organs={"T1": "liver"}),
        tp("C6", 119, {"T1": 30}, organs={"T1": "liver"}),
        tp("C9", 182, {"T1": 45}, organs={"T1": "liver"}),
        first_dose_date="2026-01-05",
    )
    c = case_from_dict(data)
    ends = derive_endpoints(c, evaluate(c), survival=SurvivalRecord(None, 1))
    # helpers' day 0 is 2026-01-05 too: PR at C3 (day 56), PD at C9 (45 >= 1.2 x 30 and +15 mm)
    assert ends.treatment_start == START
    assert (ends.pfs.end, ends.pfs.cnsr) == (d(182), 0)
    assert ends.first_response_date == d(56)
    assert ends.dor.days == 182 - 56 + 1
    assert ends.liver.best().response.value == "PR"
