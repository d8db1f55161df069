"""The parser's fast paths (issue 17) accept exactly what the general path accepts.

``recist.caseio`` builds plain targets and timepoints without the dataclass ``__init__``;
the objects must equal what ``__init__`` builds, and anything unusual must go the general
way (and get its error message there).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import recist
from recist import caseio
from recist.case import CaseTimepoint, NonTargetEntry, TargetEntry
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
    for raw in json.loads(CASES.read_text(encoding="utf-8")):
        case = recist.case_from_dict(raw)
        for tp in case.timepoints:
            rebuilt = CaseTimepoint(
                tp.label,
                tp.date,
                tuple(
                    TargetEntry(**{f: getattr(t, f) for f in caseio._TARGET_FIELDS})
                    for t in tp.targets
                ),
                tp.non_targets,
                tp.new_lesions,
                tp.slice_thickness_um,
                tp.modality,
                tp.contrast_phase,
                tp.cycle,
            )
            assert rebuilt == tp
            assert rebuilt.target_ids == tp.target_ids
            assert rebuilt.non_target_ids == tp.non_target_ids
