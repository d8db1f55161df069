"""Survival data of the open patient: first dose, death, last known alive, off study, new therapy.

The dates PFS and OS are derived from.  Below the fields, live, the PFS and OS
the controller (``ReadingSession.endpoints``) derives from them and the
patient's assessments, with the FDA censoring rule that applies (CNSR and its
description; docs/ENDPOINTS.md).  A bad date, or dates out of order (death
before the first dose, alive after death, an off-study date without a reason),
is named in the dialog and its field marked; nothing typed is lost.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from viewer.dialogs.record_fields import (
    STYLE_SHEET,
    date_field,
    error_label,
    mark,
    show_errors,
    text_field,
)

#: (field, label, is a date), in the order shown.
FIELDS = (
    ("treatment_start", "Treatment start (first dose)", True),
    ("death_date", "Death date", True),
    ("death_cause", "Cause of death", False),
    ("last_known_alive", "Last known alive", True),
    ("off_study_date", "Off-study date", True),
    ("off_study_reason", "Off-study reason", False),
    ("new_therapy_date", "New anticancer therapy start", True),
    ("note", "Note", False),
)


def tte_text(name: str, tte: Any) -> str:
    """``"PFS: 245 days (8.0 months), event: progression; ends 2026-09-01"`` (or why not)."""
    if tte is None:
        return f"{name}: not derivable (no treatment start, or no timepoint yet)"
    what = "event" if tte.event else f"censored (CNSR {tte.cnsr})"
    return (
        f"{name}: {tte.days} days ({tte.months:.1f} months), {what}: {tte.description}; "
        f"ends {tte.end}"
    )


class SurvivalDataDialog(QDialog):
    """Enter the open patient's survival dates and see PFS and OS follow.

    Parameters
    ----------
    controller
        ``app.session.endpoints.EndpointController`` (``ReadingSession.endpoints``).
    parent : QWidget, optional
        Parent window.
    """

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.preview: Any = None
        self.setObjectName("survivalDialog")
        self.setWindowTitle(f"Survival data — {controller.subject_id}")
        self.setStyleSheet(STYLE_SHEET)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key, label, is_date in FIELDS:
            edit = date_field(key) if is_date else text_field(key)
            self.fields[key] = edit
            form.addRow(label, edit)
        self.pfs_label = QLabel()
        self.pfs_label.setObjectName("pfs")
        self.pfs_label.setWordWrap(True)
        self.os_label = QLabel()
        self.os_label.setObjectName("os")
        self.os_label.setWordWrap(True)
        self.error = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.pfs_label)
        layout.addWidget(self.os_label)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        stored = controller.survival_form()
        self._form_type = type(stored)  # the controller's SurvivalForm (the viewer imports no app)
        self.set_form(stored)
        for edit in self.fields.values():
            edit.textChanged.connect(self._on_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.resize(620, 420)
        self.refresh()

    def form(self) -> Any:
        """The values as typed, as the controller's ``SurvivalForm``."""
        return self._form_type(**{key: edit.text() for key, edit in self.fields.items()})

    def set_form(self, form: Any) -> None:
        """Show a ``SurvivalForm``."""
        for key, edit in self.fields.items():
            edit.setText(getattr(form, key))

    def refresh(self) -> None:
        """Ask the controller for PFS and OS with the dates typed now and show them."""
        preview = self.preview = self.controller.survival_preview(self.form())
        for key, edit in self.fields.items():
            mark(edit, "invalid" if key in preview.errors else "", preview.errors.get(key, ""))
        show_errors(self.error, list(preview.errors.values()))
        self.pfs_label.setText(escape(tte_text("PFS", preview.pfs)))
        self.os_label.setText(escape(tte_text("OS", preview.os)))

    def _on_changed(self, *_: object) -> None:
        self.refresh()

    def accept(self) -> None:
        """Save and close; a refusal keeps the dialog open with everything typed."""
        try:
            self.controller.save_survival(self.form())
        except Exception as exc:  # noqa: BLE001 - every refusal is shown in the dialog
            edit = self.fields.get(str(getattr(exc, "field", "")))
            if edit is not None:
                mark(edit, "invalid", str(exc))
                edit.setFocus()
            show_errors(self.error, [str(exc)])
            return
        super().accept()
