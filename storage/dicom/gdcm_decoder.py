"""GDCM as a pydicom decoder plugin, without pydicom's refusal of 12-bit JPEG Extended.

pydicom's own ``gdcm`` plugin refuses JPEG Extended (1.2.840.10008.1.2.4.51)
with more than 8 bits per sample, yet GDCM decodes those frames (its IJG
build carries the 12-bit codec), and older archives hold many of them, some
written by encoders whose scan header libjpeg rejects ("scan start must be
zero and scan stop must be 63").  This module is registered with pydicom's
decoders under the label :data:`LABEL` by :mod:`storage.dicom.decoders`, and
follows pydicom's plugin contract: ``DECODER_DEPENDENCIES``,
``is_available(uid)`` and ``decode_frame(src, runner) -> bytes``.

:func:`read_file` is the last resort for the syntaxes pydicom has no decoder
for at all (e.g. the retired JPEG progressive process): GDCM reads the whole
file itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom import uid

try:
    import gdcm
except ImportError:  # pragma: no cover - python-gdcm is a dependency
    gdcm = None

#: The plugin label used in :data:`storage.dicom.decoders.ORDER`.
LABEL = "caliper-gdcm"

DECODER_DEPENDENCIES = {
    syntax: ("python-gdcm>=3.0.10",)
    for syntax in (
        uid.JPEGBaseline8Bit,
        uid.JPEGExtended12Bit,
        uid.JPEGLossless,
        uid.JPEGLosslessSV1,
        uid.JPEGLSLossless,
        uid.JPEGLSNearLossless,
        uid.JPEG2000Lossless,
        uid.JPEG2000,
    )
}

if gdcm is not None:  # GDCM reports recoverable oddities on stderr; Caliper reports its own
    gdcm.Trace.WarningOff()
    gdcm.Trace.DebugOff()


def is_available(syntax: str) -> bool:
    """True when GDCM is importable and decodes *syntax*."""
    return gdcm is not None and syntax in DECODER_DEPENDENCIES


def _container_bits(bits: int) -> int:
    """GDCM sizes its output samples by precision (8, 16 or 32 bits)."""
    return 8 if bits <= 8 else 16 if bits <= 16 else 32


def decode_frame(src: bytes, runner: Any) -> bytes:
    """Decode one encoded frame with GDCM.

    Parameters
    ----------
    src : bytes
        The encoded frame (all its fragments joined).
    runner : pydicom.pixels.decoders.base.DecodeRunner
        pydicom's runner, which holds the image description and receives the
        options that describe GDCM's output.

    Returns
    -------
    bytes
        The decoded samples, little endian, colour-by-pixel.

    Raises
    ------
    RuntimeError
        If GDCM cannot decode the frame.
    """
    syntax = str(runner.transfer_syntax)
    bits_stored = int(runner.bits_stored)
    if syntax in uid.JPEGLSTransferSyntaxes:
        bits_stored = int(runner.get_option("jls_precision", bits_stored))
        runner.set_option("planar_configuration", 0)
    elif syntax in uid.JPEG2000TransferSyntaxes:
        bits_stored = int(runner.get_option("j2k_precision", bits_stored))
    if syntax in uid.JPEGLSTransferSyntaxes or syntax in uid.JPEG2000TransferSyntaxes:
        runner.set_option("bits_allocated", _container_bits(bits_stored))

    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())

    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((int(runner.columns), int(runner.rows), 1))
    image.SetDataElement(element)
    photometric = gdcm.PhotometricInterpretation.GetPIType(str(runner.photometric_interpretation))
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(photometric))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(int(runner.planar_configuration))
    image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(syntax)))
    image.SetPixelFormat(
        gdcm.PixelFormat(
            int(runner.samples_per_pixel),
            int(runner.bits_allocated),
            bits_stored,
            bits_stored - 1,
            int(runner.pixel_representation),
        )
    )
    buffer = image.GetBuffer()
    if buffer is None:
        raise RuntimeError(f"GDCM could not decode this {uid.UID(syntax).name} frame")
    data: bytes = buffer.encode("utf-8", "surrogateescape")  # GDCM's char* arrives as str
    expected = (
        int(runner.rows)
        * int(runner.columns)
        * int(runner.samples_per_pixel)
        * (int(runner.bits_allocated) // 8)
    )
    if len(data) < expected:
        raise RuntimeError(f"GDCM decoded {len(data)} bytes, {expected} expected")
    if syntax in uid.JPEG2000TransferSyntaxes and runner.photometric_interpretation in (
        "YBR_ICT",
        "YBR_RCT",
    ):
        runner.set_option("photometric_interpretation", "RGB")  # GDCM converts them to RGB
    return data


def _scalar_types() -> dict[int, type[np.generic]]:
    kinds: dict[str, type[np.generic]] = {
        "UINT8": np.uint8,
        "INT8": np.int8,
        "UINT16": np.uint16,
        "INT16": np.int16,
        "UINT32": np.uint32,
        "INT32": np.int32,
        "FLOAT32": np.float32,
        "FLOAT64": np.float64,
    }
    return {getattr(gdcm.PixelFormat, name): kind for name, kind in kinds.items()}


def read_file(path: str) -> np.ndarray:
    """Decode every frame of a grey-scale file with GDCM alone.

    Parameters
    ----------
    path : str
        The file on disk.

    Returns
    -------
    numpy.ndarray
        Stored values, shape ``(frames, rows, columns)``.

    Raises
    ------
    ValueError
        If GDCM is missing, cannot read or decode the file, or the image is
        not grey-scale.
    """
    if gdcm is None:
        raise ValueError("GDCM (python-gdcm) is not installed")
    reader = gdcm.ImageReader()
    reader.SetFileName(path)
    if not reader.Read():
        raise ValueError("GDCM cannot read this file")
    image = reader.GetImage()
    pixel_format = image.GetPixelFormat()
    if pixel_format.GetSamplesPerPixel() != 1:
        raise ValueError(f"{pixel_format.GetSamplesPerPixel()} samples per pixel")
    kind = _scalar_types().get(pixel_format.GetScalarType())
    if kind is None:
        raise ValueError(f"GDCM pixel type {pixel_format.GetScalarTypeAsString()}")
    dims = [int(d) for d in image.GetDimensions()]
    columns, rows = dims[0], dims[1]
    frames = dims[2] if len(dims) > 2 else 1
    buffer = image.GetBuffer()
    data = buffer.encode("utf-8", "surrogateescape") if buffer else b""
    expected = frames * rows * columns * np.dtype(kind).itemsize
    if len(data) < expected:
        raise ValueError(f"GDCM decoded {len(data)} bytes, {expected} expected")
    return np.frombuffer(data, dtype=kind, count=frames * rows * columns).reshape(
        frames, rows, columns
    )
