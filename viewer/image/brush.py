"""The contour brush on the image: mouse input and the circle cursor (issue 16).

:class:`BrushInput` is an event filter on the image view's viewport.  While its handler says
the brush is active it takes the mouse before pyqtgraph does: a left press starts a stroke
that paints, a right press (or Shift with the left button) one that erases; moves extend the
stroke, the release ends it.  Ctrl+wheel changes the brush radius (instead of zooming).
Moves without a button only place the cursor and go on to pyqtgraph (the readout of the
voxel under the mouse still follows).

:class:`BrushCursor` is the circle of the brush's radius in millimetres (an ellipse in
display pixels when the pixels are not square) with its radius written beside it; dashed
while Shift is held (erasing).

Positions are display coordinates of the view box (x = column, y = row on an axial slice;
on a coronal or sagittal reformat x is the column or row and y the slice, head at the top).
One :class:`BrushInput` and one :class:`BrushCursor` per pane (the main pane and, in 2×2,
the coronal and sagittal reformats); each call names the pane (``view``) it came from.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

_Button = QtCore.Qt.MouseButton
_Type = QtCore.QEvent.Type
#: Colour of the brush circle.
CURSOR_RGB = (255, 230, 80)


class BrushHandler(Protocol):
    """What the brush input calls (``viewer.main_window.contour_edit.ContourEditor``)."""

    def brush_active(self, view: Any) -> bool: ...
    def brush_press(self, view: Any, x: float, y: float, erase: bool) -> bool: ...
    def brush_move(self, view: Any, x: float, y: float) -> None: ...
    def brush_release(self, view: Any) -> None: ...
    def brush_hover(self, view: Any, x: float, y: float, erase: bool) -> None: ...
    def brush_leave(self, view: Any) -> None: ...
    def brush_wheel(self, view: Any, steps: int) -> None: ...


class BrushInput(QtCore.QObject):
    """Mouse events of ``viewer``'s viewport for the brush while ``handler`` is active."""

    def __init__(self, viewer: Any, handler: BrushHandler) -> None:
        super().__init__(viewer)
        self._viewer, self._handler = viewer, handler
        self.stroking = False
        self._wheel = 0
        viewer.graphics_view.viewport().installEventFilter(self)

    def _view_point(self, pos: QtCore.QPointF) -> tuple[float, float]:
        scene = self._viewer.graphics_view.mapToScene(pos.toPoint())
        p = self._viewer.view_box.mapSceneToView(scene)
        return float(p.x()), float(p.y())

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        """Take presses, drags, releases and Ctrl+wheel while the brush is active."""
        kind = event.type()
        if kind == _Type.Leave:
            self._handler.brush_leave(self._viewer)
            return False
        if not self._handler.brush_active(self._viewer):
            self.stroking = False
            return False
        if kind == _Type.Wheel and isinstance(event, QtGui.QWheelEvent):
            if not event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
                return False
            self._wheel += event.angleDelta().y()
            steps = int(self._wheel / 120)
            if steps:
                self._wheel -= steps * 120
                self._handler.brush_wheel(self._viewer, steps)
            return True
        if not isinstance(event, QtGui.QMouseEvent):
            return False
        shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if kind == _Type.MouseButtonPress and event.button() in (
            _Button.LeftButton,
            _Button.RightButton,
        ):
            x, y = self._view_point(event.position())
            erase = event.button() == _Button.RightButton or shift
            self.stroking = self._handler.brush_press(self._viewer, x, y, erase)
            return True
        if kind == _Type.MouseMove:
            x, y = self._view_point(event.position())
            if self.stroking:
                self._handler.brush_move(self._viewer, x, y)
                self._handler.brush_hover(self._viewer, x, y, shift)
                return True
            self._handler.brush_hover(self._viewer, x, y, shift)
            return False
        if kind == _Type.MouseButtonRelease and self.stroking:
            self.stroking = False
            self._handler.brush_release(self._viewer)
            return True
        return kind == _Type.MouseButtonDblClick  # no fit toggle while painting


class BrushCursor:
    """The brush's circle and its radius label, in the view box's display coordinates."""

    def __init__(self, view_box: Any) -> None:
        self._circle = QtWidgets.QGraphicsEllipseItem()
        self._circle.setZValue(20)
        self._circle.setPen(pg.mkPen(CURSOR_RGB, width=1.5, cosmetic=True))
        self._label = pg.TextItem(color=CURSOR_RGB, anchor=(0.0, 1.0))
        self._label.setZValue(20)
        view_box.addItem(self._circle, ignoreBounds=True)
        view_box.addItem(self._label, ignoreBounds=True)
        self._at: tuple[float, float, tuple[float, float], bool] = (0.0, 0.0, (1.0, 1.0), False)
        self.hide()

    @property
    def visible(self) -> bool:
        """True while shown."""
        return bool(self._circle.isVisible())

    @property
    def label(self) -> str:
        """The radius text shown."""
        return str(self._label.toPlainText())

    def rect(self) -> QtCore.QRectF:
        """The circle's bounds in display coordinates."""
        return self._circle.rect()

    def show_at(
        self, x: float, y: float, radius_mm: float, pixel_mm: tuple[float, float], erase: bool
    ) -> None:
        """Centre the circle of ``radius_mm`` on display point ``(x, y)``."""
        self._at = (x, y, pixel_mm, erase)
        rx = radius_mm / max(pixel_mm[0], 1e-6)
        ry = radius_mm / max(pixel_mm[1], 1e-6)
        self._circle.setRect(QtCore.QRectF(x - rx, y - ry, 2 * rx, 2 * ry))
        style = QtCore.Qt.PenStyle.DashLine if erase else QtCore.Qt.PenStyle.SolidLine
        self._circle.setPen(pg.mkPen(CURSOR_RGB, width=1.5, cosmetic=True, style=style))
        text = f"{radius_mm:g} mm" + (" erase" if erase else "")
        if self._label.toPlainText() != text:
            self._label.setText(text)
        self._label.setPos(x + rx, y - ry)
        self._circle.show()
        self._label.show()

    def resize(self, radius_mm: float) -> None:
        """Show the new radius where the circle is (Ctrl+wheel, the radius box), if shown."""
        if self.visible:
            x, y, pixel_mm, erase = self._at
            self.show_at(x, y, radius_mm, pixel_mm, erase)

    def hide(self) -> None:
        """Hide the circle and its label."""
        self._circle.hide()
        self._label.hide()
