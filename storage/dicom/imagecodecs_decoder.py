"""imagecodecs as a pydicom decoder plugin: JPEG-LS, JPEG 2000, JPEG lossless, GIL released.

imagecodecs wraps the same libraries as pyjpegls (CharLS) and
pylibjpeg-openjpeg (OpenJPEG), at the same speed per frame, and
libjpeg-turbo 3, which decodes lossless JPEG (processes 14 and 14 SV1) in a
third of GDCM's time, to the same values; and it releases the
GIL while it decodes (its extension modules call ``PyEval_SaveThread``;
pyjpegls, pylibjpeg-libjpeg, pylibjpeg-openjpeg and python-gdcm do not), so
the loader decodes compressed slices with threads: all cores at once,
without starting worker processes or pickling slices between them.

Only greyscale frames (one sample per pixel) are decoded here, and lossless
JPEG only when unsigned or filling its container (pydicom does not
sign-extend JPEG samples; GDCM does); a colour
frame is refused with an error, and :func:`storage.dicom.decoders.decode`
hands it to the next decoder, whose colour handling pydicom knows.  The
plugin follows pydicom's contract (``DECODER_DEPENDENCIES``,
``is_available(uid)``, ``decode_frame(src, runner) -> bytes``); pydicom then
applies its own checks of the decoded length and its sign corrections, as
for its own plugins.  It is registered under :data:`LABEL` by
:mod:`storage.dicom.decoders`.

:func:`decode_value` is the loader's short cut for the common case (one
greyscale frame in a file on disk): it decodes the encapsulated value found
by the header scan with the same codec and the same corrections pydicom
applies after this plugin (sign and unused bits), without pydicom's decode
runner and its two copies of the frame; ``tests/storage/dicom`` compares it
with pydicom's path frame by frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom import uid
from pydicom.encaps import get_frame
from pydicom.pixels.utils import _get_jpg_parameters, get_j2k_parameters

try:
    import imagecodecs
except ImportError:  # pragma: no cover - imagecodecs is a dependency
    imagecodecs = None  # type: ignore[assignment]  # the plugin is then unavailable

#: The plugin label used in :data:`storage.dicom.decoders.ORDER`.
LABEL = "caliper-imagecodecs"

_JPEGLS = (uid.JPEGLSLossless, uid.JPEGLSNearLossless)
_JPEG2K = (uid.JPEG2000Lossless, uid.JPEG2000)
_LOSSLESS_JPEG = (uid.JPEGLossless, uid.JPEGLosslessSV1)

DECODER_DEPENDENCIES = {
    syntax: ("imagecodecs>=2024.1",) for syntax in (*_JPEGLS, *_JPEG2K, *_LOSSLESS_JPEG)
}


def is_available(syntax: str) -> bool:
    """True when imagecodecs is importable and has the codec for *syntax*."""
    if imagecodecs is None or syntax not in DECODER_DEPENDENCIES:
        return False
    if syntax in _JPEGLS:
        return bool(imagecodecs.JPEGLS.available)
    if syntax in _JPEG2K:
        return bool(imagecodecs.JPEG2K.available)
    return bool(imagecodecs.JPEG8.available)


def decode_frame(src: bytes, runner: Any) -> bytes:
    """Decode one encoded greyscale frame.

    Parameters
    ----------
    src : bytes
        The encoded frame (all its fragments joined).
    runner : pydicom.pixels.decoders.base.DecodeRunner
        pydicom's runner: the image description, and the options that
        describe the output (its container size).

    Returns
    -------
    bytes
        The decoded samples, native (little endian) byte order.

    Raises
    ------
    ValueError
        If the frame is not greyscale, or decodes to another size than the
        image description says.
    """
    if int(runner.samples_per_pixel) != 1:
        raise ValueError("caliper-imagecodecs decodes greyscale frames only")
    syntax = runner.transfer_syntax
    if syntax in _JPEGLS:
        arr = imagecodecs.jpegls_decode(src)
    elif syntax in _JPEG2K:
        arr = imagecodecs.jpeg2k_decode(src)
    else:
        if int(runner.pixel_representation) == 1 and int(runner.bits_stored) not in (8, 16):
            raise ValueError("caliper-imagecodecs does not sign-extend lossless JPEG samples")
        arr = imagecodecs.jpeg8_decode(src)
    rows, columns = int(runner.rows), int(runner.columns)
    if arr.shape != (rows, columns):
        raise ValueError(f"decoded frame has shape {arr.shape}, expected ({rows}, {columns})")
    if arr.dtype.itemsize not in (1, 2, 4):
        raise ValueError(f"decoded samples of type {arr.dtype} are not supported")
    # The container follows the codestream's precision, as for pydicom's own plugins.
    runner.set_option("bits_allocated", 8 * arr.dtype.itemsize)
    data: bytes = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    return data


_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


def can_decode_value(
    syntax: str,
    *,
    samples_per_pixel: int,
    n_frames: int,
    photometric: str,
    bits_allocated: int,
    bits_stored: int,
    pixel_representation: int,
    rows: int,
    columns: int,
    pixel_keyword: str,
) -> bool:
    """True when :func:`decode_value` decodes such an image as pydicom with this plugin would.

    One greyscale frame of 8 or 16 bits allocated whose description pydicom
    would accept; everything else goes through pydicom.
    """
    return (
        is_available(syntax)
        and samples_per_pixel == 1
        and n_frames == 1
        and photometric in _MONOCHROME
        and bits_allocated in (8, 16)
        and 1 <= bits_stored <= bits_allocated
        and pixel_representation in (0, 1)
        and 0 < rows <= 0xFFFF
        and 0 < columns <= 0xFFFF
        and pixel_keyword == "PixelData"
        and not (
            syntax in _LOSSLESS_JPEG and pixel_representation == 1 and bits_stored not in (8, 16)
        )
    )


def decode_value(
    value: bytes,
    syntax: str,
    *,
    rows: int,
    columns: int,
    bits_allocated: int,
    bits_stored: int,
    pixel_representation: int,
) -> np.ndarray:
    """Decode the only frame of an encapsulated pixel data value.

    The result equals ``get_decoder(syntax).as_array(value, index=0,
    decoding_plugin=LABEL, ...)`` for an image :func:`can_decode_value`
    accepts: the same codec, the samples read with the signedness of
    *pixel_representation* in a container of *bits_allocated*, then pydicom's
    sign correction (JPEG-LS, JPEG 2000) or unused-bits correction (lossless
    JPEG).

    Parameters
    ----------
    value : bytes
        The encapsulated pixel data value (basic offset table item first; what
        follows its sequence delimiter is ignored).
    syntax : str
        The transfer syntax UID.
    rows, columns, bits_allocated, bits_stored, pixel_representation : int
        The image description from the header.

    Returns
    -------
    numpy.ndarray
        ``(rows, columns)`` samples, a new writeable array.

    Raises
    ------
    ValueError
        If the value holds no frame or the codestream decodes to another shape
        or sample type (the caller then asks pydicom's decoders, which name
        the problem).
    """
    frame = get_frame(value, 0, number_of_frames=1)
    if syntax in _JPEGLS:
        decoded = imagecodecs.jpegls_decode(frame)
    elif syntax in _JPEG2K:
        decoded = imagecodecs.jpeg2k_decode(frame)
    else:
        decoded = imagecodecs.jpeg8_decode(frame)
    if decoded.shape != (rows, columns):
        raise ValueError(f"decoded frame has shape {decoded.shape}, expected ({rows}, {columns})")
    if decoded.dtype.kind not in "ui" or decoded.dtype.itemsize not in (1, 2, 4):
        raise ValueError(f"decoded samples of type {decoded.dtype} are not supported")
    kind = "i" if pixel_representation == 1 else "u"
    samples = decoded.astype(decoded.dtype.newbyteorder("<"), copy=False).view(
        f"<{kind}{decoded.dtype.itemsize}"
    )
    container = np.dtype(f"<{kind}{bits_allocated // 8}")
    arr = samples if samples.dtype == container else samples.astype(container)
    if not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr).copy()
    bits = 8 * arr.dtype.itemsize
    shift = 0
    if syntax in _JPEG2K:
        info = get_j2k_parameters(frame)
        if info.get("is_signed", pixel_representation) != pixel_representation:
            shift = bits - info.get("precision", bits_stored)
    elif syntax in _JPEGLS:
        if pixel_representation == 1:
            shift = bits - _get_jpg_parameters(frame).get("precision", bits_stored)
    else:
        shift = bits_allocated - bits_stored
    if shift:
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    return arr
