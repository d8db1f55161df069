"""Choose a new password: after an administrator reset it, at the next log-in.

Given a ``change(new_password, repeat) -> Reader`` callable (from ``app/main.py``)
that raises with a message; the message is shown and the dialog stays open.
"""

from __future__ import annotations

from collections.abc import Callable
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

from viewer.dialogs.record_fields import error_label


class NewPasswordDialog(QDialog):
    """Ask *username* for a new password, typed twice.

    Attributes
    ----------
    reader : object or None
        The reader, once the new password is stored.
    """

    def __init__(
        self, username: str, change: Callable[[str, str], Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newPasswordDialog")
        self.setWindowTitle("Caliper — choose a new password")
        self.setMinimumWidth(420)
        self._change = change
        self.reader: Any = None
        intro = QLabel(
            f"An administrator reset the password of <b>{username}</b>. "
            "Choose your own password to continue; nobody else will know it."
        )
        intro.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("newPassword")
        self.repeat = QLineEdit()
        self.repeat.setObjectName("repeatPassword")
        for field in (self.password, self.repeat):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label("newPasswordError", hidden=False)
        form = QFormLayout()
        form.addRow("New password", self.password)
        form.addRow("New password again", self.repeat)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save and log in")
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.password.setFocus()

    def _on_save(self) -> None:
        if self.password.text() != self.repeat.text():
            self.error.setText("The two passwords differ; type the same password twice.")
            return
        try:
            self.reader = self._change(self.password.text(), self.repeat.text())
        except Exception as exc:  # e.g. the same password as before: say so, stay open
            self.error.setText(str(exc))
            return
        self.accept()
