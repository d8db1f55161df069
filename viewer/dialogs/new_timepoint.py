"""Add a timepoint: label, scan date (from the series' DICOM dates), cycle.

The scan date is taken from the displayed series (Acquisition Date, else
Series Date, else Study Date; ``Volume.scan_date``).  A date typed by hand that
differs from it asks for confirmation; a refusal from the session (a label the
patient already has, a date before the baseline) is shown in the dialog, which
stays open so that the reader can correct it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: The date field's "no date" value: the date comes from the series attached later.
_NO_DATE = QDate(1900, 1, 1)

Refusal = Callable[[str, date | None], "str | None"]


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
    dicom_date : datetime.date, optional
        The displayed series' scan date from its DICOM header: the proposed date.
    refusal : callable, optional
        ``refusal(label, scan_date) -> message or None`` (the session's check);
        a message keeps the dialog open and is shown in it.

    Attributes
    ----------
    date_confirmed : bool
        True when the reader confirmed a date that differs from the DICOM date.
    """

    def __init__(
        self,
        suggested_label: str = "",
        suggested_cycle: int = 0,
        displayed_series: str = "",
        parent: QWidget | None = None,
        *,
        dicom_date: date | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newTimepointDialog")
        self.setWindowTitle("New timepoint")
        self.setMinimumWidth(460)
        self.dicom_date = dicom_date
        self.date_confirmed = False
        self._refusal = refusal
        self.label = QLineEdit(suggested_label)
        self.label.setObjectName("label")
        self.scan_date = QDateEdit()
        self.scan_date.setObjectName("scanDate")
        self.scan_date.setCalendarPopup(True)
        self.scan_date.setDisplayFormat("yyyy-MM-dd")
        self.scan_date.setMinimumDate(_NO_DATE)
        self.scan_date.setSpecialValueText("from the series, once attached")
        self.scan_date.setDate(_qdate(dicom_date) if dicom_date else _NO_DATE)
        self.date_source = QLabel()
        self.date_source.setObjectName("dateSource")
        self.date_source.setWordWrap(True)
        self.cycle = QSpinBox()
        self.cycle.setObjectName("cycle")
        self.cycle.setRange(0, 99)
        self.cycle.setSpecialValueText("—")
        self.cycle.setValue(suggested_cycle)
        form = QFormLayout()
        form.addRow("Label", self.label)
        form.addRow("Scan date", self.scan_date)
        form.addRow("", self.date_source)
        form.addRow("Cycle", self.cycle)
        self.attach = QCheckBox(f"Read on the displayed series ({displayed_series})")
        self.attach.setObjectName("attachSeries")
        self.attach.setChecked(bool(displayed_series))
        self.attach.setVisible(bool(displayed_series))
        self.attach.toggled.connect(self._on_attach_toggled)
        form.addRow("", self.attach)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: rgb(220, 60, 60);")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._on_attach_toggled(self.attach.isChecked())

    def _on_attach_toggled(self, checked: bool) -> None:
        if self.dicom_date is not None and checked:
            self.date_source.setText(f"From the series' DICOM header: {self.dicom_date}")
        else:
            self.date_source.setText(
                "Type the date the scan was acquired, or leave it to the "
                "series attached later (File → Open folder…)."
            )

    def use_displayed_series(self) -> bool:
        """True when the new timepoint is read on the series on screen."""
        return self.attach.isChecked() and self.attach.isVisibleTo(self)

    def chosen_date(self) -> date | None:
        """The date in the field, or None for "from the series, once attached"."""
        qdate = self.scan_date.date()
        if qdate == _NO_DATE:
            return None
        return date(qdate.year(), qdate.month(), qdate.day())

    def values(self) -> tuple[str, date | None, int | None]:
        """``(label, scan_date, cycle or None)``."""
        return self.label.text().strip(), self.chosen_date(), self.cycle.value() or None

    def show_error(self, message: str) -> None:
        """Show why the timepoint cannot be added (the dialog stays open)."""
        self.error.setText(message)
        self.error.show()

    def accept(self) -> None:
        """Close only for a timepoint the session accepts, with a differing date confirmed."""
        label, scan_date, _ = self.values()
        problem = self._refusal(label, scan_date) if self._refusal is not None else None
        if problem:
            self.show_error(problem)
            return
        dicom = self.dicom_date if self.use_displayed_series() else None
        self.date_confirmed = False
        if dicom is not None and scan_date != dicom:
            if not self._confirm_date(scan_date, dicom):
                self.scan_date.setDate(_qdate(dicom))
                self.show_error(f"The scan date is back to the DICOM date {dicom}.")
                return
            self.date_confirmed = True
        super().accept()

    def _confirm_date(self, typed: date | None, dicom: date) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Scan date differs from the series",
            f"The scan date {typed} differs from the date in the DICOM series ({dicom}).\n\n"
            f"Use {typed} anyway? The confirmation is recorded in the audit trail.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("scanDateQuestion")
        use_typed = box.addButton(f"Use {typed}", QMessageBox.ButtonRole.AcceptRole)
        use_dicom = box.addButton(f"Use {dicom}", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(use_dicom)  # the safe answer on Return
        box.exec()
        return box.clickedButton() is use_typed


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)
