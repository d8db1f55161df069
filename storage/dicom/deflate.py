"""Deflated datasets (Deflated Explicit VR Little Endian) inflated with a cap on their size.

pydicom inflates a deflated file whole, in one call, before it reads a single
element: a 4 MB file of zeros inflates to 4 GB.  Here the dataset is inflated
at most to a limit (the header alone needs little; the whole file needs its
declared pixel data and a header), and anything beyond is refused with a
message instead of exhausting the memory.
"""

from __future__ import annotations

import io
import struct
import zlib

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag
from pydicom.uid import UID, ExplicitVRLittleEndian

DEFLATED_LE = "1.2.840.10008.1.2.1.99"
#: The header of a deflated file (everything before its pixel data) may inflate to this much.
MAX_HEADER_INFLATED = 64 * 1024**2
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_PIXEL_STARTS = frozenset(struct.pack("<HH", t >> 16, t & 0xFFFF) for t in _PIXEL_TAGS)
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)


class InflateRefused(ValueError):
    """The deflated data would inflate beyond the limit, or are not deflate data."""


def deflated_start(data: bytes) -> int | None:
    """Offset of the deflated dataset of a Part 10 file, or None when it is not deflated."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    pos, ts = 132, ""
    while True:
        if pos + 8 > len(data):
            return None  # the file meta goes on beyond what was read, or is cut short
        group, element, vr = struct.unpack_from("<HH2s", data, pos)
        if group != 2:
            break
        if vr in _LONG_VRS:
            if pos + 12 > len(data):
                return None
            length, pos = struct.unpack_from("<I", data, pos + 8)[0], pos + 12
        else:
            length, pos = struct.unpack_from("<H", data, pos + 6)[0], pos + 8
        if element == 0x0010:
            ts = data[pos : pos + length].decode("ascii", errors="replace").strip("\0 ")
        pos += length
    return pos if ts == DEFLATED_LE else None


def inflate(data: bytes | memoryview, limit: int) -> tuple[bytes, bool]:
    """Inflate raw deflate *data* to at most *limit* bytes.

    Returns
    -------
    tuple of (bytes, bool)
        The inflated bytes and whether that is all of them (False: more
        would follow beyond *limit*).

    Raises
    ------
    InflateRefused
        When the data are not deflate data.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit)
        more = inflater.decompress(inflater.unconsumed_tail, 1) if not inflater.eof else b""
    except zlib.error as exc:
        raise InflateRefused(f"damaged deflated data ({exc})") from exc
    return out, not more


def _at_pixels(tag: BaseTag, vr: str | None, length: int) -> bool:
    return int(tag) in _PIXEL_TAGS


def read_header(data: bytes, start: int) -> Dataset:
    """The dataset of a deflated file up to its pixel data, inflating at most
    :data:`MAX_HEADER_INFLATED` bytes.

    Raises
    ------
    InflateRefused
        When the header goes on beyond that, or the data are damaged.
    """
    inflated, complete = inflate(memoryview(data)[start:], MAX_HEADER_INFLATED)
    fp = io.BytesIO(inflated)
    try:
        ds = read_dataset(fp, False, True, stop_when=_at_pixels)
        reached = inflated[fp.tell() : fp.tell() + 4] in _PIXEL_STARTS
    except Exception as exc:  # noqa: BLE001 - truncated or damaged: decided below
        if complete:
            raise InflateRefused(f"damaged deflated dataset ({exc})") from exc
        reached = False
    if not complete and not reached:
        raise InflateRefused(
            f"the deflated dataset inflates to more than {MAX_HEADER_INFLATED // 1024**2} MiB "
            "before its pixel data; refused"
        )
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(DEFLATED_LE)
    return ds


def read_whole(data: bytes, start: int, limit: int) -> Dataset:
    """The whole dataset of a deflated file (pixel data included), inflating at most
    *limit* bytes; its file meta says Explicit VR Little Endian, as the inflated bytes are.

    Raises
    ------
    InflateRefused
        When the dataset inflates to more than *limit* bytes.
    """
    inflated, complete = inflate(memoryview(data)[start:], limit)
    if not complete:
        raise InflateRefused(
            f"the deflated dataset inflates to more than {limit} bytes, "
            "more than its header and declared pixel data need; refused"
        )
    ds = read_dataset(io.BytesIO(inflated), False, True)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds
