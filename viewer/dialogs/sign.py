"""Investigator confirmation: username, password and the meaning of the signature.

The meaning is chosen from a fixed list built from the timepoint's response
("I confirm the response PR at C3", "I reviewed and approved the response PR
at C3", ...): no free text, so nothing typed by mistake (a password) can end up
in a signature.  Return in the password field signs.  A wrong password keeps
the dialog open: the error is shown in it, the password field is cleared and
keeps the focus.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

Signer = Callable[[str, str, str], object]


def default_meaning(response: str | None, timepoint_label: str) -> str:
    """The first meaning offered: ``"I confirm the response PR at C6"``."""
    if response:
        return f"I confirm the response {response} at {timepoint_label}"
    return f"I confirm the assessment at {timepoint_label}"


def meaning_choices(response: str | None, timepoint_label: str) -> list[str]:
    """The meanings an investigator can sign with, built from the timepoint's response."""
    what = f"the response {response}" if response else "the assessment"
    return [
        default_meaning(response, timepoint_label),
        f"I reviewed and approved {what} at {timepoint_label}",
        f"I reviewed the measurements and {what} at {timepoint_label} as the responsible "
        "investigator",
    ]


class SignDialog(QDialog):
    """Collect an investigator's credentials and the signature's meaning, and sign.

    Parameters
    ----------
    timepoint_label : str
        The timepoint being signed (shown in the title).
    response : str or None
        Its overall response, used in the meanings offered.
    username : str
        Prefilled username (the logged-in reader when an investigator).
    parent : QWidget, optional
        Parent window.
    sign : callable, optional
        ``sign(username, password, meaning)``, the session call; the dialog
        closes only when it returns, and shows the error it raises otherwise.
        Without it the dialog just collects the values.
    meanings : list of str, optional
        The meanings offered instead of the timepoint ones (e.g. for a patient's
        conversion record); the first is preselected.
    intro : str, optional
        The explanation at the top instead of the timepoint lock text (rich text).
    """

    def __init__(
        self,
        timepoint_label: str,
        response: str | None,
        username: str = "",
        parent: QWidget | None = None,
        *,
        sign: Signer | None = None,
        meanings: list[str] | None = None,
        intro: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signDialog")
        self.setWindowTitle(f"Sign {timepoint_label}")
        self.setMinimumWidth(460)
        self._sign = sign
        self.signature: object = None
        intro_label = QLabel(
            intro
            or f"Signing locks <b>{timepoint_label}</b>. Later changes need an amendment with a "
            "reason, and void the signature."
        )
        intro_label.setWordWrap(True)
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.meaning = QComboBox()
        self.meaning.setObjectName("meaning")
        self.meaning.setEditable(False)
        self.meaning.addItems(meanings or meaning_choices(response, timepoint_label))
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: rgb(220, 60, 60);")
        self.error.hide()
        form = QFormLayout()
        form.addRow("Investigator", self.username)
        form.addRow("Meaning", self.meaning)
        form.addRow("Password", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.sign_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_button.setText("Sign")
        self.sign_button.setDefault(True)  # Return in any field signs
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro_label)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # the meaning is chosen before the password is typed, so Tab never leaves the
        # password for a field that keeps text: username -> meaning -> password -> Sign
        QWidget.setTabOrder(self.username, self.meaning)
        QWidget.setTabOrder(self.meaning, self.password)
        QWidget.setTabOrder(self.password, self.sign_button)
        (self.password if username else self.username).setFocus()

    def values(self) -> tuple[str, str, str]:
        """``(username, password, meaning)`` as entered."""
        return self.username.text().strip(), self.password.text(), self.meaning.currentText()

    def accept(self) -> None:
        """Sign; on failure show why, clear the password and keep it focused."""
        if self._sign is not None:
            username, password, meaning = self.values()
            try:
                self.signature = self._sign(username, password, meaning)
            except Exception as exc:  # noqa: BLE001 - every refusal is shown in the dialog
                self.error.setText(str(exc))
                self.error.show()
                self.password.clear()
                self.password.setFocus()
                return
        super().accept()
