"""Investigator confirmation: username, password and the meaning of the signature.

The meaning is prefilled ("I confirm the response PR at C6") and stays
editable; the dialog only collects the three values, the session checks the
password and the role and stores the signature.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


def default_meaning(response: str | None, timepoint_label: str) -> str:
    """The prefilled meaning: ``"I confirm the response PR at C6"``."""
    if response:
        return f"I confirm the response {response} at {timepoint_label}"
    return f"I confirm the assessment at {timepoint_label}"


class SignDialog(QDialog):
    """Collect an investigator's credentials and the signature's meaning.

    Parameters
    ----------
    timepoint_label : str
        The timepoint being signed (shown in the title).
    response : str or None
        Its overall response, used in the prefilled meaning.
    username : str
        Prefilled username (the logged-in reader when an investigator).
    parent : QWidget, optional
        Parent window.
    """

    def __init__(
        self,
        timepoint_label: str,
        response: str | None,
        username: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signDialog")
        self.setWindowTitle(f"Sign {timepoint_label}")
        self.setMinimumWidth(420)
        intro = QLabel(
            f"Signing locks <b>{timepoint_label}</b>. Later changes need an amendment with a "
            "reason, and void the signature."
        )
        intro.setWordWrap(True)
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.meaning = QPlainTextEdit(default_meaning(response, timepoint_label))
        self.meaning.setObjectName("meaning")
        self.meaning.setFixedHeight(60)
        form = QFormLayout()
        form.addRow("Investigator", self.username)
        form.addRow("Password", self.password)
        form.addRow("Meaning", self.meaning)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        (self.password if username else self.username).setFocus()

    def values(self) -> tuple[str, str, str]:
        """``(username, password, meaning)`` as typed."""
        return (
            self.username.text().strip(),
            self.password.text(),
            self.meaning.toPlainText().strip(),
        )
