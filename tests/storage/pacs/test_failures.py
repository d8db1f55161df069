"""Failures against a real Orthanc: each gives a clear message and leaves nothing behind."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from storage.dicom.pacs import (
    PacsAssociationRejected,
    PacsConnectionError,
    PacsError,
    PacsRetrieveIncomplete,
    PacsTimeout,
    RetrieveCancelled,
    StudyQuery,
    echo,
    find_studies,
    retrieve_series,
)
from storage.paths import series_store_dir
from tests.storage.pacs.orthanc_server import CT_SERIES_UID, OrthancServer

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _store_is_empty() -> bool:
    return list(series_store_dir().iterdir()) == []


def test_server_down_dicomweb(orthanc: OrthancServer) -> None:
    node = orthanc.dicomweb_node(dicomweb_url=f"http://127.0.0.1:{_free_port()}/dicom-web")
    with pytest.raises(PacsConnectionError, match="connection refused or server down"):
        find_studies(node, StudyQuery(patient_id="x"))
    with pytest.raises(PacsConnectionError):
        retrieve_series(node, CT_SERIES_UID)
    assert _store_is_empty()


def test_server_down_dimse(orthanc: OrthancServer) -> None:
    node = orthanc.dimse_node(port=_free_port())
    with pytest.raises(PacsConnectionError, match="connection refused"):
        echo(node)
    with pytest.raises(PacsConnectionError, match="connection refused"):
        retrieve_series(node, CT_SERIES_UID)
    assert _store_is_empty()


def test_wrong_called_ae_is_refused(orthanc: OrthancServer) -> None:
    node = orthanc.dimse_node(called_aet="NOT_ORTHANC")
    with pytest.raises(
        PacsAssociationRejected, match="Called AE title not recognised.*'NOT_ORTHANC'"
    ):
        find_studies(node, StudyQuery(patient_id="x"))


@pytest.mark.parametrize("protocol", ["dicomweb", "get"])
def test_timeout_when_the_server_hangs(orthanc: OrthancServer, protocol: str) -> None:
    node = (
        orthanc.dicomweb_node(timeout_s=1.0)
        if protocol == "dicomweb"
        else orthanc.dimse_node(timeout_s=1.0)
    )
    with (
        orthanc.paused(),
        pytest.raises(PacsTimeout, match="did not answer within 1 s|no DICOM answer"),
    ):
        echo(node)
    echo(node)  # answers again once resumed


def test_server_hangs_mid_retrieve_leaves_nothing(orthanc: OrthancServer) -> None:
    node = orthanc.dimse_node("get", timeout_s=1.5)
    paused = threading.Event()

    def pause_after_five(done: int, total: int | None) -> None:
        if done == 5 and not paused.is_set():
            paused.set()
            orthanc.pause()

    try:
        with pytest.raises(
            PacsRetrieveIncomplete, match=r"after \d+ of 30 images.*nothing was imported"
        ):
            retrieve_series(node, CT_SERIES_UID, on_progress=pause_after_five)
    finally:
        orthanc.resume()
    assert paused.is_set()
    assert _store_is_empty()


@pytest.mark.parametrize("protocol", ["dicomweb", "get", "move"])
def test_cancel_leaves_nothing(orthanc: OrthancServer, protocol: str) -> None:
    node = orthanc.dicomweb_node() if protocol == "dicomweb" else orthanc.dimse_node(protocol)
    cancel = threading.Event()

    def cancel_after_three(done: int, total: int | None) -> None:
        if done >= 3:
            cancel.set()

    with pytest.raises(RetrieveCancelled, match="cancelled; nothing was imported"):
        retrieve_series(node, CT_SERIES_UID, on_progress=cancel_after_three, cancel=cancel)
    assert _store_is_empty()


def test_c_move_scp_port_in_use_gives_a_clear_message(orthanc: OrthancServer) -> None:
    node = orthanc.dimse_node("move")
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier C-MOVEs: TIME_WAIT
        busy.bind(("127.0.0.1", orthanc.caliper_port))
        busy.listen()
        with pytest.raises(PacsError, match=r"Caliper cannot listen for C-MOVE on 127\.0\.0\.1"):
            retrieve_series(node, CT_SERIES_UID)
    assert _store_is_empty()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_orthanc_listens_on_loopback_only(orthanc: OrthancServer) -> None:
    for port in (orthanc.http_port, orthanc.dicom_port):
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    config = (orthanc.workdir / "orthanc.json").read_text()
    assert '"RemoteAccessAllowed": false' in config
    assert '"DicomCheckCalledAet": true' in config


def test_cancel_cuts_a_stalled_dicomweb_download(orthanc: OrthancServer) -> None:
    node = orthanc.dicomweb_node(timeout_s=30.0)
    cancel = threading.Event()

    def stall_then_cancel(done: int, total: int | None) -> None:
        if done == 1:  # the server freezes mid-answer; the reader cancels a second later
            orthanc.pause()
            threading.Timer(1.0, cancel.set).start()

    started = time.monotonic()
    try:
        with pytest.raises(RetrieveCancelled, match="cancelled; nothing was imported"):
            retrieve_series(node, CT_SERIES_UID, on_progress=stall_then_cancel, cancel=cancel)
    finally:
        orthanc.resume()
    assert time.monotonic() - started < 10  # not the 30 s read timeout
    assert _store_is_empty()
