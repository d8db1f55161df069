"""Timeline JSON/CSV: flattening, reading, and the export -> import round trip."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from recist.model import LesionKind, MeasurementStatus
from storage.exchange.timeline import (
    CSV_COLUMNS,
    PatientTimeline,
    TimelineFormatError,
    dumps_timeline_csv,
    dumps_timeline_json,
    read_timeline_json,
    records_from_case,
    reevaluate,
    timeline_to_dict,
)
from tests.storage.exchange.factories import SHARED

CASES_PATH = SHARED / "recist" / "cases-public.json"
CASES = json.loads(CASES_PATH.read_text())


def _case(prefix: str) -> dict:
    return next(c for c in CASES if c["id"].startswith(prefix))


def test_csv_has_a_row_per_lesion_per_timepoint_and_per_response() -> None:
    case = _case("R01")
    data = {"subject_id": "R01", **case, "result": case["expected"]}
    rows = list(csv.DictReader(io.StringIO(dumps_timeline_csv(data))))
    assert tuple(rows[0]) == CSV_COLUMNS
    lesion_rows = [r for r in rows if r["record"] == "lesion"]
    response_rows = [r for r in rows if r["record"] == "response"]
    assert len(lesion_rows) == 12
    assert len(response_rows) == 3
    c6 = next(r for r in response_rows if r["timepoint"] == "C6")
    assert (c6["sum_mm"], c6["pct_from_baseline"], c6["overall"]) == ("39.0", "-45.1", "PR")
    t1_c3 = next(r for r in lesion_rows if r["timepoint"] == "C3" and r["lesion"] == "T1")
    assert (t1_c3["category"], t1_c3["diameter_mm"], t1_c3["organ"]) == ("target", "20.0", "liver")


def test_records_from_case_maps_statuses() -> None:
    case = next(
        c
        for c in CASES
        if any(t.get("coalesced_into") for tp in c["timepoints"] for t in tp["targets"])
    )
    _, tps, lesions, ms = records_from_case(case)
    assert [t.order for t in tps] == list(range(len(case["timepoints"])))
    assert len({les.tracking_uid for les in lesions}) == len(lesions)
    assert MeasurementStatus.MERGED in {m.status for m in ms}
    assert {les.kind for les in lesions} >= {LesionKind.TARGET}


def test_case_part_of_export_equals_the_case() -> None:
    from recist import case_from_dict, case_from_records, case_to_dict

    for case in CASES:
        patient, tps, lesions, ms = records_from_case(case, subject_id="S1")
        timeline = PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), {})
        data = read_timeline_json(io.StringIO(dumps_timeline_json(timeline_to_dict(timeline))))
        want = case_to_dict(case_from_dict({k: v for k, v in case.items() if k != "expected"}))
        got = case_to_dict(case_from_records(*records_from_case(data)))
        assert got["timepoints"] == want["timepoints"], case["id"]


def test_unreadable_timeline_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TimelineFormatError, match="bad.json"):
        read_timeline_json(bad)
    bad.write_text('{"label": 1}')
    with pytest.raises(TimelineFormatError, match="timepoints"):
        read_timeline_json(bad)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_json_round_trip_gives_same_responses(case: dict, tmp_path: Path) -> None:
    from recist import case_from_records, evaluate, result_to_dict

    patient, tps, lesions, ms = records_from_case(case, subject_id="S1")
    try:
        result = result_to_dict(evaluate(case_from_records(patient, tps, lesions, ms)))
    except NotImplementedError:
        pytest.skip("the recist engine (recist.evaluate) has not landed yet")
    timeline = PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result)
    path = tmp_path / "timeline.json"
    path.write_text(dumps_timeline_json(timeline_to_dict(timeline)))
    data = read_timeline_json(path)
    assert data["subject_id"] == "S1"
    assert reevaluate(data) == data["result"]
    assert [t["label"] for t in data["timepoints"]] == [t["label"] for t in case["timepoints"]]


def test_post_progression_flag_in_json_and_csv(tmp_path: Path) -> None:
    """Issue 19: timepoints after the first PD are marked in every export."""
    from recist import case_from_dict, evaluate, result_to_dict

    sizes = [20, 0, 5, 2.5]
    case = {
        "id": "PP1",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "min_sd_days": 42,
        "timepoints": [
            {
                "label": label,
                "date": f"2026-0{1 + 2 * k}-05",
                "targets": [{"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": d}],
                "non_targets": [],
                "new_lesions": [],
            }
            for k, (label, d) in enumerate(zip(["BL", "C3", "C6", "C9"], sizes, strict=True))
        ],
    }
    patient, tps, lesions, ms = records_from_case(case, subject_id="S1")
    result = result_to_dict(evaluate(case_from_dict(case)))
    timeline = PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result)
    path = tmp_path / "timeline.json"
    path.write_text(dumps_timeline_json(timeline_to_dict(timeline)))
    data = read_timeline_json(path)
    assert [t["post_progression"] for t in data["result"]["timepoints"]] == [
        False,
        False,
        False,
        True,
    ]
    rows = list(csv.DictReader(io.StringIO(dumps_timeline_csv(data))))
    responses = {r["timepoint"]: r for r in rows if r["record"] == "response"}
    assert (responses["C6"]["overall"], responses["C6"]["post_progression"]) == ("PD", "false")
    c9 = responses["C9"]
    assert (c9["overall"], c9["post_progression"]) == ("PD", "true")
    assert c9["reason"].startswith("PD (after progression at C6; not used for BOR)")
    assert all(r["post_progression"] == "" for r in rows if r["record"] == "lesion")


def test_csv_of_a_result_without_the_flag_leaves_it_empty() -> None:
    case = _case("R01")
    data = {"subject_id": "R01", **case, "result": case["expected"]}
    rows = list(csv.DictReader(io.StringIO(dumps_timeline_csv(data))))
    assert {r["post_progression"] for r in rows} == {""}
