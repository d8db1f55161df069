"""The cohort view on a real SQLite database through the Qt-free controller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QDialog

from app.cohort.controller import CohortController
from storage.db import Database
from tests.app.test_cohort_controller import TRIALS, make_cohort_database
from viewer.cohort.plots import swimmer_order, waterfall_order
from viewer.cohort.window import ALL_PATIENTS, CohortWidget
from viewer.style import apply_dark_theme, response_colour

pytestmark = pytest.mark.qt
SCREENSHOT = Path("/tmp/cohort_widget.png")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = make_cohort_database(tmp_path)
    yield db
    db.close()


@pytest.fixture
def widget(qtbot, database: Database) -> CohortWidget:  # noqa: ANN001
    apply_dark_theme(QApplication.instance())
    w = CohortWidget(CohortController(database))
    qtbot.addWidget(w)
    w.resize(1280, 760)
    w.show()
    return w


def _column(table, column: int) -> list[str]:  # noqa: ANN001
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_selector_lists_all_patients_and_each_trial(widget: CohortWidget) -> None:
    combo = widget.trial_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [ALL_PATIENTS, "CRLM-01", "MEL-02"]
    assert widget.trial is None
    assert len(widget.summary.patients) == 11
    assert widget.caption.text() == f"{ALL_PATIENTS}: 11 patients"


def test_orr_table_shows_n_k_percent_and_exact_ci(widget: CohortWidget) -> None:
    widget.select_trial("CRLM-01")
    table = widget.orr_table
    assert [[table.item(r, c).text() for c in range(5)] for r in range(2)] == [
        ["C3", "2", "8", "25.0 %", "3.2 – 65.1 %"],
        ["C6", "3", "8", "37.5 %", "8.5 – 75.5 %"],
    ]
    assert widget.caption.text() == "CRLM-01: 8 patients"


def test_bor_table_rows(widget: CohortWidget) -> None:
    widget.select_trial("CRLM-01")
    table = widget.bor_table
    assert _column(table, 0) == TRIALS["CRLM-01"]
    rows = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in range(6)]
        for r in range(table.rowCount())
    }
    assert rows["R11"] == ["R11", "CR", "yes", "—", "SD", "CR"]
    assert rows["R01"] == ["R01", "PR", "not required", "—", "PR", "PR"]
    assert rows["R09"] == ["R09", "PD", "—", "2026-03-09 (day 63)", "PD", "PD"]
    assert rows["R45"][3] == "2026-05-11 (day 126)"
    r11 = _column(table, 0).index("R11")
    assert table.item(r11, 1).foreground().color() == response_colour("CR")
    assert "PD</b></span> 2 (25 %)" in widget.bor_counts.text()


def test_plots_are_drawn_live_and_follow_the_trial(widget: CohortWidget) -> None:
    widget.select_trial("MEL-02")
    bars = [i for i in widget.waterfall.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == len(waterfall_order(widget.summary)) == 3
    changes = [b.opts["height"][0] for b in bars]
    assert changes == sorted(changes, reverse=True)
    guides = sorted(
        i.value() for i in widget.waterfall.getPlotItem().items if isinstance(i, pg.InfiniteLine)
    )
    assert guides == [-30.0, 0.0, 20.0]
    lines = [i for i in widget.spider.getPlotItem().items if isinstance(i, pg.PlotDataItem)]
    assert len(lines) == 3
    lanes = [i for i in widget.swimmer.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(lanes) == 3
    ticks = widget.swimmer.getAxis("left")._tickLevels[0]
    assert [t for _, t in ticks] == [p.subject_id for p in swimmer_order(widget.summary)]


def test_export_writes_the_selected_trial(widget: CohortWidget, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    widget.select_trial("CRLM-01")
    widget.format_combo.setCurrentText("SVG")
    with qtbot.waitSignal(widget.exported) as signal:
        files = widget.export_to(tmp_path / "out")
    assert signal.args == [files]
    assert {f.name for f in files} >= {"waterfall.svg", "spider.svg", "swimmer.svg", "orr.csv"}
    assert "C3,2,8,25.0" in (tmp_path / "out" / "orr.csv").read_text()
    png = widget.export_to(tmp_path / "png", "png")
    assert (tmp_path / "png" / "swimmer.png").read_bytes().startswith(b"\x89PNG")
    assert (
        len(png) == 9
    )  # 3 tables + 3 plots, and the endpoint tables (no survival data: no KM plot)


def test_refresh_picks_up_a_new_trial(widget: CohortWidget, database: Database) -> None:
    from dataclasses import replace

    import recist
    from tests.storage.exchange.factories import case

    data = {k: v for k, v in case("R19").items() if k != "expected"}
    patient, tps, lesions, ms = recist.case_to_records(
        replace(recist.case_from_dict(data), id="R19")
    )
    database.store(database.readers.get("jdoe")).import_records(
        replace(patient, trial="NEW-03"), tps, lesions, ms
    )
    widget.select_trial("CRLM-01")
    widget.refresh()
    assert widget.trial == "CRLM-01"  # the selection survives a refresh
    widget.select_trial("NEW-03")
    assert _column(widget.bor_table, 0) == ["R19"]
    assert widget.orr_table.item(0, 3).text() == "100.0 %"


def test_unknown_trial_is_refused(widget: CohortWidget) -> None:
    with pytest.raises(ValueError, match="no trial 'NOPE'"):
        widget.select_trial("NOPE")


def test_opens_in_a_dialog_and_renders(qtbot, database: Database) -> None:  # noqa: ANN001
    apply_dark_theme(QApplication.instance())
    dialog = CohortWidget.open_dialog(CohortController(database))
    qtbot.addWidget(dialog)
    assert isinstance(dialog, QDialog)
    inner = dialog.findChild(CohortWidget)
    inner.select_trial("CRLM-01")
    qtbot.waitExposed(dialog)
    assert inner.grab().save(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
