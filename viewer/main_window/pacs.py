"""The main window's "Find on PACS…": search a PACS, retrieve a series, open it.

A behaviour class (STYLE §8) mixed into :class:`viewer.main_window.window.MainWindow`.
The window is handed a Qt-free PACS controller (``app.pacs.controller.PacsController``,
duck-typed: the viewer never imports storage); a retrieved series is opened
like a folder, so it is loaded and attached to the current timepoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from viewer.dialogs.pacs import FindOnPacsDialog

NO_PACS_TIP = "No PACS configured: add one with 'caliper pacs add' (then reopen the File menu)."


class PacsActions:
    """The "Find on PACS…" action for :class:`~viewer.main_window.window.MainWindow`."""

    pacs_controller: Any
    find_on_pacs_action: QAction

    if TYPE_CHECKING:
        def open_folder(self, path: str) -> Any: ...  # MainWindow's

    def update_pacs_action(self) -> None:
        """Enable "Find on PACS…" only when a PACS node is configured; say why in the tool tip."""
        controller = self.pacs_controller
        names = list(controller.node_names()) if controller is not None else []
        self.find_on_pacs_action.setEnabled(bool(names))
        if names:
            tip = f"Search {', '.join(names)} for a study and retrieve a series (Ctrl+Shift+O)"
        elif controller is None:
            tip = "PACS access is not available in this window."
        else:
            tip = NO_PACS_TIP
        self.find_on_pacs_action.setToolTip(tip)
        self.find_on_pacs_action.setStatusTip(tip)

    def _on_find_on_pacs(self) -> FindOnPacsDialog:
        dialog = FindOnPacsDialog(self.pacs_controller, self)  # type: ignore[arg-type]
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.series_retrieved.connect(self.open_folder)
        dialog.open()
        return dialog
