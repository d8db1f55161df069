"""Choose which image series of a folder, zip, DICOMDIR or PACS retrieve to open.

Shown whenever a source holds more than one image series, so that no series
is opened silently in place of another.  Each row shows a thumbnail of the
series' middle image, its description, modality, number of images, series
number and date; double-click or Return opens the highlighted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: Thumbnail edge in pixels.
THUMBNAIL_PX = 96


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else text


def describe(series: Any) -> str:
    """Two lines for one series: description, then modality, images, number and date."""
    title = str(getattr(series, "series_description", "") or "").strip() or "(no description)"
    n = int(getattr(series, "n_images", 0) or 0)
    details = [str(getattr(series, "modality", "") or "?"), f"{n} image{'s' if n != 1 else ''}"]
    number = getattr(series, "series_number", None)
    if number is not None:
        details.append(f"series {number}")
    when = _date(str(getattr(series, "study_date", "") or ""))
    if when:
        details.append(when)
    return f"{title}\n{' · '.join(details)}"


def thumbnail_pixmap(pixels: Any, size: int = THUMBNAIL_PX) -> QPixmap | None:
    """A grey-scale pixmap of a 2-D array (1st–99th percentile window); None without pixels."""
    if pixels is None:
        return None
    data = np.asarray(pixels, dtype=np.float32)
    if data.ndim != 2 or data.size == 0:
        return None
    low, high = np.percentile(data, (1.0, 99.0))
    scaled = np.clip((data - low) / max(float(high - low), 1e-6) * 255.0, 0, 255).astype(np.uint8)
    scaled = np.ascontiguousarray(scaled)
    rows, cols = scaled.shape
    image = QImage(scaled.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class SeriesChooserDialog(QDialog):
    """List the image series of one source; the reader picks the one to open.

    Parameters
    ----------
    source : str
        The folder, archive, DICOMDIR or retrieve the series come from (shown).
    series : sequence
        Objects with ``series_instance_uid``, ``series_description``,
        ``modality``, ``n_images`` and optionally ``series_number``,
        ``study_date`` and ``thumbnail`` (2-D array of the middle image).
    parent : QWidget, optional
        Parent window.

    Attributes
    ----------
    chosen_uid : str or None
        The Series Instance UID chosen, once accepted.
    """

    def __init__(self, source: str, series: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seriesChooserDialog")
        self.setWindowTitle("Choose a series")
        self.chosen_uid: str | None = None
        self._series = list(series)
        intro = QLabel(
            f"{source} holds {len(self._series)} image series. Choose the one to open; "
            "you can open the others later the same way."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("seriesList")
        self.list.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.list.setSpacing(2)
        for entry in self._series:
            item = QListWidgetItem(describe(entry))
            item.setData(Qt.ItemDataRole.UserRole, str(entry.series_instance_uid))
            item.setToolTip(f"Series Instance UID {entry.series_instance_uid}")
            pixmap = thumbnail_pixmap(getattr(entry, "thumbnail", None))
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            self.list.addItem(item)
        largest = max(range(len(self._series)), key=lambda i: self._series[i].n_images, default=0)
        self.list.setCurrentRow(largest)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(560, min(140 + 110 * len(self._series), 640))

    def accept(self) -> None:
        """Remember the highlighted series and close."""
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen_uid = str(item.data(Qt.ItemDataRole.UserRole))
        super().accept()

    def choose(self, series_instance_uid: str) -> None:
        """Highlight the series with this UID (for keyboard-free use and tests)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == series_instance_uid:
                self.list.setCurrentRow(row)
                return
        raise KeyError(f"no series {series_instance_uid} in this source")
