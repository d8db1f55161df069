"""Text drawn over the image: corner annotations and orientation letters.

Plain ``QLabel`` children of the graphics view: they stay put while the image
is zoomed or panned, are transparent to the mouse, and ``QWidget.grab()``
includes them in screenshots.  Their text is drawn with a black outline
(:class:`OutlinedLabel`), so it stays readable over bright anatomy (bone,
contrast, the liver window's white).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from viewer.image.volume import volume_text

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
EDGES = ("left", "right", "top", "bottom")
#: A line under the top edge letter for what the reader must know about the calipers
#: (e.g. "T1: image not available").
NOTICE = "notice"

_TEXT_STYLE = "color: rgb(235, 235, 235); background: transparent; font-size: 12px;"
_EDGE_STYLE = (
    "color: rgb(255, 200, 60); background: transparent; font-size: 14px; font-weight: bold;"
)
_NOTICE_STYLE = (
    "color: rgb(20, 20, 20); background: rgb(255, 214, 90); font-size: 12px; padding: 2px 6px;"
)
_MARGIN = 6


class ViewState(Protocol):
    """What the corner texts show of the image view (``SeriesViewerWidget`` is one)."""

    @property
    def volume(self) -> Any: ...
    @property
    def orientation(self) -> str: ...
    @property
    def slice_index(self) -> int: ...
    @property
    def slice_count(self) -> int: ...
    @property
    def image_shape(self) -> tuple[int, int]: ...
    @property
    def displayed_slice(self) -> np.ndarray | None: ...
    @property
    def window_center(self) -> float: ...
    @property
    def window_width(self) -> float: ...
    @property
    def zoom(self) -> float: ...
    def display_to_lps(self, x: float, y: float) -> tuple[float, float, float]: ...


class OutlinedLabel(QtWidgets.QLabel):
    """A plain-text label whose glyphs are outlined in black (readable on white and on black).

    The outlined text is rendered once per text and size into a pixmap, so
    repainting the view (every frame while scrolling) costs one pixmap copy.
    """

    #: Offsets of the black copies drawn under the text: a one-pixel outline.
    _OUTLINE = ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1))

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setContentsMargins(1, 1, 1, 1)  # room for the outline
        self._cache: tuple[tuple[object, ...], QtGui.QPixmap] | None = None

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Draw the cached outlined text (rendered again when the text or size changed)."""
        del event
        ratio = self.devicePixelRatioF()
        color = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        key = (
            self.text(),
            self.size(),
            ratio,
            color.rgba(),
            self.font().key(),
            int(self.alignment()),
        )
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._render(ratio, color))
        painter = QtGui.QPainter(self)
        painter.drawPixmap(0, 0, self._cache[1])
        painter.end()

    def _render(self, ratio: float, color: QtGui.QColor) -> QtGui.QPixmap:
        pixmap = QtGui.QPixmap(
            max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))
        )
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        rect = self.contentsRect()
        right = bool(self.alignment() & QtCore.Qt.AlignmentFlag.AlignRight)
        black = QtGui.QColor(0, 0, 0)
        for i, line in enumerate(self.text().split("\n")):
            width = metrics.horizontalAdvance(line)
            x = rect.x() + rect.width() - width if right else rect.x()
            y = rect.top() + metrics.ascent() + i * metrics.lineSpacing()
            painter.setPen(black)
            for dx, dy in self._OUTLINE:
                painter.drawText(QtCore.QPointF(x + dx, y + dy), line)
            painter.setPen(color)
            painter.drawText(QtCore.QPointF(x, y), line)
        painter.end()
        return pixmap


class ViewAnnotations(QtCore.QObject):
    """Keeps eight labels (four corners, four edge midpoints) over *view*."""

    def __init__(self, view: QtWidgets.QWidget) -> None:
        super().__init__(view)
        self._view = view
        self._labels: dict[str, QtWidgets.QLabel] = {}
        self._texts: dict[str, str] = {}  # full texts: the top corners are elided to fit
        for name in (*CORNERS, *EDGES, NOTICE):
            label = QtWidgets.QLabel(view) if name == NOTICE else OutlinedLabel(view)
            label.setObjectName(f"annotation_{name}")
            label.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setStyleSheet(
                _EDGE_STYLE if name in EDGES else _NOTICE_STYLE if name == NOTICE else _TEXT_STYLE
            )
            label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            alignment = QtCore.Qt.AlignmentFlag.AlignLeft
            if name.endswith("right"):
                alignment = QtCore.Qt.AlignmentFlag.AlignRight
            label.setAlignment(alignment)
            self._labels[name] = label
        self._labels[NOTICE].hide()
        view.installEventFilter(self)

    def text(self, name: str) -> str:
        """The text of one label (``"top_left"``, ..., ``"left"``, ...), in full."""
        return self._texts.get(name, "")

    def set_text(self, name: str, text: str) -> None:
        """Set one label's text and re-place it."""
        label = self._labels[name]
        if self._texts.get(name) != text:
            self._texts[name] = text
            self._show_text(name)
            self._place(name)
        label.setVisible(bool(text) or name != NOTICE)  # no empty yellow box

    def edge_rects(self) -> list[QtCore.QRect]:
        """Where the shown orientation letters are, in the view's coordinates."""
        return [
            self._labels[n].geometry()
            for n in EDGES
            if self._texts.get(n) and self._labels[n].isVisible()
        ]

    def set_orientation(self, letters: dict[str, str]) -> None:
        """Set the four edge letters (keys ``left``, ``right``, ``top``, ``bottom``)."""
        for name in EDGES:
            self.set_text(name, letters.get(name, ""))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        """Re-place the labels when the view is resized."""
        if watched is self._view and event.type() == QtCore.QEvent.Type.Resize:
            for name in ("top_left", "top_right"):
                self._show_text(name)
            for name in self._labels:
                self._place(name)
        return False

    def _show_text(self, name: str) -> None:
        """Set the label's text; a top corner's lines are elided short of the top letter."""
        label, text = self._labels[name], self._texts.get(name, "")
        if name in ("top_left", "top_right"):
            label.ensurePolished()  # the style sheet's font, not the default one
            metrics = label.fontMetrics()
            room = max((self._view.width() - 48) // 2 - _MARGIN, 40)
            elide = QtCore.Qt.TextElideMode.ElideRight
            text = "\n".join(metrics.elidedText(line, elide, room) for line in text.split("\n"))
        if label.text() != text:
            label.setText(text)
            label.adjustSize()

    def _place(self, name: str) -> None:
        label = self._labels[name]
        w, h = self._view.width(), self._view.height()
        lw, lh = label.width(), label.height()
        right, bottom = w - lw - _MARGIN, h - lh - _MARGIN
        positions = {
            "top_left": (_MARGIN, _MARGIN),
            "top_right": (right, _MARGIN),
            "bottom_left": (_MARGIN, bottom),
            "bottom_right": (right, bottom),
            "left": (_MARGIN, (h - lh) // 2),
            "right": (right, (h - lh) // 2),
            "top": ((w - lw) // 2, _MARGIN),
            "bottom": ((w - lw) // 2, bottom),
            NOTICE: ((w - lw) // 2, _MARGIN + 56),  # below the three lines of the top corners
        }
        x, y = positions[name]
        if name == "bottom":  # above the bottom corner texts when they reach the middle
            letter = QtCore.QRect(x, y, lw, lh)
            for corner in ("bottom_left", "bottom_right"):
                rect = self._labels[corner].geometry()
                if self._texts.get(corner) and rect.intersects(letter):
                    y = min(y, rect.top() - lh - 2)
        label.move(x, y)
        if name in ("bottom_left", "bottom_right"):
            self._place("bottom")


def view_texts(widget: ViewState, cursor: str = "") -> dict[str, str]:
    """The four corner texts: patient, series, slice/position/cursor, window/level."""
    volume = widget.volume
    patient = (volume_text(volume, n) for n in ("patient_name", "patient_id", "study_date"))
    series = (volume_text(volume, n) for n in ("series_description", "modality"))
    lines = [f"{widget.orientation.capitalize()} {widget.slice_index + 1}/{widget.slice_count}"]
    rows, cols = widget.image_shape
    if rows and cols:
        lps = widget.display_to_lps((cols - 1) / 2, (rows - 1) / 2)
        axis = {"axial": 2, "coronal": 1, "sagittal": 0}[widget.orientation]
        lines.append(f"Pos {lps[axis]:.1f} mm")
    if cursor:
        lines.append(cursor)
    return {
        "top_left": "\n".join(patient),
        "top_right": "\n".join(t for t in series if t),
        "bottom_left": "\n".join(lines),
        "bottom_right": f"W {widget.window_width:.0f}  L {widget.window_center:.0f}"
        + (f"\nZoom {widget.zoom * 100:.0f}%" if widget.zoom > 0 else ""),
    }


def cursor_text(widget: ViewState, x: int, y: int) -> str:
    """Pixel, value (HU for CT) and LPS position under the cursor; empty outside the image."""
    image = widget.displayed_slice
    if image is None or not (0 <= y < image.shape[0] and 0 <= x < image.shape[1]):
        return ""
    value = float(image[y, x])
    unit = " HU" if volume_text(widget.volume, "modality") == "CT" else ""
    shown = f"{value:.0f}" if math.isclose(value, round(value)) else f"{value:.1f}"
    lps = widget.display_to_lps(x, y)
    return f"({x}, {y})  {shown}{unit}\nLPS {lps[0]:.1f}, {lps[1]:.1f}, {lps[2]:.1f} mm"
