"""Key images: the slice a target was measured on, with its caliper drawn (QPainter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from recist.model import DrawnGeometry

#: Soft-tissue window used when the file names none.
DEFAULT_WINDOW = (40.0, 400.0)


class KeyImageError(RuntimeError):
    """The slice cannot be rendered; the message says why."""


def _window(ds: pydicom.Dataset) -> tuple[float, float]:
    try:
        center = ds.WindowCenter
        width = ds.WindowWidth
        center = float(center[0] if isinstance(center, pydicom.multival.MultiValue) else center)
        width = float(width[0] if isinstance(width, pydicom.multival.MultiValue) else width)
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_WINDOW
    return (center, width) if width > 1 else DEFAULT_WINDOW


def render_slice(path: str | Path, geometry: DrawnGeometry, label: str) -> QImage:
    """The slice in ``path`` windowed to 8 bits, with the caliper(s) and ``label`` drawn.

    Raises
    ------
    KeyImageError
        When the file is unreadable, not the geometry's image, or has no pixels.
    """
    try:
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array.astype(np.float32)
    except Exception as exc:  # noqa: BLE001 - any decoding problem becomes a note
        raise KeyImageError(f"{path}: cannot decode the slice ({exc})") from exc
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    # the same lookup as the image view: SOP Instance UID, and frame for multi-frame images
    index = geometry.slice_in([str(ds.SOPInstanceUID)] * frames, list(range(1, frames + 1)))
    if index is None:
        frame = f" frame {geometry.frame_number}" if geometry.frame_number else ""
        raise KeyImageError(f"{path} does not hold image {geometry.sop_instance_uid}{frame}")
    if frames > 1 and pixels.ndim == 3 and pixels.shape[0] == frames:
        pixels = pixels[index]
    if pixels.ndim != 2:
        raise KeyImageError(f"{path}: only greyscale images are drawn")
    pixels = pixels * float(ds.get("RescaleSlope", 1) or 1) + float(ds.get("RescaleIntercept", 0))
    center, width = _window(ds)
    low = center - width / 2
    grey = np.clip((pixels - low) / width * 255.0, 0, 255).astype(np.uint8)
    grey = np.ascontiguousarray(grey)
    rows, cols = grey.shape
    image = QImage(grey.data, cols, rows, cols, QImage.Format.Format_Grayscale8).convertToFormat(
        QImage.Format.Format_RGB32
    )
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scale = max(cols, rows) / 512.0
    for segment, colour in (
        (geometry.long_axis, QColor(255, 200, 0)),
        (geometry.short_axis, QColor(0, 220, 255)),
    ):
        if segment is None:
            continue
        painter.setPen(QPen(colour, 2.0 * scale))
        start, end = QPointF(*segment.start_px), QPointF(*segment.end_px)
        painter.drawLine(start, end)
        for point in (start, end):
            painter.drawEllipse(point, 3 * scale, 3 * scale)
    painter.setPen(QColor(255, 255, 0))
    font = QFont("DejaVu Sans")
    font.setPixelSize(int(18 * scale))
    painter.setFont(font)
    anchor = QPointF(*geometry.long_axis.end_px) + QPointF(6 * scale, -6 * scale)
    painter.drawText(anchor, label)
    painter.setPen(Qt.GlobalColor.white)
    painter.drawText(
        QPointF(8 * scale, rows - 8 * scale),
        f"image {ds.get('InstanceNumber', '?')}"
        + (f" frame {geometry.frame_number}" if geometry.frame_number else "")
        + f"  W{width:g} L{center:g}",
    )
    painter.end()
    return image
