"""Read the header of one file (never its pixel data) into a :class:`FileHeader`.

Every failure becomes a :class:`FileProblem` naming the file and the problem;
nothing here raises for bad input.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, BinaryIO

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from storage.dicom.errors import FileProblem
from storage.dicom.fastheader import read_fast
from storage.dicom.records import FileHeader, FrameHeader

#: A single file may not declare more pixel bytes than this (checked before
#: anything is allocated); 65535 x 65535 x 16 bit is far beyond it.
MAX_FILE_PIXEL_BYTES = 2 * 1024**3

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"

#: SOP classes that hold cross-sectional or projection grey-scale images.
IMAGE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.2.2",  # Legacy Converted Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.4",  # MR Image
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.4.4",  # Legacy Converted Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.128",  # PET Image
        "1.2.840.10008.5.1.4.1.1.128.1",  # Legacy Converted Enhanced PET Image
        "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image
        "1.2.840.10008.5.1.4.1.1.20",  # NM Image
        "1.2.840.10008.5.1.4.1.1.1",  # CR Image
        "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image (presentation)
        "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image (processing)
    }
)
#: Modalities accepted from a SOP class not listed above (private classes).
IMAGE_MODALITIES = frozenset({"CT", "MR", "PT", "NM"})
_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData"}


def read_header(path: str, file_path: str, member: str | None = None,
                data: bytes | None = None) -> FileHeader | FileProblem | None:
    """Read the header of one file.

    Parameters
    ----------
    path : str
        Display name used in messages.
    file_path : str
        The file on disk (the archive when *member* is given).
    member : str or None
        Zip member name when the bytes come from an archive.
    data : bytes or None
        The file's bytes when already in memory (zip members).

    Returns
    -------
    FileHeader or FileProblem or None
        The header of an image file, a problem saying why the file was
        skipped, or None for a DICOMDIR (an index, not an image).
    """
    if data is None:
        try:
            size = os.stat(file_path).st_size
        except OSError as exc:
            return FileProblem(path, f"cannot be opened: {exc.strerror or exc}")
        fast = read_fast(file_path, size) if size else None
        if fast is not None:
            ds, ts, buf, position = fast
            view = io.BytesIO(buf)
            view.seek(position)
            return _build_safely(ds, view, path, file_path, member, size, ts)
    try:
        fp: BinaryIO = io.BytesIO(data) if data is not None else open(file_path, "rb")  # noqa: SIM115
    except OSError as exc:
        return FileProblem(path, f"cannot be opened: {exc.strerror or exc}")
    with fp:
        size = len(data) if data is not None else os.fstat(fp.fileno()).st_size
        if size == 0:
            return FileProblem(path, "empty file (0 bytes)")
        ds = _parse(fp, path)
        if isinstance(ds, FileProblem):
            return ds
        return _build_safely(ds, fp, path, file_path, member, size, None)


def _build_safely(ds: Dataset, fp: BinaryIO, path: str, file_path: str, member: str | None,
                  size: int, ts: str | None) -> FileHeader | FileProblem | None:
    try:
        return _build(ds, fp, path, file_path, member, size, ts)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        return FileProblem(path, f"invalid header value: {exc}")


def _parse(fp: BinaryIO, path: str) -> Dataset | FileProblem:
    """Parse the header with pydicom, tolerating a missing preamble."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError:
            fp.seek(0)
            start = fp.read(8)
            # A raw dataset without preamble starts with a group 0x0002/0x0008 tag.
            if start[:2] not in (b"\x02\x00", b"\x08\x00"):
                return FileProblem(
                    path, "not a DICOM file (no 'DICM' marker after the 128-byte preamble)"
                )
            fp.seek(0)
            try:
                return pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
                return FileProblem(path, f"not a readable DICOM file: {exc}")
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt header
            return FileProblem(path, f"corrupt or truncated DICOM header: {exc}")


_TEXT_VRS = frozenset({"DS", "IS", "UI", "CS", "DA", "TM", "AS"})
_INT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i"}


@lru_cache(maxsize=512)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag, dictionary_VR(tag)


def _get(ds: Dataset, keyword: str) -> Any:
    """Value of *keyword*, decoding plain numbers and codes without pydicom's converters.

    pydicom's value conversion dominates header reading; ASCII numbers, UIDs
    and codes are decoded here directly, everything else (names and
    descriptions, which depend on the character set) goes through pydicom.
    """
    tag, dict_vr = _tag_and_vr(keyword)
    elem = ds.get_item(tag)
    if elem is None:
        return None
    if not isinstance(elem, RawDataElement):
        return elem.value
    vr = elem.VR or dict_vr
    raw = elem.value
    if raw is None or raw == b"":
        return None
    if vr in _TEXT_VRS:
        text = raw.decode("latin-1").strip("\x00 ")
        return text.split("\\") if "\\" in text else text
    fmt = _INT_FORMATS.get(vr)
    if fmt is not None and len(raw) % struct.calcsize(fmt) == 0:
        endian = "<" if elem.is_little_endian else ">"
        values = struct.unpack(f"{endian}{len(raw) // struct.calcsize(fmt)}{fmt}", raw)
        return values[0] if len(values) == 1 else list(values)
    return ds[tag].value


def _text(ds: Dataset, keyword: str) -> str:
    value = _get(ds, keyword)
    return "" if value is None else str(value).strip()


def _int_or_none(ds: Dataset, keyword: str) -> int | None:
    try:
        value = _get(ds, keyword)
        if isinstance(value, list):
            value = value[0] if value else None
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _first_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 0:
            return None
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _floats(value: Any, count: int, name: str) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(items) != count:
        raise ValueError(f"{name} has {len(items)} values, expected {count}")
    return tuple(float(v) for v in items)


def _classify(ds: Dataset, path: str) -> FileProblem | None:
    """Say why a parsed dataset is not an image object (SR, SEG, RT, SC, ...), or None."""
    sop_class = _text(ds, "SOPClassUID")
    modality = _text(ds, "Modality")
    if sop_class not in IMAGE_SOP_CLASSES and not (
        modality in IMAGE_MODALITIES and "Rows" in ds and not sop_class.startswith(
            "1.2.840.10008.5.1.4.1.1.7")
    ):
        name = UID(sop_class).name if sop_class else "no SOP Class UID"
        return FileProblem(path, f"not an image series ({name}, modality {modality or '?'}); skipped")
    return None


def _check_image(ds: Dataset, path: str) -> FileProblem | None:
    """Say why an image dataset cannot be loaded (size, colour, identifiers), or None."""
    if _int_or_none(ds, "Rows") in (None, 0) or _int_or_none(ds, "Columns") in (None, 0):
        return FileProblem(path, "image without Rows/Columns; skipped")
    samples = _int_or_none(ds, "SamplesPerPixel") or 1
    if samples != 1:
        return FileProblem(path, f"colour image ({samples} samples per pixel), not a grey-scale "
                                 "series; skipped")
    if not _text(ds, "SeriesInstanceUID"):
        return FileProblem(path, "no SeriesInstanceUID; skipped")
    return None


def _locate_pixels(fp: BinaryIO, ts: str, size: int, path: str
                   ) -> tuple[str, int | None, int | None] | FileProblem:
    """Find the pixel data element that pydicom stopped before.

    Returns ``(keyword, value offset, value length)``; offset and length are
    None for encapsulated or deflated data.
    """
    if ts == DEFLATED_LE:
        return "PixelData", None, None
    start = fp.tell()
    head = fp.read(12)
    if len(head) < 8:
        return FileProblem(path, "no pixel data (the file ends after the header)")
    endian = ">" if ts == EXPLICIT_BE else "<"
    group, element = struct.unpack(f"{endian}HH", head[:4])
    keyword = _PIXEL_TAGS.get((group << 16) | element)
    if keyword is None:
        return FileProblem(path, "no pixel data element")
    if ts == IMPLICIT_LE:
        length, header_len = struct.unpack("<I", head[4:8])[0], 8
    elif len(head) < 12:
        return FileProblem(path, "truncated: the file ends inside the pixel data element")
    else:
        length, header_len = struct.unpack(f"{endian}I", head[8:12])[0], 12
    if length == 0xFFFFFFFF:
        return keyword, None, None
    offset = start + header_len
    if offset + length > size:
        return FileProblem(
            path, f"truncated: pixel data declare {length} bytes but only "
                  f"{max(size - offset, 0)} are in the file"
        )
    return keyword, offset, length


def _item(seq_owner: Dataset | None, keyword: str) -> Dataset | None:
    if seq_owner is None:
        return None
    seq = seq_owner.get(keyword)
    return seq[0] if seq else None


def _frame_value(per: Dataset | None, shared: Dataset | None, seq: str, keyword: str) -> Any:
    for owner in (per, shared):
        item = _item(owner, seq)
        if item is not None and keyword in item:
            return _get(item, keyword)
    return None


def _frames(ds: Dataset, n_frames: int) -> tuple[FrameHeader, ...]:
    """Per-frame geometry and rescale (enhanced multi-frame or classic)."""
    top_slope = _first_float(_get(ds, "RescaleSlope"))
    top_icpt = _first_float(_get(ds, "RescaleIntercept"))
    per_frame = _get(ds, "PerFrameFunctionalGroupsSequence")
    shared_seq = _get(ds, "SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    if per_frame is not None or shared is not None:
        frames = []
        for i in range(n_frames):
            per = per_frame[i] if per_frame is not None and i < len(per_frame) else None

            def value(seq: str, kw: str, per: Dataset | None = per) -> Any:
                return _frame_value(per, shared, seq, kw)

            slope = _first_float(value("PixelValueTransformationSequence", "RescaleSlope"))
            icpt = _first_float(value("PixelValueTransformationSequence", "RescaleIntercept"))
            frames.append(FrameHeader(
                index=i,
                position=_floats(value("PlanePositionSequence", "ImagePositionPatient"), 3,
                                 "ImagePositionPatient"),
                orientation=_floats(value("PlaneOrientationSequence", "ImageOrientationPatient")
                                    or _get(ds, "ImageOrientationPatient"), 6,
                                    "ImageOrientationPatient"),
                pixel_spacing=_floats(value("PixelMeasuresSequence", "PixelSpacing")
                                      or _get(ds, "PixelSpacing"), 2, "PixelSpacing"),
                slope=slope if slope is not None else (top_slope or 1.0),
                intercept=icpt if icpt is not None else (top_icpt or 0.0),
                slice_thickness=_first_float(value("PixelMeasuresSequence", "SliceThickness")),
            ))
        return tuple(frames)
    position = _floats(_get(ds, "ImagePositionPatient"), 3, "ImagePositionPatient")
    orientation = _floats(_get(ds, "ImageOrientationPatient"), 6, "ImageOrientationPatient")
    spacing = _floats(_get(ds, "PixelSpacing") or _get(ds, "ImagerPixelSpacing"), 2, "PixelSpacing")
    offsets = _get(ds, "GridFrameOffsetVector")
    frames = []
    for i in range(n_frames):
        pos = position if i == 0 else None
        if position is not None and orientation is not None and offsets and i < len(offsets):
            normal = _cross(orientation[:3], orientation[3:])
            pos = tuple(p + float(offsets[i]) * n for p, n in zip(position, normal, strict=True))
        frames.append(FrameHeader(
            index=i, position=pos, orientation=orientation, pixel_spacing=spacing,
            slope=top_slope if top_slope is not None else 1.0,
            intercept=top_icpt if top_icpt is not None else 0.0,
            slice_thickness=_first_float(_get(ds, "SliceThickness")),
        ))
    return tuple(frames)


def _cross(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _window(ds: Dataset) -> tuple[float | None, float | None]:
    center, width = _first_float(_get(ds, "WindowCenter")), _first_float(_get(ds, "WindowWidth"))
    if center is None:
        for owner_kw in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            seq = ds.get(owner_kw)
            voi = _item(seq[0], "FrameVOILUTSequence") if seq else None
            if voi is not None:
                center = _first_float(_get(voi, "WindowCenter"))
                width = _first_float(_get(voi, "WindowWidth"))
                break
    return center, width


def _build(ds: Dataset, fp: BinaryIO, path: str, file_path: str, member: str | None,
           size: int, ts: str | None) -> FileHeader | FileProblem | None:
    if _text(ds, "SOPClassUID") == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        return None
    problem = _classify(ds, path)
    if problem is not None:
        return problem
    if ts is None:
        meta = getattr(ds, "file_meta", None)
        ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not ts:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        ts = IMPLICIT_LE if implicit else (EXPLICIT_LE if little else EXPLICIT_BE)
    # A deflated dataset is parsed from an inflated copy: the file position means nothing.
    if ts != DEFLATED_LE and fp.tell() >= size:
        return FileProblem(path, f"no pixel data: the file ends after {size} bytes, before the "
                                 "image (truncated, or saved without its pixel data)")
    problem = _check_image(ds, path)
    if problem is not None:
        return problem
    rows, columns = int(ds.Rows), int(ds.Columns)
    n_frames = _int_or_none(ds, "NumberOfFrames") or 1
    bits = _int_or_none(ds, "BitsAllocated") or 16
    declared = rows * columns * n_frames * max(bits // 8, 1)
    if declared > MAX_FILE_PIXEL_BYTES:
        return FileProblem(
            path, f"declares {rows}x{columns} pixels x {n_frames} frame(s) x {bits} bits = "
                  f"{declared / 1024**3:.1f} GiB, over the {MAX_FILE_PIXEL_BYTES / 1024**3:.0f} "
                  "GiB limit; refused"
        )
    located = _locate_pixels(fp, ts, size, path)
    if isinstance(located, FileProblem):
        return located
    keyword, offset, length = located
    if offset is not None and length is not None and length < declared and bits >= 8:
        return FileProblem(path, f"pixel data hold {length} bytes, fewer than the {declared} "
                                 f"declared by {rows}x{columns}x{n_frames} at {bits} bits")
    center, width = _window(ds)
    return FileHeader(
        path=path, file_path=file_path, member=member,
        sop_class_uid=_text(ds, "SOPClassUID"),
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        study_date=_text(ds, "StudyDate"),
        modality=_text(ds, "Modality"),
        series_description=_text(ds, "SeriesDescription"),
        series_number=_int_or_none(ds, "SeriesNumber"),
        instance_number=_int_or_none(ds, "InstanceNumber"),
        rows=rows, columns=columns, n_frames=n_frames,
        bits_allocated=bits,
        bits_stored=_int_or_none(ds, "BitsStored") or bits,
        pixel_representation=_int_or_none(ds, "PixelRepresentation") or 0,
        samples_per_pixel=1,
        photometric=_text(ds, "PhotometricInterpretation") or "MONOCHROME2",
        transfer_syntax=ts,
        pixel_keyword=keyword,
        pixel_offset=offset if ts in (IMPLICIT_LE, EXPLICIT_LE) else None,
        pixel_length=length,
        window_center=center, window_width=width,
        spacing_between_slices=_first_float(_get(ds, "SpacingBetweenSlices")),
        frames=_frames(ds, n_frames),
    )
