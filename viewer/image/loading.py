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

import threading
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


class LoadCancelledError(Exception):
    """Raised from the progress callback once the load was cancelled, to stop the reading."""


class _TaskSignals(QObject):
    progress = Signal(int, int)
    choose = Signal(object)
    finished = Signal(object)
    failed = Signal(object)


class SeriesLoadTask(QRunnable):
    """Run ``library.open_folder(path)`` in a worker thread; :meth:`cancel` stops it.

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
        ``failed(exception)``, delivered on the GUI thread; none is emitted once
        the task is cancelled.

    Notes
    -----
    Quitting while a series loads must neither wait for the whole series nor
    emit into a window being torn down.  :meth:`cancel` (from the GUI thread)
    and every emission (from the worker) take one lock, so after ``cancel()``
    returns the task emits nothing; the next progress report raises
    :class:`LoadCancelledError` inside the loader, which stops reading.
    """

    def __init__(self, library: SeriesLibrary, path: str, series_uid: str | None = None) -> None:
        super().__init__()
        self.library = library
        self.path = path
        self.series_uid = series_uid
        self.signals = _TaskSignals()
        self._lock = threading.Lock()
        self._cancelled = False
        self._done = threading.Event()

    def cancel(self) -> None:
        """Stop the load at its next progress report; emit nothing from now on."""
        with self._lock:
            self._cancelled = True

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    @property
    def is_done(self) -> bool:
        """True once :meth:`run` has returned (loaded, failed or cancelled)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` has returned; False if still running after *timeout* s."""
        return self._done.wait(timeout)

    def _emit(self, signal: Any, *args: Any) -> bool:
        """Emit unless cancelled; False if cancelled (or the receiver side is gone)."""
        with self._lock:
            if self._cancelled:
                return False
            try:
                signal.emit(*args)
            except RuntimeError:  # the signals object was deleted under us: nobody listens
                self._cancelled = True
                return False
            return True

    def _on_progress(self, done: int, total: int) -> None:
        if not self._emit(self.signals.progress, done, total):
            raise LoadCancelledError(f"loading {self.path} was cancelled")

    def run(self) -> None:
        """Load; emit ``finished`` or ``failed`` (nothing if cancelled)."""
        try:
            self._load()
        finally:
            self._done.set()

    def _load(self) -> None:
        try:
            uid = self.series_uid
            if uid is None and hasattr(self.library, "scan_folder"):
                found = self.library.scan_folder(self.path)
                if len(found) > 1:  # the reader chooses; no series is opened silently
                    self._emit(self.signals.choose, found)
                    return
                uid = found[0].series_instance_uid if found else None
            chosen = {"series_uid": uid} if uid is not None else {}
            volume = self.library.open_folder(self.path, on_progress=self._on_progress, **chosen)
        except Exception as exc:  # reported on the GUI thread by the window
            if not self._cancelled:
                self._emit(self.signals.failed, exc)
            return
        if self._cancelled and hasattr(volume, "cancel"):
            volume.cancel()  # a background fill still running stops too
        self._emit(self.signals.finished, volume)
