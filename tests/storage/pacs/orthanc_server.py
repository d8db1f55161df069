"""A real Orthanc for the PACS tests, started and stopped by ``scripts/orthanc.sh``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.dicom.pacs import PacsNode

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "orthanc.sh"
CT_SERIES_UID = "1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983"
CT_STUDY_UID = "1.3.6.1.4.1.14519.5.2.1.6655.2359.104855313699639828167809534834"
CT_PATIENT_ID = "Lung_Dx-A0002"


@dataclass(frozen=True)
class OrthancServer:
    """Where the test Orthanc listens, and nodes that point at it."""

    workdir: Path
    http_port: int
    dicom_port: int
    aet: str
    caliper_aet: str
    caliper_port: int
    pid: int

    @property
    def dicomweb_url(self) -> str:
        """Base URL of the DICOMweb plugin."""
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def dicomweb_node(self, **changes: object) -> PacsNode:
        """A DICOMweb node for this Orthanc."""
        fields: dict = {"name": "orthanc-web", "dicomweb_url": self.dicomweb_url, "timeout_s": 10.0}
        return PacsNode(**{**fields, **changes})

    def dimse_node(self, method: str = "get", **changes: object) -> PacsNode:
        """A DIMSE node for this Orthanc (C-GET or C-MOVE back to Caliper's AE)."""
        fields: dict = {
            "name": f"orthanc-{method}",
            "host": "127.0.0.1",
            "port": self.dicom_port,
            "called_aet": self.aet,
            "calling_aet": self.caliper_aet,
            "retrieve_method": method,
            "scp_port": self.caliper_port,
            "timeout_s": 10.0,
        }
        return PacsNode(**{**fields, **changes})

    def rest(self, path: str) -> object:
        """GET Orthanc's REST API."""
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.http_port}{path}", timeout=10
        ) as answer:
            return json.loads(answer.read())

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Freeze the Orthanc process (SIGSTOP): it accepts connections but never answers."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def pause(self) -> None:
        """SIGSTOP the server."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the server."""
        os.kill(self.pid, signal.SIGCONT)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=900, check=False
    )


def start_orthanc(workdir: Path, series_dir: Path) -> OrthancServer:
    """Start Orthanc in ``workdir`` and load ``series_dir``; skip when it cannot be installed."""
    started = _run("start", str(workdir), "0", "0", "CALIPER", "0", "ORTHANC")
    if started.returncode == 3:
        pytest.skip(f"Orthanc cannot be installed here: {started.stderr.strip()[-300:]}")
    if started.returncode != 0:
        pytest.fail(f"scripts/orthanc.sh start failed:\n{started.stderr}")
    env = dict(line.split("=", 1) for line in (workdir / "orthanc.env").read_text().split())
    server = OrthancServer(
        workdir=workdir,
        http_port=int(env["HTTP_PORT"]),
        dicom_port=int(env["DICOM_PORT"]),
        aet=env["ORTHANC_AET"],
        caliper_aet=env["CALIPER_AET"],
        caliper_port=int(env["CALIPER_PORT"]),
        pid=int(env["PID"]),
    )
    loaded = _run("load", str(workdir), str(series_dir))
    if loaded.returncode != 0:
        stop_orthanc(workdir)
        pytest.fail(f"scripts/orthanc.sh load failed:\n{loaded.stderr}")
    return server


def stop_orthanc(workdir: Path) -> None:
    """Stop the Orthanc started in ``workdir``."""
    _run("stop", str(workdir))
