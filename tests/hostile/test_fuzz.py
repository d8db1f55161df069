"""Issue 13: Hypothesis fuzzing of the DICOM header reader and of the case parser.

Bounded (a few hundred examples each, no deadline) so that it runs in CI.  The
properties: reading a header never raises (every input becomes a FileHeader, a
FileProblem or None), and a FileHeader's geometry is one a caliper can measure
on; parsing a case raises nothing but CaseFormatError / ValueError, and every
text of a parsed case can be stored at any site.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist import CaseFormatError, case_from_dict
from recist.limits import loads_json, text_problem
from storage.dicom.errors import FileProblem
from storage.dicom.fastheader import HeaderRefused, read_fast
from storage.dicom.headers import read_header
from storage.dicom.records import FileHeader

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SOURCE = (
    Path(
        os.environ.get(
            "CALIPER_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"
        )
    )
    / "ct-chest-30"
    / "1-16.dcm"
)


@pytest.fixture(scope="module")
def real_header() -> bytes:
    """A real CT file cut 64 bytes into its pixel data (the part worth damaging)."""
    if not SOURCE.is_file():
        pytest.fail(f"real DICOM data not found at {SOURCE}")
    data = SOURCE.read_bytes()
    return data[: data.rindex(b"\xe0\x7f\x10\x00") + 12 + 64]


def _read(data: bytes) -> FileHeader | FileProblem | None:
    """Read *data* as a file on disk (fast walker first) and as a zip member (pydicom)."""
    with tempfile.NamedTemporaryFile(suffix=".dcm", delete=False) as out:
        out.write(data)
    try:
        on_disk = read_header(out.name, out.name)
    finally:
        os.unlink(out.name)
    in_memory = read_header("member.dcm", "archive.zip", "member.dcm", data)
    for result in (on_disk, in_memory):
        assert result is None or isinstance(result, FileHeader | FileProblem)
        if isinstance(result, FileProblem):
            assert result.message
            assert "\n" not in result.message
        if isinstance(result, FileHeader):
            _assert_measurable(result)
    return on_disk


def _assert_measurable(header: FileHeader) -> None:
    for frame in header.frames:
        assert frame.pixel_spacing is None or all(0 < v < math.inf for v in frame.pixel_spacing)
        assert math.isfinite(frame.slope)
        assert frame.slope != 0
        assert math.isfinite(frame.intercept)
        assert frame.position is None or all(math.isfinite(v) for v in frame.position)
        if frame.orientation is not None:
            row, col = frame.orientation[:3], frame.orientation[3:]
            assert abs(sum(a * b for a, b in zip(row, col, strict=True))) <= 0.011


@FUZZ
@given(data=st.data())
def test_damaged_real_header_never_raises(real_header: bytes, data: st.DataObject) -> None:
    damaged = bytearray(real_header)
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        kind = data.draw(st.sampled_from(["flip", "overwrite", "insert", "cut"]), label="kind")
        at = data.draw(st.integers(128, len(damaged) - 1), label="at")
        if kind == "flip":
            damaged[at] ^= data.draw(st.integers(1, 255))
        elif kind == "overwrite":
            chunk = data.draw(st.binary(min_size=1, max_size=16))
            damaged[at : at + len(chunk)] = chunk
        elif kind == "insert":
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        else:
            del damaged[at:]
            break
    _read(bytes(damaged))


_VRS = [b"CS", b"DS", b"IS", b"LO", b"UI", b"US", b"UL", b"OB", b"SQ", b"UN", b"PN", b"FD", b"ZZ"]
_TAGS = [
    0x00080016,
    0x00080018,
    0x00080060,
    0x0020000E,
    0x00200032,
    0x00200037,
    0x00280010,
    0x00280011,
    0x00280030,
    0x00281052,
    0x00281053,
    0x00400A730,
    0x00091010,
    0xFFFEE000,
    0xFFFEE00D,
    0xFFFEE0DD,
    0x7FE00010,
]


@st.composite
def _elements(draw: st.DrawFn, depth: int = 0) -> bytes:
    """Explicit little endian elements: real tags with arbitrary VRs, lengths and nesting."""
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        tag = draw(st.sampled_from(_TAGS))
        vr = draw(st.sampled_from(_VRS))
        if vr == b"SQ" and depth < 80 and draw(st.booleans()):
            inner = draw(_elements(depth + 1))  # type: ignore[call-arg]
            item = (
                struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
                + inner
                + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
            )
            out += (
                struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, 0xFFFFFFFF)
                + item
                + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
            )
            continue
        value = draw(
            st.one_of(
                st.binary(max_size=24),
                st.sampled_from(
                    [
                        b"NaN\\NaN ",
                        b"0\\0 ",
                        b"-1\\1 ",
                        b"1e308 ",
                        b"inf ",
                        b"512 ",
                        b"1\\0\\0\\0\\1\\0 ",
                        b"1.2.840.10008.5.1.4.1.1.2\0",
                    ]
                ),
            )
        )
        length = draw(st.one_of(st.just(len(value)), st.integers(0, 0xFFFFFFFF)))
        if vr in (b"OB", b"SQ", b"UN"):
            out += struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, length) + value
        else:
            out += struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, length & 0xFFFF) + value
    return out


def _part10(body: bytes) -> bytes:
    syntax = b"1.2.840.10008.1.2.1\0"
    meta = struct.pack("<HH2sH", 2, 0x10, b"UI", len(syntax)) + syntax
    group = struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(meta))
    return b"\0" * 128 + b"DICM" + group[:8] + struct.pack("<I", len(meta)) + meta + body


@FUZZ
@given(body=_elements())
def test_generated_headers_never_raise(body: bytes) -> None:
    data = _part10(body)
    with tempfile.NamedTemporaryFile(suffix=".dcm", delete=False) as out:
        out.write(data)
    refused: str | None = None
    try:
        try:
            fast = read_fast(out.name, len(data))
        except HeaderRefused as exc:
            refused = str(exc)
        else:
            assert fast is None or len(fast) == 4
        assert refused is None or "nested" in refused
    finally:
        os.unlink(out.name)
    _read(data)


def test_an_empty_element_of_an_unknown_vr_is_a_problem_not_a_crash() -> None:
    # Found by the fuzzer: pydicom converts an empty raw element when it is fetched, and an
    # unknown VR ('ZZ') then raised NotImplementedError out of the depth check.
    data = _part10(struct.pack("<HH2sH", 0x0008, 0x0016, b"ZZ", 0))
    result = read_header("member.dcm", "archive.zip", "member.dcm", data)
    assert isinstance(result, FileProblem)
    assert "Unknown Value Representation 'ZZ'" in result.message
    _read(data)


_HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\ud800", "liver\0", "x" * 300, "a\u202eb", " ", "", "T1\n", "\udfff x"]),
)
_JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    _HOSTILE_TEXT,
)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


def _entry() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": _HOSTILE_TEXT, "organ": _HOSTILE_TEXT},
        optional={
            "diameter_mm": _JSON_LEAF,
            "location": _JSON_LEAF,
            "nodal": _JSON_LEAF,
            "status": st.sampled_from(["present", "absent", "bogus", None]),
            "short_axis_mm": _JSON_LEAF,
            "image": _JSON,
            "extra": _JSON,
        },
    )


_CASES = st.fixed_dictionaries(
    {
        "id": st.one_of(_HOSTILE_TEXT, st.integers()),
        "timepoints": st.lists(
            st.fixed_dictionaries(
                {"label": _HOSTILE_TEXT},
                optional={
                    "date": st.sampled_from(["2026-01-05", "2026-02-30", "x", None]),
                    "targets": st.lists(_entry(), max_size=3),
                    "non_targets": st.lists(_entry(), max_size=2),
                    "new_lesions": st.lists(_entry(), max_size=2),
                    "modality": _JSON_LEAF,
                    "cycle": _JSON_LEAF,
                },
            ),
            max_size=3,
        ),
    },
    optional={
        "criteria": st.sampled_from(["RECIST1.1", "iRECIST", "x", 3]),
        "source": _JSON,
        "min_sd_days": _JSON_LEAF,
    },
)


@FUZZ
@given(case=_CASES)
def test_case_parser_raises_only_case_format_errors(case: dict[str, Any]) -> None:
    error: CaseFormatError | None = None
    try:
        parsed = case_from_dict(case)
    except CaseFormatError as exc:
        error = exc
    if error is not None:
        assert "\n" not in error.problem
        assert len(str(error)) < 600
        return
    assert text_problem(parsed.id, "subject_id") is None
    for tp in parsed.timepoints:
        assert text_problem(tp.label, "label") is None
        for entry in (*tp.targets, *tp.non_targets, *tp.new_lesions):
            assert text_problem(entry.id, "lesion_id") is None
            assert text_problem(entry.organ, "organ") is None
            assert not entry.location or text_problem(entry.location, "location") is None


@FUZZ
@given(value=_JSON, depth=st.integers(0, 60))
def test_case_json_reader_raises_only_value_errors(value: Any, depth: int) -> None:
    text = "[" * depth + json.dumps(value) + "]" * depth
    try:
        data = loads_json(text.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        message = str(exc)
    else:
        with contextlib.suppress(CaseFormatError):
            case_from_dict(data)
        return
    assert "\n" not in message


def test_a_problem_message_is_one_line_whatever_the_file_quotes() -> None:
    # Found by the fuzzer in the full suite's order: a SOP Class UID holding a newline made
    # "not an image series (…)" two lines.
    problem = FileProblem("x.dcm", "not an image series (1.2\n3, modality ?); skipped")
    assert "\n" not in problem.message
    assert "1.2\\n3" in problem.message
