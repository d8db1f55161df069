"""PACS node settings: validation, the 0600 JSON file, no password in logs or repr."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from storage.dicom.pacs import (
    PacsNode,
    PacsSettingsError,
    add_node,
    get_node,
    load_nodes,
    remove_node,
)
from storage.dicom.pacs.errors import PacsError, PacsRetrieveIncomplete
from storage.dicom.pacs.store import SeriesStaging
from storage.paths import config_dir, series_store_dir


def _web(**changes: object) -> PacsNode:
    return PacsNode(
        **{
            "name": "web",
            "dicomweb_url": "https://pacs.example/dicom-web",
            "username": "reader1",
            "password": "s3cret!",
            **changes,
        }
    )


def test_nodes_round_trip_in_a_private_file() -> None:
    dimse = PacsNode(
        name="ris",
        host="127.0.0.1",
        port=104,
        called_aet="PACS",
        retrieve_method="move",
        scp_port=11112,
    )
    add_node(_web())
    add_node(dimse)
    assert load_nodes() == [_web(), dimse]
    assert get_node("ris").address == "PACS@127.0.0.1:104"
    path = config_dir() / "pacs.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["version"] == 1
    remove_node("web")
    assert [n.name for n in load_nodes()] == ["ris"]


def test_password_stays_out_of_repr_and_public_dict() -> None:
    node = _web()
    assert "s3cret" not in repr(node)
    public = node.public_dict()
    assert "password" not in public
    assert public["has_password"] is True
    assert "s3cret" not in json.dumps(public)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "bad name"}, "name must be"),
        ({"dicomweb_url": "ftp://x"}, "dicomweb_url must be an http"),
        ({"dicomweb_url": "https://u:p@pacs/dicom-web"}, "must not contain credentials"),
        ({"dicomweb_url": None, "host": "h", "port": 0, "called_aet": "A"}, "port must be"),
        ({"dicomweb_url": None, "host": "h", "port": 104, "called_aet": "X" * 17}, "called_aet"),
        (
            {
                "dicomweb_url": None,
                "host": "h",
                "port": 104,
                "called_aet": "A",
                "retrieve_method": "move",
            },
            "scp_port",
        ),
        ({"timeout_s": 0}, "timeout_s"),
    ],
)
def test_invalid_nodes_are_refused_with_a_clear_message(changes: dict, message: str) -> None:
    with pytest.raises(PacsSettingsError, match=message):
        _web(**changes)


def test_unknown_node_and_duplicates() -> None:
    add_node(_web())
    with pytest.raises(PacsSettingsError, match="exists already"):
        add_node(_web())
    with pytest.raises(PacsSettingsError, match="no PACS called 'other'"):
        get_node("other")


def test_corrupt_settings_file_gives_a_clear_error() -> None:
    (config_dir() / "pacs.json").write_text("{not json")
    with pytest.raises(PacsSettingsError, match="not a valid PACS settings file"):
        load_nodes()


def test_staging_is_all_or_nothing() -> None:
    store: Path = series_store_dir()
    with SeriesStaging("1.2.3") as staging:
        staging.write("1.2.3.1", b"x")
        with pytest.raises(PacsRetrieveIncomplete, match="received 1 of 2"):
            staging.commit(expected=2)
    assert list(store.iterdir()) == []
    with pytest.raises(PacsError, match="must be a DICOM UID"):
        SeriesStaging("../../etc")
    with SeriesStaging("1.2.3") as staging:
        staging.write("1.2.3.1", b"x")
        folder = staging.commit(expected=1)
    assert [p.name for p in store.iterdir()] == ["1.2.3"]
    assert (folder / "1.2.3.1.dcm").exists()
