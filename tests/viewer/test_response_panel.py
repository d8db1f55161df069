"""The response panel marks timepoints after the first progression (issue 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

import recist
from viewer.response.panel import HEADERS, OVERALL_COLUMN, ResponsePanelWidget
from viewer.style import response_colour

pytestmark = pytest.mark.qt
START = date(2026, 1, 5)


@dataclass
class _Timepoint:
    id: int
    label: str
    scan_date: date
    is_baseline: bool


class _Session:
    """The attributes the panel reads from a ReadingSession (no signals: it refreshes once)."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.patient = object()
        self.assessment = recist.evaluate(recist.case_from_dict(case))
        self._timepoints = [
            _Timepoint(k + 1, tp["label"], date.fromisoformat(tp["date"]), k == 0)
            for k, tp in enumerate(case["timepoints"])
        ]
        self.current_timepoint = self._timepoints[-1]

    def timepoints(self) -> list[_Timepoint]:
        return self._timepoints

    def is_locked(self, timepoint_id: int) -> bool:
        return False


def _case() -> dict[str, Any]:
    """CR at C3, T1 back at 5 mm at C6 (PD), then a sum that alone would be PR (C9)."""
    sizes = {"BL": 20, "C3": 0, "C6": 5, "C9": 2.5}
    return {
        "id": "PP",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "min_sd_days": 42,
        "timepoints": [
            {
                "label": label,
                "date": (START + timedelta(days=63 * k)).isoformat(),
                "targets": [{"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": mm}],
                "non_targets": [],
                "new_lesions": [],
            }
            for k, (label, mm) in enumerate(sizes.items())
        ],
    }


def test_post_progression_timepoint_is_labelled_and_muted(qtbot) -> None:  # noqa: ANN001
    panel = ResponsePanelWidget(_Session(_case()))
    qtbot.addWidget(panel)
    table = panel.table
    texts = [table.item(row, OVERALL_COLUMN).text() for row in range(table.rowCount())]
    assert texts == ["", "CR", "PD", "PD (post-progression)"]
    assert panel.overall("C9") == "PD"  # the code, for callers
    assert panel.overall("C6") == "PD"
    c9 = table.item(3, OVERALL_COLUMN)
    assert "not used for the best overall response" in c9.toolTip()
    assert c9.foreground().color() == response_colour(None)
    assert table.item(2, OVERALL_COLUMN).foreground().color() == response_colour("PD")
    reason = table.item(3, len(HEADERS) - 1).text()
    assert reason.startswith("PD (after progression at C6; not used for BOR)")
    assert "post-progression" not in table.item(2, OVERALL_COLUMN).text()
    assert c9.data(Qt.ItemDataRole.UserRole) == "PD"


def _spider_points(spider: Any) -> list[tuple[float, float]]:
    import pyqtgraph as pg

    scatter = [i for i in spider.plot.getPlotItem().items if isinstance(i, pg.ScatterPlotItem)]
    return [(float(p.pos().x()), float(p.pos().y())) for s in scatter for p in s.points()]


def test_the_spider_plot_is_built_after_the_first_paint_with_the_points_set_before(
    qtbot,  # noqa: ANN001
) -> None:
    """Issue 17: the PlotWidget is not built with the panel, but right after it is painted."""
    panel = ResponsePanelWidget(_Session(_case()))
    qtbot.addWidget(panel)
    spider = panel.spider
    assert spider._plot is None  # the window shows without it
    assert [label for label, _pct in spider.points] == ["BL", "C3", "C6", "C9"]
    panel.show()
    qtbot.waitUntil(lambda: spider._plot is not None, timeout=5000)
    assert spider.plot.isVisible()
    assert _spider_points(spider) == [(0.0, 0.0), (1.0, -100.0), (2.0, -75.0), (3.0, -87.5)]


def test_reading_the_spider_plot_builds_it_at_once(qtbot) -> None:  # noqa: ANN001
    panel = ResponsePanelWidget(_Session(_case()))
    qtbot.addWidget(panel)
    assert _spider_points(panel.spider)[1] == (1.0, -100.0)
    panel.spider.set_points(["BL"], [0.0], [None])
    assert _spider_points(panel.spider) == [(0.0, 0.0)]
