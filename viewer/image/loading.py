"""Loading a series off the GUI thread, with progress for the status bar.

The viewer does not know how series are found or read: the composition root
(``app/main.py``) hands the main window a *series library* object with

``open_folder(path, on_progress) -> volume``
    scan a folder (zip, DICOMDIR...) and load its image series;
``volume(series_instance_uid) -> volume | None``
    a series opened before (cached, or re-read from where it was found).

:class:`SeriesLoadTask` runs ``open_folder`` in Qt's thread pool and reports
back through queued signals.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, Signal


class SeriesLibrary(Protocol):
    """What the main window needs to open and re-open series (duck-typed)."""

    def open_folder(self, path: str, on_progress: Any = None) -> Any:
        """Scan *path* and load its image series; report ``on_progress(done, total)``."""
        ...

    def volume(self, series_instance_uid: str) -> Any:
        """A series opened before, or None if Caliper does not know where it is."""
        ...


class _TaskSignals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)


class SeriesLoadTask(QRunnable):
    """Run ``library.open_folder(path)`` in a worker thread.

    Parameters
    ----------
    library : SeriesLibrary
        Does the reading.
    path : str
        Folder, zip, DICOMDIR or file.

    Attributes
    ----------
    signals : QObject
        ``progress(done, total)``, ``finished(volume)``, ``failed(exception)``,
        delivered on the GUI thread.
    """

    def __init__(self, library: SeriesLibrary, path: str) -> None:
        super().__init__()
        self.library = library
        self.path = path
        self.signals = _TaskSignals()

    def run(self) -> None:
        """Load; emit ``finished`` or ``failed``."""
        try:
            volume = self.library.open_folder(self.path, on_progress=self.signals.progress.emit)
        except Exception as exc:  # reported on the GUI thread by the window
            self.signals.failed.emit(exc)
            return
        self.signals.finished.emit(volume)
