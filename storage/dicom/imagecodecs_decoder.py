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
"""

from __future__ import annotations

from typing import Any

from pydicom import uid

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
