"""Decoder choice per transfer syntax, identical voxels per decoder, the shown slice first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.pixels import get_decoder
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless

import storage.dicom.loader as loader
from storage.dicom import load_series
from storage.dicom.decoders import GDCM, IMAGECODECS, needs_processes, plugins_for
from tests.system_tools import system_tool


@pytest.fixture(scope="module")
def compressed(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """JPEG-LS and JPEG 2000 lossless copies of ct-chest-30."""
    out = {}
    for syntax, plugin in ((JPEGLSLossless, "pyjpegls"), (JPEG2000Lossless, "pylibjpeg")):
        folder = tmp_path_factory.mktemp(plugin)
        for path in sorted((shared_data / "ct-chest-30").glob("*.dcm")):
            ds = pydicom.dcmread(path)
            ds.compress(syntax, encoding_plugin=plugin)
            ds.save_as(folder / path.name)
        out[syntax] = folder
    return out


@pytest.mark.parametrize("syntax", [JPEGLSLossless, JPEG2000Lossless, JPEGLosslessSV1])
def test_gil_free_decoder_chosen_first_and_threads_used(syntax: str) -> None:
    assert plugins_for(syntax)[0] == IMAGECODECS
    assert not needs_processes(syntax)  # it releases the GIL: threads, no worker processes


@pytest.mark.parametrize("syntax", [JPEGLSLossless, JPEG2000Lossless])
def test_every_decoder_gives_identical_voxels(compressed: dict[str, Path], syntax: str) -> None:
    decoder = get_decoder(syntax)
    names = plugins_for(syntax)
    assert len(names) >= 2
    for path in sorted(compressed[syntax].iterdir())[:5]:
        ds = pydicom.dcmread(path)
        arrays = {name: decoder.as_array(ds, decoding_plugin=name)[0] for name in names}
        reference = arrays[names[1]]  # pydicom's usual plugin for the syntax
        for name, arr in arrays.items():
            assert arr.dtype == reference.dtype, name
            assert np.array_equal(arr, reference), name


def test_signed_jpeg_ls_decodes_like_pyjpegls(shared_data: Path) -> None:
    ds = pydicom.dcmread(sorted((shared_data / "ct-chest-30").glob("*.dcm"))[0])
    values = ds.pixel_array.astype(np.int32) - 1024
    ds.PixelRepresentation = 1
    ds.PixelData = values.astype(np.int16).tobytes()
    ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
    decoder = get_decoder(JPEGLSLossless)
    ours = decoder.as_array(ds, decoding_plugin=IMAGECODECS)[0]
    theirs = decoder.as_array(ds, decoding_plugin="pyjpegls")[0]
    assert ours.dtype == np.int16
    assert np.array_equal(ours, theirs)
    assert np.array_equal(ours, values)


def test_colour_frame_is_left_to_the_next_decoder(shared_data: Path) -> None:
    ds = pydicom.dcmread(sorted((shared_data / "ct-chest-30").glob("*.dcm"))[0])
    grey = (ds.pixel_array >> 4).astype(np.uint8)
    rgb = np.stack([grey, grey // 2, 255 - grey], axis=-1)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = rgb.tobytes()
    ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
    decoder = get_decoder(JPEGLSLossless)
    with pytest.raises(Exception, match="greyscale frames only"):
        decoder.as_array(ds, decoding_plugin=IMAGECODECS)
    from storage.dicom.decoders import decode

    arr, used = decode(ds, JPEGLSLossless, index=0)
    assert used == "pyjpegls"
    assert np.array_equal(arr, rgb)


def test_damaged_frame_is_refused_not_misdecoded(compressed: dict[str, Path]) -> None:
    path = sorted(compressed[JPEGLSLossless].iterdir())[0]
    ds = pydicom.dcmread(path)
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([frame[: len(frame) // 3]])
    with pytest.raises(Exception):  # noqa: B017, PT011 - each decoder words its refusal its own way
        get_decoder(JPEGLSLossless).as_array(ds, decoding_plugin=IMAGECODECS)


@pytest.mark.parametrize("syntax", [JPEGLSLossless, JPEG2000Lossless])
def test_compressed_series_loads_identical_to_uncompressed(
    shared_data: Path, compressed: dict[str, Path], syntax: str
) -> None:
    reference = load_series(shared_data / "ct-chest-30")
    volume = load_series(compressed[syntax])
    assert volume.warnings == []
    assert np.array_equal(volume.voxels, reference.voxels)


def test_decode_order_starts_with_the_shown_slice() -> None:
    assert loader.decode_order(5) == [2, 1, 3, 0, 4]
    assert loader.decode_order(6) == [3, 2, 4, 1, 5, 0]
    assert loader.decode_order(4, 0) == [0, 1, 2, 3]
    assert loader.decode_order(4, 99) == [3, 2, 1, 0]
    assert loader.decode_order(1) == [0]
    assert loader.decode_order(0) == []


def test_background_load_decodes_the_middle_slice_first(
    compressed: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = loader._Filler._one

    def spy(self: loader._Filler, index: int) -> None:
        seen.append(index)
        real(self, index)

    monkeypatch.setattr(loader._Filler, "_one", spy)
    volume = load_series(compressed[JPEGLSLossless], background=True)
    assert seen[:1] == [15]  # the slice the viewer opens on (30 // 2)
    assert volume.voxels[15].any()
    volume.wait(timeout=120)
    assert volume.is_complete
    assert sorted(seen) == list(range(30))


def test_first_slice_can_be_chosen(compressed: dict[str, Path]) -> None:
    volume = load_series(compressed[JPEG2000Lossless], background=True, first_slice=3)
    assert volume.voxels[3].any()
    volume.wait(timeout=120)
    assert volume.slices_loaded == 30


def test_lossless_jpeg_decodes_like_gdcm_and_the_original(
    shared_data: Path, tmp_path: Path
) -> None:
    dcmcjpeg = system_tool("dcmcjpeg")
    source = sorted((shared_data / "ct-chest-30").glob("*.dcm"))
    for path in source:
        subprocess.run(
            [dcmcjpeg, "--encode-lossless-sv1", str(path), str(tmp_path / path.name)],
            check=True,
            capture_output=True,
            timeout=120,
        )
    decoder = get_decoder(JPEGLosslessSV1)
    for path in source[:5]:
        ds = pydicom.dcmread(tmp_path / path.name)
        ours = decoder.as_array(ds, decoding_plugin=IMAGECODECS)[0]
        assert np.array_equal(ours, decoder.as_array(ds, decoding_plugin=GDCM)[0])
        assert np.array_equal(ours, pydicom.dcmread(path).pixel_array)
    volume = load_series(tmp_path)
    assert volume.warnings == []
    assert np.array_equal(volume.voxels, load_series(shared_data / "ct-chest-30").voxels)


def test_gil_free_series_decodes_with_threads_not_processes(
    compressed: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.dicom.workers as workers

    called: list[str] = []
    monkeypatch.setattr(workers, "warm_up", lambda: called.append("warm_up"))
    monkeypatch.setattr(workers, "pool", lambda: called.append("pool"))
    volume = load_series(compressed[JPEGLSLossless])  # 30 slices: enough for processes
    assert called == []
    assert volume.slices_loaded == 30
