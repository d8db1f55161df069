"""The exported cohort plots of a large cohort (issue 17 and 12): readable, batched, fast to draw.

Labels: no SI prefix on an axis ("patients (x0.001)"), at most a readable number of subject
ids; items: a fixed number whatever the cohort's size.
"""

from __future__ import annotations

from types import SimpleNamespace

import pyqtgraph as pg

from app.reports.plots import MAX_LABELS, spider_plot, swimmer_plot, waterfall_plot


def _summary(n: int) -> SimpleNamespace:
    codes = ["PD", "SD", "PR", "CR"]
    return SimpleNamespace(
        patients=[
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
    )


def _ticks(widget: pg.PlotWidget, axis: str) -> list[str]:
    return [text for _, text in widget.getAxis(axis)._tickLevels[0]]


def test_few_patients_are_all_named_many_are_named_every_nth() -> None:
    few = waterfall_plot(_summary(12))
    assert _ticks(few, "bottom") == [
        f"S-{i:04d}" for i in sorted(range(12), key=lambda i: -(40 - i % 140))
    ]
    many = waterfall_plot(_summary(1000))
    ticks = _ticks(many, "bottom")
    assert 20 <= len(ticks) <= MAX_LABELS["bottom"]
    swimmer = _ticks(swimmer_plot(_summary(1000)), "left")
    assert 20 <= len(swimmer) <= MAX_LABELS["left"]


def test_axes_have_no_si_prefix_and_say_what_they_count() -> None:
    widget = waterfall_plot(_summary(1000))
    widget.show()
    pg.QtWidgets.QApplication.processEvents()
    label = widget.getAxis("bottom").labelString()
    assert "patients (n = 1000)" in label
    assert "(x" not in label
    widget.close()


def test_items_do_not_grow_with_the_cohort() -> None:
    counts = []
    for n in (8, 1000):
        counts.append(
            [
                len(build(_summary(n)).getPlotItem().items)
                for build in (waterfall_plot, spider_plot, swimmer_plot)
            ]
        )
    assert counts[0] == counts[1]
