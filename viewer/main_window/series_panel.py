"""The Series panel: every image series of the open study, with thumbnails; a click opens one.

:class:`SeriesPanelWidget` lists the image series found in the folder (zip,
DICOMDIR) the shown series came from, of the same DICOM patient: a thumbnail of
the middle image, the description, modality, number of images and date (the
series chooser's :func:`describe`).  The folder is scanned in Qt's thread pool
(``library.scan_folder``); clicking a series asks the window to open it
(``open_series(folder, series_uid)``).  The series shown is in bold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from viewer.dialogs.series_chooser import describe, thumbnail_pixmap

#: Thumbnail edge in the panel (smaller than the chooser's: the panel is a narrow dock).
THUMBNAIL_PX = 64


def panel_text(series: Any) -> str:
    """Three short lines: description; modality and images; series number and date."""
    title, details = describe(series).split("\n", 1)
    parts = details.split(" · ")
    return "\n".join((title, " · ".join(parts[:2]), " · ".join(parts[2:]))).rstrip()


_UID = Qt.ItemDataRole.UserRole


class _ScanSignals(QObject):
    done = Signal(str, object)
    failed = Signal(str, object)


class _ScanTask(QRunnable):
    """``library.scan_folder(folder)`` off the GUI thread."""

    def __init__(self, library: Any, folder: str) -> None:
        super().__init__()
        self.library, self.folder, self.signals = library, folder, _ScanSignals()

    def run(self) -> None:
        try:
            found = self.library.scan_folder(self.folder)
        except Exception as exc:  # noqa: BLE001 - shown as the panel's note
            with contextlib.suppress(RuntimeError):  # the panel is gone
                self.signals.failed.emit(self.folder, exc)
            return
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(self.folder, found)


class SeriesPanelWidget(QWidget):
    """The series of the open study.

    Parameters
    ----------
    library : SeriesLibrary
        Scans folders (``scan_folder``).
    open_series : callable
        ``open_series(folder, series_uid)``: the window loads that series.
    parent : QWidget, optional
        Parent widget.

    Signals
    -------
    listed(int)
        The number of series listed after a scan.
    """

    listed = Signal(int)

    def __init__(
        self,
        library: Any,
        open_series: Callable[[str, str], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("seriesPanel")
        self.library, self._open_series = library, open_series
        self.folder: str | None = None
        self._patient_id = ""
        self._shown_uid = ""
        self._pool = QThreadPool(self)
        self._tasks: list[_ScanTask] = []
        self.note = QLabel("Open a folder to list its series.")
        self.note.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("seriesList")
        self.list.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.list.setSpacing(2)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)

    def show_study(self, folder: str | None, volume: Any) -> None:
        """List the series under *folder* of *volume*'s DICOM patient (scanned in a thread)."""
        self._patient_id = str(getattr(volume, "patient_id", "") or "")
        self._shown_uid = str(getattr(volume, "series_instance_uid", "") or "")
        if not folder:
            self._mark_shown()
            return
        if folder == self.folder and self.list.count():
            self._mark_shown()  # the same study: only the bold entry moves
            return
        self.folder = folder
        self.note.setText(f"Looking for series in {folder}…")
        task = _ScanTask(self.library, folder)
        task.signals.done.connect(self._on_scanned)
        task.signals.failed.connect(self._on_failed)
        self._tasks = [task]  # keeps the signals object alive until it reports
        self._pool.start(task)

    def clear(self) -> None:
        """Another patient: list nothing."""
        self.folder, self._shown_uid = None, ""
        self.list.clear()
        self.note.setText("Open a folder to list its series.")

    def wait(self, milliseconds: int = 10000) -> bool:
        """Wait for a scan in progress (tests); True when none is running."""
        return self._pool.waitForDone(milliseconds)

    def _on_scanned(self, folder: str, found: list[Any]) -> None:
        if folder != self.folder:
            return  # an older scan
        series = [
            s
            for s in found
            if not self._patient_id
            or str(getattr(s, "patient_id", "") or "") in ("", self._patient_id)
        ]
        self.list.clear()
        for s in series:
            item = QListWidgetItem(panel_text(s))
            item.setData(_UID, s.series_instance_uid)
            pixmap = thumbnail_pixmap(getattr(s, "thumbnail", None))
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            item.setToolTip(f"{describe(s)}\n{s.series_instance_uid}\nClick to open.")
            self.list.addItem(item)
        n = len(series)
        self.note.setText(f"{n} series in {folder}" if n else f"No image series in {folder}.")
        self._mark_shown()
        self.listed.emit(n)

    def _on_failed(self, folder: str, exc: object) -> None:
        if folder == self.folder:
            self.note.setText(f"Could not list the series of {folder}: {exc}")

    def _mark_shown(self) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            font = QFont(item.font())
            font.setBold(item.data(_UID) == self._shown_uid)
            item.setFont(font)

    def item_of(self, series_uid: str) -> QListWidgetItem | None:
        """The entry of *series_uid*, or None."""
        for i in range(self.list.count()):
            if self.list.item(i).data(_UID) == series_uid:
                return self.list.item(i)
        return None

    def _on_clicked(self, item: QListWidgetItem) -> None:
        uid = str(item.data(_UID) or "")
        if uid and self.folder and uid != self._shown_uid:
            self._open_series(self.folder, uid)
