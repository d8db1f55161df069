"""The previous measurement's key slice, shown beside the current series.

When the reader selects a lesion at a follow-up timepoint, this panel shows the
slice on which the lesion was last measured, with that caliper drawn on it and
a caption ("Baseline 2026-01-05 · T1 34.0 mm").  It follows the current
series by patient position: :meth:`PriorSliceWidget.follow` takes the LPS
position of the slice the reader is on and shows the nearest prior slice, so
scrolling one scrolls the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from recist.model import DrawnGeometry
from viewer.image.volume import slice_of
from viewer.style import CALIPER


class PriorSliceWidget(QWidget):
    """A small read-only image view of the prior key slice.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("priorSlice")
        self.caption = QLabel("Select a lesion to see its previous measurement.")
        self.caption.setObjectName("priorCaption")
        self.caption.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#000000")
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self._lines: list[pg.PlotDataItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self._volume: Any = None
        self._geometry: DrawnGeometry | None = None
        self._levels = (30.0 - 75.0, 30.0 + 75.0)
        self.slice_index = -1
        self._key_slice = -1

    @property
    def key_slice(self) -> int:
        """The slice of the prior volume showing the previous measurement's image (-1: none)."""
        return self._key_slice

    @property
    def has_prior(self) -> bool:
        """True while a prior measurement is shown."""
        return self._volume is not None and self._geometry is not None

    def show_prior(
        self,
        volume: Any,
        geometry: DrawnGeometry,
        caption: str,
        window: tuple[float, float] | None = None,
    ) -> None:
        """Show *geometry*'s slice of *volume* with its caliper.

        Parameters
        ----------
        volume : VolumeLike
            The prior timepoint's series (may be the current one).
        geometry : DrawnGeometry
            Where the previous measurement was drawn.
        caption : str
            Text above the image.
        window : tuple of float, optional
            ``(center, width)``; defaults to the liver window.
        """
        key_slice = slice_of(volume, geometry)
        if key_slice is None:  # never show another image in its place
            self.clear(
                f"{caption}: image not available (it is not among the loaded files of its series)"
            )
            return
        self._volume, self._geometry, self._key_slice = volume, geometry, key_slice
        if window is not None:
            center, width = window
            self._levels = (center - width / 2.0, center + width / 2.0)
        self.caption.setText(caption)
        self._show_slice(key_slice)
        self.view.autoRange(padding=0.0)
        self._zoom_to_caliper()

    def clear(self, message: str = "Select a lesion to see its previous measurement.") -> None:
        """Show no image, only *message*."""
        self._volume, self._geometry, self.slice_index, self._key_slice = None, None, -1, -1
        self.image.clear()
        self._set_lines([])
        self.caption.setText(message)

    def follow(self, position_lps_mm: tuple[float, float, float]) -> None:
        """Show the prior slice nearest the patient position *position_lps_mm*."""
        if not self.has_prior or not hasattr(self._volume, "lps_to_index"):
            return
        slice_f = self._volume.lps_to_index(*position_lps_mm)[0]
        count = int(np.asarray(self._volume.voxels).shape[0])
        self._show_slice(int(min(max(round(slice_f), 0), count - 1)))

    def _show_slice(self, index: int) -> None:
        self.slice_index = index
        self.image.setImage(
            np.asarray(self._volume.voxels[index]), levels=self._levels, autoLevels=False
        )
        on_key_slice = self._geometry is not None and index == self._key_slice
        segments = []
        if on_key_slice and self._geometry is not None:
            segments = [
                s for s in (self._geometry.long_axis, self._geometry.short_axis) if s is not None
            ]
        self._set_lines(segments)

    def _set_lines(self, segments: list[Any]) -> None:
        for line in self._lines:
            self.view.removeItem(line)
        self._lines = []
        for segment in segments:
            xs = [segment.start_px[0], segment.end_px[0]]
            ys = [segment.start_px[1], segment.end_px[1]]
            line = pg.PlotDataItem(
                xs,
                ys,
                pen=pg.mkPen(CALIPER, width=2),
                symbol="+",
                symbolSize=8,
                symbolPen=pg.mkPen(CALIPER),
            )
            self.view.addItem(line)
            self._lines.append(line)

    def _zoom_to_caliper(self) -> None:
        """Centre on the caliper with some anatomy around it."""
        if self._geometry is None:
            return
        seg = self._geometry.long_axis
        cx = (seg.start_px[0] + seg.end_px[0]) / 2.0
        cy = (seg.start_px[1] + seg.end_px[1]) / 2.0
        half = (
            max(abs(seg.end_px[0] - seg.start_px[0]), abs(seg.end_px[1] - seg.start_px[1]), 40.0)
            * 2.0
        )
        self.view.setRange(
            xRange=(cx - half, cx + half), yRange=(cy - half, cy + half), padding=0.0
        )
