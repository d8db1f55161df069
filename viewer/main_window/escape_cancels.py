"""One Esc for the segmentations running off the GUI thread (issue 16).

The Smart caliper (``viewer.main_window.smart_caliper``) and the liver volumetry
(``viewer.main_window.volumetry``) each cancel their segmentation with Esc: an action of their
Cancel button, on while the button shows.  With both running, two actions had Esc at once;
Qt calls that an ambiguous shortcut and triggers neither, so Esc cancelled nothing.

:class:`EscapeCancels` gives Esc to one of them at a time: the one started last (whose Cancel
button shows; the liver's is in its dock).  Once it is cancelled, or has finished, Esc goes to
the other one; the status bar says which was cancelled and that Esc cancels the other one
next.  With nothing running no action has Esc: the image keeps it (it cancels a caliper
being drawn).

A segmentation is running while its Cancel button is not hidden (``show()`` when it starts,
``hide()`` when it ends, is cancelled or is replaced by a new click): the button's
``ShowToParent`` / ``HideToParent`` events say so, also while the dock holding it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMainWindow

#: The key that cancels.
CANCEL_KEY = QKeySequence(Qt.Key.Key_Escape)

_EVENTS = (
    QEvent.Type.ShowToParent,
    QEvent.Type.HideToParent,
    QEvent.Type.Show,
    QEvent.Type.Hide,
)


@dataclass(frozen=True)
class _Cancel:
    key: QAction
    button: QAbstractButton
    name: str  # "the liver segmentation"


class EscapeCancels(QObject):
    """Esc cancels the segmentation started last, then the other (see the module).

    Parameters
    ----------
    window : QMainWindow
        Its status bar says what Esc does next after a cancel.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._all: list[_Cancel] = []
        self._running: list[_Cancel] = []  # in the order they started, the last one last
        self.last_message = ""

    def add(self, key: QAction, button: QAbstractButton, name: str) -> None:
        """Manage ``key`` (the Esc action of ``button``, a Cancel button shown while its
        segmentation runs); ``name`` says what it cancels ("the liver segmentation")."""
        entry = _Cancel(key, button, name)
        self._all.append(entry)
        button.installEventFilter(self)
        # after the owner's own slots (connected when they were made): say what is left
        key.triggered.connect(lambda *_: self._after_cancel(entry))
        button.clicked.connect(lambda *_: self._after_cancel(entry))
        self._update()

    def running(self) -> list[str]:
        """Names of the segmentations running, the one started last last."""
        return [c.name for c in self._running]

    def active(self) -> QAction | None:
        """The action Esc triggers now, or None (the image has Esc)."""
        return next((c.key for c in self._all if not c.key.shortcut().isEmpty()), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in _EVENTS and any(c.button is watched for c in self._all):
            self._update()
        return False

    def _update(self) -> None:
        """Follow which segmentations run; Esc to the last started one that can be seen."""
        self._running = [c for c in self._running if not c.button.isHidden()]
        for c in self._all:
            if not c.button.isHidden() and all(r is not c for r in self._running):
                self._running.append(c)  # started (or restarted by a new click)
        shown = [c for c in self._running if c.button.isVisible()]
        esc = shown[-1] if shown else None
        for c in self._all:
            want = CANCEL_KEY if c is esc else QKeySequence()
            if c.key.shortcut() != want:
                c.key.setShortcut(want)

    def _after_cancel(self, cancelled: _Cancel) -> None:
        """Esc cancelled one segmentation: say so, and what Esc cancels now."""
        self._update()
        if not self._running or any(c is cancelled for c in self._running):
            return  # nothing else runs (the owner said "cancelled"), or it was not cancelled
        bar = self.window.statusBar()
        said = bar.currentMessage().strip()
        nxt = self._running[-1]
        text = f"{said} " if said else f"Cancelled {cancelled.name}. "
        text += f"{nxt.name[0].upper()}{nxt.name[1:]} still runs: Esc cancels it."
        self.last_message = text
        bar.showMessage(text, 15000)
