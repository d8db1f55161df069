"""The "Find on PACS" dialog driven against a real Orthanc."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.pacs.controller import PacsController
from storage.dicom.pacs import add_node
from storage.paths import series_store_dir
from tests.storage.pacs.orthanc_server import (
    CT_PATIENT_ID,
    CT_SERIES_UID,
    OrthancServer,
    start_orthanc,
    stop_orthanc,
)
from viewer.dialogs.pacs import FindOnPacsDialog

pytestmark = [pytest.mark.integration, pytest.mark.qt]
SCREENSHOT = Path("/tmp/pacs_dialog.png")


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[OrthancServer]:
    """A real Orthanc holding ct-chest-30 (scripts/orthanc.sh)."""
    workdir = tmp_path_factory.mktemp("orthanc-dialog")
    server = start_orthanc(workdir, shared_data / "ct-chest-30")
    try:
        yield server
    finally:
        stop_orthanc(workdir)


@pytest.fixture
def dialog(qtbot, orthanc: OrthancServer) -> Iterator[FindOnPacsDialog]:  # noqa: ANN001
    add_node(orthanc.dicomweb_node(name="orthanc-web"))
    add_node(orthanc.dimse_node("get", name="orthanc-dimse"))
    controller = PacsController()
    widget = FindOnPacsDialog(controller)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.close()
    controller.shutdown()


def _search(qtbot, dialog: FindOnPacsDialog, node: str) -> None:  # noqa: ANN001
    dialog.pacs_combo.setCurrentText(node)
    dialog.patient_id_edit.setText(CT_PATIENT_ID)
    dialog.modality_combo.setCurrentText("CT")
    dialog.search_button.click()
    # a real C-FIND / QIDO-RS against Orthanc: 15 s ran out once on a loaded 2-core machine
    qtbot.waitUntil(lambda: dialog.series_table.rowCount() == 1, timeout=60000)
    qtbot.waitUntil(dialog.retrieve_button.isEnabled, timeout=5000)


@pytest.mark.parametrize("node", ["orthanc-web", "orthanc-dimse"])
def test_find_and_retrieve_a_series(qtbot, dialog: FindOnPacsDialog, node: str) -> None:  # noqa: ANN001
    assert [dialog.pacs_combo.itemText(i) for i in range(dialog.pacs_combo.count())] == [
        "orthanc-web",
        "orthanc-dimse",
    ]
    _search(qtbot, dialog, node)
    assert dialog.studies_table.rowCount() == 1
    assert dialog.studies_table.item(0, 0).text() == CT_PATIENT_ID
    assert dialog.series_table.item(0, 3).text() == "30"
    assert dialog.selected_series_uid() == CT_SERIES_UID

    with qtbot.waitSignal(dialog.series_retrieved, timeout=30000) as blocker:
        dialog.retrieve_button.click()
    path = Path(blocker.args[0])
    assert path == series_store_dir() / CT_SERIES_UID
    assert len(list(path.iterdir())) == 30
    assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (30, 30)
    assert "Retrieved into" in dialog.status_label.text()
    qtbot.waitUntil(dialog.search_button.isEnabled, timeout=5000)
    volume = PacsController.open_series(path)
    assert volume.voxels.shape == (30, 512, 512)
    if node == "orthanc-web":
        dialog.grab().save(str(SCREENSHOT))


def test_cancel_button_leaves_nothing(
    qtbot, dialog: FindOnPacsDialog, orthanc: OrthancServer
) -> None:  # noqa: ANN001
    _search(qtbot, dialog, "orthanc-dimse")
    controller = dialog._controller
    paused: list[int] = []
    release = threading.Event()

    def pause_after_three(done: int, total: int) -> None:  # the retrieving thread
        if done == 3 and not paused:
            paused.append(done)
            orthanc.pause()
            # hold the retrieve here until Cancel is pressed: pausing Orthanc alone let the
            # images already on their way finish the series first, once in a fresh-clone run
            # (the Cancel button was disabled by then)
            release.wait(30)

    controller.retrieve_progressed.connect(pause_after_three)
    try:
        dialog.retrieve_button.click()
        qtbot.waitUntil(lambda: dialog.progress_bar.value() >= 3, timeout=15000)
        assert dialog.cancel_button.isEnabled()
        dialog.cancel_button.click()
    finally:
        release.set()
        orthanc.resume()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status_label.text(), timeout=15000)
    assert list(series_store_dir().iterdir()) == []


def test_unreachable_pacs_shows_a_clear_message(qtbot, dialog: FindOnPacsDialog) -> None:  # noqa: ANN001
    add_node(dialog_node := _down_node())
    dialog.pacs_combo.addItem(dialog_node.name)
    dialog.pacs_combo.setCurrentText(dialog_node.name)
    dialog.search_button.click()
    qtbot.waitUntil(lambda: "connection refused" in dialog.status_label.text(), timeout=15000)
    assert dialog.studies_table.rowCount() == 0
    assert dialog.search_button.isEnabled()


def _down_node():  # noqa: ANN202
    import socket

    from storage.dicom.pacs import PacsNode

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return PacsNode(name="down", host="127.0.0.1", port=port, called_aet="ORTHANC", timeout_s=2)


def test_main_window_opens_and_attaches_the_retrieved_series(
    qtbot, orthanc: OrthancServer, tmp_path: Path
) -> None:  # noqa: ANN001
    from app.main import SeriesLibrary, build_main_window
    from recist.model import Role
    from storage.db import open_database

    add_node(orthanc.dicomweb_node(name="orthanc-web"))
    controller = PacsController()
    database = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    try:
        reader = database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")
        window = build_main_window(
            database, reader, SeriesLibrary(tmp_path / "series.json"), pacs_controller=controller
        )
        qtbot.addWidget(window)
        window.show()
        window.add_patient(CT_PATIENT_ID)
        window.session.add_timepoint("baseline", None)
        assert window.find_on_pacs_action.isEnabled()
        window.find_on_pacs_action.trigger()
        (dialog,) = [d for d in window.findChildren(FindOnPacsDialog) if d.isVisible()]
        _search(qtbot, dialog, "orthanc-web")
        dialog.retrieve_button.click()
        qtbot.waitUntil(
            lambda: window.viewer.volume is not None and not window.progress.isVisible(),
            timeout=60000,
        )
        assert window.viewer.volume.series_instance_uid == CT_SERIES_UID
        assert window.session.current_timepoint.series_instance_uid == CT_SERIES_UID
        dialog.reject()
    finally:
        controller.shutdown()
        database.close()
