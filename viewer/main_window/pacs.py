"""The main window's "Find on PACS…": search a PACS, retrieve a series, open it.

:class:`PacsActions` is a collaborator that :class:`viewer.main_window.window.MainWindow`
owns: it builds the action and opens the dialog.  It is handed a Qt-free PACS
controller (``app.pacs.controller.PacsController``, duck-typed: the viewer never
imports storage); a retrieved series is opened like a folder, so it is loaded
and attached to the current timepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from viewer.dialogs.pacs import FindOnPacsDialog
from viewer.main_window.actions import make_action

NO_PACS_TIP = "No PACS configured: add one with 'caliper pacs add' (then reopen the File menu)."


class PacsActions:
    """The "Find on PACS…" action of the main window.

    Parameters
    ----------
    window : QWidget
        Parent of the action and of the dialog.
    controller : app.pacs.controller.PacsController or None
        None disables the action.
    open_folder : callable
        ``open_folder(path)``: loads a retrieved series like a folder.
    """

    def __init__(self, window: QWidget, controller: Any, open_folder: Callable[[str], Any]) -> None:
        self.window, self.controller, self._open_folder = window, controller, open_folder
        self.find_on_pacs_action = make_action(
            window, "Find on PACS…", self.open_dialog, "Ctrl+Shift+O", "findOnPacs"
        )

    def update_action(self) -> None:
        """Enable "Find on PACS…" only when a PACS node is configured; say why in the tool tip."""
        controller = self.controller
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

    def open_dialog(self) -> FindOnPacsDialog:
        """Open the Find on PACS dialog (non-blocking); a retrieved series is opened."""
        dialog = FindOnPacsDialog(self.controller, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.series_retrieved.connect(self._open_folder)
        dialog.open()
        return dialog
