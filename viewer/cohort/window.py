"""The cohort view of a trial: ORR at C3/C6 with exact CIs, BOR table, waterfall/spider/swimmer,
and the trial's endpoints: conversion and MPR rates with exact CIs, PFS and OS Kaplan–Meier.

The widget receives the Qt-free ``app.cohort.controller.CohortController``
(duck-typed: the viewer never imports ``app`` modules that reach the database)
and only calls it: ``trials()``, ``reload()``, ``summary(trial)``,
``bor_table(trial)``, ``endpoint_summary(trial)`` and ``export(folder, fmt, trial)``.
The plots on screen are drawn live with pyqtgraph (:mod:`viewer.cohort.plots`); the exported files
come from the controller (pyqtgraph's PNG/SVG exporters in ``app.reports``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from viewer.cohort.km import KM_COLOURS, draw_km, months_text
from viewer.cohort.plots import draw_spider, draw_swimmer, draw_waterfall, make_plot
from viewer.errors import shows_errors
from viewer.style import response_colour

#: Label of the selector entry that shows every patient.
ALL_PATIENTS = "All trials"
ORR_COLUMNS = ("Cutoff", "Responders (k)", "Patients (n)", "ORR", "Exact 95 % CI")
#: The BOR table's columns; a "BOR at C<n>" column follows for each cutoff found in the cohort.
BOR_COLUMNS = ("Patient", "BOR", "Confirmed", "Progression (PFS)")
RATE_COLUMNS = ("Endpoint", "Patients with (k)", "Patients (n)", "Rate", "Exact 95 % CI")
KM_COLUMNS = ("Curve", "Patients", "Events", "Median (months)", "95 % CI (months)")
#: Months at which the number at risk is shown (those of the export's km_summary.csv).
AT_RISK_MONTHS = (0, 3, 6, 9, 12, 15, 18)
MUTED = QColor("#8b949e")


def _item(
    text: str, *, align_right: bool = False, colour: QColor | None = None
) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if colour is not None:
        item.setForeground(colour)
    return item


def _response_item(response: str | None) -> QTableWidgetItem:
    item = _item(response or "—", colour=response_colour(response) if response else MUTED)
    font = QFont(item.font())
    font.setBold(response is not None)
    item.setFont(font)
    return item


def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def confirmed_text(row: Any) -> str:
    """``yes``/``no`` for a CR/PR under confirmation, else ``not required``; ``—`` for no CR/PR."""
    if (row.best_overall_response or "") not in ("CR", "PR", "iCR", "iPR"):
        return "—"
    if not row.confirmation_required:
        return "not required"
    return "yes" if row.confirmed else "no"


def progression_text(row: Any) -> str:
    """``2026-05-11 (day 126)``, or ``—`` without progression."""
    if row.progression_date is None:
        return "—"
    day = f" (day {row.progression_day})" if row.progression_day is not None else ""
    return f"{row.progression_date.isoformat()}{day}"


class CohortWidget(QWidget):
    """A trial's response summary with live plots and an export button.

    Parameters
    ----------
    controller
        ``app.cohort.controller.CohortController`` (or anything with its methods).
    parent : QWidget, optional
        Parent widget.
    """

    #: Emitted after an export with the files written.
    exported = Signal(list)

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cohortWidget")
        self.controller = controller
        self.summary: Any = None
        self.confirmation: QMessageBox | None = None
        self.rows: list[Any] = []

        self.trial_combo = QComboBox()
        self.trial_combo.setObjectName("trialCombo")
        self.trial_combo.setMinimumWidth(180)
        self.refresh_button = QPushButton("Refresh")
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("formatCombo")
        self.format_combo.addItems(["PNG", "SVG"])
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip("Write the tables (CSV) and the three plots into a folder")
        self.caption = QLabel()
        self.caption.setObjectName("cohortCaption")
        self.caption.setStyleSheet("color: #aeb6c0;")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Trial"))
        bar.addWidget(self.trial_combo)
        bar.addWidget(self.refresh_button)
        bar.addSpacing(12)
        bar.addWidget(self.caption, 1)
        bar.addWidget(QLabel("Plots as"))
        bar.addWidget(self.format_combo)
        bar.addWidget(self.export_button)

        self.orr_table = _table("orrTable", ORR_COLUMNS)
        self.bor_table = _table("borTable", BOR_COLUMNS)
        self.bor_counts = QLabel()
        self.bor_counts.setObjectName("borCounts")
        self.bor_counts.setWordWrap(True)
        self.bor_counts.setTextFormat(Qt.TextFormat.RichText)
        tables = QWidget()
        left = QVBoxLayout(tables)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self._heading("Objective response rate (CR + PR, all patients)"))
        left.addWidget(self.orr_table)
        left.addWidget(self._heading("Best overall response"))
        left.addWidget(self.bor_counts)
        left.addWidget(self.bor_table, 1)

        self.waterfall = make_plot(
            "waterfallPlot",
            "Best change of target sum from baseline",
            "patients",
            "best change (%)",
            subject_axis="bottom",
        )
        self.spider = make_plot(
            "spiderPlot",
            "Change of target sum over time",
            "days from baseline",
            "change from baseline (%)",
        )
        self.swimmer = make_plot(
            "swimmerPlot",
            "Time on study and responses",
            "days from baseline",
            "",
            subject_axis="left",
        )
        self.waterfall.setMouseEnabled(x=True, y=False)  # zoom in: every subject is named
        self.swimmer.setMouseEnabled(x=True, y=True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("cohortTabs")
        self.tabs.addTab(self.waterfall, "Waterfall")
        self.tabs.addTab(self.spider, "Spider")
        self.tabs.addTab(self.swimmer, "Swimmer")
        self.endpoints_page = self._build_endpoints_tab()
        self.tabs.addTab(self.endpoints_page, "Endpoints (KM)")
        # the endpoints (every patient's conversion, MPR and survival) are derived when their
        # tab is first shown for a trial, not before the window's first paint
        self._endpoints_trial: tuple[str | None] | None = None
        self.tabs.currentChanged.connect(self._on_tab_changed)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(tables)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([520, 650])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self._fill_trials()
        self.trial_combo.currentIndexChanged.connect(self._on_trial_changed)
        self.refresh_button.clicked.connect(self._on_refresh)
        self.export_button.clicked.connect(self._on_export)
        self.show_trial(self.trial)

    def _build_endpoints_tab(self) -> QWidget:
        """Rates with exact CIs, the PFS / OS Kaplan–Meier plot, medians and numbers at risk."""
        self.endpoints: Any = None
        self.rate_table = _table("rateTable", RATE_COLUMNS)
        self.km_plot = make_plot(
            "kmPlot",
            "Kaplan–Meier: PFS and OS (95 % CI, + censored)",
            "months since first dose",
            "survival (%)",
        )
        self.km_plot.setMouseEnabled(x=False, y=False)
        self.km_table = _table("kmTable", KM_COLUMNS)
        self.at_risk_table = _table("atRiskTable", ("Number at risk", *map(str, AT_RISK_MONTHS)))
        self.at_risk_table.horizontalHeader().setStretchLastSection(False)
        self.km_items: dict[str, Any] = {}
        page = QWidget()
        page.setObjectName("endpointsPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            self._heading("Conversion and major pathological response (exact 95 % CI)")
        )
        layout.addWidget(self.rate_table)
        layout.addWidget(self.km_plot, 1)
        layout.addWidget(self.km_table)
        layout.addWidget(self.at_risk_table)
        return page

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("color: #d8dde3; font-weight: bold; padding-top: 4px;")
        return label

    # -- public API (menus, tests) -----------------------------------------------------
    @property
    def trial(self) -> str | None:
        """The selected trial; None for all patients."""
        data = self.trial_combo.currentData()
        return data if data else None

    def select_trial(self, trial: str | None) -> None:
        """Select a trial in the selector (None: all patients); the view follows."""
        index = self.trial_combo.findData(trial or "")
        if index < 0:
            raise ValueError(f"no trial {trial!r}; known: {', '.join(self.controller.trials())}")
        self.trial_combo.setCurrentIndex(index)

    def show_trial(self, trial: str | None) -> None:
        """Read the trial's summary from the controller and redraw tables and plots."""
        self.summary = self.controller.summary(trial)
        self.rows = list(self.controller.bor_table(trial))
        self._fill_orr()
        self._fill_bor()
        draw_waterfall(self.waterfall, self.summary)
        draw_spider(self.spider, self.summary)
        draw_swimmer(self.swimmer, self.summary)
        self._endpoints_trial = None
        if self.tabs.currentWidget() is self.endpoints_page:
            self._show_endpoints(trial)
        n = len(self.summary.patients)
        self.caption.setText(f"{trial or ALL_PATIENTS}: {n} patient{'s' if n != 1 else ''}")

    def export_to(self, folder: str | Path, fmt: str | None = None) -> list[Path]:
        """Export the selected trial's tables and plots into *folder* (``fmt``: png/svg)."""
        files = list(
            self.controller.export(
                folder, (fmt or self.format_combo.currentText()).lower(), self.trial
            )
        )
        self.exported.emit(files)
        return files

    def refresh(self) -> None:
        """Re-read the database (new patients, trials, measurements) and redraw."""
        self.controller.reload()
        current = self.trial
        self._fill_trials(current)
        self.show_trial(self.trial)

    @classmethod
    def open_dialog(cls, controller: Any, parent: QWidget | None = None) -> QDialog:
        """The widget in a non-modal dialog, shown (for the main window's Trial → Cohort…)."""
        dialog = QDialog(parent)
        dialog.setObjectName("cohortDialog")
        dialog.setWindowTitle("Cohort")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(dialog)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(cls(controller, dialog))
        dialog.resize(1280, 760)
        dialog.show()
        return dialog

    # -- filling -----------------------------------------------------------------------
    def _fill_trials(self, keep: str | None = None) -> None:
        trials = list(self.controller.trials())
        with _blocked(self.trial_combo):
            self.trial_combo.clear()
            self.trial_combo.addItem(ALL_PATIENTS, "")
            for name in trials:
                self.trial_combo.addItem(name, name)
            wanted = keep if keep in trials else (trials[0] if len(trials) == 1 else None)
            self.trial_combo.setCurrentIndex(max(self.trial_combo.findData(wanted or ""), 0))

    def _fill_orr(self) -> None:
        table = self.orr_table
        table.setRowCount(0)
        shown = getattr(self.summary, "orr_shown", None)
        for estimate in shown() if shown is not None else self.summary.orr:
            row = table.rowCount()
            table.insertRow(row)
            ci = f"{100 * estimate.ci_low:.1f} – {100 * estimate.ci_high:.1f} %"
            for column, item in enumerate(
                (
                    _item(estimate.cutoff),
                    _item(str(estimate.responders), align_right=True),
                    _item(str(estimate.patients), align_right=True),
                    _item(f"{100 * estimate.rate:.1f} %", align_right=True),
                    _item(ci, align_right=True),
                )
            ):
                table.setItem(row, column, item)
        table.setFixedHeight(
            table.horizontalHeader().height()
            + sum(table.rowHeight(r) for r in range(table.rowCount()))
            + 4
        )

    def show_endpoints(self) -> None:
        """Fill the endpoints tab for the selected trial (once per trial and refresh)."""
        if self._endpoints_trial != (self.trial,):
            self._show_endpoints(self.trial)

    def _show_endpoints(self, trial: str | None) -> None:
        self._endpoints_trial = (trial,)
        reader = getattr(self.controller, "endpoint_summary", None)
        self.endpoints = reader(trial) if reader is not None else None
        rates = list(self.endpoints.rates) if self.endpoints is not None else []
        curves = dict(self.endpoints.km) if self.endpoints is not None else {}
        _fill(
            self.rate_table,
            [
                (
                    _item(r.label + (f" — {r.note}" if r.note else "")),
                    _item(str(r.k), align_right=True),
                    _item(str(r.n), align_right=True),
                    _item(f"{100 * r.rate:.1f} %", align_right=True),
                    _item(f"{100 * r.ci_low:.1f} – {100 * r.ci_high:.1f} %", align_right=True),
                )
                for r in rates
            ],
        )
        self.km_items = draw_km(self.km_plot, curves, max(AT_RISK_MONTHS))
        _fill(
            self.km_table,
            [
                (
                    _item(param, colour=QColor(KM_COLOURS.get(param, "#aeb6c0"))),
                    _item(str(c.n), align_right=True),
                    _item(str(c.events), align_right=True),
                    _item(months_text(c.median), align_right=True),
                    _item(
                        f"{months_text(c.median_lower)} – {months_text(c.median_upper)}",
                        align_right=True,
                    ),
                )
                for param, c in curves.items()
            ],
        )
        _fill(
            self.at_risk_table,
            [
                (
                    _item(param, colour=QColor(KM_COLOURS.get(param, "#aeb6c0"))),
                    *(_item(str(c.at_risk(m)), align_right=True) for m in AT_RISK_MONTHS),
                )
                for param, c in curves.items()
            ],
        )

    def _fill_bor(self) -> None:
        table = self.bor_table
        table.setRowCount(0)
        cutoffs = tuple(getattr(self.summary, "cutoffs_found", (3, 6)))
        columns = [*BOR_COLUMNS, *(f"BOR at C{c}" for c in cutoffs)]
        table.setColumnCount(len(columns))
        table.setHorizontalHeaderLabels(columns)
        for row_data in self.rows:
            row = table.rowCount()
            table.insertRow(row)
            items = (
                _item(row_data.subject_id),
                _response_item(row_data.best_overall_response),
                _item(
                    confirmed_text(row_data),
                    colour=MUTED if confirmed_text(row_data) == "—" else None,
                ),
                _item(
                    progression_text(row_data),
                    colour=MUTED if row_data.progression_date is None else None,
                ),
                *(_response_item(row_data.bor_at.get(c)) for c in cutoffs),
            )
            for column, item in enumerate(items):
                table.setItem(row, column, item)
        total = sum(self.summary.bor_counts.values())
        self.bor_counts.setText(
            "  ".join(
                f'<span style="color:{response_colour(code).name()}"><b>{code}</b></span> '
                f"{count} ({100 * count / total:.0f} %)"
                for code, count in self.summary.bor_counts.items()
            )
            or "No patient with a timepoint yet."
        )

    # -- slots -------------------------------------------------------------------------
    @shows_errors("Could not show the endpoints")
    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.endpoints_page:
            self.show_endpoints()

    @shows_errors("Could not show the cohort")
    def _on_trial_changed(self) -> None:
        self.show_trial(self.trial)

    @shows_errors("Could not refresh the cohort")
    def _on_refresh(self) -> None:
        self.refresh()

    @shows_errors("Could not export the cohort")
    def _on_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export cohort into folder")
        if folder:
            self.confirm_export(folder, self.export_to(folder))

    def confirm_export(self, folder: str | Path, files: list[Path]) -> QMessageBox:
        """A confirmation naming the files written into *folder* (shown, not blocking)."""
        box = QMessageBox(self)
        box.setObjectName("exportConfirmation")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Cohort exported")
        trial = self.trial or ALL_PATIENTS
        plural = "s" if len(files) != 1 else ""
        box.setText(f"Wrote {len(files)} file{plural} ({trial}) to {folder}")
        box.setInformativeText("\n".join(Path(f).name for f in files))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.open()
        self.confirmation = box
        return box


def _fill(table: QTableWidget, rows: list[tuple[QTableWidgetItem, ...]]) -> None:
    """Replace *table*'s rows and fit its height to them."""
    table.setRowCount(0)
    for cells in rows:
        row = table.rowCount()
        table.insertRow(row)
        for column, item in enumerate(cells):
            table.setItem(row, column, item)
    table.setFixedHeight(
        table.horizontalHeader().height()
        + sum(table.rowHeight(r) for r in range(table.rowCount()))
        + 4
    )


class _blocked:
    """Block a widget's signals for the ``with`` body (no guard flags)."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget

    def __enter__(self) -> None:
        self._was = self.widget.blockSignals(True)

    def __exit__(self, *_: object) -> None:
        self.widget.blockSignals(self._was)
