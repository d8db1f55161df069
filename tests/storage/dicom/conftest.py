"""Helpers for the DICOM tests: copies of real series and broken inputs made at test time."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid


@pytest.fixture
def copy_series(shared_data: Path, tmp_path: Path) -> Callable[..., Path]:
    """Return ``copy(name, dest=None, files=None)``: copy a real series into tmp_path."""

    def copy(name: str, dest: str | None = None, files: list[str] | None = None) -> Path:
        source = shared_data / name
        target = tmp_path / (dest or name.replace("/", "_"))
        target.mkdir(parents=True, exist_ok=True)
        for item in sorted(source.iterdir()):
            if item.is_file() and (files is None or item.name in files):
                shutil.copyfile(item, target / item.name)
        return target

    return copy


def rewrite(
    path: Path,
    change: Callable[[pydicom.Dataset], None],
    dest: Path | None = None,
    new_uids: bool = False,
) -> Path:
    """Read *path*, apply *change* and save to *dest* (default: in place)."""
    ds = pydicom.dcmread(path)
    if new_uids:
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    change(ds)
    out = dest or path
    ds.save_as(out, enforce_file_format=False)
    return out
