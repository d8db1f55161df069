"""The conversion record of the open patient: MDT, plan, FLR, Child-Pugh, labs, signature.

Left, the record as the investigator enters it: MDT date and outcome, the
planned procedure(s) and whether a tumour-free liver is achievable, the future
liver remnant, the five Child-Pugh components with their units, and the other
labs.  Right, live: the Child-Pugh points, score and class, and "conversion
criteria met" with the reason of each of the five criteria (like the RECIST
reasons), the missing inputs (their fields marked amber) and the signature.

Every change asks the controller (``ReadingSession.endpoints``) for a preview;
nothing is computed here.  **Save** stores the record and closes; a refused
field is marked red, named in the dialog, and the dialog stays open with
everything typed.  **Sign…** saves first, then asks an investigator for the
password (:class:`~viewer.dialogs.sign.SignDialog`).  A signed record is changed
only with a reason, which voids the signature.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
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
    yes_no_field,
)
from viewer.dialogs.sign import SignDialog
from viewer.errors import shows_errors

PROCEDURES = (("resection", "Resection"), ("ablation", "Ablation"), ("sbrt", "SBRT"))
OUTCOMES = [
    ("resectable (refer for surgery)", "resectable"),
    ("continue conversion therapy", "continue"),
    ("unresectable", "unresectable"),
]
ASCITES = [("none", "none"), ("mild", "mild"), ("moderate to severe", "moderate-severe")]
ENCEPHALOPATHY = [("none", "none"), ("grade 1–2", "grade 1-2"), ("grade 3–4", "grade 3-4")]
CRITERION_TITLES = {
    "LIVER_PR": "Liver metastases: partial response",
    "TUMOUR_FREE": "Tumour-free liver achievable",
    "FLR": "Future liver remnant > 40 %",
    "CHILD_PUGH_A": "Child-Pugh class A",
    "OTHER_LABS": "Other labs / anaesthesia",
}


class ConversionRecordDialog(QDialog):
    """Enter, check and sign the open patient's conversion record.

    Parameters
    ----------
    controller
        ``app.session.endpoints.EndpointController`` (``ReadingSession.endpoints``).
    username : str
        Prefilled in the sign dialog (the logged-in reader when an investigator).
    parent : QWidget, optional
        Parent window.
    """

    def __init__(self, controller: Any, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.username = username
        self.sign_dialog: SignDialog | None = None
        self.preview: Any = None
        self.setObjectName("conversionDialog")
        self.setWindowTitle(f"Conversion record — {controller.subject_id}")
        self.setStyleSheet(STYLE_SHEET)
        self._build()
        stored = controller.conversion_form()
        self._form_type = type(
            stored
        )  # the controller's ConversionForm (the viewer imports no app)
        self.set_form(stored)
        self._connect()
        self.refresh()

    # -- construction ------------------------------------------------------------------
    def _build(self) -> None:
        self.mdt_date = date_field("mdt_date")
        self.mdt_outcome = choice_field("mdt_outcome", OUTCOMES)
        self.procedure_boxes = {}
        plan = QHBoxLayout()
        for value, text in PROCEDURES:
            box = QCheckBox(text)
            box.setObjectName(f"procedure_{value}")
            self.procedure_boxes[value] = box
            plan.addWidget(box)
        plan.addStretch(1)
        self.procedures = QWidget()
        self.procedures.setObjectName("procedures")
        self.procedures.setLayout(plan)
        plan.setContentsMargins(0, 0, 0, 0)
        self.tumour_free = yes_no_field("tumour_free")
        self.flr_pct = text_field("flr_pct", "e.g. 45", 100)
        self.bilirubin = text_field("bilirubin", "", 100)
        self.bilirubin_unit = choice_field(
            "bilirubin_unit", [("µmol/L", "umol/L"), ("mg/dL", "mg/dL")], optional=False
        )
        self.albumin = text_field("albumin", "", 100)
        self.albumin_unit = choice_field(
            "albumin_unit", [("g/L", "g/L"), ("g/dL", "g/dL")], optional=False
        )
        self.inr = text_field("inr", "", 100)
        self.ascites = choice_field("ascites", ASCITES)
        self.encephalopathy = choice_field("encephalopathy", ENCEPHALOPATHY)
        self.other_labs_ok = yes_no_field("other_labs_ok")
        self.other_labs_note = text_field(
            "other_labs_note", "e.g. creatinine, platelets, ASA class"
        )
        self.note = text_field("note")
        self.reason = text_field("reason", "needed to change a signed record")
        self.child_pugh_label = QLabel()
        self.child_pugh_label.setObjectName("childPugh")
        self.child_pugh_label.setWordWrap(True)

        mdt = QFormLayout()
        mdt.addRow("MDT date", self.mdt_date)
        mdt.addRow("MDT outcome", self.mdt_outcome)
        mdt.addRow("Planned procedure", self.procedures)
        mdt.addRow("Tumour-free liver achievable", self.tumour_free)
        mdt.addRow("Future liver remnant (%)", self.flr_pct)
        cp = QFormLayout()
        cp.addRow("Bilirubin", _pair(self.bilirubin, self.bilirubin_unit))
        cp.addRow("Albumin", _pair(self.albumin, self.albumin_unit))
        cp.addRow("INR", self.inr)
        cp.addRow("Ascites", self.ascites)
        cp.addRow("Encephalopathy", self.encephalopathy)
        cp.addRow(self.child_pugh_label)
        labs = QFormLayout()
        labs.addRow("Other labs acceptable", self.other_labs_ok)
        labs.addRow("Other labs note", self.other_labs_note)
        labs.addRow("Note", self.note)
        self.reason_row = QWidget()
        reason_form = QFormLayout(self.reason_row)
        reason_form.setContentsMargins(0, 0, 0, 0)
        reason_form.addRow("Reason for the change", self.reason)
        left = QVBoxLayout()
        for title, form in (
            ("Multidisciplinary team", mdt),
            ("Child-Pugh (Pugh 1973)", cp),
            ("Other liver function and laboratory values", labs),
        ):
            group = QGroupBox(title)
            group.setLayout(form)
            left.addWidget(group)
        left.addWidget(self.reason_row)
        left.addStretch(1)

        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.criteria_label = QLabel()
        self.criteria_label.setObjectName("criteria")
        self.criteria_label.setWordWrap(True)
        self.criteria_label.setTextFormat(Qt.TextFormat.RichText)
        self.criteria_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.missing_label = QLabel()
        self.missing_label.setObjectName("missing")
        self.missing_label.setWordWrap(True)
        self.signature_label = QLabel()
        self.signature_label.setObjectName("signature")
        self.signature_label.setWordWrap(True)
        right_box = QGroupBox("Conversion criteria (derived)")
        right = QVBoxLayout(right_box)
        right.addWidget(self.verdict)
        right.addWidget(self.criteria_label, 1)
        right.addWidget(self.missing_label)
        right.addWidget(self.signature_label)
        right_box.setMinimumWidth(420)

        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addWidget(right_box, 1)
        self.error = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setObjectName("signButton")
        self.buttons.addButton(self.sign_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.fields: dict[str, QWidget] = {
            "mdt_date": self.mdt_date,
            "mdt_outcome": self.mdt_outcome,
            "procedures": self.procedures,
            "tumour_free": self.tumour_free,
            "flr_pct": self.flr_pct,
            "bilirubin": self.bilirubin,
            "bilirubin_unit": self.bilirubin_unit,
            "albumin": self.albumin,
            "albumin_unit": self.albumin_unit,
            "inr": self.inr,
            "ascites": self.ascites,
            "encephalopathy": self.encephalopathy,
            "other_labs_ok": self.other_labs_ok,
            "other_labs_note": self.other_labs_note,
            "note": self.note,
            "reason": self.reason,
        }
        self.resize(1100, 640)

    def _connect(self) -> None:
        for widget in self.fields.values():
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self._on_changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_changed)
        for box in self.procedure_boxes.values():
            box.toggled.connect(self._on_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.sign_button.clicked.connect(self._on_sign)

    # -- the form ----------------------------------------------------------------------
    def form(self) -> Any:
        """The values as typed, as the controller's ``ConversionForm``."""
        return self._form_type(
            mdt_date=self.mdt_date.text(),
            mdt_outcome=combo_text(self.mdt_outcome),
            procedures=tuple(v for v, box in self.procedure_boxes.items() if box.isChecked()),
            tumour_free=self.tumour_free.currentData(),
            flr_pct=self.flr_pct.text(),
            bilirubin=self.bilirubin.text(),
            bilirubin_unit=combo_text(self.bilirubin_unit),
            albumin=self.albumin.text(),
            albumin_unit=combo_text(self.albumin_unit),
            inr=self.inr.text(),
            ascites=combo_text(self.ascites),
            encephalopathy=combo_text(self.encephalopathy),
            other_labs_ok=self.other_labs_ok.currentData(),
            other_labs_note=self.other_labs_note.text(),
            note=self.note.text(),
        )

    def set_form(self, form: Any) -> None:
        """Show a ``ConversionForm``."""
        self.mdt_date.setText(form.mdt_date)
        select_data(self.mdt_outcome, form.mdt_outcome or None)
        for value, box in self.procedure_boxes.items():
            box.setChecked(value in form.procedures)
        select_data(self.tumour_free, form.tumour_free)
        self.flr_pct.setText(form.flr_pct)
        self.bilirubin.setText(form.bilirubin)
        select_data(self.bilirubin_unit, form.bilirubin_unit)
        self.albumin.setText(form.albumin)
        select_data(self.albumin_unit, form.albumin_unit)
        self.inr.setText(form.inr)
        select_data(self.ascites, form.ascites or None)
        select_data(self.encephalopathy, form.encephalopathy or None)
        select_data(self.other_labs_ok, form.other_labs_ok)
        self.other_labs_note.setText(form.other_labs_note)
        self.note.setText(form.note)

    # -- showing the preview -----------------------------------------------------------
    def refresh(self) -> None:
        """Ask the controller for the criteria of what is typed now and show them."""
        preview = self.preview = self.controller.conversion_preview(self.form())
        for key, widget in self.fields.items():
            if key in preview.errors:
                mark(widget, "invalid", preview.errors[key])
            elif key in preview.missing_fields:
                mark(widget, "missing", "Needed for the conversion criteria")
            elif key != "reason":
                mark(widget)
        show_errors(self.error, list(preview.errors.values()))
        cp = preview.child_pugh
        if cp.child_class is not None:
            points = " + ".join(f"{p}" for _, p in cp.points)
            self.child_pugh_label.setText(
                status_html(
                    "met" if cp.child_class == "A" else "not met",
                    f"Score {cp.score} ({points}): class {cp.child_class}",
                )
            )
        else:
            self.child_pugh_label.setText(
                status_html("missing", "Score: missing " + ", ".join(cp.missing))
            )
        self.child_pugh_label.setToolTip(cp.reason)
        assessment = preview.assessment
        self.verdict.setText(
            status_html(assessment.status_text, f"Conversion criteria {assessment.status_text}")
        )
        rows = []
        for c in assessment.criteria:
            rows.append(
                f"<p>{status_html(c.status.value, c.status.value.upper())} "
                f"<b>{escape(CRITERION_TITLES.get(c.code, c.name))}</b><br>"
                f"<span style='color:#aeb6c0'>{escape(c.reason)}</span></p>"
            )
        rows += [f"<p><i>Note: {escape(n)}</i></p>" for n in assessment.notes]
        self.criteria_label.setText("".join(rows))
        self.missing_label.setText(
            status_html("missing", "Missing: " + ", ".join(assessment.missing))
            if assessment.missing
            else ""
        )
        self._show_signature()

    def _show_signature(self) -> None:
        signature = self.controller.conversion_signature()
        signed = signature is not None
        self.reason_row.setVisible(signed)
        self.sign_button.setEnabled(not signed)
        if signed:
            self.signature_label.setText(
                f"Signed by <b>{escape(signature.printed_name)}</b> on "
                f"{signature.signed_at:%Y-%m-%d %H:%M} UTC: “{escape(signature.meaning)}”. "
                "A change needs a reason and voids the signature."
            )
        else:
            self.signature_label.setText("Not signed. An investigator signs with <b>Sign…</b>.")

    # -- actions -----------------------------------------------------------------------
    def _on_changed(self, *_: object) -> None:
        self.refresh()

    def save(self) -> bool:
        """Store what is typed; on a refusal mark the field, say why and return False."""
        try:
            self.controller.save_conversion(self.form(), self.reason.text())
        except Exception as exc:  # noqa: BLE001 - every refusal is shown in the dialog
            key = getattr(exc, "field", "")
            widget = self.fields.get(key.split(".")[0]) if key else None
            if key == "reason":
                self.reason_row.show()
            if widget is not None:
                mark(widget, "invalid", str(exc))
                widget.setFocus()
            show_errors(self.error, [str(exc)])
            return False
        self.reason.clear()
        self.refresh()
        return True

    def accept(self) -> None:
        """Save and close; a refusal keeps the dialog open with everything typed."""
        if self.save():
            super().accept()

    @shows_errors("Could not open the signature")
    def _on_sign(self) -> SignDialog | None:
        if not self.save():
            return None
        dialog = SignDialog(
            f"the conversion record of {self.controller.subject_id}",
            None,
            self.username,
            self,
            sign=self.controller.sign_conversion,
            meanings=self.controller.sign_meanings(),
            intro="The investigator confirms the conversion record and the criteria derived "
            "from it. A later change needs a reason and voids the signature.",
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.refresh)
        self.sign_dialog = dialog
        dialog.open()
        return dialog


def _pair(first: QWidget, second: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(first)
    layout.addWidget(second)
    layout.addStretch(1)
    return row
