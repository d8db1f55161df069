"""The response panel: the engine's result per timepoint and the spider plot.

One row per timepoint: sum of diameters, % from baseline and from nadir,
target / non-target / new-lesion / overall response and the engine's reason,
with a lock on signed timepoints.  Below the table: the best overall response.
Beside the overall response, for a patient with liver lesions at baseline, the
liver response (``session.endpoints.liver_response()``): the RECIST 1.1
arithmetic on the liver lesions alone, a protocol-defined organ response of the
conversion trial and not a RECIST category (docs/ENDPOINTS.md).
The panel only displays a :class:`recist.CaseResult` that the session computed
(``assessment_updated``); it computes nothing itself.
"""

from __future__ import annotations

from html import escape
from typing import Any, SupportsFloat

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.response.spider_plot import SpiderPlotWidget
from viewer.style import LOCKED_TINT, WARNING_COLOUR, icon, response_colour

HEADERS = (
    "Timepoint",
    "Date",
    "Sum mm",
    "Δ baseline",
    "Δ nadir",
    "Target",
    "Non-target",
    "New",
    "Overall",
    "Liver",
    "iRECIST",
    "Reason",
)
OVERALL_COLUMN = HEADERS.index("Overall")
LIVER_COLUMN = HEADERS.index("Liver")
IRECIST_COLUMN = HEADERS.index("iRECIST")
#: What the liver column is (its header's tool tip).
LIVER_TIP = (
    "Liver response: the RECIST 1.1 arithmetic on the liver lesions only — a "
    "protocol-defined organ response (conversion criterion), not a RECIST category"
)
#: Shown next to the overall response of a timepoint after the first progression.
POST_PROGRESSION = "post-progression"


def _pct(value: SupportsFloat | None) -> str:
    return "" if value is None else f"{float(value):+.1f} %"


def _mm(value: SupportsFloat | None) -> str:
    return "" if value is None else f"{float(value):.1f}"


def _code(value: object) -> str:
    return "" if value is None else str(value)


class ResponsePanelWidget(QWidget):
    """Per-timepoint responses, best overall response and the spider plot.

    Parameters
    ----------
    session : app.session.ReadingSession
        Source of the timepoints, the lock state and ``assessment_updated``.
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("responseTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        irecist_header = self.table.horizontalHeaderItem(HEADERS.index("iRECIST"))
        if irecist_header is not None:  # set by setHorizontalHeaderLabels
            irecist_header.setToolTip(
                "iRECIST overall response, computed alongside RECIST 1.1 (immunotherapy trials)"
            )
        liver_header = self.table.horizontalHeaderItem(LIVER_COLUMN)
        if liver_header is not None:
            liver_header.setToolTip(LIVER_TIP)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.best_response = QLabel("Best overall response: —")
        self.best_response.setObjectName("bestResponse")
        self.best_liver = QLabel("")
        self.best_liver.setObjectName("bestLiverResponse")
        self.best_liver.setToolTip(LIVER_TIP)
        self.engine_label = QLabel("")
        self.engine_label.setObjectName("sectionTitle")
        self.warnings_label = QLabel("")
        self.warnings_label.setObjectName("engineWarnings")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextFormat(Qt.TextFormat.RichText)
        self.spider = SpiderPlotWidget()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.warnings_label)
        footer = QHBoxLayout()
        footer.addWidget(self.best_response)
        footer.addSpacing(16)
        footer.addWidget(self.best_liver)
        footer.addStretch(1)
        footer.addWidget(self.engine_label)
        left_layout.addLayout(footer)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.spider)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self._lock_icon = icon("lock")
        for name in (
            "assessment_updated",
            "timepoint_locked",
            "patient_opened",
            "timepoint_selected",
            "timepoint_changed",
        ):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(self._on_session_changed)
        failed = getattr(session, "assessment_failed", None)
        if failed is not None:
            failed.connect(self._on_assessment_failed)
        self.refresh()

    def _on_assessment_failed(self, message: str) -> None:
        self.refresh()
        self.warnings_label.setText(
            f"<span style='color:{WARNING_COLOUR.name()}'>⚠ The response could not "
            f"be computed: {escape(message)}</span>"
        )

    def _on_session_changed(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show the session's latest assessment."""
        session = self._session
        result = getattr(session, "assessment", None)
        timepoints = list(session.timepoints()) if getattr(session, "patient", None) else []
        by_label = {r.label: r for r in getattr(result, "timepoints", ())}
        current = getattr(session, "current_timepoint", None)
        self.table.setRowCount(len(timepoints))
        labels, pcts, responses = [], [], []
        for row, tp in enumerate(timepoints):
            tp_result = by_label.get(tp.label)
            locked = tp.id is not None and session.is_locked(tp.id)
            self._fill_row(row, tp, tp_result, locked, current is not None and current.id == tp.id)
            labels.append(tp.label)
            pct = getattr(tp_result, "pct_from_baseline", None)
            if tp.is_baseline and getattr(tp_result, "sum_mm", None) is not None:
                pct = 0.0
            pcts.append(None if pct is None else float(pct))
            responses.append(getattr(tp_result, "overall", None))
        self.spider.set_points(labels, pcts, responses)
        self._show_liver(timepoints)
        has_irecist = any(getattr(r, "irecist_overall", None) for r in by_label.values())
        self.table.setColumnHidden(HEADERS.index("iRECIST"), not has_irecist)
        current_result = by_label.get(current.label) if current is not None else None
        lines: list[str] = []
        if current is not None and current_result is not None:
            amber, label = WARNING_COLOUR.name(), escape(current.label)
            if current_result.reason:
                lines.append(f"<b>{label}</b>: {escape(current_result.reason)}")
            lines.extend(
                f"<span style='color:{amber}'>⚠ {label}: {escape(w.message)}</span>"
                for w in getattr(current_result, "warnings", ())
            )
        self.warnings_label.setText("<br>".join(lines))
        best = getattr(result, "best_overall_response", None)
        self.best_response.setText(f"Best overall response: {_code(best) or '—'}")
        self.best_response.setStyleSheet(f"color: {response_colour(best).name()};" if best else "")
        version = getattr(result, "engine_version", "")
        self.engine_label.setText(f"engine {version}" if version else "")

    def _fill_row(self, row: int, tp: Any, result: Any, locked: bool, current: bool) -> None:
        def get(name: str) -> Any:
            return getattr(result, name, None)  # None when result is None too

        new = get("new_lesions")
        warnings = [w.message for w in (get("warnings") or ())]
        post = bool(get("post_progression"))
        overall = _code(get("overall"))
        values = (
            tp.label,
            tp.scan_date.isoformat() if tp.scan_date else "",
            _mm(get("sum_mm")),
            "" if tp.is_baseline else _pct(get("pct_from_baseline")),
            "" if tp.is_baseline else _pct(get("pct_from_nadir")),
            _code(get("target")),
            _code(get("non_target")),
            "" if new is None else ("yes" if new else "no"),
            f"{overall} ({POST_PROGRESSION})" if post and overall else overall,
            "",  # the liver response, filled by _show_liver
            _code(get("irecist_overall")),
            (get("reason") or "") + (f"  ⚠ {len(warnings)}" if warnings else ""),
        )
        items = []
        for column, text in enumerate(values):
            item = QTableWidgetItem(text)
            items.append(item)
            if column in (2, 3, 4):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column in (5, 6, 8, IRECIST_COLUMN) and text:
                code = overall if column == OVERALL_COLUMN else text
                muted = (
                    post and column != IRECIST_COLUMN
                )  # greyed: not used for BOR (iRECIST has its own)
                item.setForeground(QBrush(response_colour(None if muted else code)))
            if locked:
                item.setBackground(QBrush(LOCKED_TINT))
            if current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(row, column, item)
        first = items[0]
        if locked:
            first.setIcon(self._lock_icon)
            first.setToolTip(f"{tp.label} is signed and locked")
        reason_item = items[len(HEADERS) - 1]
        reason_item.setToolTip("\n".join([get("reason") or "", *warnings]).strip())
        overall_item = items[OVERALL_COLUMN]
        overall_item.setData(Qt.ItemDataRole.UserRole, overall)
        if post:
            overall_item.setToolTip(
                "After the first progression: not used for the best overall response"
            )

    def _show_liver(self, timepoints: list[Any]) -> None:
        """Fill the liver column and the best liver response (hidden without liver lesions)."""
        endpoints = getattr(self._session, "endpoints", None)
        liver = endpoints.liver_response() if endpoints is not None and timepoints else None
        shown = liver is not None and liver.applicable
        self.table.setColumnHidden(LIVER_COLUMN, not shown)
        self.best_liver.setVisible(shown)
        if liver is None or not shown:
            return
        for row, tp in enumerate(timepoints):
            result = liver.at(tp.label)
            response = _code(getattr(result, "response", None))
            text = response
            if result is not None and result.pct_from_baseline is not None and response:
                text = f"{response} ({_pct(result.pct_from_baseline)})"
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, response)
            if response:
                muted = bool(getattr(result, "post_progression", False))
                item.setForeground(QBrush(response_colour(None if muted else response)))
                item.setToolTip(f"Liver (protocol-defined, not RECIST): {result.reason}")
            self.table.setItem(row, LIVER_COLUMN, item)
        best = liver.best()
        code = _code(best.response) if best is not None else ""
        self.best_liver.setText(f"Best liver response (protocol, not RECIST): {code or '—'}")
        self.best_liver.setStyleSheet(f"color: {response_colour(code).name()};" if code else "")

    def liver(self, label: str) -> str:
        """The liver response code shown for timepoint *label* (``""`` if none or hidden)."""
        if self.table.isColumnHidden(LIVER_COLUMN):
            return ""
        for row in range(self.table.rowCount()):
            first = self.table.item(row, 0)
            if first is not None and first.text() == label:
                item = self.table.item(row, LIVER_COLUMN)
                return (item.data(Qt.ItemDataRole.UserRole) if item is not None else None) or ""
        return ""

    def overall(self, label: str) -> str:
        """The overall response code shown for timepoint *label* (``""`` if none)."""
        for row in range(self.table.rowCount()):
            first = self.table.item(row, 0)
            if first is not None and first.text() == label:
                item = self.table.item(row, OVERALL_COLUMN)
                return (item.data(Qt.ItemDataRole.UserRole) if item is not None else None) or ""
        return ""
