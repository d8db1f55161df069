"""The slice image item: pyqtgraph's ImageItem with bilinear magnification.

Radiology viewers interpolate when zoomed in; nearest-neighbour blocks make
lesion edges (and so caliper placement) harder to judge.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui


class SmoothImageItem(pg.ImageItem):
    """An ImageItem drawn with ``SmoothPixmapTransform`` (bilinear) scaling."""

    def paint(self, painter: QtGui.QPainter, *args: object) -> None:
        """Draw the image with bilinear filtering."""
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(painter, *args)
