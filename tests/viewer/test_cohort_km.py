"""The Cohort window's endpoints tab: rates with exact CIs and the PFS / OS Kaplan–Meier curves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.cohort.controller import CohortController
from storage.db import Database, open_database
from tests.app.test_cohort_endpoint_summary import build_trial
from viewer.cohort.km import step_xy
from viewer.cohort.window import AT_RISK_MONTHS, CohortWidget
from viewer.style import apply_dark_theme

pytestmark = pytest.mark.qt


@pytest.fixture(scope="module")
def trial_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_trial(tmp_path_factory.mktemp("trial"))


@pytest.fixture
def widget(qtbot, trial_url: str) -> Iterator[CohortWidget]:  # noqa: ANN001
    db: Database = open_database(trial_url)
    apply_dark_theme(QApplication.instance())
    w = CohortWidget(CohortController(db))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    db.close()


def _row(table, row: int) -> list[str]:  # noqa: ANN001
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_endpoints_are_derived_when_their_tab_is_shown(widget: CohortWidget) -> None:
    assert widget.endpoints is None  # not before the window's first paint
    assert widget.rate_table.rowCount() == 0
    widget.tabs.setCurrentWidget(widget.endpoints_page)
    assert widget.endpoints == widget.controller.endpoint_summary(widget.trial)
    assert widget.rate_table.rowCount() == 3
    widget.refresh()  # shown tab: filled again at once
    assert widget.rate_table.rowCount() == 3
    assert widget.endpoints is not None


def test_km_curves_and_tables_equal_the_controller(widget: CohortWidget) -> None:
    summary = widget.controller.endpoint_summary(widget.trial)
    assert widget.trial == "CRLM-CONV"
    widget.tabs.setCurrentWidget(widget.endpoints_page)
    # rates: conversion, MPR (all), MPR (resected), with exact CIs
    assert widget.rate_table.rowCount() == len(summary.rates) == 3
    for row, rate in enumerate(summary.rates):
        cells = _row(widget.rate_table, row)
        assert cells[0].startswith(rate.label)
        assert cells[1:4] == [str(rate.k), str(rate.n), f"{100 * rate.rate:.1f} %"]
        assert cells[4] == f"{100 * rate.ci_low:.1f} – {100 * rate.ci_high:.1f} %"
    for row, param in enumerate(("PFS", "OS")):
        curve = summary.km[param]
        cells = _row(widget.km_table, row)
        median = "NR" if curve.median is None else f"{curve.median:.1f}"
        assert cells[:4] == [param, str(curve.n), str(curve.events), median]
        assert _row(widget.at_risk_table, row) == [
            param,
            *(str(curve.at_risk(m)) for m in AT_RISK_MONTHS),
        ]
        items = widget.km_items[param]
        xs, ys = items["line"].getData()
        want_x, want_y = step_xy(curve, [float(s.survival) for s in curve.steps])
        assert list(xs) == pytest.approx(want_x)
        assert list(ys) == pytest.approx(want_y)
        ticks = items["censored"].data
        assert len(ticks) == sum(s.censored for s in curve.steps) == curve.n - curve.events
        assert (items["median"] is None) == (curve.median is None)
    widget.tabs.setCurrentIndex(widget.tabs.count() - 1)
    assert widget.tabs.tabText(widget.tabs.currentIndex()) == "Endpoints (KM)"


def test_cohort_window_export_writes_endpoint_tables_and_km_plots(
    widget: CohortWidget, tmp_path: Path
) -> None:
    names = {p.name for p in widget.export_to(tmp_path, "png")}
    assert {
        "endpoint_rates.csv",
        "km_summary.csv",
        "km_pfs.csv",
        "km_os.csv",
        "endpoints.csv",
        "km_pfs.png",
        "km_os.png",
        "km_pfs_os.png",
    } <= names
    assert (tmp_path / "km_pfs_os.png").stat().st_size > 5000
