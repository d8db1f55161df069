"""``caliper pacs ...`` and the Qt-free PacsController against a real Orthanc."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from pathlib import Path

import pytest

from app.cli import pacs as cli_pacs
from app.errors import CliError
from app.pacs.controller import PacsController
from storage.dicom.pacs import StudyQuery, add_node, find_studies, load_nodes
from storage.paths import config_dir, series_store_dir
from tests.storage.pacs.orthanc_server import (
    CT_PATIENT_ID,
    CT_SERIES_UID,
    CT_STUDY_UID,
    OrthancServer,
)

pytestmark = pytest.mark.integration
SR_FILE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "highdicom" / "sr_document.dcm"
)


def caliper(*argv: str) -> int:
    """Run ``caliper pacs ...`` through the module's own ``register``."""
    parser = argparse.ArgumentParser(prog="caliper")
    cli_pacs.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_cli_add_list_find_get_push(
    orthanc: OrthancServer, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACS_PW", "hunter2-secret")
    assert (
        caliper(
            "pacs",
            "add",
            "web",
            "--dicomweb",
            orthanc.dicomweb_url,
            "--user",
            "reader",
            "--password-env",
            "PACS_PW",
        )
        == 0
    )
    assert (
        caliper(
            "pacs",
            "add",
            "dimse",
            "--host",
            "127.0.0.1",
            "--port",
            str(orthanc.dicom_port),
            "--aet",
            orthanc.aet,
            "--our-aet",
            orthanc.caliper_aet,
            "--retrieve",
            "move",
            "--scp-port",
            str(orthanc.caliper_port),
        )
        == 0
    )
    capsys.readouterr()
    assert caliper("pacs", "list", "--json") == 0
    listed = capsys.readouterr().out
    assert "hunter2" not in listed
    assert [n["name"] for n in json.loads(listed)] == ["web", "dimse"]
    assert "hunter2-secret" in (config_dir() / "pacs.json").read_text()  # only in the 0600 file

    assert caliper("pacs", "echo", "dimse") == 0
    assert "answers" in capsys.readouterr().out
    assert (
        caliper(
            "pacs",
            "find",
            "dimse",
            "--name",
            "lung",
            "--from",
            "2007-01-01",
            "--to",
            "2007-12-31",
            "--modality",
            "CT",
            "--series",
            "--json",
        )
        == 0
    )
    (study,) = json.loads(capsys.readouterr().out)
    assert study["study_instance_uid"] == CT_STUDY_UID
    assert study["series"][0]["series_instance_uid"] == CT_SERIES_UID

    assert caliper("pacs", "get", "dimse", "--series", CT_SERIES_UID, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert got == {
        "series_instance_uid": CT_SERIES_UID,
        "files": 30,
        "path": str(series_store_dir() / CT_SERIES_UID),
    }
    assert caliper("pacs", "push", "web", str(SR_FILE)) == 0
    assert "1 file(s) stored" in capsys.readouterr().out


def test_cli_user_errors(orthanc: OrthancServer) -> None:
    with pytest.raises(CliError, match="no PACS called 'nope'"):
        caliper("pacs", "get", "nope", "--series", CT_SERIES_UID)
    with pytest.raises(CliError, match="either --dicomweb URL or --host"):
        caliper("pacs", "add", "x")
    with pytest.raises(CliError, match="PACS_UNSET_VAR is not set"):
        caliper(
            "pacs",
            "add",
            "x",
            "--dicomweb",
            orthanc.dicomweb_url,
            "--password-env",
            "PACS_UNSET_VAR",
        )
    add_node(orthanc.dicomweb_node(name="web"))
    with pytest.raises(CliError, match="--from must be a date"):
        caliper("pacs", "find", "web", "--from", "25/04/2007")
    with pytest.raises(CliError, match="has no series 1.2.3"):
        caliper("pacs", "get", "web", "--series", "1.2.3")
    assert load_nodes()[0].name == "web"


def test_credentials_never_reach_the_log(
    orthanc: OrthancServer, caplog: pytest.LogCaptureFixture
) -> None:
    node = orthanc.dicomweb_node(username="reader", password="hunter2-secret", timeout_s=1)
    with caplog.at_level(logging.DEBUG):
        assert find_studies(node, StudyQuery(patient_id=CT_PATIENT_ID))
        down = node.with_changes(dicomweb_url="http://127.0.0.1:9/dicom-web")
        with pytest.raises(Exception, match="connection refused") as err:
            find_studies(down, StudyQuery())
    assert "hunter2" not in caplog.text
    assert "hunter2" not in str(err.value)


def test_controller_find_retrieve_and_signals(orthanc: OrthancServer) -> None:
    add_node(orthanc.dimse_node("get", name="pacs"))
    controller = PacsController()
    seen: dict[str, list] = {"studies": [], "series": [], "progress": [], "done": [], "busy": []}
    controller.studies_found.connect(seen["studies"].append)
    controller.series_found.connect(lambda uid, found: seen["series"].append((uid, found)))
    controller.retrieve_progressed.connect(lambda d, t: seen["progress"].append((d, t)))
    controller.series_retrieved.connect(seen["done"].append)
    controller.busy_changed.connect(seen["busy"].append)
    try:
        assert controller.node_names() == ["pacs"]
        studies = controller.find_studies(
            "pacs", patient_id=CT_PATIENT_ID, date_from="2007-04-25"
        ).result(30)
        assert seen["studies"] == [studies]
        assert studies[0].study_instance_uid == CT_STUDY_UID
        controller.find_series("pacs", CT_STUDY_UID).result(30)
        folder = controller.retrieve("pacs", CT_SERIES_UID).result(60)
        assert seen["done"] == [str(folder)]
        assert seen["progress"][-1] == (30, 30)
        assert controller.open_series(folder).voxels.shape == (30, 512, 512)
        assert seen["busy"][0] is True
        assert seen["busy"][-1] is False
        assert not controller.busy
    finally:
        controller.shutdown()


def test_controller_reports_failures_and_cancel(orthanc: OrthancServer) -> None:
    add_node(orthanc.dicomweb_node(name="pacs"))
    controller = PacsController()
    failures: list[str] = []
    cancelled = threading.Event()
    controller.failed.connect(failures.append)
    controller.retrieve_cancelled.connect(cancelled.set)
    controller.retrieve_progressed.connect(lambda d, t: d >= 2 and controller.cancel())
    try:
        with pytest.raises(Exception, match="From must be a date"):
            controller.find_studies("pacs", date_from="yesterday").result(30)
        with pytest.raises(Exception, match="no PACS called 'other'"):
            controller.find_studies("other").result(30)
        with pytest.raises(Exception, match="cancelled"):
            controller.retrieve("pacs", CT_SERIES_UID).result(60)
        assert cancelled.is_set()
        assert failures[:2] == [
            "From must be a date like 2024-05-31, got 'yesterday'",
            "no PACS called 'other' (known: pacs); add it with 'caliper pacs add'",
        ]
        assert list(series_store_dir().iterdir()) == []
    finally:
        controller.shutdown()
