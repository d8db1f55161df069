"""Fixtures shared by the whole suite.

Qt runs offscreen everywhere; the real DICOM series live in ``../shared/data``
beside the checkout (``CALIPER_SHARED_DATA`` overrides the location).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CALIPER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root folder."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real DICOM series (``../shared/data``); fails loudly if absent."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real DICOM data not found at {SHARED_DATA}; set CALIPER_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real user data, config and log folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CALIPER_HOME", str(home))
    monkeypatch.delenv("CALIPER_DB", raising=False)
