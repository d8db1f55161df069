"""Query, retrieve and push against a real Orthanc (DICOMweb and DIMSE)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pydicom
import pytest

from storage.dicom.pacs import (
    StudyQuery,
    echo,
    find_series,
    find_studies,
    push,
    retrieve_series,
)
from storage.paths import series_store_dir
from tests.storage.pacs.orthanc_server import (
    CT_PATIENT_ID,
    CT_SERIES_UID,
    CT_STUDY_UID,
    OrthancServer,
)

pytestmark = pytest.mark.integration

PROTOCOLS = ["dicomweb", "get", "move"]
SR_FILE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "highdicom" / "sr_document.dcm"
)


def _node(orthanc: OrthancServer, protocol: str):  # noqa: ANN202
    return orthanc.dicomweb_node() if protocol == "dicomweb" else orthanc.dimse_node(protocol)


@pytest.mark.parametrize("protocol", ["dicomweb", "get"])
def test_echo(orthanc: OrthancServer, protocol: str) -> None:
    echo(_node(orthanc, protocol))


@pytest.mark.parametrize("protocol", ["dicomweb", "get"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (StudyQuery(patient_id=CT_PATIENT_ID), 1),
        (StudyQuery(patient_name="lung_dx"), 1),
        (StudyQuery(date_from=date(2007, 4, 25), date_to=date(2007, 4, 25), modality="CT"), 1),
        (StudyQuery(date_from=date(2007, 4, 26)), 0),
        (StudyQuery(patient_id=CT_PATIENT_ID, modality="MR"), 0),
    ],
)
def test_find_studies(
    orthanc: OrthancServer, protocol: str, query: StudyQuery, expected: int
) -> None:
    found = [
        s for s in find_studies(_node(orthanc, protocol), query) if s.patient_id == CT_PATIENT_ID
    ]
    assert len(found) == expected
    if expected:
        study = found[0]
        assert study.study_instance_uid == CT_STUDY_UID
        assert study.study_date == "2007-04-25"
        assert "CT" in study.modalities
        assert study.n_instances == 30


@pytest.mark.parametrize("protocol", ["dicomweb", "get"])
def test_find_series(orthanc: OrthancServer, protocol: str) -> None:
    (series,) = find_series(_node(orthanc, protocol), CT_STUDY_UID)
    assert series.series_instance_uid == CT_SERIES_UID
    assert (series.modality, series.n_instances, series.series_number) == ("CT", 30, 3)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retrieve_series_into_the_store_and_open_it(orthanc: OrthancServer, protocol: str) -> None:
    node = _node(orthanc, protocol)
    (series,) = find_series(node, CT_STUDY_UID)
    progress: list[tuple[int, int | None]] = []
    folder = retrieve_series(
        node, series, on_progress=lambda d, t: progress.append((d, t)), cancel=threading.Event()
    )
    assert folder == series_store_dir() / CT_SERIES_UID
    assert [p.name for p in series_store_dir().iterdir()] == [CT_SERIES_UID]
    files = sorted(folder.iterdir())
    assert len(files) == 30
    assert progress[-1] == (30, 30)
    assert len(progress) == 30
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    assert header.SeriesInstanceUID == CT_SERIES_UID
    from storage.dicom import load_series

    volume = load_series(folder)
    assert volume.voxels.shape == (30, 512, 512)
    assert volume.series_instance_uid == CT_SERIES_UID


def test_retrieve_by_uid_alone_replaces_an_earlier_copy(orthanc: OrthancServer) -> None:
    node = orthanc.dicomweb_node()
    first = retrieve_series(node, CT_SERIES_UID)
    second = retrieve_series(node, CT_SERIES_UID)
    assert first == second
    assert len(list(second.iterdir())) == 30
    assert [p.name for p in series_store_dir().iterdir()] == [CT_SERIES_UID]


@pytest.mark.parametrize("protocol", ["dicomweb", "get"])
def test_push_an_sr_report(orthanc: OrthancServer, protocol: str) -> None:
    sr = pydicom.dcmread(SR_FILE, stop_before_pixels=True)
    assert push(_node(orthanc, protocol), [SR_FILE]) == 1
    found = find_series(_node(orthanc, protocol), str(sr.StudyInstanceUID))
    assert [s.modality for s in found] == ["SR"]
    assert found[0].series_instance_uid == sr.SeriesInstanceUID
