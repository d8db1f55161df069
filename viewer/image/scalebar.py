"""A scale bar over the image: a round length in millimetres at the current zoom.

A plain widget child of the graphics view (like the corner texts), so it stays
put while the image is zoomed or panned and ``QWidget.grab()`` includes it.
Drawn white with a black outline, readable over bright anatomy.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

#: Lengths the bar may show, in millimetres.
NICE_MM: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500)


def nice_length_mm(mm_per_px: float, max_px: float) -> float:
    """The longest of :data:`NICE_MM` at most *max_px* screen pixels long (else the shortest)."""
    if mm_per_px <= 0:
        return NICE_MM[0]
    fitting = [mm for mm in NICE_MM if mm / mm_per_px <= max_px]
    return fitting[-1] if fitting else NICE_MM[0]


def outlined_text(
    painter: QtGui.QPainter, point: QtCore.QPointF, text: str, color: QtGui.QColor
) -> None:
    """Draw *text* at *point* (baseline) with a one-pixel black outline."""
    painter.setPen(QtGui.QColor(0, 0, 0))
    for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):
        painter.drawText(point + QtCore.QPointF(dx, dy), text)
    painter.setPen(color)
    painter.drawText(point, text)


class ScaleBar(QtWidgets.QWidget):
    """A horizontal bar of :attr:`length_mm` millimetres with its label."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("scaleBar")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.length_mm = 0.0
        self._length_px = 0.0
        self.resize(180, 30)
        self.hide()

    @property
    def label(self) -> str:
        """The text under the bar, e.g. ``"50 mm"``."""
        return f"{self.length_mm:g} mm" if self.length_mm else ""

    def set_scale(self, mm_per_px: float | None) -> None:
        """Millimetres per screen pixel (None: no image, no bar); re-places the bar."""
        if mm_per_px is None or mm_per_px <= 0:
            self.hide()
            return
        self.length_mm = nice_length_mm(mm_per_px, 150.0)
        self._length_px = self.length_mm / mm_per_px
        self.place()
        self.show()
        self.update()

    def place(self) -> None:
        """Bottom right of the parent, right above the window and zoom readout."""
        parent = self.parentWidget()
        if parent is not None:
            self.move(parent.width() - self.width() - 6, parent.height() - self.height() - 40)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        """The bar with end ticks, outlined, and its length."""
        del event
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        length = min(self._length_px, self.width() - 4.0)
        x0 = self.width() - length - 2.0  # right-aligned, like the readout under it
        y = 8.0
        path = QtGui.QPainterPath()
        path.moveTo(x0, y - 5)
        path.lineTo(x0, y)
        path.lineTo(x0 + length, y)
        path.lineTo(x0 + length, y - 5)
        painter.setPen(QtGui.QPen(QtGui.QColor(0, 0, 0), 4))
        painter.drawPath(path)
        painter.setPen(QtGui.QPen(QtGui.QColor(235, 235, 235), 2))
        painter.drawPath(path)
        font = painter.font()
        font.setPixelSize(11)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(self.label)
        outlined_text(
            painter,
            QtCore.QPointF(x0 + (length - width) / 2, y + 16),
            self.label,
            QtGui.QColor(235, 235, 235),
        )
        painter.end()
