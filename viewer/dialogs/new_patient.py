"""New patient: subject id, trial, site, response criteria and whether responses need confirming.

The same fields as ``caliper patient add`` (``--trial``, ``--site``,
``--criteria``, ``--no-confirmation``).  The trial field offers the trials
already in the database.  OK stays disabled until a subject id is typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from recist.model import Criteria

#: Reader-facing names of the criteria.
CRITERIA_LABELS = {Criteria.RECIST11: "RECIST 1.1", Criteria.IRECIST: "iRECIST (with RECIST 1.1)"}


class NewPatientDialog(QDialog):
    """Ask for a new trial subject's details.

    Parameters
    ----------
    trials : sequence of str
        Trials already in the database (offered in the trial field).
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, trials: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newPatientDialog")
        self.setWindowTitle("New patient")
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("e.g. 101-004")
        self.trial = QComboBox()
        self.trial.setEditable(True)
        self.trial.addItems(sorted({t for t in trials if t}))
        self.trial.setCurrentText(next(iter(sorted({t for t in trials if t})), ""))
        self.site = QLineEdit()
        self.criteria = QComboBox()
        for criteria, label in CRITERIA_LABELS.items():
            self.criteria.addItem(label, criteria.value)
        self.confirmation = QCheckBox("Responses need a confirmation scan (CR/PR after ≥ 4 weeks)")
        self.confirmation.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Subject id:", self.subject)
        form.addRow("Trial:", self.trial)
        form.addRow("Site:", self.site)
        form.addRow("Criteria:", self.criteria)
        form.addRow("", self.confirmation)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.subject.textChanged.connect(self._update_ok)
        self._update_ok()

    def _update_ok(self, *_: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.subject.text().strip()))
        ok.setToolTip("" if ok.isEnabled() else "Type the subject id first.")

    def values(self) -> dict[str, Any]:
        """``add_patient`` arguments: subject_id, trial, site, criteria, confirmation_required."""
        return {
            "subject_id": self.subject.text().strip(),
            "trial": self.trial.currentText().strip(),
            "site": self.site.text().strip(),
            "criteria": Criteria(self.criteria.currentData()),
            "confirmation_required": self.confirmation.isChecked(),
        }
