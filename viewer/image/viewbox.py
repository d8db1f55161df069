"""The image view's ViewBox: wheel scrolls slices, drags go to the active tool."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

if TYPE_CHECKING:  # pyqtgraph has no type information: these are Any for mypy
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent, MouseDragEvent


class ImageViewBox(pg.ViewBox):
    """A ViewBox for one image: y down, aspect locked, no context menu.

    Parameters
    ----------
    on_wheel : callable
        ``on_wheel(steps)`` with +1 per wheel notch away from the reader; Ctrl+wheel zooms instead.
    on_drag : callable
        ``on_drag(event) -> bool``; return True when the drag was handled, else
        the ViewBox pans.
    on_click : callable
        ``on_click(event)`` for clicks on the empty image (deselects).
    """

    def __init__(
        self,
        on_wheel: Callable[[int], None],
        on_drag: Callable[[object], bool],
        on_click: Callable[[object], None],
    ) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False, defaultPadding=0.0)
        self._on_wheel = on_wheel
        self._on_drag = on_drag
        self._on_click = on_click
        self._wheel_remainder = 0
        self.setMouseMode(pg.ViewBox.PanMode)

    def wheelEvent(  # noqa: N802 - Qt/pyqtgraph override
        self, ev: QtWidgets.QGraphicsSceneWheelEvent, axis: int | None = None
    ) -> None:
        """Scroll slices (one per notch); Ctrl+wheel zooms about the cursor."""
        if ev.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        self._wheel_remainder += ev.delta()
        steps = int(self._wheel_remainder / 120)
        if steps:
            self._wheel_remainder -= steps * 120
            self._on_wheel(steps)
        ev.accept()

    def mouseDragEvent(  # noqa: N802 - pyqtgraph override
        self, ev: MouseDragEvent, axis: int | None = None
    ) -> None:
        """Give the drag to the active tool, or pan."""
        if self._on_drag(ev):
            ev.accept()
            return
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
        else:
            ev.ignore()

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:  # noqa: N802 - pyqtgraph override
        """Report clicks on the empty image; no context menu."""
        self._on_click(ev)
        ev.accept()
