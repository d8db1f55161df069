"""Fixtures for the exchange tests: real CT slices and the dciodvfy validator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset


@pytest.fixture(scope="session")
def ct_slices(shared_data: Path) -> list[Dataset]:
    """The first five slices of the real chest CT (ct-chest-30), sorted by position."""
    files = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:5]
    slices = [pydicom.dcmread(f) for f in files]
    return sorted(slices, key=lambda ds: float(ds.ImagePositionPatient[2]))


@pytest.fixture(scope="session")
def dciodvfy() -> str:
    """Path of dicom3tools' dciodvfy; installs the Debian package on a fresh machine."""
    found = shutil.which("dciodvfy")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=600", "dicom3tools"]
    update = ["apt-get", "update", "-o", "DPkg::Lock::Timeout=600"]
    result = None
    try:
        for cmd in (install, update, install):  # update only if the first install fails
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
            if cmd is install and result.returncode == 0:
                break
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"dciodvfy missing and dicom3tools could not be installed: {exc}")
    found = shutil.which("dciodvfy")
    if not found:
        pytest.skip(
            "dciodvfy missing and `apt-get install dicom3tools` failed: "
            + ((result.stderr or result.stdout)[-500:] if result else "")
        )
    return found
