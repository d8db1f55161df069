"""Loading a series off the GUI thread, with progress for the status bar.

The viewer does not know how series are found or read: the composition root
(``app/main.py``) hands the main window a *series library* object with

``scan_folder(path) -> list of series``
    the image series under a folder (zip, DICOMDIR...), each with
    ``series_instance_uid, series_description, modality, n_images`` and a
    ``thumbnail`` (2-D array of its middle image, or None);
``open_folder(path, on_progress, series_uid=None) -> volume``
    load one image series of it;
``volume(series_instance_uid, sop_instance_uids=()) -> volume | None``
    a series opened before (cached, or re-read from where it was found),
    preferring the instance set that holds the given images.

:class:`SeriesLoadTask` scans and loads in Qt's thread pool and reports
back through queued signals; when a source holds several series it stops
after the scan and asks (``choose``) which one to load.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, Signal


class SeriesLibrary(Protocol):
    """What the main window needs to open and re-open series (duck-typed)."""

    def scan_folder(self, path: str) -> list[Any]:
        """The image series under *path* (for the series chooser)."""
        ...

    def open_folder(self, path: str, on_progress: Any = None, series_uid: str | None = None) -> Any:
        """Load the image series *series_uid* of *path*; report ``on_progress(done, total)``."""
        ...

    def volume(self, series_instance_uid: str, sop_instance_uids: Any = ()) -> Any:
        """A series opened before (the instance set holding *sop_instance_uids*), or None."""
        ...


class _TaskSignals(QObject):
    progress = Signal(int, int)
    choose = Signal(object)
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
    series_uid : str, optional
        The series to load; None scans first and, when *path* holds more than
        one image series, emits ``choose`` instead of loading.

    Attributes
    ----------
    signals : QObject
        ``progress(done, total)``, ``choose(list of series)``, ``finished(volume)``,
        ``failed(exception)``, delivered on the GUI thread.
    """

    def __init__(self, library: SeriesLibrary, path: str, series_uid: str | None = None) -> None:
        super().__init__()
        self.library = library
        self.path = path
        self.series_uid = series_uid
        self.signals = _TaskSignals()

    def run(self) -> None:
        """Scan, then load or ask which series; emit ``choose``, ``finished`` or ``failed``."""
        try:
            uid = self.series_uid
            if uid is None and hasattr(self.library, "scan_folder"):
                found = self.library.scan_folder(self.path)
                if len(found) > 1:  # the reader chooses; no series is opened silently
                    self.signals.choose.emit(found)
                    return
                uid = found[0].series_instance_uid if found else None
            chosen = {"series_uid": uid} if uid is not None else {}
            volume = self.library.open_folder(
                self.path, on_progress=self.signals.progress.emit, **chosen)
        except Exception as exc:  # reported on the GUI thread by the window
            self.signals.failed.emit(exc)
            return
        self.signals.finished.emit(volume)
