"""The hostile-input corpus of issue 13, generated at test time from one real CT slice.

``dicom_corpus(folder, source)`` writes one folder per hostile DICOM input (a
single file, or a DICOMDIR / zip with what it points at) and returns
``{name: path to give caliper}``; ``case_corpus(folder)`` writes hostile case
files and returns ``{name: path}``.  Every input must be refused by
``caliper dicom load`` / ``caliper evaluate`` / ``caliper timeline import`` with
exit code 2 and a one-line message, within 10 s and 1 GB.

The bombs are built cheaply: a deflate stream of zeros is one fully flushed
block repeated (each such block inflates on its own), so a 4 MB file that
inflates to 4 GB takes milliseconds to write and nothing to hold in memory.
"""

from __future__ import annotations

import copy
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)

DEFLATED = DeflatedExplicitVRLittleEndian
_ZERO_BLOCK = 1024 * 1024


def _zeros_deflated(n_bytes: int) -> bytes:
    """A raw deflate stream (no end) of *n_bytes* zeros, a multiple of 1 MiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(bytes(_ZERO_BLOCK)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * (n_bytes // _ZERO_BLOCK)


def _deflate_end() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.flush(zlib.Z_FINISH)


def _element(tag: int, vr: bytes, value_length: int) -> bytes:
    """The header of an explicit VR little endian element with a 4-byte length."""
    return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, value_length)


def _meta_and_dataset(ds: Dataset, syntax: str) -> tuple[bytes, bytes]:
    """(preamble + file meta saying *syntax*, the dataset encoded explicit little endian
    without its pixel data)."""
    meta = FileMetaDataset(ds.file_meta)
    meta.TransferSyntaxUID = syntax
    fp = DicomBytesIO()
    fp.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(fp, meta, enforce_standard=True)
    body = ds.copy()
    if "PixelData" in body:
        del body.PixelData
    data = DicomBytesIO()
    data.is_little_endian, data.is_implicit_VR = True, False
    write_dataset(data, body)
    return fp.getvalue(), data.getvalue()


def _deflated_file(ds: Dataset, extra: bytes, pixel_bytes: int) -> bytes:
    """A deflated file: *ds* (no pixels), *extra* zeros-element bytes, then pixel data."""
    meta, dataset = _meta_and_dataset(ds, DEFLATED)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = packer.compress(dataset + extra) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = head
    if pixel_bytes:
        pixels = packer.compress(_element(0x7FE00010, b"OW", pixel_bytes)) + packer.flush(
            zlib.Z_FULL_FLUSH
        )
        stream += pixels + _zeros_deflated(pixel_bytes)
    return meta + stream + _deflate_end()


def _save(ds: Dataset, path: Path, syntax: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if syntax is None:
        ds.save_as(path, enforce_file_format=False)
        return path
    ds.file_meta.TransferSyntaxUID = syntax
    uid = pydicom.uid.UID(syntax)
    pydicom.dcmwrite(
        path,
        ds,
        implicit_vr=uid.is_implicit_VR,
        little_endian=uid.is_little_endian,
        force_encoding=True,
    )
    return path


def _nested(depth: int, order: str = "<", implicit: bool = False) -> bytes:
    """A ContentSequence nested *depth* levels deep (undefined lengths), as raw bytes."""
    if implicit:
        sequence = struct.pack("<HHI", 0x0040, 0xA730, 0xFFFFFFFF)
    else:
        sequence = struct.pack(f"{order}HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack(f"{order}HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    ends = struct.pack(f"{order}HHI", 0xFFFE, 0xE00D, 0) + struct.pack(
        f"{order}HHI", 0xFFFE, 0xE0DD, 0
    )
    return (sequence + item) * depth + ends * depth


def _insert_before_pixels(path: Path, extra: bytes, order: str = "<") -> None:
    data = path.read_bytes()
    at = data.rindex(struct.pack(f"{order}HH", 0x7FE0, 0x0010))
    path.write_bytes(data[:at] + extra + data[at:])


def _set(**values: object) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        for keyword, value in values.items():
            setattr(ds, keyword, value)

    return change


class _raw:  # noqa: N801 - used like a function in the table below
    """Put an undecodable value (e.g. 'NaN' in a DS): a valid placeholder of the same length
    is saved by pydicom, then its bytes are replaced in the file."""

    def __init__(self, tag: int, vr: str, value: bytes) -> None:
        self.tag, self.vr, self.value = tag, vr, value
        self.placeholder = bytes(c if c == ord("\\") else ord("7") for c in value)

    def __call__(self, ds: Dataset) -> None:
        ds.add_new(self.tag, self.vr, self.placeholder.decode("ascii"))

    def patch(self, path: Path, big_endian: bool) -> None:
        order = ">" if big_endian else "<"
        header = (
            struct.pack(f"{order}HH", self.tag >> 16, self.tag & 0xFFFF)
            + self.vr.encode()
            + struct.pack(f"{order}H", len(self.value))
        )
        data = path.read_bytes()
        assert header in data, (self.tag, self.value, path)
        at = data.index(header) + len(header)
        assert data[at : at + len(self.value)] == self.placeholder
        path.write_bytes(data[:at] + self.value + data[at + len(self.value) :])


# (name, change) of single-file headers that must be refused
_HEADER_CASES: list[tuple[str, Callable[[Dataset], None]]] = [
    ("spacing-zero", _raw(0x00280030, "DS", b"0\\0 ")),
    ("spacing-negative", _raw(0x00280030, "DS", b"-0.7\\-0.7 ")),
    ("spacing-1e308", _raw(0x00280030, "DS", b"1e308\\1e308 ")),
    ("spacing-nan", _raw(0x00280030, "DS", b"NaN\\NaN ")),
    ("spacing-inf", _raw(0x00280030, "DS", b"inf\\inf ")),
    ("spacing-one-value", _raw(0x00280030, "DS", b"0.7 ")),
    ("spacing-text", _raw(0x00280030, "DS", b"abc\\def ")),
    ("slope-nan", _raw(0x00281053, "DS", b"NaN ")),
    ("slope-inf", _raw(0x00281053, "DS", b"inf ")),
    ("slope-zero", _raw(0x00281053, "DS", b"0 ")),
    ("intercept-nan", _raw(0x00281052, "DS", b"NaN ")),
    ("intercept-1e400", _raw(0x00281052, "DS", b"1e400 ")),
    ("orientation-nan", _raw(0x00200037, "DS", b"NaN\\NaN\\NaN\\NaN\\NaN\\NaN ")),
    ("orientation-zero", _raw(0x00200037, "DS", b"0\\0\\0\\0\\0\\0 ")),
    ("orientation-parallel", _raw(0x00200037, "DS", b"1\\0\\0\\1\\0\\0 ")),
    ("orientation-long", _raw(0x00200037, "DS", b"5\\0\\0\\0\\5\\0 ")),
    ("orientation-five", _raw(0x00200037, "DS", b"1\\0\\0\\0\\1 ")),
    ("position-nan", _raw(0x00200032, "DS", b"NaN\\0\\0 ")),
    ("position-1e300", _raw(0x00200032, "DS", b"1e300\\0\\0 ")),
    ("thickness-negative", _raw(0x00180050, "DS", b"-5")),
    ("thickness-nan", _raw(0x00180050, "DS", b"NaN ")),
    ("between-nan", _raw(0x00180088, "DS", b"NaN ")),
    ("rows-65535", _set(Rows=65535, Columns=65535)),
    ("rows-zero", _set(Rows=0)),
    ("frames-2e9", _raw(0x00280008, "IS", b"2000000000")),
    ("colour", _set(SamplesPerPixel=3)),
    ("no-series-uid", lambda ds: delattr(ds, "SeriesInstanceUID")),
    ("no-pixels", lambda ds: delattr(ds, "PixelData")),
    ("short-pixels", _set(PixelData=b"\0" * 1000)),
]


def dicom_corpus(folder: Path, source: Path) -> dict[str, Path]:
    """Write the hostile DICOM inputs under *folder*; return ``{name: path}``."""
    base = pydicom.dcmread(source)
    out: dict[str, Path] = {}

    def fresh() -> Dataset:
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return ds

    for name, change in _HEADER_CASES:
        ds = fresh()
        change(ds)
        out[name] = _save(ds, folder / name / "image.dcm")
        if isinstance(change, _raw):
            change.patch(out[name], big_endian=False)
        if name in (
            "spacing-zero",
            "spacing-nan",
            "slope-nan",
            "orientation-nan",
            "orientation-parallel",
            "position-nan",
            "nested-5000",
        ):
            # the same damage read by pydicom instead of the fast walker
            ds = fresh()
            change(ds)
            out[f"{name}-big-endian"] = _save(
                ds, folder / f"{name}-be" / "image.dcm", ExplicitVRBigEndian
            )
            if isinstance(change, _raw):
                change.patch(out[f"{name}-big-endian"], big_endian=True)
    for name, depth, syntax in (
        ("nested-5000", 5000, None),
        ("nested-70", 70, None),
        ("nested-implicit-3000", 3000, ImplicitVRLittleEndian),
        ("nested-big-endian-3000", 3000, ExplicitVRBigEndian),
        ("nested-big-endian-100", 100, ExplicitVRBigEndian),
        # deeper than the fast walker's first read: the nesting starts after 1.1 MB
        ("nested-after-1mb", 5000, "late"),
    ):
        ds = fresh()
        if syntax == "late":
            ds.add_new(0x00091010, "OB", bytes(1100 * 1024))
            syntax = None
        path = _save(ds, folder / name / "image.dcm", syntax)
        big = syntax == ExplicitVRBigEndian
        _insert_before_pixels(
            path,
            _nested(depth, ">" if big else "<", syntax == ImplicitVRLittleEndian),
            ">" if big else "<",
        )
        out[name] = path

    # deflate bombs: the header alone inflates to 4 GiB; pixel data declared at 1.8 GB
    ds = fresh()
    bomb = _element(0x00091010, b"OB", 4 * 1024**3 - 16)
    path = folder / "deflate-header-4gib" / "image.dcm"
    path.parent.mkdir(parents=True)
    meta, dataset = _meta_and_dataset(ds, DEFLATED)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    path.write_bytes(
        meta
        + packer.compress(dataset + bomb)
        + packer.flush(zlib.Z_FULL_FLUSH)
        + _zeros_deflated(4 * 1024**3)
        + _deflate_end()
    )
    out["deflate-header-4gib"] = path
    for name, rows, columns in (
        ("deflate-pixels-1.8gb", 30000, 30000),
        ("deflate-pixels-256mib", 8192, 16384),
    ):
        ds = fresh()
        ds.Rows, ds.Columns = rows, columns
        path = folder / name / "image.dcm"
        path.parent.mkdir(parents=True)
        path.write_bytes(_deflated_file(ds, b"", rows * columns * 2 // _ZERO_BLOCK * _ZERO_BLOCK))
        out[name] = path
    ds = fresh()
    meta, dataset = _meta_and_dataset(ds, DEFLATED)
    path = folder / "deflate-garbage" / "image.dcm"
    path.parent.mkdir(parents=True)
    path.write_bytes(meta + b"\xff\xfe garbage that is no deflate stream" * 100)
    out["deflate-garbage"] = path

    # encapsulated (RLE) data declaring 30000 x 30000 in a few bytes
    ds = fresh()
    ds.Rows, ds.Columns = 30000, 30000
    ds.PixelData = pydicom.encaps.encapsulate([b"\0" * 64])
    ds["PixelData"].VR = "OB"
    out["rle-declares-1.8gb"] = _save(ds, folder / "rle-huge" / "image.dcm", RLELossless)

    # byte-level damage
    good = source.read_bytes()
    for name, data in (
        ("empty", b""),
        ("text", b"hello, this is not an image\n" * 10),
        ("preamble-only", good[:132]),
        ("cut-in-meta", good[:180]),
        ("cut-in-header", good[:700]),
        ("cut-in-pixels", good[: len(good) // 2]),
        ("length-4gb", good[:132] + good[132:400] + b"\x10\x00\x10\x00PN\xff\xff" + b"x" * 10),
        ("zeros-1mb", bytes(1024 * 1024)),
    ):
        path = folder / name / "image.dcm"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        out[name] = path

    # DICOMDIR whose records point at missing, escaping and garbage files
    for name, target, make in (
        ("dicomdir-missing", ["IMAGES", "IM0001"], None),
        ("dicomdir-escaping", ["..", "..", "etc", "passwd"], None),
        ("dicomdir-garbage", ["IMAGES", "IM0002"], b"garbage" * 100),
        ("dicomdir-itself", ["DICOMDIR"], None),
        ("dicomdir-folder", ["IMAGES"], None),
        ("dicomdir-empty", [], None),
    ):
        root = folder / name
        (root / "IMAGES").mkdir(parents=True)
        if make is not None:
            (root / Path(*target)).write_bytes(make)
        out[name] = _dicomdir(root, target)

    # zip archives: a member that inflates to 256 MiB, members escaping the folder, garbage
    path = folder / "zip-bomb" / "series.zip"
    path.parent.mkdir(parents=True)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("big.dcm", "w", force_zip64=True) as member,
    ):
        zeros = bytes(_ZERO_BLOCK)
        for _ in range(256):
            member.write(zeros)
    out["zip-bomb"] = path
    path = folder / "zip-escaping" / "series.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../escaped.dcm", good)
        archive.writestr("/abs.dcm", good)
    out["zip-escaping"] = path
    path = folder / "zip-garbage" / "series.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04" + b"\xff" * 5000)
    out["zip-garbage"] = path
    return out


def _dicomdir(root: Path, target: list[str]) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.1.3.10"
    record = Dataset()
    record.DirectoryRecordType = "IMAGE"
    record.ReferencedFileID = target
    ds.DirectoryRecordSequence = Sequence([record] if target else [])
    ds.FileSetID = "HOSTILE"
    path = root / "DICOMDIR"
    ds.save_as(path, enforce_file_format=True)
    return path


def _case(**target: object) -> dict[str, object]:
    entry: dict[str, object] = {"id": "T1", "organ": "liver", "diameter_mm": 20} | target
    return {
        "id": "P-1",
        "timepoints": [
            {"label": "baseline", "date": "2026-01-05", "targets": [entry]},
            {
                "label": "C3",
                "date": "2026-03-01",
                "targets": [{"id": "T1", "organ": "liver", "diameter_mm": 15}],
            },
        ],
    }


def _deep(depth: int, where: str) -> str:
    nest = "[" * depth + "]" * depth
    if where == "top":
        return nest
    if where == "unknown-key":
        return '{"id": "P", "source": ' + nest + ', "timepoints": [{"label": "B"}]}'
    if where == "expected":
        return (
            '{"id": "P", "expected": '
            + '{"a": ' * depth
            + "1"
            + "}" * depth
            + ', "timepoints": [{"label": "B"}]}'
        )
    return '{"id": "P", "timepoints": [{"label": "B", "targets": ' + nest + "}]}"


def _first(case: dict[str, Any]) -> dict[str, Any]:
    """The first target of the baseline."""
    return case["timepoints"][0]["targets"][0]  # type: ignore[no-any-return]


def case_corpus(folder: Path) -> dict[str, Path]:
    """Write the hostile case files under *folder*; return ``{name: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    texts: dict[str, str | bytes] = {}
    for depth in (40, 1000, 100_000):
        for where in ("top", "unknown-key", "expected", "targets"):
            texts[f"deep-{where}-{depth}"] = _deep(depth, where)
    for field, value in (
        ("organ", "\ud800"),
        ("id", "T\ud800"),
        ("location", "\udfff"),
        ("organ", "liver\0"),
        ("id", "T\0"),
        ("location", "seg\x1b[31m"),
        ("organ", "x" * 10 * 1024 * 1024),
        ("id", "T" * 40),
        ("organ", "a\u202eb"),
        ("location", "l" * 201),
    ):
        name = f"{field}-{value[:6].encode('unicode_escape').decode('ascii')}-{len(value)}"
        texts[name] = json.dumps(_case(**{field: value}))
    for name, change in (
        ("subject-65", lambda c: c.update(id="S" * 65)),
        ("subject-nul", lambda c: c.update(id="S\0")),
        ("subject-surrogate", lambda c: c.update(id="\ud800")),
        ("label-nul", lambda c: c["timepoints"][0].update(label="B\0")),
        ("label-65", lambda c: c["timepoints"][0].update(label="B" * 65)),
        ("modality-17", lambda c: c["timepoints"][0].update(modality="M" * 17)),
        (
            "uid-65",
            lambda c: c["timepoints"][0]["targets"][0].update(
                image={
                    "series_instance_uid": "1" * 65,
                    "sop_instance_uid": "1.2",
                    "long_axis": {
                        "start_px": [0, 0],
                        "end_px": [1, 1],
                        "start_lps_mm": [0, 0, 0],
                        "end_lps_mm": [1, 1, 1],
                    },
                }
            ),
        ),
        ("diameter-nan", lambda c: _first(c).update(diameter_mm=float("nan"))),
        ("diameter-inf", lambda c: _first(c).update(diameter_mm=float("inf"))),
        ("diameter-huge", lambda c: _first(c).update(diameter_mm=1e308)),
        ("diameter-string", lambda c: _first(c).update(diameter_mm="9" * 100_000)),
        ("timepoints-not-list", lambda c: c.update(timepoints={"a": 1})),
        ("target-not-object", lambda c: c["timepoints"][0].update(targets=[1, 2])),
    ):
        case = _case()
        change(case)
        texts[name] = json.dumps(case)
    texts["huge-int"] = '{"id": "P", "min_sd_days": ' + "9" * 5000 + ', "timepoints": []}'
    texts["invalid-utf8"] = b'{"id": "P\xff\xfe", "timepoints": []}'
    texts["empty"] = b""
    texts["not-json"] = "this is not json"
    texts["null"] = "null"
    texts["list-of-numbers"] = "[1, 2, 3]"
    texts["truncated"] = json.dumps(_case())[:50]
    out: dict[str, Path] = {}
    for name, text in texts.items():
        path = folder / f"{name}.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        out[name] = path
    return out
