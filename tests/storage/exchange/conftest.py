"""Fixtures for the exchange tests: real CT slices and the dciodvfy validator."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.system_tools import system_tool


@pytest.fixture(scope="session")
def ct_slices(shared_data: Path) -> list[Dataset]:
    """The first five slices of the real chest CT (ct-chest-30), sorted by position."""
    files = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:5]
    slices = [pydicom.dcmread(f) for f in files]
    return sorted(slices, key=lambda ds: float(ds.ImagePositionPatient[2]))


@pytest.fixture(scope="session")
def dciodvfy() -> str:
    """Path of dicom3tools' dciodvfy; installs the Debian package on a fresh machine."""
    return system_tool("dciodvfy")
