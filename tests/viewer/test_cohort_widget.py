"""The cohort view on a real SQLite database through the Qt-free controller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QDialog

from app.cohort.controller import CohortController
from storage.db import Database
from tests.app.test_cohort_controller import TRIALS, make_cohort_database
from viewer.cohort.plots import (
    SubjectAxis,
    draw_spider,
    draw_swimmer,
    draw_waterfall,
    make_plot,
    swimmer_order,
    waterfall_order,
)
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


def _items(plot, kind: type) -> list:  # noqa: ANN001
    return [i for i in plot.getPlotItem().items if type(i) is kind]


def test_plots_are_drawn_live_and_follow_the_trial(widget: CohortWidget) -> None:
    widget.select_trial("MEL-02")
    order = waterfall_order(widget.summary)
    assert len(order) == 3
    (bars,) = _items(widget.waterfall, pg.BarGraphItem)  # one item for every bar
    assert list(bars.opts["height"]) == [p.best_pct_change for p in order]
    assert list(bars.opts["height"]) == sorted(bars.opts["height"], reverse=True)
    assert [b.color() for b in bars.opts["brushes"]] == [
        response_colour(p.best_overall_response) for p in order
    ]
    guides = sorted(
        i.value() for i in widget.waterfall.getPlotItem().items if isinstance(i, pg.InfiniteLine)
    )
    assert guides == [-30.0, 0.0, 20.0]
    curves = _items(widget.spider, pg.PlotCurveItem)
    with_spider = [p for p in widget.summary.patients if p.spider]
    assert len(curves) == len({p.best_overall_response for p in with_spider})
    assert sum(len(c.xData) for c in curves) == sum(len(p.spider) for p in with_spider)
    # one line per patient: the curve breaks (connect False) once per patient
    assert sum(int((~c.opts["connect"]).sum()) for c in curves) == len(with_spider)
    for curve in curves:
        breaks = list(curve.opts["connect"])
        assert breaks[-1] is False or not breaks[-1]
    lanes, markers = draw_swimmer(widget.swimmer, widget.summary)
    assert _items(widget.swimmer, pg.BarGraphItem) == [lanes]
    swim = swimmer_order(widget.summary)
    assert list(lanes.opts["width"]) == [max(p.last_day, 1) for p in swim]
    assert list(lanes.opts["y"]) == list(range(len(swim)))
    assert len(markers.data) == sum(
        1
        for p in swim
        for _, r in p.responses
        if r in ("CR", "PR", "PD", "iCR", "iPR", "iCPD", "iUPD")
    )
    assert widget.swimmer.getAxis("left").names == [p.subject_id for p in swim]


def _fake_summary(n: int) -> SimpleNamespace:
    codes = ["PD", "SD", "PR", "CR"]
    patients = [
        SimpleNamespace(
            subject_id=f"S-{i:04d}",
            best_overall_response=codes[i % 4],
            best_pct_change=float(40 - i % 140),
            spider=((0, 0.0), (42, -10.0), (84, float(-(i % 50)))),
            responses=((42, "SD"), (84, codes[i % 4])),
            last_day=84 + i % 200,
        )
        for i in range(n)
    ]
    return SimpleNamespace(patients=patients)


def test_the_number_of_plot_items_does_not_grow_with_the_cohort(qtbot) -> None:  # noqa: ANN001
    """Batched plots: 1,000 patients need as many graphics items as 4 (one per patient before)."""
    counts = []
    for n in (4, 1000):  # every best response in both
        summary = _fake_summary(n)
        plots = [
            make_plot("w", "", "", "", subject_axis="bottom"),
            make_plot("s", "", "", ""),
            make_plot("l", "", "", "", subject_axis="left"),
        ]
        for plot in plots:
            qtbot.addWidget(plot)
        bars = draw_waterfall(plots[0], summary)
        draw_spider(plots[1], summary)
        lanes, markers = draw_swimmer(plots[2], summary)
        assert len(bars.opts["height"]) == n
        assert len(lanes.opts["width"]) == n
        assert len(markers.data) == sum(
            1 for p in summary.patients for _, r in p.responses if r in ("PD", "PR", "CR")
        )
        counts.append([len(p.getPlotItem().items) for p in plots])
    assert counts[0] == counts[1]


def test_waterfall_axis_has_no_si_prefix_and_says_what_it_counts(qtbot) -> None:  # noqa: ANN001
    plot = make_plot("w", "", "patients", "best change (%)", subject_axis="bottom")
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    draw_waterfall(plot, _fake_summary(1000))
    qtbot.waitExposed(plot)
    plot.grab()
    label = plot.getAxis("bottom").labelString()
    assert "x0.001" not in label
    assert "(x" not in label
    assert "patients (n = 1000)" in label
    assert "(x" not in plot.getAxis("left").labelString()


def test_subject_labels_are_all_shown_for_few_patients_and_spaced_for_many(
    qtbot,  # noqa: ANN001
) -> None:
    axis = SubjectAxis("left")
    axis.set_names([f"S-{i:04d}" for i in range(1000)])
    ((_, few),) = axis.tickValues(-0.8, 9.2, 400)  # ten lanes in 400 px: every one
    assert few == [float(i) for i in range(10)]
    ((step, many),) = axis.tickValues(-0.8, 999.2, 600)  # 1,000 lanes in 600 px
    assert step > 1
    assert len(many) >= 10
    assert 600 / 1000 * step >= 15  # at least a text line apart: no overlap
    assert axis.tickStrings(many[:2], 1, step) == [f"S-{int(many[0]):04d}", f"S-{int(many[1]):04d}"]


def test_hover_names_the_patient(widget: CohortWidget) -> None:
    widget.select_trial("MEL-02")
    tips = [
        d
        for i in _items(widget.waterfall, pg.ScatterPlotItem)
        if i.opts["hoverable"]
        for d in i.data["data"]
    ]
    assert sorted(t.split(":")[0] for t in tips) == sorted(TRIALS["MEL-02"])
    lane_tips = [d for i in _items(widget.swimmer, pg.ScatterPlotItem) for d in i.data["data"] if d]
    assert any("days on study" in t and t.startswith("I02") for t in lane_tips)


def _legend_texts(plot) -> list[str]:  # noqa: ANN001
    return [label.text for _, label in plot.getPlotItem().legend.items]


def test_plots_have_legends_of_responses_and_events(widget: CohortWidget) -> None:
    bors = {p.best_overall_response for p in widget.summary.patients}
    assert {f"BOR {b}" for b in bors} == set(_legend_texts(widget.waterfall))
    assert {f"BOR {b}" for b in bors} == set(_legend_texts(widget.spider))
    swimmer = _legend_texts(widget.swimmer)
    assert {f"BOR {b}" for b in bors} <= set(swimmer)
    assert {"CR", "PR", "PD"} <= set(swimmer)  # the event markers


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


def test_export_button_confirms_naming_the_files(
    widget: CohortWidget,
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    from PySide6.QtWidgets import QFileDialog

    folder = tmp_path / "exported"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    widget.select_trial("CRLM-01")
    assert widget.confirmation is None
    widget.export_button.click()
    box = widget.confirmation
    assert box is not None
    assert box.isVisible()
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) >= 9
    assert box.text() == f"Wrote {len(written)} files (CRLM-01) to {folder}"
    assert sorted(box.informativeText().split("\n")) == written
    box.close()


def _truncated_database(tmp_path: Path, labels: tuple[str, ...]) -> Database:
    """Two CRLM-01 patients: the baseline and the follow-ups of R01/R03 relabelled ``labels``."""
    from dataclasses import replace

    import recist
    from recist.model import Role
    from storage.db import open_database
    from tests.storage.exchange.factories import case

    db = open_database(f"sqlite:///{tmp_path / 'short.db'}")
    system = db.readers.ensure_system()
    store = db.store(
        db.readers.create("jdoe", "Jane Doe", Role.INVESTIGATOR, "pass word 1234", by=system)
    )
    for prefix in ("R01", "R03"):
        data = {k: v for k, v in case(prefix).items() if k != "expected"}
        data["timepoints"] = data["timepoints"][: len(labels) + 1]
        for timepoint, label in zip(data["timepoints"][1:], labels, strict=True):
            timepoint["label"] = label
        patient, tps, lesions, ms = recist.case_to_records(
            replace(recist.case_from_dict(data), id=prefix)
        )
        store.import_records(replace(patient, trial="CRLM-01"), tps, lesions, ms)
    return db


def test_no_c6_row_or_column_without_a_c6_timepoint(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    db = _truncated_database(tmp_path, ("C3",))
    try:
        w = CohortWidget(CohortController(db))
        qtbot.addWidget(w)
        assert _column(w.orr_table, 0) == ["C3"]
        headers = [
            w.bor_table.horizontalHeaderItem(c).text() for c in range(w.bor_table.columnCount())
        ]
        assert headers[-1] == "BOR at C3"
        assert "BOR at C6" not in headers
        # up to C3 is the whole timeline: BOR at C3 is the BOR
        assert _column(w.bor_table, 4) == _column(w.bor_table, 1) == ["PR", "SD"]
    finally:
        db.close()


def test_without_cycle_timepoints_the_orr_is_over_all_timepoints(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    db = _truncated_database(tmp_path, ("week 8", "week 16"))
    try:
        w = CohortWidget(CohortController(db))
        qtbot.addWidget(w)
        assert _column(w.orr_table, 0) == ["All timepoints"]
        assert w.bor_table.columnCount() == 4
    finally:
        db.close()


def test_trial_filter_lists_the_database_trials_and_filters_every_view(
    widget: CohortWidget,
) -> None:
    combo = widget.trial_combo
    assert combo.itemText(0) == "All trials"
    assert [combo.itemText(i) for i in range(1, combo.count())] == widget.controller.trials()
    combo.setCurrentIndex(combo.findText("MEL-02"))
    assert widget.trial == "MEL-02"
    assert sorted(_column(widget.bor_table, 0)) == sorted(TRIALS["MEL-02"])
    assert sorted(widget.swimmer.getAxis("left").names) == sorted(TRIALS["MEL-02"])
    combo.setCurrentIndex(0)
    assert widget.trial is None
    assert len(widget.swimmer.getAxis("left").names) == 11


def test_an_empty_cohort_draws_empty_plots(qtbot) -> None:  # noqa: ANN001
    empty = SimpleNamespace(patients=[])
    plots = [
        make_plot(n, "", "", "", subject_axis=a)
        for n, a in (("w", "bottom"), ("s", None), ("l", "left"))
    ]
    for plot in plots:
        qtbot.addWidget(plot)
    assert len(draw_waterfall(plots[0], empty).opts["height"]) == 0
    assert draw_spider(plots[1], empty) == []
    lanes, markers = draw_swimmer(plots[2], empty)
    assert len(lanes.opts["width"]) == 0
    assert len(markers.data) == 0
