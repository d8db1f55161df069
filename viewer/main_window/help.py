"""The Help menu: Keyboard shortcuts… and About Caliper….

The list of shortcuts is generated when it is opened, from the window's own
``QAction`` objects (every action with a shortcut, whatever module built it)
and the image view's keys (:data:`viewer.image.keys.SLICE_STEPS`,
:data:`~viewer.image.keys.DELETE_KEYS`) and the lesion table's
(:data:`viewer.lesions.table_view.TABLE_KEYS`), so it cannot go stale.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenuBar,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.image.keys import DELETE_KEYS, SLICE_STEPS
from viewer.main_window.actions import make_action


def _key_name(key: int) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def image_keys() -> list[tuple[str, str]]:
    """The image view's own keys: (key, what it does)."""
    back = [_key_name(k) for k, step in SLICE_STEPS.items() if step < 0]
    forward = [_key_name(k) for k, step in SLICE_STEPS.items() if step > 0]
    return [
        (" / ".join(back), "Previous slice (image)"),
        (" / ".join(forward), "Next slice (image)"),
        ("Home / End", "First / last slice (image)"),
        (" / ".join(_key_name(k) for k in DELETE_KEYS), "Delete the selected caliper (image)"),
        ("Esc", "Cancel the caliper being drawn (image)"),
        ("Double-click", "Whole image / fit to the body (image)"),
    ]


def table_keys() -> list[tuple[str, str]]:
    """The lesion table's own keys (imported when the list is opened: the table is a dock
    module, built after the window shows)."""
    from viewer.lesions.table_view import TABLE_KEYS

    return list(TABLE_KEYS)


def action_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """Every shortcut of *window*'s actions: (keys, action text), sorted by text."""
    rows = []
    seen: set[int] = set()
    for action in window.findChildren(QAction):
        if id(action) in seen or not action.shortcuts():
            continue
        seen.add(id(action))
        keys = ", ".join(
            s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
        )
        text = action.text().replace("&", "").rstrip("…").strip() or action.objectName()
        rows.append((keys, text))
    return sorted(rows, key=lambda r: r[1].lower())


class ShortcutsDialog(QDialog):
    """A table of every keyboard shortcut of the window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        rows = action_shortcuts(window) + image_keys() + table_keys()
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, (keys, text) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(keys))
            self.table.setItem(i, 1, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 620)

    def rows(self) -> list[tuple[str, str]]:
        """The table's rows (for tests)."""
        cells = [
            (self.table.item(i, 0), self.table.item(i, 1)) for i in range(self.table.rowCount())
        ]
        return [(k.text(), t.text()) for k, t in cells if k is not None and t is not None]


class HelpMenu:
    """Help → Keyboard shortcuts… (F1) and About Caliper…."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.dialog: ShortcutsDialog | None = None
        self.shortcuts_action = make_action(
            window, "Keyboard shortcuts…", self.show_shortcuts, "F1", "shortcuts"
        )
        self.about_action = make_action(window, "About Caliper…", self.show_about, None, "about")

    def add_menu(self, menus: QMenuBar) -> None:
        """Add the Help menu (last) to *menus*."""
        menu = menus.addMenu("&Help")
        menu.addAction(self.shortcuts_action)
        menu.addAction(self.about_action)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Open the list of shortcuts (non-blocking); return it."""
        self.dialog = ShortcutsDialog(self.window)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.open()
        return self.dialog

    def show_about(self) -> QMessageBox:
        """The About box (non-blocking): version, and the demo study's licence and attribution."""
        from viewer.dialogs.about import show_about

        return show_about(self.window)
