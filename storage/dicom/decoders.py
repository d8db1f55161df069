"""Which decoder decodes compressed pixel data, per transfer syntax, and in which order.

The order is fixed here once, from measurements (``benchmarks/bench_load.py``
prints the per-frame time of every candidate on copies of ct-wholebody-269,
512x512 12-bit CT, made at benchmark time); speed decides first, and a
decoder that fails on a frame (or is not installed) hands it to the next one,
so correctness decides second.  Measured on the project machine (2 shared
cores), median ms per frame with each frame decoded by every candidate in
turn (pydicom 3.0, pyjpegls 1.5, pylibjpeg-libjpeg 2.5, pylibjpeg-openjpeg
2.6, pylibjpeg-rle 2.2, python-gdcm 3.2, Pillow 13):

======================  =====================================  ===========================
transfer syntax         order                                  ms per frame, in that order
======================  =====================================  ===========================
JPEG baseline 8-bit     pillow, caliper-gdcm, pylibjpeg        0.5, 1.7, 2.1 (***)
JPEG extended 12-bit    pylibjpeg, caliper-gdcm, pillow        4.7, 4.4 (*), fails
JPEG lossless (14, SV1) imagecodecs, caliper-gdcm, pylibjpeg   2.0 (****), 6.2, 9.8
JPEG-LS (both)          imagecodecs, pyjpegls, caliper-gdcm,   ~ pyjpegls (****), 7.9,
                        pylibjpeg                              13.0, 30.6
JPEG 2000 (both)        imagecodecs, pylibjpeg, caliper-gdcm,  ~ pylibjpeg (****), 24.4,
                        pillow                                 26.2, 26.8
HTJ2K                   pylibjpeg                              (the only one)
RLE lossless            caliper-rle, pylibjpeg, pydicom        0.8, 0.6 (**), 3.4
======================  =====================================  ===========================

(*) as fast as libjpeg, but GDCM's IJG first tries its 8-bit codec and
prints "Unsupported JPEG data precision 12" on stderr for every frame, so it
is the fallback.  (**) without length checks: see below.  (***) on an
8-bit copy of the CT made for the measurement; Pillow (libjpeg-turbo) and
GDCM agree exactly, libjpeg by 1.  (****) ``caliper-imagecodecs``
(:mod:`storage.dicom.imagecodecs_decoder`, greyscale only, identical voxels)
wraps the same CharLS and OpenJPEG and libjpeg-turbo 3 (lossless); 2.0 is CPU
time per frame under load (GDCM 6.2 in the same run), measured in late 2026.

``caliper-gdcm`` is :mod:`storage.dicom.gdcm_decoder`, GDCM registered with
pydicom by this module; unlike pydicom's own ``gdcm`` plugin it decodes
12-bit JPEG Extended, which pillow cannot and libjpeg refuses when the scan
header of an older encoder is off.  ``caliper-rle``
(:mod:`storage.dicom.rle_decoder`) is pylibjpeg-rle's segment decoder with
the length checks the other two RLE decoders skip: a damaged RLE frame is
refused (and left blank with a warning) instead of decoded to a wrong image.
Of these decoders only ``caliper-imagecodecs`` releases the GIL (its
extension modules call ``PyEval_SaveThread``, none of the others does; the
benchmark prints the speed-up of two threads over one): series it decodes
are decoded by threads, the other compressed series in worker processes
(:mod:`storage.dicom.workers`, see :func:`needs_processes`).  Lossless
decoders agree bit for bit; for lossy JPEG, libjpeg and GDCM's IJG differ by
at most 1 in a few per cent of the pixels (IDCT rounding).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from pydicom import uid
from pydicom.pixels.decoders.base import get_decoder

import storage.dicom.gdcm_decoder as gdcm_decoder
import storage.dicom.imagecodecs_decoder as imagecodecs_decoder
import storage.dicom.rle_decoder as rle_decoder

GDCM = gdcm_decoder.LABEL
RLE = rle_decoder.LABEL
IMAGECODECS = imagecodecs_decoder.LABEL
#: Our own plugins, registered with pydicom's decoders on import.
_PLUGINS = (gdcm_decoder, rle_decoder, imagecodecs_decoder)
#: Decoders that release the GIL while they decode: threads decode in parallel with them.
GIL_FREE = frozenset({IMAGECODECS})

#: Decoder plugins per transfer syntax, fastest first (see the module docstring).
ORDER: dict[str, tuple[str, ...]] = {
    uid.JPEGBaseline8Bit: ("pillow", GDCM, "pylibjpeg"),
    uid.JPEGExtended12Bit: ("pylibjpeg", GDCM, "pillow"),
    uid.JPEGLossless: (IMAGECODECS, GDCM, "pylibjpeg"),
    uid.JPEGLosslessSV1: (IMAGECODECS, GDCM, "pylibjpeg"),
    uid.JPEGLSLossless: (IMAGECODECS, "pyjpegls", GDCM, "pylibjpeg"),
    uid.JPEGLSNearLossless: (IMAGECODECS, "pyjpegls", GDCM, "pylibjpeg"),
    uid.JPEG2000Lossless: (IMAGECODECS, "pylibjpeg", GDCM, "pillow"),
    uid.JPEG2000: (IMAGECODECS, "pylibjpeg", GDCM, "pillow"),
    uid.HTJ2KLossless: ("pylibjpeg",),
    uid.HTJ2KLosslessRPCL: ("pylibjpeg",),
    uid.HTJ2K: ("pylibjpeg",),
    uid.RLELossless: (RLE, "pylibjpeg", "pydicom"),
}

#: Syntaxes whose decoding costs milliseconds per frame: worth a worker process.
SLOW_SYNTAXES = frozenset(ORDER) - {uid.RLELossless}


class DecodeFailed(ValueError):
    """Every decoder failed on a frame; the message names each one and its error."""


def _register() -> None:
    for plugin in _PLUGINS:
        for syntax in plugin.DECODER_DEPENDENCIES:
            decoder = get_decoder(syntax)
            if plugin.LABEL in decoder.available_plugins or plugin.LABEL in decoder._unavailable:
                continue
            decoder.add_plugin(plugin.LABEL, (plugin.__name__, "decode_frame"))


_register()


@functools.cache
def plugins_for(syntax: str) -> tuple[str, ...]:
    """The installed decoders for *syntax*, in :data:`ORDER` (chosen once per process).

    An empty tuple means "let pydicom choose" (native, deflated and big-endian
    data, which need no plugin).
    """
    wanted = ORDER.get(syntax)
    if wanted is None:
        return ()
    available = set(get_decoder(syntax).available_plugins)
    return tuple(name for name in wanted if name in available)


def needs_processes(syntax: str) -> bool:
    """True when decoding *syntax* is slow and its first decoder holds the GIL.

    Such frames are decoded in worker processes (:mod:`storage.dicom.workers`);
    frames whose first decoder releases the GIL are decoded by threads.
    """
    if syntax not in SLOW_SYNTAXES:
        return False
    names = plugins_for(syntax)
    return not names or names[0] not in GIL_FREE


def decode(
    src: Any, syntax: str, *, index: int, first: str | None = None, **options: Any
) -> tuple[np.ndarray, str]:
    """Decode frame *index* of *src* with the first decoder that succeeds.

    Parameters
    ----------
    src : pydicom.dataset.Dataset or bytes
        A dataset, or the encapsulated pixel data value (with the image
        description in *options*, as pydicom's ``Decoder.as_array`` takes it).
    syntax : str
        The transfer syntax UID.
    index : int
        0-based frame number.
    first : str or None
        A decoder to try before the others (the one that worked last time).
    **options
        pydicom decoding options (rows, columns, bits_allocated, ...).

    Returns
    -------
    array : numpy.ndarray
        The stored values of the frame.
    plugin : str
        The decoder that decoded it ("" when pydicom chose).

    Raises
    ------
    DecodeFailed
        If every installed decoder failed; the message names each error.
    """
    names = plugins_for(syntax)
    if first in names:
        names = (first, *(n for n in names if n != first))
    decoder = get_decoder(syntax)
    if not names:
        return decoder.as_array(src, index=index, **options)[0], ""
    errors = []
    for name in names:
        try:
            array = decoder.as_array(src, index=index, decoding_plugin=name, **options)[0]
        except Exception as exc:  # noqa: BLE001 - any decoder failure: try the next one
            errors.append(f"{name}: {first_line(exc)}")
            if rle_decoder.CORRUPT in errors[-1]:
                break  # damaged data: a lenient decoder would return a wrong image
            continue
        return array, name
    raise DecodeFailed("no decoder could decode it (" + "; ".join(errors) + ")")


def first_line(exc: BaseException) -> str:
    """The message of a decoder's error, without pydicom's wrapping."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # pydicom wraps a plugin's error as "Unable to decode ...:\n  plugin: message"
    return lines[-1] if lines else type(exc).__name__
