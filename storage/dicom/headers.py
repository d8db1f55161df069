"""Read the header of one file (never its pixel data) into a :class:`FileHeader`.

Every failure becomes a :class:`FileProblem` naming the file and the problem;
nothing here raises for bad input.
"""

from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

import storage.dicom.deflate as deflate
from storage.dicom.errors import FileProblem
from storage.dicom.fastheader import FIRST_READ, MAX_SEQUENCE_DEPTH, HeaderRefused, read_fast
from storage.dicom.frames import MAX_COORDINATE_MM, frame_headers, window
from storage.dicom.quiet import pydicom_quiet
from storage.dicom.rawdataset import SNIFF_BYTES, looks_like_raw_dataset
from storage.dicom.records import FileHeader
from storage.dicom.values import Header, first_float, get_value, int_or_none, text

#: A single file may not declare more pixel bytes than this (checked before
#: anything is allocated); 65535 x 65535 x 16 bit is far beyond it.
MAX_FILE_PIXEL_BYTES = 2 * 1024**3
#: Compressed (deflated or encapsulated) pixel data may declare this much whatever the file size...
RATIO_FREE_PIXEL_BYTES = 64 * 1024**2
#: ... and beyond it at most this many times the file's size (lossless CT compresses 2-4 times).
MAX_COMPRESSION_RATIO = 100

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
_NO_PREAMBLE = (
    "read as a bare dataset: no 128-byte preamble, 'DICM' marker or file meta "
    "information (an older export)"
)
_PIXEL_TAGS = {
    0x7FE00010: "PixelData",
    0x7FE00008: "FloatPixelData",
    0x7FE00009: "DoubleFloatPixelData",
}


def read_header(
    path: str,
    file_path: str,
    member: str | None = None,
    data: bytes | None = None,
    prefetched: Prefetched | None = None,
) -> FileHeader | FileProblem | None:
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
    prefetched : (size or OSError, bytes or None) or None
        What :func:`prefetch` found for a file on disk (read ahead by another
        thread): the result is the same as without it.

    Returns
    -------
    FileHeader or FileProblem or None
        The header of an image file, a problem saying why the file was
        skipped, or None for a DICOMDIR (an index, not an image).
    """
    if data is None:
        stat, head = prefetched if prefetched is not None else (_stat(file_path), None)
        if isinstance(stat, OSError):
            return FileProblem(path, f"cannot be opened: {stat.strerror or stat}")
        size = stat
        try:
            fast = read_fast(file_path, size, head) if size else None
        except HeaderRefused as exc:
            return FileProblem(path, str(exc))
        if fast is not None:
            raw, ts, buf, position = fast
            view = io.BytesIO(buf)
            view.seek(position)
            return _build_safely(raw, view, path, file_path, member, size, ts)
    try:
        fp: BinaryIO = io.BytesIO(data) if data is not None else open(file_path, "rb")  # noqa: SIM115 - closed by the with below
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


Prefetched = tuple[int | OSError, bytes | None]


def _stat(file_path: str) -> int | OSError:
    try:
        return os.stat(file_path).st_size
    except OSError as exc:
        return exc


def prefetch(file_path: str) -> Prefetched:
    """The size and first bytes of a file, for :func:`read_header` (only I/O: no GIL held).

    Returns ``(size or the error of stat, the first FIRST_READ bytes or None)``;
    a file that cannot be opened gives None, and :func:`read_header` then
    reports it as it would have without the prefetch.
    """
    size = _stat(file_path)
    if isinstance(size, OSError) or size == 0:
        return size, None
    try:
        with open(file_path, "rb") as fp:
            return size, fp.read(FIRST_READ)
    except OSError:
        return size, None


def _build_safely(
    ds: Header,
    fp: BinaryIO,
    path: str,
    file_path: str,
    member: str | None,
    size: int,
    ts: str | None,
) -> FileHeader | FileProblem | None:
    try:
        with pydicom_quiet():
            return _build(ds, fp, path, file_path, member, size, ts)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        return FileProblem(path, f"invalid header value: {_one_line(exc)}")
    except Exception as exc:  # noqa: BLE001 - pydicom's own (BytesLengthException...): one bad file
        return FileProblem(path, f"invalid header value: {type(exc).__name__}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut to 300 characters."""
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _parse(fp: BinaryIO, path: str) -> Dataset | FileProblem:
    """Parse the header with pydicom, tolerating a missing preamble; refuse deep nesting."""
    ds = _parse_any(fp, path)
    if isinstance(ds, Dataset) and _nested_too_deep(ds):
        return FileProblem(
            path, f"sequences nested more than {MAX_SEQUENCE_DEPTH} levels deep; refused"
        )
    return ds


def _nested_too_deep(ds: Dataset) -> bool:
    """True when sequences nest deeper than the fast walker accepts (walked without recursion)."""
    stack = [(ds, 0)]
    while stack:
        item, depth = stack.pop()
        for tag in item.keys():  # noqa: SIM118 - iterating a Dataset converts its elements
            # raw where unread: nothing is converted (keep_deferred: an empty raw element
            # stays raw too; converting it raises on an unknown VR)
            elem = item.get_item(tag, keep_deferred=True)
            if elem.VR == "SQ" and elem.value:
                if depth + 1 > MAX_SEQUENCE_DEPTH:
                    return True
                stack.extend(
                    (child, depth + 1) for child in elem.value if isinstance(child, Dataset)
                )
    return False


def _parse_any(fp: BinaryIO, path: str) -> Dataset | FileProblem:
    deflated_at = deflate.deflated_start(fp.read(64 * 1024))
    fp.seek(0)
    with pydicom_quiet():
        if deflated_at is not None:  # never pydicom's unbounded inflate
            try:
                return deflate.read_header(fp.read(), deflated_at)
            except deflate.InflateRefused as exc:
                return FileProblem(path, str(exc))
        try:
            return pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError:
            fp.seek(0)
            start = fp.read(SNIFF_BYTES)
            if start[:4] == b"PK\x03\x04":
                return FileProblem(
                    path,
                    "a zip archive inside the folder; scan the archive itself to read its members",
                )
            if not looks_like_raw_dataset(start):
                return FileProblem(
                    path, "not a DICOM file (no 'DICM' marker after the 128-byte preamble)"
                )
            fp.seek(0)
            try:
                return pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
                return FileProblem(path, f"not a readable DICOM file: {exc}")
        except RecursionError:
            return FileProblem(
                path, f"sequences nested more than {MAX_SEQUENCE_DEPTH} levels deep; refused"
            )
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt header
            return FileProblem(path, f"corrupt or truncated DICOM header: {exc}")


def _classify(ds: Header, path: str) -> FileProblem | None:
    """Say why a parsed dataset is not an image object (SR, SEG, RT, SC, ...), or None."""
    sop_class = text(ds, "SOPClassUID")
    modality = text(ds, "Modality")
    if sop_class not in IMAGE_SOP_CLASSES and not (
        modality in IMAGE_MODALITIES
        and "Rows" in ds
        and not sop_class.startswith("1.2.840.10008.5.1.4.1.1.7")
    ):
        name = UID(sop_class).name if sop_class else "no SOP Class UID"
        return FileProblem(
            path, f"not an image series ({name}, modality {modality or '?'}); skipped"
        )
    return None


def _check_image(ds: Header, path: str) -> FileProblem | None:
    """Say why an image dataset cannot be loaded (size, colour, identifiers), or None."""
    if int_or_none(ds, "Rows") in (None, 0) or int_or_none(ds, "Columns") in (None, 0):
        return FileProblem(path, "image without Rows/Columns; skipped")
    samples = int_or_none(ds, "SamplesPerPixel") or 1
    if samples != 1:
        return FileProblem(
            path, f"colour image ({samples} samples per pixel), not a grey-scale series; skipped"
        )
    if not text(ds, "SeriesInstanceUID"):
        return FileProblem(path, "no SeriesInstanceUID; skipped")
    return None


def _locate_pixels(
    fp: BinaryIO, ts: str, size: int, path: str
) -> tuple[str, int | None, int | None] | FileProblem:
    """Find the pixel data element that pydicom stopped before.

    Returns ``(keyword, value offset, value length)``; the length is None for
    encapsulated data (the offset is then that of its first item), and both
    are None for deflated data.
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
    offset = start + header_len
    if length == 0xFFFFFFFF:
        return keyword, offset, None
    if offset + length > size:
        return FileProblem(
            path,
            f"truncated: pixel data declare {length} bytes but only "
            f"{max(size - offset, 0)} are in the file",
        )
    return keyword, offset, length


def _build(
    ds: Header,
    fp: BinaryIO,
    path: str,
    file_path: str,
    member: str | None,
    size: int,
    ts: str | None,
) -> FileHeader | FileProblem | None:
    if text(ds, "SOPClassUID") == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
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
        return FileProblem(
            path,
            f"no pixel data: the file ends after {size} bytes, before the "
            "image (truncated, or saved without its pixel data)",
        )
    problem = _check_image(ds, path)
    if problem is not None:
        return problem
    rows, columns = int_or_none(ds, "Rows") or 0, int_or_none(ds, "Columns") or 0
    n_frames = int_or_none(ds, "NumberOfFrames") or 1
    bits = int_or_none(ds, "BitsAllocated") or 16
    declared = rows * columns * n_frames * max(bits // 8, 1)
    if declared > MAX_FILE_PIXEL_BYTES:
        return FileProblem(
            path,
            f"declares {rows}x{columns} pixels x {n_frames} frame(s) x {bits} bits = "
            f"{declared / 1024**3:.1f} GiB, over the {MAX_FILE_PIXEL_BYTES / 1024**3:.0f} "
            "GiB limit; refused",
        )
    located = _locate_pixels(fp, ts, size, path)
    if isinstance(located, FileProblem):
        return located
    keyword, offset, length = located
    if length is None and declared > max(RATIO_FREE_PIXEL_BYTES, MAX_COMPRESSION_RATIO * size):
        return FileProblem(
            path,
            f"declares {rows}x{columns} pixels x {n_frames} frame(s) x {bits} bits = "
            f"{declared / 1024**2:.0f} MiB of compressed pixel data in a file of "
            f"{size / 1024**2:.1f} MiB (over {MAX_COMPRESSION_RATIO} times its size); refused",
        )
    if offset is not None and length is not None and length < declared and bits >= 8:
        return FileProblem(
            path,
            f"pixel data hold {length} bytes, fewer than the {declared} "
            f"declared by {rows}x{columns}x{n_frames} at {bits} bits",
        )
    center, width = window(ds)
    between = first_float(get_value(ds, "SpacingBetweenSlices"))
    if between is not None and not abs(between) <= MAX_COORDINATE_MM:
        raise ValueError(f"SpacingBetweenSlices {between:g} is not a finite distance in mm")
    return FileHeader(
        path=path,
        file_path=file_path,
        member=member,
        sop_class_uid=text(ds, "SOPClassUID"),
        sop_instance_uid=text(ds, "SOPInstanceUID"),
        series_instance_uid=text(ds, "SeriesInstanceUID"),
        study_instance_uid=text(ds, "StudyInstanceUID"),
        patient_id=text(ds, "PatientID"),
        patient_name=text(ds, "PatientName"),
        study_date=text(ds, "StudyDate"),
        series_date=text(ds, "SeriesDate"),
        acquisition_date=text(ds, "AcquisitionDate") or text(ds, "AcquisitionDateTime")[:8],
        modality=text(ds, "Modality"),
        series_description=text(ds, "SeriesDescription"),
        series_number=int_or_none(ds, "SeriesNumber"),
        instance_number=int_or_none(ds, "InstanceNumber"),
        rows=rows,
        columns=columns,
        n_frames=n_frames,
        bits_allocated=bits,
        bits_stored=int_or_none(ds, "BitsStored") or bits,
        pixel_representation=int_or_none(ds, "PixelRepresentation") or 0,
        samples_per_pixel=1,
        photometric=text(ds, "PhotometricInterpretation") or "MONOCHROME2",
        transfer_syntax=ts,
        pixel_keyword=keyword,
        pixel_offset=offset if ts in (IMPLICIT_LE, EXPLICIT_LE) and length is not None else None,
        pixel_length=length,
        encapsulated_offset=offset if length is None and member is None else None,
        note=_NO_PREAMBLE if getattr(ds, "preamble", b"") is None else None,
        window_center=center,
        window_width=width,
        spacing_between_slices=between,
        frames=frame_headers(ds, n_frames),
    )
