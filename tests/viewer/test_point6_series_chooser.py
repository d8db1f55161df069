"""Issue 11 point 6: a source with several series asks which one; loader warnings are shown.

``enhanced-mr`` holds two series (Philips "B0 NS", 64 frames; Siemens "REST1 w
SMS PF7-8", 24 frames): opening it must show the series chooser, not open the
larger one silently.  ``ct-head-tilt-ge`` has gantry tilt and uneven spacing:
the window must say so in a banner above the image.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.main import DEMO_FOLDER, SeriesLibrary, build_main_window
from recist.model import Role
from storage.db import open_database
from viewer.dialogs.series_chooser import SeriesChooserDialog

pytestmark = pytest.mark.qt

SIEMENS = "1.3.12.2.1107.5.2.50.175689.2018102208361828588232823.0.0.0"


@pytest.fixture
def window(qtbot, tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    reader = db.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")
    win = build_main_window(db, reader, SeriesLibrary(tmp_path / "series_locations.json"))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    db.close()


def _choosers(window) -> list[SeriesChooserDialog]:
    return [d for d in window.findChildren(SeriesChooserDialog) if d.isVisible()]


def test_point6_chooser_lists_every_series_of_a_folder_with_two(qtbot, window, shared_data) -> None:
    window.open_folder(str(shared_data / "enhanced-mr"))
    qtbot.waitUntil(lambda: bool(_choosers(window)), timeout=60000)
    assert window.viewer.volume is None  # nothing opened behind the reader's back
    (dialog,) = _choosers(window)
    rows = [dialog.list.item(i) for i in range(dialog.list.count())]
    texts = [item.text() for item in rows]
    assert len(texts) == 2
    assert any("B0 NS" in t and "MR" in t and "64 images" in t for t in texts)
    assert any("REST1 w SMS PF7-8" in t and "MR" in t and "24 images" in t for t in texts)
    assert all(not item.icon().isNull() for item in rows)  # a thumbnail of the middle image

    dialog.choose(SIEMENS)
    dialog.accept()
    qtbot.waitUntil(lambda: window.viewer.volume is not None, timeout=60000)
    assert window.viewer.volume.series_instance_uid == SIEMENS
    assert not _choosers(window)


def test_point6_chooser_also_for_a_zip_archive(qtbot, window, shared_data, tmp_path) -> None:
    import zipfile

    archive = tmp_path / "two-series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((shared_data / "enhanced-mr").rglob("*.dcm")):
            zf.write(path, path.relative_to(shared_data).as_posix())
    window.open_folder(str(archive))
    qtbot.waitUntil(lambda: bool(_choosers(window)), timeout=60000)
    (dialog,) = _choosers(window)
    assert dialog.list.count() == 2
    dialog.reject()
    assert window.viewer.volume is None  # cancelled: nothing opened


def test_point6_a_single_series_opens_without_asking(qtbot, window) -> None:
    window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(lambda: window.viewer.volume is not None, timeout=60000)
    assert not _choosers(window)
    assert window.load_banner.isHidden()  # no warnings, no banner


def test_point6_loader_warnings_show_in_a_banner_above_the_image(
    qtbot, window, shared_data
) -> None:
    window.open_folder(str(shared_data / "ct-head-tilt-ge"))
    qtbot.waitUntil(lambda: window.viewer.volume is not None, timeout=60000)
    banner = window.load_banner
    assert banner.isVisible()
    text = banner.text
    assert window.viewer.volume.series_instance_uid in text  # names the series
    assert "gantry tilt of 18.5 degrees" in text
    assert "uneven slice spacing" in text
    assert (
        banner.geometry().bottom()
        < window.viewer.mapTo(banner.parentWidget(), window.viewer.rect().topLeft()).y() + 1
    )
    qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert banner.isHidden()
