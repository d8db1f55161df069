"""Admin → Readers…: list readers, add readers and investigators, reset passwords.

The dialog is handed an ``app.readers.ReaderAdminController`` (duck-typed: the
viewer never imports storage) with ``readers()``, ``roles``, ``add_reader(...)``,
``reset_password(...)`` and ``set_active(...)``.  Each button makes one call;
a refusal is shown in the dialog (its message says what to do) and nothing is
lost of what was typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

_COLUMNS = ("Username", "Name", "Role", "State")


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class ReadersDialog(QDialog):
    """The readers of the database, for an administrator.

    Parameters
    ----------
    controller : app.readers.ReaderAdminController
        Lists and changes readers as the admin logged in.
    parent : QWidget, optional
        Parent window.
    """

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readersDialog")
        self.setWindowTitle("Readers")
        self.resize(760, 620)
        self.controller = controller
        self._entries: list[Any] = []
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("readersTable")
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.message = QLabel("")
        self.message.setObjectName("readersMessage")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._build_add_box())
        layout.addWidget(self._build_selected_box())
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh()

    # -- construction ------------------------------------------------------------------
    def _build_add_box(self) -> QGroupBox:
        box = QGroupBox("Add a reader")
        self.new_username = QLineEdit()
        self.new_username.setObjectName("newUsername")
        self.new_name = QLineEdit()
        self.new_name.setObjectName("newFullName")
        self.new_name.setPlaceholderText("printed on signatures, e.g. Dr Ivan Investigator")
        self.new_role = QComboBox()
        self.new_role.setObjectName("newRole")
        self.new_role.addItems(list(self.controller.roles))
        self.new_role.setToolTip(
            "reader: measures · investigator: measures and signs · "
            "admin: manages readers, does not sign"
        )
        self.new_password = _password_field("newPassword")
        self.new_repeat = _password_field("newRepeat")
        self.add_button = QPushButton("Add reader")
        self.add_button.setObjectName("addReader")
        self.add_button.clicked.connect(self._on_add)
        form = QFormLayout(box)
        form.addRow("Username", self.new_username)
        form.addRow("Full name", self.new_name)
        form.addRow("Role", self.new_role)
        form.addRow("First password", self.new_password)
        form.addRow("Password again", self.new_repeat)
        form.addRow("", self.add_button)
        return box

    def _build_selected_box(self) -> QGroupBox:
        box = QGroupBox("Selected reader")
        self.reset_password = _password_field("resetPassword")
        self.reset_password.setPlaceholderText("temporary password")
        self.reset_repeat = _password_field("resetRepeat")
        self.reset_repeat.setPlaceholderText("again")
        self.reset_button = QPushButton("Reset password")
        self.reset_button.setObjectName("resetPasswordButton")
        self.reset_button.setToolTip(
            "The reader logs in with it once and must then choose a new one."
        )
        self.reset_button.clicked.connect(self._on_reset)
        self.active_button = QPushButton("Deactivate")
        self.active_button.setObjectName("toggleActive")
        self.active_button.clicked.connect(self._on_toggle_active)
        row = QHBoxLayout(box)
        row.addWidget(self.reset_password)
        row.addWidget(self.reset_repeat)
        row.addWidget(self.reset_button)
        row.addSpacing(24)
        row.addWidget(self.active_button)
        return box

    # -- state -------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Reload the list (keeping or moving the selection to *select*)."""
        select = select or self.selected_username()
        self._entries = self.controller.readers()
        self.table.setRowCount(len(self._entries))
        for row, entry in enumerate(self._entries):
            for column, text in enumerate(
                (entry.username, entry.full_name, entry.role, entry.state)
            ):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if entry.username == select:
                self.table.selectRow(row)
        self.table.resizeColumnToContents(0)
        self._on_selection_changed()

    def selected_username(self) -> str | None:
        """The username of the selected row, or None."""
        rows = [index.row() for index in self.table.selectionModel().selectedRows()]
        return self._entries[rows[0]].username if rows and rows[0] < len(self._entries) else None

    def select_reader(self, username: str) -> None:
        """Select *username*'s row (as a click would)."""
        for row, entry in enumerate(self._entries):
            if entry.username == username:
                self.table.selectRow(row)

    def _selected_entry(self) -> Any:
        username = self.selected_username()
        return next((e for e in self._entries if e.username == username), None)

    def _on_selection_changed(self) -> None:
        entry = self._selected_entry()
        editable = entry is not None and not entry.is_system
        for widget in (
            self.reset_password,
            self.reset_repeat,
            self.reset_button,
            self.active_button,
        ):
            widget.setEnabled(editable)
        self.active_button.setText(
            "Activate" if entry is not None and not entry.active else "Deactivate"
        )

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {'#e5534b' if error else '#57ab5a'};")
        self.message.setText(text)

    # -- buttons → controller (one call each) -----------------------------------------
    def _on_add(self) -> None:
        try:
            reader = self.controller.add_reader(
                self.new_username.text(),
                self.new_name.text(),
                self.new_role.currentText(),
                self.new_password.text(),
                self.new_repeat.text(),
            )
        except Exception as exc:  # the controller's message says what to do
            self._say(str(exc), error=True)
            return
        for field in (self.new_username, self.new_name, self.new_password, self.new_repeat):
            field.clear()
        self.refresh(select=reader.username)
        self._say(f"Added {reader.full_name} ({reader.username}) as {reader.role.value}.")

    def _on_reset(self) -> None:
        username = self.selected_username()
        if username is None:
            self._say("Select a reader in the list first.", error=True)
            return
        try:
            self.controller.reset_password(
                username, self.reset_password.text(), self.reset_repeat.text()
            )
        except Exception as exc:  # the controller's message says what to do
            self._say(str(exc), error=True)
            return
        self.reset_password.clear()
        self.reset_repeat.clear()
        self.refresh(select=username)
        self._say(
            f"Password of {username} reset. Give them the temporary password; "
            "they choose a new one when they next log in."
        )

    def _on_toggle_active(self) -> None:
        entry = self._selected_entry()
        if entry is None:
            self._say("Select a reader in the list first.", error=True)
            return
        try:
            self.controller.set_active(entry.username, not entry.active)
        except Exception as exc:  # the controller's message says what to do
            self._say(str(exc), error=True)
            return
        self.refresh(select=entry.username)
        self._say(f"{entry.username} is now {'active' if not entry.active else 'inactive'}.")
