"""Issue 13 point 8: the limits every site applies to case files (lengths, characters, nesting).

A case file valid at one site is valid at every site: the parser refuses what
PostgreSQL could not store (NUL, lone surrogates, texts longer than the
column), and JSON nested deeper than the format needs, with a CaseFormatError
or ValueError naming the field and never a RecursionError or UnicodeEncodeError.
"""

from __future__ import annotations

import json

import pytest

from recist import CaseFormatError, case_from_dict
from recist.limits import MAX_JSON_DEPTH, MAX_LENGTH, loads_json, shorten, text_problem


def _case(**target: object) -> dict[str, object]:
    entry = {"id": "T1", "organ": "liver", "diameter_mm": 20} | target
    return {"id": "P-1", "timepoints": [{"label": "baseline", "targets": [entry]}]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("liver", None),
        ("foie gras (segment IV)", None),
        ("x" * 100, None),
        ("x" * 101, "at most 100"),
        ("liv\0er", "U+0000 at position 3"),
        ("liver\n", "U+000A"),
        ("\ud800", "lone surrogate U+D800"),
        ("a\u202eb", "U+202E"),  # right-to-left override: spoofs what is shown
    ],
)
def test_text_problem(value: str, expected: str | None) -> None:
    problem = text_problem(value, "organ")
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem


def test_notes_may_span_lines_but_hold_no_nul() -> None:
    assert text_problem("first line\nsecond\tline", "note", multiline=True) is None
    assert "U+0000" in (text_problem("a\nb\0", "note", multiline=True) or "")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organ", "x" * 10 * 1024 * 1024, "10485760 characters long; at most 100"),
        ("organ", "liver\0", r"U\+0000"),
        ("organ", "\ud800", "lone surrogate"),
        ("id", "T" * 33, "at most 32"),
        ("location", "segment\x07", r"U\+0007"),
        ("location", "y" * 201, "at most 200"),
    ],
)
def test_case_texts_are_limited(field: str, value: str, message: str) -> None:
    with pytest.raises(CaseFormatError, match=message) as info:
        case_from_dict(_case(**{field: value}))
    assert info.value.field == f"timepoints[0].targets[0].{field}"
    assert len(str(info.value)) < 400


def test_case_id_label_and_image_uid_are_limited() -> None:
    data = _case()
    data["id"] = "P\0"
    with pytest.raises(CaseFormatError, match="U\\+0000") as info:
        case_from_dict(data)
    assert info.value.field == "id"
    data = _case()
    data["timepoints"][0]["label"] = "L" * 65  # type: ignore[index]
    with pytest.raises(CaseFormatError, match="at most 64"):
        case_from_dict(data)
    image = {
        "series_instance_uid": "1.2" + "3" * 70,
        "sop_instance_uid": "1.2",
        "long_axis": {
            "start_px": [0, 0],
            "end_px": [1, 1],
            "start_lps_mm": [0, 0, 0],
            "end_lps_mm": [1, 1, 1],
        },
    }
    with pytest.raises(CaseFormatError, match="at most 64") as info:
        case_from_dict(_case(image=image))
    assert info.value.field.endswith("image.series_instance_uid")


def test_limits_are_those_of_the_case_fields() -> None:
    case = case_from_dict(_case(organ="o" * MAX_LENGTH["organ"], location="l" * 200))
    assert len(case.timepoints[0].targets[0].organ) == 100


def test_a_huge_value_is_not_quoted_back_whole() -> None:
    with pytest.raises(CaseFormatError) as info:
        case_from_dict(_case(diameter_mm="9" * 1_000_000))
    assert len(str(info.value)) < 400
    assert len(shorten("x" * 1000)) < 70


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000, 200_000])
def test_deep_nesting_is_refused_without_recursion_error(depth: int) -> None:
    text = '{"id": "P", "source": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_JSON_DEPTH}"):
        loads_json(text)


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not a UTF-8 text file"),
        (b'{"id": ', r"not valid JSON \(line 1"),
        (b"", "not valid JSON"),
    ],
)
def test_unreadable_json_gets_one_line(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        loads_json(content)
    assert "\n" not in str(info.value)


def test_lone_surrogate_escape_reaches_the_parser_as_a_field_error() -> None:
    data = loads_json(
        '{"id": "P", "timepoints": [{"label": "B", "targets": '
        '[{"id": "T1", "organ": "\\ud800", "diameter_mm": 10}]}]}'
    )
    with pytest.raises(CaseFormatError, match="lone surrogate") as info:
        case_from_dict(data)
    assert info.value.field == "timepoints[0].targets[0].organ"
