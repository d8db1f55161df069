"""The parser's fast paths (issue 17) accept exactly what the general path accepts.

``recist.caseio`` builds plain targets, timepoints and cases without the dataclass
``__init__``; the objects must equal what ``__init__`` builds, and anything unusual must go
the general way (and get its error message there).
"""

from __future__ import annotations

import dataclasses
import json
import math
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import recist
from recist import caseio
from recist.case import Case, CaseTimepoint, NewLesionEntry, NonTargetEntry, TargetEntry
from recist.errors import CaseFormatError

CASES = Path(__file__).resolve().parents[3] / "shared" / "recist" / "cases-public.json"


def _general(data: dict[str, Any]) -> TargetEntry | str:
    try:
        return caseio._target(data, "t")
    except CaseFormatError as exc:
        return f"error {exc}"


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["T1", "liver", "", " ", "TSTM", "x" * 33, "x" * 101, "a\x00b", "\ud800"]),
    st.text(max_size=5),
    st.lists(st.integers(0, 30), max_size=2),
)
KEYS = st.sampled_from(
    ["id", "organ", "nodal", "diameter_mm", "location", "fragments_mm", "image", "extra", "status"]
)
STATUSES = st.sampled_from(["present", "absent", "unequivocal_progression", "PRESENT", "x", 1])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_a_fast_target_equals_the_general_one(data: dict[str, Any]) -> None:
    fast = caseio._simple_target(data)
    if fast is not None:
        general = _general(data)
        assert fast == general
        assert type(fast) is TargetEntry
        assert hash(fast) == hash(general)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, st.one_of(VALUES, STATUSES), max_size=6))
def test_a_fast_non_target_equals_the_general_one(data: dict[str, Any]) -> None:
    fast = caseio._simple_non_target(data)
    if fast is not None:
        general = caseio._non_target(data, "n")
        assert fast == general
        assert type(fast) is NonTargetEntry
        assert hash(fast) == hash(general)


@pytest.mark.parametrize(
    "data",
    [
        {"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": True},
        {"id": "T1", "organ": "liver", "diameter_mm": math.nan},
        {"id": "T1", "organ": "liver", "diameter_mm": -1},
        {"id": "T1", "organ": "liver", "diameter_mm": 2000.5},
        {"id": "T" * 33, "organ": "liver", "diameter_mm": 10},
        {"id": "T1", "organ": "li\x00ver", "diameter_mm": 10},
        {"id": "T1", "organ": None, "diameter_mm": 10},
        {"id": "T1", "nodal": None, "diameter_mm": 10},
        {"id": " ", "diameter_mm": 10},
        {"id": "T1", "diameter_mm": "TSTM"},
        {"id": "T1", "diameter_mm": 10, "location": ""},
    ],
)
def test_unusual_targets_take_the_general_path(data: dict[str, Any]) -> None:
    assert caseio._simple_target(data) is None


def test_public_cases_parse_to_the_same_objects_as_through_init() -> None:
    fast_timepoints = 0
    for raw in json.loads(CASES.read_text(encoding="utf-8")):
        case = recist.case_from_dict(raw)
        fast_timepoints += sum(caseio._simple_timepoint(tp) is not None for tp in raw["timepoints"])
        timepoints = []
        for tp in case.timepoints:
            rebuilt = CaseTimepoint(
                tp.label,
                tp.date,
                tuple(TargetEntry(**_values(t)) for t in tp.targets),
                tuple(NonTargetEntry(**_values(n)) for n in tp.non_targets),
                tuple(NewLesionEntry(**_values(n)) for n in tp.new_lesions),
                tp.slice_thickness_um,
                tp.modality,
                tp.contrast_phase,
                tp.cycle,
            )
            assert rebuilt == tp
            assert hash(rebuilt) == hash(tp)
            assert rebuilt.target_ids == tp.target_ids
            assert rebuilt.non_target_ids == tp.non_target_ids
            timepoints.append(rebuilt)
        assert type(case) is Case
        assert case == Case(**{**_values(case), "timepoints": tuple(timepoints)})
    assert fast_timepoints > 90  # of 107: the fast path is the one these tests exercise


def _values(obj: Any) -> dict[str, Any]:
    """The init fields of a dataclass instance, read one by one (each slot must be set)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


# -- whole timepoints and cases --------------------------------------------------------------

# Valid plain lesions and timepoints (what the fast path takes), each with a fair chance of
# one value replaced by something odd (which it must hand to the general path, or build
# exactly as the general path does).
ODD = st.one_of(
    VALUES,
    STATUSES,
    st.sampled_from(
        [math.nan, math.inf, -1, 2001, 2000.0001, "TSTM", " ", "x" * 65, "C\x00T", "CT", 0, ()]
    ),
)
MM = st.one_of(st.none(), st.integers(0, 2000), st.floats(0, 2000))
ORGANS = st.sampled_from(["liver", "lung", "lymph node", " peritoneum "])
VALID_STATUSES = st.sampled_from([s.value for s in recist.LesionStatus])
VALID_TARGET = st.fixed_dictionaries(
    {"id": st.sampled_from(["T1", "T2", "T3"])},
    optional={"organ": ORGANS, "nodal": st.booleans(), "diameter_mm": MM, "note": VALUES},
)
VALID_NON_TARGET = st.fixed_dictionaries(
    {"id": st.sampled_from(["NT1", "NT2"]), "status": VALID_STATUSES},
    optional={"organ": ORGANS, "nodal": st.booleans(), "short_axis_mm": MM},
)
VALID_NEW_LESION = st.fixed_dictionaries(
    {"id": st.sampled_from(["N1", "N2"])},
    optional={
        "organ": ORGANS,
        "nodal": st.booleans(),
        "equivocal": st.booleans(),
        "diameter_mm": MM,
        "status": VALID_STATUSES,
    },
)
TARGET_KEYS = [
    *("id", "organ", "nodal", "diameter_mm", "short_axis_mm", "long_axis_mm"),
    *("location", "image", "fragments_mm", "coalesced_into"),
]
NON_TARGET_KEYS = [
    *("id", "organ", "status", "nodal", "short_axis_mm", "long_axis_mm", "location", "image"),
]
NEW_LESION_KEYS = [
    *("id", "organ", "nodal", "equivocal", "diameter_mm", "status", "short_axis_mm"),
    *("location", "image"),
]
TIMEPOINT_KEYS = [
    *("label", "date", "slice_thickness_mm", "modality", "contrast_phase", "cycle"),
    *("targets", "non_targets", "new_lesions"),
]


@st.composite
def _perhaps_odd(draw: st.DrawFn, valid: st.SearchStrategy[Any], keys: list[str]) -> Any:
    """A valid object, or (about one time in four) one with a key set to an odd value or
    removed (Hypothesis favours small draws: the valid object is the one at 0)."""
    data = draw(valid)
    if draw(st.integers(0, 3)) == 3:
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 3)) == 3:
            data.pop(key, None)
        else:
            data[key] = draw(st.one_of(st.none(), ODD))
    return data


def _lesions(valid: st.SearchStrategy[Any], keys: list[str]) -> st.SearchStrategy[Any]:
    lesion = _perhaps_odd(valid, keys)
    return st.one_of(
        st.lists(lesion, max_size=3, unique_by=lambda item: repr(item.get("id"))),
        st.lists(lesion, max_size=3),  # ids may repeat
    )


TIMEPOINT = _perhaps_odd(
    st.fixed_dictionaries(
        {"label": st.sampled_from(["baseline", "C3", " C6 "])},
        optional={
            "date": st.sampled_from(["2026-01-05", "2026-02-28", "20260105", "2026-W02-1"]),
            "slice_thickness_mm": MM,
            "modality": st.sampled_from(["CT", "MR", ""]),
            "contrast_phase": st.sampled_from(["venous", "x" * 64]),
            "cycle": st.integers(0, 3),
            "targets": st.one_of(_lesions(VALID_TARGET, TARGET_KEYS), st.none()),
            "non_targets": st.one_of(_lesions(VALID_NON_TARGET, NON_TARGET_KEYS), st.none()),
            "new_lesions": st.one_of(_lesions(VALID_NEW_LESION, NEW_LESION_KEYS), st.none()),
            "source": VALUES,
        },
    ),
    TIMEPOINT_KEYS,
)


# a baseline: no new lesions, dated before the follow-up of the case strategy below
BASELINE = TIMEPOINT.map(
    lambda tp: {**{k: v for k, v in tp.items() if k != "new_lesions"}, "date": "2026-01-05"}
)


@settings(max_examples=2000, deadline=None)
@given(TIMEPOINT)
def test_a_fast_timepoint_equals_the_general_one(data: dict[str, Any]) -> None:
    fast = caseio._simple_timepoint(data)
    if fast is None:
        return
    event("fast path")
    general = caseio._timepoint(data, "tp")  # the fast path took it: it must be valid
    assert fast == general
    assert hash(fast) == hash(general)
    assert type(fast) is CaseTimepoint
    assert fast.target_ids == general.target_ids
    assert fast.non_target_ids == general.non_target_ids
    for kind, cls in (
        ("targets", TargetEntry),
        ("non_targets", NonTargetEntry),
        ("new_lesions", NewLesionEntry),
    ):
        assert all(type(entry) is cls for entry in getattr(fast, kind))
        assert [_values(e) for e in getattr(fast, kind)] == [
            _values(e) for e in getattr(general, kind)
        ]


def _outcome(data: Any) -> Any:
    try:
        return recist.case_from_dict(data)
    except CaseFormatError as exc:
        return f"error {exc.field}: {exc}"


@st.composite
def _timepoints(draw: st.DrawFn) -> Any:
    """Mostly a plain baseline (and a follow-up of the same lesions): a valid case whenever
    the timepoint is; else any timepoints, or not a list."""
    choice = draw(st.integers(0, 9))
    if choice <= 6:
        baseline = draw(BASELINE)
        if choice % 2:
            return [baseline, {**baseline, "label": "FU1", "date": "2026-03-01"}]
        return [baseline]
    return draw(st.lists(TIMEPOINT, max_size=3) if choice <= 8 else VALUES)


@settings(max_examples=1000, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "timepoints": _timepoints(),
            "id": st.sampled_from(["S-1", " S-2", 12, " ", "x" * 65, True, None, "a\x00"]),
        },
        optional={
            "criteria": st.sampled_from(["RECIST1.1", "iRECIST", " recist ", "x", None]),
            "confirmation_required": st.sampled_from([True, False, None, 1]),
            "min_sd_days": st.sampled_from([0, 42, -1, None, True, 4.5]),
            "first_dose_date": st.sampled_from(["2025-12-20", "20251220", "x", None, 5]),
        },
    )
)
def test_a_case_parses_the_same_without_the_fast_paths(data: dict[str, Any]) -> None:
    """The same case or the same error message, whether the fast paths run or not."""
    got = _outcome(data)
    with ExitStack() as stack:
        for fast in ("_simple_timepoint", "_plain_case_fields"):
            stack.enter_context(mock.patch.object(caseio, fast, return_value=None))
        for name in (
            "_TARGET_BUILDER",
            "_NON_TARGET_BUILDER",
            "_NEW_LESION_BUILDER",
            "_TIMEPOINT_BUILDER",
            "_CASE_BUILDER",
        ):
            stack.enter_context(mock.patch.object(caseio, name, None))
        expected = _outcome(data)
    assert got == expected
    event("a case" if isinstance(got, Case) else got.split(":")[0])
    if isinstance(got, Case):
        assert hash(got) == hash(expected)
        for mine, theirs in zip(got.timepoints, expected.timepoints, strict=True):
            assert mine.target_ids == theirs.target_ids
            assert mine.non_target_ids == theirs.non_target_ids


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"targets": [{"id": "T1", "diameter_mm": 10}, {"id": "T1", "diameter_mm": 9}]},
            "targets[1].id",
        ),
        ({"non_targets": [{"id": "N", "status": "gone"}]}, "non_targets[0].status"),
        ({"new_lesions": [{"id": "N1", "status": "gone"}]}, "new_lesions[0].status"),
        ({"new_lesions": [{"id": "N1", "equivocal": None, "nodal": 1}]}, "new_lesions[0].nodal"),
        (
            {"new_lesions": [{"id": "N1", "diameter_mm": "TSTM", "status": "absent"}]},
            "new_lesions[0].diameter_mm",
        ),
        ({"date": "2026-02-30"}, "date"),
        ({"modality": "C\x00T"}, "modality"),
        ({"cycle": -1}, "cycle"),
        ({"slice_thickness_mm": math.inf}, "slice_thickness_mm"),
    ],
)
def test_a_bad_plain_timepoint_is_refused_by_the_general_path(
    change: dict[str, Any], field: str
) -> None:
    data = {"label": "C3", "date": "2026-03-01", "targets": [], **change}
    assert caseio._simple_timepoint(data) is None
    with pytest.raises(CaseFormatError) as caught:
        caseio._timepoint(data, "timepoints[1]")
    assert caught.value.field == f"timepoints[1].{field}"
