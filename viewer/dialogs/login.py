"""Log in: choose a reader and type the password.

The dialog does not know how passwords are checked: it is given an
``authenticate(username, password)`` callable (from ``app/main.py``) that
returns the reader or raises; a failure is shown in the dialog, which stays
open for another try.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from viewer.dialogs.record_fields import error_label


class LoginDialog(QDialog):
    """Ask for a username and password until ``authenticate`` accepts them.

    Parameters
    ----------
    usernames : sequence of str
        Known readers, offered in an editable list.
    authenticate : callable
        ``authenticate(username, password) -> Reader``; raises on failure.
    parent : QWidget, optional
        Parent window.

    Attributes
    ----------
    reader : object or None
        The authenticated reader once the dialog is accepted.
    """

    def __init__(
        self,
        usernames: Sequence[str],
        authenticate: Callable[[str, str], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("Caliper — log in")
        self.setMinimumWidth(360)
        self._authenticate = authenticate
        self.reader: Any = None
        self.username = QComboBox()
        self.username.setObjectName("username")
        self.username.setEditable(True)
        self.username.addItems(list(usernames))
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label("loginError", hidden=False)
        form = QFormLayout()
        form.addRow("Reader", self.username)
        form.addRow("Password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        buttons.accepted.connect(self._on_log_in)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.password.setFocus()

    def _on_log_in(self) -> None:
        try:
            self.reader = self._authenticate(
                self.username.currentText().strip(), self.password.text()
            )
        except Exception as exc:  # wrong password etc.: say so and let the reader retry
            self.error.setText(str(exc) or "Wrong username or password.")
            self.password.clear()
            self.adjustSize()  # the wrapped message in full, not cut to the dialog's first height
            return
        self.accept()
