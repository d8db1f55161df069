"""Recognise a DICOM dataset written without preamble and Part 10 file meta information.

Older exports (ACR-NEMA style files, some PACS dumps) hold a bare
little-endian dataset: no 128-byte preamble, no ``DICM`` marker.  Such a file
is accepted only when its first elements parse as a little-endian dataset
(implicit or explicit VR) in ascending tag order, optionally led by group
0002, and reach a group 0008 element that the DICOM dictionary knows, with a
plausible length and, for text values, text.  Anything else keeps its
"not a DICOM file" refusal.
"""

from __future__ import annotations

import struct

from pydicom.datadict import dictionary_has_tag, dictionary_VR

#: How many bytes of the file the check looks at.
SNIFF_BYTES = 4096
#: A text value longer than this at the head of a dataset is not plausible.
MAX_HEAD_VALUE = 1024
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
_SHORT_VRS = frozenset(
    {
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FL",
        "FD",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "SL",
        "SS",
        "ST",
        "TM",
        "UI",
        "UL",
        "US",
    }
)
_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI", "UC", "UT"}
)
_MAX_ELEMENTS = 64


def looks_like_raw_dataset(head: bytes) -> bool:
    """True when *head* (the first bytes of a file) is a bare little-endian dataset.

    Parameters
    ----------
    head : bytes
        The first :data:`SNIFF_BYTES` bytes (or fewer) of the file.

    Returns
    -------
    bool
        True if the bytes parse as a little-endian dataset (implicit or
        explicit VR) that reaches a plausible, dictionary-known group 0008
        element; False for anything else, big endian included.
    """
    return _plausible(head, explicit=True) or _plausible(head, explicit=False)


def _plausible(head: bytes, *, explicit: bool) -> bool:
    pos, last = 0, -1
    for _ in range(_MAX_ELEMENTS):
        if pos + 8 > len(head):
            return False
        group, element = struct.unpack_from("<HH", head, pos)
        tag = (group << 16) | element
        if tag <= last or group not in (0x0002, 0x0008):
            return False
        parsed = _element(head, pos, tag, explicit)
        if parsed is None:
            return False
        vr, length, start = parsed
        if group == 0x0008:
            return _plausible_value(head, vr, length, start)
        if length == _UNDEFINED or length > MAX_HEAD_VALUE:
            return False
        last, pos = tag, start + length
    return False


def _element(head: bytes, pos: int, tag: int, explicit: bool) -> tuple[str, int, int] | None:
    """``(vr, length, value position)`` of the element at *pos*, or None if implausible."""
    known = _known_vr(tag)
    if known is None:
        return None
    if not explicit:
        return known.split(" or ")[0], struct.unpack_from("<I", head, pos + 4)[0], pos + 8
    vr = head[pos + 4 : pos + 6].decode("latin-1")
    if vr in _LONG_VRS:
        if pos + 12 > len(head) or head[pos + 6 : pos + 8] != b"\0\0":
            return None
        length, start = struct.unpack_from("<I", head, pos + 8)[0], pos + 12
    elif vr in _SHORT_VRS:
        length, start = struct.unpack_from("<H", head, pos + 6)[0], pos + 8
    else:
        return None
    if vr not in known and vr != "UN":
        return None
    return vr, length, start


def _known_vr(tag: int) -> str | None:
    """The dictionary VR of *tag* ("UL" for group lengths), or None if unknown."""
    if tag & 0xFFFF == 0:
        return "UL"
    if not dictionary_has_tag(tag):
        return None
    return str(dictionary_VR(tag))


def _plausible_value(head: bytes, vr: str, length: int, start: int) -> bool:
    if vr == "SQ":
        return True
    if length == _UNDEFINED or length > MAX_HEAD_VALUE:
        return False
    if vr == "UL":
        return length == 4
    if vr not in _TEXT_VRS:
        return True
    value = head[start : start + length]
    if len(value) < length:
        return len(head) >= SNIFF_BYTES  # the value runs past what was read
    return all(32 <= b < 127 or b in (0, 9, 10, 12, 13, 27) or b >= 160 for b in value)
