"""Issue 12, the demo on real liver metastases, in the window: dates from the DICOM, the
simulated follow-up on screen at C3 with a computed partial response, and Help → About
showing the demo's licence and attribution."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QMessageBox

from app.demo import DEMO_FOLLOWUP_FOLDER
from app.main import DEMO_SUBJECT_ID, open_demo
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt


def test_demo_timepoints_are_dated_by_their_series_and_c3_is_the_simulated_one(
    qtbot, window: MainWindow
) -> None:
    open_demo(window.session, window.library)
    session = window.session
    assert session.patient.subject_id == DEMO_SUBJECT_ID
    baseline, c3 = session.timepoints()
    assert (baseline.label, baseline.scan_date) == ("baseline", date(1994, 4, 17))  # StudyDate
    assert (c3.label, c3.scan_date) == ("C3", date(1994, 6, 19))  # the simulated series' date
    assert baseline.series_instance_uid != c3.series_instance_uid
    qtbot.waitUntil(lambda: window.viewer.volume is not None, timeout=30000)
    shown = window.viewer.volume
    assert shown.series_instance_uid == c3.series_instance_uid
    assert "SIMULATED" in shown.series_description
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PR", timeout=10000)
    assert window.library.volume(c3.series_instance_uid) is not None
    assert DEMO_FOLLOWUP_FOLDER.is_dir()


def test_help_about_shows_the_demo_licence_and_attribution(qtbot, window: MainWindow) -> None:
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Help" in titles
    help_menu = window.menuBar().actions()[titles.index("Help")].menu()
    (about,) = [a for a in help_menu.actions() if a.text().startswith("About Caliper")]
    about.trigger()
    box = window.findChild(QMessageBox, "aboutBox")
    assert box is not None
    assert box.isVisible()
    text = box.text()
    for needle in (
        "CRLM-CT-1006",
        "Colorectal-Liver-Metastases",
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
        "https://doi.org/10.7937/QXK2-QG03",
        "Clark K",
        "SIMULATED",
    ):
        assert needle in text, needle
    box.close()


def test_n_reaches_the_demo_non_target_at_c3_on_its_baseline_position(
    qtbot, window: MainWindow
) -> None:
    """NT1 is recorded present at C3 without a caliper: N still goes to its image, the C3
    slice at the patient position it was drawn at baseline."""
    from app.demo import DEMO_LESIONS, slice_at

    open_demo(window.session, window.library)
    qtbot.waitUntil(lambda: window.viewer.volume is not None, timeout=30000)
    volume = window.viewer.volume
    nt1 = next(d for d in DEMO_LESIONS if d.code == "NT1")
    lesion = next(x for x in window.session.lesions() if x.code == "NT1")
    window.viewer.set_slice(0)
    assert window.navigation.jump_to(lesion.id)
    assert window.viewer.slice_index == slice_at(volume, nt1.z_mm)
    assert "cannot go" not in window.statusBar().currentMessage()


def test_window_level_is_linked_between_the_current_and_the_comparison_pane(
    qtbot, window: MainWindow
) -> None:
    open_demo(window.session, window.library)
    main, prior = window.viewer, window.prior.viewer
    qtbot.waitUntil(lambda: main.volume is not None and prior.volume is not None, timeout=30000)
    assert main.preset_name == "dicom"  # showing the comparison left the current pane's preset
    main.apply_preset("lung")
    assert (prior.window_center, prior.window_width) == (main.window_center, main.window_width)
    assert prior.preset_name == "lung"
    main.set_window(60.0, 300.0)  # a drag in the current pane
    assert (prior.window_center, prior.window_width) == (60.0, 300.0)
    prior.set_window(45.0, 180.0)  # a drag in the comparison pane
    assert (main.window_center, main.window_width) == (45.0, 180.0)
    assert main.preset_name == "custom"


def test_the_chosen_layout_and_comparison_are_remembered_for_the_next_start(
    qtbot, database, monkeypatch, tmp_path
) -> None:
    """The reader picks 2x2 and "previous"; the next window opens with them (window.ini)."""
    from app.main import SeriesLibrary, build_main_window
    from recist.model import Role

    monkeypatch.setenv("CALIPER_HOME", str(tmp_path / "home"))
    reader = database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")
    library = SeriesLibrary(tmp_path / "series_locations.json")

    def start() -> MainWindow:
        window = build_main_window(database, reader, library, remember_settings=True)
        qtbot.addWidget(window)
        return window

    first = start()
    assert first.view_actions.layout.layout_name == "1x1"
    first.view_actions.choose_layout("2x2")
    first.prior.set_compare_with("previous")
    first.close()
    second = start()
    assert second.view_actions.layout.layout_name == "2x2"
    assert second.view_actions.reader_chose_layout
    assert second.prior.compare_with == "previous"
