"""The first start of a new database: who is its first administrator?

The dialog does not create anyone itself: it is given a
``create(username, full_name, password, repeat) -> Reader`` callable (from
``app/main.py``, i.e. :func:`app.readers.create_first_admin`) that raises with a
message saying what to fix; the message is shown and the dialog stays open.
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

INTRO = (
    "<b>Caliper has no administrator yet.</b><br>"
    "The first administrator adds readers and investigators (Admin → Readers…) and resets "
    "their passwords. Investigators sign responses; an administrator does not.<br><br>"
    "Scripts use the reader <code>system</code>, e.g. "
    '<code>caliper reader add --username U --name "Full Name" --role investigator '
    "--as system</code>."
)


class FirstAdminDialog(QDialog):
    """Ask for the first administrator: full name, username and a password typed twice.

    Parameters
    ----------
    create : callable
        ``create(username, full_name, password, repeat) -> Reader``; raises on a problem.
    parent : QWidget, optional
        Parent window.

    Attributes
    ----------
    reader : object or None
        The administrator created, once the dialog is accepted.
    """

    def __init__(
        self, create: Callable[[str, str, str, str], Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("firstAdminDialog")
        self.setWindowTitle("Caliper — first administrator")
        self.setMinimumWidth(480)
        self._create = create
        self.reader: Any = None
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.full_name = QLineEdit()
        self.full_name.setObjectName("fullName")
        self.full_name.setPlaceholderText("e.g. Dr Ada Admin")
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.repeat = QLineEdit()
        self.repeat.setObjectName("repeat")
        for field in (self.password, self.repeat):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label("firstAdminError", hidden=False)
        form = QFormLayout()
        form.addRow("Full name", self.full_name)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.repeat)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create administrator")
        self.create_button.setObjectName("createAdmin")
        buttons.accepted.connect(self._on_create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.full_name.setFocus()

    def _on_create(self) -> None:
        try:
            self.reader = self._create(
                self.username.text(),
                self.full_name.text(),
                self.password.text(),
                self.repeat.text(),
            )
        except Exception as exc:  # a message that says what to fix; the dialog stays open
            self.error.setText(str(exc))
            return
        self.accept()
