"""Surgery and pathology of the open patient: date, procedure, margin, resected metastases, MPR.

One table row per resected liver metastasis: the specimen's label, the residual
viable tumour as a percentage (empty or ``pending`` while the report is
pending), the Rubbia-Brandt tumour regression grade 1–5 (optional) and the
Caliper lesion it corresponds to (optional).  The major pathological response
(every metastasis below 50 % residual tumour; pCR: 0 % everywhere) is shown
live, from the controller (``ReadingSession.endpoints``).  A refused value is
named in the dialog and its field or table marked; nothing typed is lost.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.dialogs.record_fields import (
    STYLE_SHEET,
    choice_field,
    combo_text,
    date_field,
    error_label,
    mark,
    select_data,
    show_errors,
    status_html,
    text_field,
)

PROCEDURES = (("resection", "Resection"), ("ablation", "Ablation"), ("sbrt", "SBRT"))
MARGINS = [
    ("R0 (microscopically clear)", "R0"),
    ("R1 (microscopic residual)", "R1"),
    ("R2 (macroscopic residual)", "R2"),
]
COLUMNS = ("Specimen", "Residual tumour %", "TRG (1–5)", "Lesion", "Category")
CATEGORY_COLUMN = COLUMNS.index("Category")


class SurgeryRecordDialog(QDialog):
    """Enter the open patient's surgery and the pathology of each resected metastasis.

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
        self.setObjectName("surgeryDialog")
        self.setWindowTitle(f"Surgery and pathology — {controller.subject_id}")
        self.setStyleSheet(STYLE_SHEET)
        self.surgery_date = date_field("surgery_date")
        self.procedure_boxes: dict[str, QCheckBox] = {}
        self.procedures = QWidget()
        self.procedures.setObjectName("procedures")
        plan = QHBoxLayout(self.procedures)
        plan.setContentsMargins(0, 0, 0, 0)
        for value, text in PROCEDURES:
            box = QCheckBox(text)
            box.setObjectName(f"procedure_{value}")
            self.procedure_boxes[value] = box
            plan.addWidget(box)
        plan.addStretch(1)
        self.margin = choice_field("margin", MARGINS)
        self.note = text_field("note")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("metastases")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton("Add metastasis")
        self.add_button.setObjectName("addMetastasis")
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.setObjectName("removeMetastasis")
        self.mpr_label = QLabel()
        self.mpr_label.setObjectName("mpr")
        self.mpr_label.setWordWrap(True)
        self.error = error_label()

        form = QFormLayout()
        form.addRow("Surgery date", self.surgery_date)
        form.addRow("Procedure", self.procedures)
        form.addRow("Resection margin", self.margin)
        form.addRow("Note", self.note)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_button)
        row_buttons.addWidget(self.remove_button)
        row_buttons.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Resected liver metastases (pathology)"))
        layout.addWidget(self.table, 1)
        layout.addLayout(row_buttons)
        layout.addWidget(self.mpr_label)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.fields: dict[str, QWidget] = {
            "surgery_date": self.surgery_date,
            "procedures": self.procedures,
            "margin": self.margin,
            "note": self.note,
            "metastases": self.table,
        }
        stored = controller.surgery_form()
        self._form_type = type(stored)  # the controller's SurgeryForm (the viewer imports no app)
        self.set_form(stored)
        self.surgery_date.textChanged.connect(self._on_changed)
        self.note.textChanged.connect(self._on_changed)
        self.margin.currentIndexChanged.connect(self._on_changed)
        for box in self.procedure_boxes.values():
            box.toggled.connect(self._on_changed)
        self.table.itemChanged.connect(self._on_changed)
        self.add_button.clicked.connect(self._on_add)
        self.remove_button.clicked.connect(self._on_remove)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.resize(720, 520)
        self.refresh()

    # -- the form ----------------------------------------------------------------------
    def add_metastasis(
        self, label: str = "", pct: str = "", trg: str = "", lesion: str = ""
    ) -> int:
        """Append a metastasis row (empty by default); returns its row."""
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        for column, text in enumerate((label, pct, trg, lesion, "")):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.blockSignals(False)
        return row

    def form(self) -> Any:
        """The values as typed, as the controller's ``SurgeryForm``."""
        rows = []
        for row in range(self.table.rowCount()):
            rows.append(tuple(self._cell(row, c) for c in range(4)))
        return self._form_type(
            surgery_date=self.surgery_date.text(),
            procedures=tuple(v for v, box in self.procedure_boxes.items() if box.isChecked()),
            margin=combo_text(self.margin),
            metastases=tuple(rows),
            note=self.note.text(),
        )

    def set_form(self, form: Any) -> None:
        """Show a ``SurgeryForm``."""
        self.surgery_date.setText(form.surgery_date)
        for value, box in self.procedure_boxes.items():
            box.setChecked(value in form.procedures)
        select_data(self.margin, form.margin or None)
        self.note.setText(form.note)
        self.table.setRowCount(0)
        for m in form.metastases:
            self.add_metastasis(m.label, m.residual_pct, m.trg, m.lesion_code)

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    # -- preview -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the controller for the MPR of what is typed now and show it."""
        preview = self.preview = self.controller.surgery_preview(self.form())
        for key, widget in self.fields.items():
            bad = [m for k, m in preview.errors.items() if k.split(".")[0] == key]
            mark(widget, "invalid" if bad else "", "\n".join(bad))
        show_errors(self.error, list(preview.errors.values()))
        categories = {label: category for label, _, category in preview.mpr.per_metastasis}
        self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            item = QTableWidgetItem(categories.get(self._cell(row, 0).strip(), ""))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, CATEGORY_COLUMN, item)
        self.table.blockSignals(False)
        mpr = preview.mpr
        verdict = {
            True: ("met", "MPR: yes"),
            False: ("not met", "MPR: no"),
            None: ("undetermined", "MPR: undetermined"),
        }[mpr.mpr]
        pcr = " (pCR)" if mpr.pcr else ""
        self.mpr_label.setText(
            f"{status_html(verdict[0], verdict[1] + pcr)} — {escape(mpr.reason)}"
            "<br><span style='color:#aeb6c0'>Major pathological response: less than 50 % "
            "residual tumour in every resected metastasis (protocol definition).</span>"
        )

    # -- actions -----------------------------------------------------------------------
    def _on_changed(self, *_: object) -> None:
        self.refresh()

    def _on_add(self) -> None:
        row = self.add_metastasis()
        self.table.setCurrentCell(row, 0)
        item = self.table.item(row, 0)
        if item is not None:
            self.table.editItem(item)

    def _on_remove(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.refresh()

    def accept(self) -> None:
        """Save and close; a refusal keeps the dialog open with everything typed."""
        try:
            self.controller.save_surgery(self.form())
        except Exception as exc:  # noqa: BLE001 - every refusal is shown in the dialog
            key = str(getattr(exc, "field", "")).split(".")[0]
            widget = self.fields.get(key)
            if widget is not None:
                mark(widget, "invalid", str(exc))
                widget.setFocus()
            show_errors(self.error, [str(exc)])
            return
        super().accept()
