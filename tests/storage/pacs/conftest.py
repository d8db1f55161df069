"""The Orthanc the PACS tests talk to: one per session, holding ct-chest-30."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.pacs.orthanc_server import OrthancServer, start_orthanc, stop_orthanc


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[OrthancServer]:
    """A real Orthanc on 127.0.0.1 (DICOMweb + DIMSE) loaded with ct-chest-30."""
    workdir = tmp_path_factory.mktemp("orthanc")
    server = start_orthanc(workdir, shared_data / "ct-chest-30")
    try:
        yield server
    finally:
        stop_orthanc(workdir)
