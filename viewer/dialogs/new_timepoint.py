"""Add a follow-up timepoint: label, scan date, cycle."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class NewTimepointDialog(QDialog):
    """Collect the label, scan date and cycle of a new timepoint.

    Parameters
    ----------
    suggested_label : str
        Prefilled label (e.g. ``"C3"``).
    suggested_cycle : int
        Prefilled cycle number (0 = none).
    displayed_series : str
        Description of the series on screen; offered (checked) as the timepoint's series.
    parent : QWidget, optional
        Parent window.
    """

    def __init__(
        self,
        suggested_label: str = "",
        suggested_cycle: int = 0,
        displayed_series: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newTimepointDialog")
        self.setWindowTitle("New timepoint")
        self.label = QLineEdit(suggested_label)
        self.label.setObjectName("label")
        self.scan_date = QDateEdit(QDate.currentDate())
        self.scan_date.setObjectName("scanDate")
        self.scan_date.setCalendarPopup(True)
        self.scan_date.setDisplayFormat("yyyy-MM-dd")
        self.cycle = QSpinBox()
        self.cycle.setObjectName("cycle")
        self.cycle.setRange(0, 99)
        self.cycle.setSpecialValueText("—")
        self.cycle.setValue(suggested_cycle)
        form = QFormLayout()
        form.addRow("Label", self.label)
        form.addRow("Scan date", self.scan_date)
        form.addRow("Cycle", self.cycle)
        self.attach = QCheckBox(f"Read on the displayed series ({displayed_series})")
        self.attach.setObjectName("attachSeries")
        self.attach.setChecked(bool(displayed_series))
        self.attach.setVisible(bool(displayed_series))
        form.addRow("", self.attach)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def use_displayed_series(self) -> bool:
        """True when the new timepoint is read on the series on screen."""
        return self.attach.isChecked() and self.attach.isVisibleTo(self)

    def values(self) -> tuple[str, date, int | None]:
        """``(label, scan_date, cycle or None)``."""
        qdate = self.scan_date.date()
        cycle = self.cycle.value()
        return (self.label.text().strip(), date(qdate.year(), qdate.month(), qdate.day()), cycle or None)
