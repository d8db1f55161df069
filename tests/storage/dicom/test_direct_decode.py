"""The loader's short cut for one greyscale frame: imagecodecs on the value found by the scan.

It must give exactly what pydicom's decode runner gives with the same codec (sign and
unused-bits corrections included), and the loader must take it without pydicom's runner.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import get_decoder
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless

import storage.dicom.decoders as decoders
from storage.dicom import load_series
from storage.dicom.imagecodecs_decoder import LABEL, can_decode_value, decode_value
from tests.system_tools import system_tool


def _unsigned(ds: pydicom.Dataset) -> None:
    """As stored: 16 bits allocated, 12 stored, unsigned."""


def _signed(ds: pydicom.Dataset) -> None:
    """Signed 16-bit container holding negative 12-bit values (Hounsfield units)."""
    values = ds.pixel_array.astype(np.int32) - 1024
    ds.PixelRepresentation = 1
    ds.PixelData = values.astype(np.int16).tobytes()


def _signed_full(ds: pydicom.Dataset) -> None:
    """Signed, all 16 bits stored."""
    _signed(ds)
    ds.BitsStored, ds.HighBit = 16, 15


def _eight_bit(ds: pydicom.Dataset) -> None:
    """8 bits allocated and stored."""
    ds.PixelData = (ds.pixel_array >> 4).astype(np.uint8).tobytes()
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7


VARIANTS: dict[str, Callable[[pydicom.Dataset], None]] = {
    "unsigned": _unsigned,
    "signed": _signed,
    "signed16": _signed_full,
    "8bit": _eight_bit,
}


def _made(shared_data: Path, variant: str, syntax: str, plugin: str) -> pydicom.Dataset:
    ds = pydicom.dcmread(sorted((shared_data / "ct-chest-30").glob("*.dcm"))[3])
    VARIANTS[variant](ds)
    ds.compress(syntax, encoding_plugin=plugin)
    return ds


def _value(ds: pydicom.Dataset) -> bytes:
    """The encapsulated value as the loader reads it: from the offset table item on."""
    value: bytes = ds.PixelData
    return value


def _short_cut(ds: pydicom.Dataset) -> np.ndarray:
    syntax = ds.file_meta.TransferSyntaxUID
    assert can_decode_value(
        syntax,
        samples_per_pixel=1,
        n_frames=1,
        photometric=ds.PhotometricInterpretation,
        bits_allocated=ds.BitsAllocated,
        bits_stored=ds.BitsStored,
        pixel_representation=ds.PixelRepresentation,
        rows=ds.Rows,
        columns=ds.Columns,
        pixel_keyword="PixelData",
    )
    return decode_value(
        _value(ds),
        syntax,
        rows=ds.Rows,
        columns=ds.Columns,
        bits_allocated=ds.BitsAllocated,
        bits_stored=ds.BitsStored,
        pixel_representation=ds.PixelRepresentation,
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(
    ("syntax", "plugin"), [(JPEGLSLossless, "pyjpegls"), (JPEG2000Lossless, "pylibjpeg")]
)
def test_short_cut_equals_pydicoms_runner(
    shared_data: Path, variant: str, syntax: str, plugin: str
) -> None:
    ds = _made(shared_data, variant, syntax, plugin)
    theirs = get_decoder(syntax).as_array(ds, decoding_plugin=LABEL)[0]
    ours = _short_cut(ds)
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)
    assert ours.flags.writeable


def test_short_cut_equals_pydicom_for_lossless_jpeg(shared_data: Path, tmp_path: Path) -> None:
    dcmcjpeg = system_tool("dcmcjpeg")
    source = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[3]
    signed = tmp_path / "signed.dcm"
    ds = pydicom.dcmread(source)
    _signed_full(ds)
    ds.save_as(signed)
    for name, path in (("unsigned", source), ("signed", signed)):
        out = tmp_path / f"{name}-sv1.dcm"
        subprocess.run(
            [dcmcjpeg, "--encode-lossless-sv1", str(path), str(out)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        compressed = pydicom.dcmread(out)
        theirs = get_decoder(JPEGLosslessSV1).as_array(compressed, decoding_plugin=LABEL)[0]
        ours = _short_cut(compressed)
        assert ours.dtype == theirs.dtype, name
        assert np.array_equal(ours, theirs), name
        assert np.array_equal(ours, pydicom.dcmread(path).pixel_array), name


def test_short_cut_refuses_what_it_does_not_mirror() -> None:
    common = {
        "samples_per_pixel": 1,
        "n_frames": 1,
        "photometric": "MONOCHROME2",
        "bits_allocated": 16,
        "bits_stored": 12,
        "pixel_representation": 1,
        "rows": 4,
        "columns": 4,
        "pixel_keyword": "PixelData",
    }
    assert can_decode_value(JPEGLSLossless, **common)
    assert not can_decode_value(JPEGLSLossless, **{**common, "n_frames": 2})
    assert not can_decode_value(JPEGLSLossless, **{**common, "samples_per_pixel": 3})
    assert not can_decode_value(JPEGLSLossless, **{**common, "photometric": "YBR_FULL"})
    assert not can_decode_value(JPEGLSLossless, **{**common, "bits_stored": 17})
    # signed lossless JPEG that does not fill its container: GDCM sign-extends, not this
    assert not can_decode_value(JPEGLosslessSV1, **common)
    assert not can_decode_value("1.2.840.10008.1.2.5", **common)  # RLE: not imagecodecs


def test_loader_decodes_without_pydicoms_runner(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, packed = tmp_path / "plain", tmp_path / "jpeg-ls"
    plain.mkdir()
    packed.mkdir()
    for path in sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:6]:
        ds = pydicom.dcmread(path)
        ds.save_as(plain / path.name)
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
        ds.save_as(packed / path.name)
    reference = load_series(plain)
    used: list[str] = []
    real = decoders.decode

    def counting(*args: object, **kwargs: object) -> object:
        used.append("runner")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decoders, "decode", counting)
    volume = load_series(packed)
    assert used == []
    assert volume.warnings == []
    assert volume.voxels.dtype == reference.voxels.dtype
    assert np.array_equal(volume.voxels, reference.voxels)


def test_damaged_value_falls_back_to_the_decoders_and_is_named(
    shared_data: Path, tmp_path: Path
) -> None:
    plain, packed = tmp_path / "plain", tmp_path / "jpeg-ls"
    plain.mkdir()
    packed.mkdir()
    paths = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:3]
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.save_as(plain / path.name)
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
        if path == paths[1]:
            ds.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8 not a JPEG-LS stream \xff\xd9"])
        ds.save_as(packed / path.name)
    volume = load_series(packed)
    assert len(volume.warnings) == 1
    assert paths[1].name in volume.warnings[0]
    assert "could not be decoded" in volume.warnings[0]
    assert decoders.IMAGECODECS in volume.warnings[0]  # pydicom's decoders had their say
    reference = load_series(plain).voxels
    same = [np.array_equal(a, b) for a, b in zip(volume.voxels, reference, strict=True)]
    assert sorted(same) == [False, True, True]  # the other two slices are decoded
