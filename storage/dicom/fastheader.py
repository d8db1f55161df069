"""A lean reader for the common case: the top-level header of a little-endian file.

Discovery time is dominated by pydicom's general-purpose parser, so plain
files (preamble, little-endian dataset, no enhanced functional groups) are
walked here with ``struct`` on one buffered read: the top-level elements
discovery needs are kept as pydicom ``RawDataElement`` objects in a
:class:`RawHeader`, everything
else (sequences included) is skipped, and the walk
stops at the pixel data.  Anything unusual makes :func:`read_fast` return
None and the caller falls back to pydicom, which also produces the error
messages for broken files.
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag

IMPLICIT_LE = "1.2.840.10008.1.2"
FIRST_READ = 64 * 1024
SECOND_READ = 1024 * 1024
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
#: Sequences that carry the geometry of enhanced objects, or mark a DICOMDIR.
NEEDS_PYDICOM = frozenset({0x52009229, 0x52009230, 0x00041220})
LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
SIMPLE_CHARSETS = frozenset({"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192"})
#: Sequences nested deeper than this are refused (real objects nest a handful of levels;
#: a hostile file nests thousands to exhaust the stack).
MAX_SEQUENCE_DEPTH = 64
#: The top-level elements discovery uses (see storage.dicom.headers); others are skipped.
WANTED = frozenset(
    tag_for_keyword(keyword)
    for keyword in (
        "SpecificCharacterSet",
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyDate",
        "Modality",
        "SeriesDescription",
        "PatientName",
        "PatientID",
        "SliceThickness",
        "SpacingBetweenSlices",
        "ImagerPixelSpacing",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SeriesNumber",
        "InstanceNumber",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "NumberOfFrames",
        "Rows",
        "Columns",
        "PixelSpacing",
        "BitsAllocated",
        "BitsStored",
        "PixelRepresentation",
        "WindowCenter",
        "WindowWidth",
        "RescaleIntercept",
        "RescaleSlope",
        "GridFrameOffsetVector",
        "SeriesDate",
        "AcquisitionDate",
        "AcquisitionDateTime",
    )
)
#: The same tags as the ``BaseTag`` objects a ``RawDataElement`` holds, made once.
_WANTED_TAGS = {tag: BaseTag(tag) for tag in WANTED if tag is not None}

_TAG_VR = struct.Struct("<HH2s")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_TAG_LEN = struct.Struct("<HHI")
_TAG_VR_SHORT = struct.Struct("<HH2sH")
#: Tags that end the walk: the pixel data, or what only pydicom reads.
_SPECIAL = PIXEL_TAGS | NEEDS_PYDICOM


class RawHeader:
    """The elements the walker kept, readable by :func:`storage.dicom.values.get_value`.

    It offers the small part of the pydicom ``Dataset`` interface that header
    building uses, and decodes names and descriptions itself (the walker only
    accepts the ASCII, Latin-1 and UTF-8 character sets).
    """

    def __init__(self, elements: dict[int, RawDataElement], encoding: str, implicit: bool) -> None:
        self._elements = elements
        #: Values decoded so far, by keyword (see storage.dicom.values.get_value).
        self.values: dict[str, Any] = {}
        self.encoding = encoding
        self.original_encoding = (implicit, True)

    def get_item(self, tag: int) -> RawDataElement | None:
        """The raw element with this tag, or None."""
        return self._elements.get(tag)

    def __contains__(self, keyword: str) -> bool:
        return tag_for_keyword(keyword) in self._elements

    def get(self, keyword: str, default: None = None) -> None:
        """Only sequences are asked for this way, and the walker keeps none."""
        return default

    def decode_text(self, elem: RawDataElement) -> str | list[str]:
        """Decode a name or description (PN, LO, SH, ...) in the file's character set."""
        value = (elem.value or b"").decode(self.encoding, errors="replace").strip("\0 ")
        return [v.strip() for v in value.split("\\")] if "\\" in value else value


class _Unsupported(Exception):
    """This file needs the full pydicom parser."""


class HeaderRefused(Exception):
    """The header is refused outright (no parser should read it); the message says why."""


def read_fast(
    file_path: str, size: int, head: bytes | None = None
) -> tuple[RawHeader, str, bytes, int] | None:
    """Read the top-level header of *file_path* without pydicom's parser.

    Parameters
    ----------
    file_path : str
        The file.
    size : int
        Its size in bytes.
    head : bytes or None
        Its first :data:`FIRST_READ` bytes (or all of a smaller file) when
        already read, e.g. by the scan's reader threads; the file is then
        opened only when the header is longer.

    Returns
    -------
    tuple or None
        ``(header, transfer_syntax, buffer, position)`` where *position* is
        the offset of the pixel data element (or of the end of the buffer),
        or None when the file must be read by pydicom.

    Raises
    ------
    HeaderRefused
        When sequences nest deeper than :data:`MAX_SEQUENCE_DEPTH`.
    """
    try:
        if head is not None and len(head) >= min(FIRST_READ, size):
            try:
                return _parse(head, size)
            except _NeedMore:
                if size <= FIRST_READ:
                    return None
                with open(file_path, "rb") as fp:
                    fp.seek(len(head))
                    return _parse(head + fp.read(SECOND_READ), size)
        with open(file_path, "rb") as fp:
            buf = fp.read(FIRST_READ)
            try:
                return _parse(buf, size)
            except _NeedMore:
                if size <= FIRST_READ:
                    return None
                buf += fp.read(SECOND_READ)
                return _parse(buf, size)
    except (_Unsupported, _NeedMore, OSError, struct.error, UnicodeDecodeError, ValueError):
        return None


class _NeedMore(Exception):
    """The header continues beyond the bytes read so far."""


def _parse(buf: bytes, size: int) -> tuple[RawHeader, str, bytes, int]:
    if len(buf) < 132 or buf[128:132] != b"DICM":
        raise _Unsupported
    pos = 132
    ts = ""
    while True:
        if pos + 8 > len(buf):
            raise _NeedMore
        group, element, vr = _TAG_VR.unpack_from(buf, pos)
        if group != 2:
            break
        if vr in LONG_VRS:
            length, pos = _U32.unpack_from(buf, pos + 8)[0], pos + 12
        else:
            length, pos = _U16.unpack_from(buf, pos + 6)[0], pos + 8
        if element == 0x0010:
            ts = buf[pos : pos + length].decode("ascii").strip("\0 ")
        pos += length
    if not ts or ts in ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"):
        raise _Unsupported  # big endian or deflated: pydicom knows these
    implicit = ts == IMPLICIT_LE
    elements: dict[int, RawDataElement] = {}
    pos = _walk(buf, pos, size, implicit, elements)
    charset = elements.get(0x00080005)
    text = charset.value.decode("ascii").strip("\0 ") if charset and charset.value else ""
    if text not in SIMPLE_CHARSETS:
        raise _Unsupported
    encoding = "utf-8" if text == "ISO_IR 192" else "latin-1"
    return RawHeader(elements, encoding, implicit), ts, buf, pos


def _header(buf: bytes, pos: int, implicit: bool) -> tuple[int, bytes | None, int, int]:
    """Return ``(tag, vr, length, value position)`` of the element at *pos*."""
    if pos + 8 > len(buf):
        raise _NeedMore
    if implicit:
        group, element, length = _TAG_LEN.unpack_from(buf, pos)
        return (group << 16) | element, None, length, pos + 8
    group, element, vr = _TAG_VR.unpack_from(buf, pos)
    tag = (group << 16) | element
    if group == 0xFFFE:
        return tag, None, _U32.unpack_from(buf, pos + 4)[0], pos + 8
    if vr in LONG_VRS:
        if pos + 12 > len(buf):
            raise _NeedMore
        return tag, vr, _U32.unpack_from(buf, pos + 8)[0], pos + 12
    if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
        raise _Unsupported  # not a VR: corrupt, or not what it claims to be
    return tag, vr, _U16.unpack_from(buf, pos + 6)[0], pos + 8


def _walk(
    buf: bytes, pos: int, size: int, implicit: bool, elements: dict[int, RawDataElement]
) -> int:
    """Collect top-level elements up to the pixel data; return its position.

    The element header is decoded inline (this loop runs for every top-level
    element of every file a scan reads); :func:`_header` does the same for
    the rarer nested items.
    """
    n = len(buf)
    tag_vr_short = _TAG_VR_SHORT.unpack_from
    tag_len = _TAG_LEN.unpack_from
    u32 = _U32.unpack_from
    wanted_tags = _WANTED_TAGS
    special = _SPECIAL
    long_vrs = LONG_VRS
    while pos < size:
        if pos + 8 > n:
            raise _NeedMore
        vr: bytes | None
        if implicit:
            group, element, length = tag_len(buf, pos)
            vr, start = None, pos + 8
        else:
            group, element, vr, length = tag_vr_short(buf, pos)
            start = pos + 8
            if group == 0xFFFE:
                vr, length = None, u32(buf, pos + 4)[0]
            elif vr in long_vrs:
                if pos + 12 > n:
                    raise _NeedMore
                length, start = u32(buf, pos + 8)[0], pos + 12
            elif not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
                raise _Unsupported  # not a VR: corrupt, or not what it claims to be
        tag = (group << 16) | element
        if tag in special:
            if tag in PIXEL_TAGS:
                return pos
            raise _Unsupported  # NEEDS_PYDICOM
        if (
            vr == b"SQ"
            or (vr is None and length == UNDEFINED)
            or (vr is None and _dictionary_vr(tag) == "SQ")
        ):
            pos = _skip_sequence(buf, start, implicit, 1) if length == UNDEFINED else start + length
            continue
        if length == UNDEFINED:
            raise _Unsupported
        end = start + length
        if end > n:
            if end > size:
                raise _Unsupported  # the file ends inside this element: pydicom reports it
            raise _NeedMore
        pos = end
        wanted = wanted_tags.get(tag)
        if wanted is None:
            continue
        elements[tag] = RawDataElement(
            wanted,
            vr.decode("ascii") if vr else None,
            length,
            buf[start:end],
            start,
            implicit,
            True,
            True,
            False,
        )
    return pos


def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _skip_sequence(buf: bytes, pos: int, implicit: bool, depth: int) -> int:
    """Skip the items of an undefined-length sequence; return the position after it."""
    if depth > MAX_SEQUENCE_DEPTH:
        raise HeaderRefused(f"sequences nested more than {MAX_SEQUENCE_DEPTH} levels deep; refused")
    while True:
        tag, _vr, length, start = _header(buf, pos, True)
        if tag == SEQUENCE_END:
            return start
        if tag != ITEM:
            raise _Unsupported
        pos = _skip_item(buf, start, implicit, depth) if length == UNDEFINED else start + length


def _skip_item(buf: bytes, pos: int, implicit: bool, depth: int) -> int:
    """Skip the elements of an undefined-length item; return the position after it."""
    while True:
        tag, vr, length, start = _header(buf, pos, implicit)
        if tag == ITEM_END:
            return start
        if length == UNDEFINED:
            if vr not in (None, b"SQ"):
                raise _Unsupported
            pos = _skip_sequence(buf, start, implicit, depth + 1)
        else:
            pos = start + length
