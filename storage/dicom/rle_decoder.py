"""A strict RLE Lossless decoder plugin for pydicom, on pylibjpeg-rle's segment decoder.

pylibjpeg-rle and pydicom both accept an RLE segment that decodes to more
bytes than the image holds (damaged data), and return a silently wrong
image (pydicom only warns about "non-conformant padding").  This plugin
decodes each segment with pylibjpeg-rle's fast ``decode_segment`` and
refuses a frame whose segment count or decoded lengths do not match the
image (one byte of padding tolerated), with a message starting with
:data:`CORRUPT`, after which :mod:`storage.dicom.decoders` tries no lenient
decoder.  It follows pydicom's plugin contract (``DECODER_DEPENDENCIES``,
``is_available(uid)``, ``decode_frame(src, runner)``).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from pydicom import uid

try:
    from rle.rle import decode_segment  # type: ignore[import-not-found]  # pylibjpeg-rle: no stubs
except ImportError:  # pragma: no cover - pylibjpeg-rle is a dependency
    decode_segment = None

#: The plugin label used in :data:`storage.dicom.decoders.ORDER`.
LABEL = "caliper-rle"
#: Start of the message of a frame whose data are damaged (not worth another decoder).
CORRUPT = "corrupt RLE data"

DECODER_DEPENDENCIES = {uid.RLELossless: ("pylibjpeg-rle>=2.0",)}


def is_available(syntax: str) -> bool:
    """True when pylibjpeg-rle is importable and *syntax* is RLE Lossless."""
    return decode_segment is not None and syntax == uid.RLELossless


def decode_frame(src: bytes, runner: Any) -> bytes:
    """Decode one RLE frame to little-endian samples, planar configuration 1.

    Parameters
    ----------
    src : bytes
        The encoded frame: the 64-byte RLE header and its segments.
    runner : pydicom.pixels.decoders.base.DecodeRunner
        pydicom's runner (rows, columns, samples per pixel, bits allocated).

    Returns
    -------
    bytes
        The decoded frame.

    Raises
    ------
    ValueError
        If the header or a segment does not match the image (message starts
        with :data:`CORRUPT`).
    NotImplementedError
        If bits allocated is not a multiple of 8.
    """
    rows, columns = int(runner.rows), int(runner.columns)
    samples, bits = int(runner.samples_per_pixel), int(runner.bits_allocated)
    if bits % 8:
        raise NotImplementedError(f"RLE with {bits} bits allocated")
    width = bits // 8
    pixels = rows * columns
    if len(src) < 64:
        raise ValueError(f"{CORRUPT}: the frame is shorter than its 64-byte header")
    count, *offsets = struct.unpack_from("<16I", src)
    if count != samples * width:
        raise ValueError(
            f"{CORRUPT}: the header declares {count} segments, {samples * width} expected"
        )
    bounds = [*offsets[:count], len(src)]
    if bounds[0] != 64 or any(b > e for b, e in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(f"{CORRUPT}: segment offsets {bounds[:-1]} are out of order or range")
    out = np.empty(pixels * count, dtype=np.uint8)
    for segment in range(count):
        decoded = decode_segment(src[bounds[segment] : bounds[segment + 1]])
        if not pixels <= len(decoded) <= pixels + 1:
            raise ValueError(
                f"{CORRUPT}: segment {segment + 1} decodes to {len(decoded)} "
                f"bytes, the image holds {pixels}"
            )
        sample, byte = divmod(segment, width)  # segments run most significant byte first
        start = sample * pixels * width + (width - 1 - byte)
        out[start : start + pixels * width : width] = np.frombuffer(decoded, np.uint8, pixels)
    runner.set_option("planar_configuration", 1)
    return out.tobytes()
