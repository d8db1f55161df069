"""Keyboard and double-click for the image view (as in Slicer, OHIF and syngo).

PageUp/PageDown and the arrow keys step through slices, Home/End jump to the
ends, Delete/Backspace ask to delete the selected caliper, Escape cancels
the caliper being drawn, a double-click shows the whole image (or, when it
already does, the body).  The filter sits on the graphics view so that
``QAbstractScrollArea`` never scrolls with these keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore

if TYPE_CHECKING:
    from viewer.image.view import SeriesViewerWidget

_Key = QtCore.Qt.Key
SLICE_STEPS = {
    _Key.Key_PageUp: -1,
    _Key.Key_PageDown: 1,
    _Key.Key_Up: -1,
    _Key.Key_Down: 1,
    _Key.Key_Left: -1,
    _Key.Key_Right: 1,
}
DELETE_KEYS = (_Key.Key_Delete, _Key.Key_Backspace)


def handle_key(widget: SeriesViewerWidget, key: int) -> bool:
    """Act on *key* for *widget*; True when the key was used."""
    if widget.volume is None:
        return False
    if key == _Key.Key_Escape and widget.provisional_item is not None:
        widget.discard_pending()  # cancels a caliper being drawn: nothing is emitted
        return True
    if key in SLICE_STEPS:
        widget.set_slice(widget.slice_index + SLICE_STEPS[key])
        return True
    if key in (_Key.Key_Home, _Key.Key_End):
        widget.set_slice(0 if key == _Key.Key_Home else widget.slice_count - 1)
        return True
    selected = widget.selected_measurement_id
    if key in DELETE_KEYS and selected is not None:
        widget.delete_requested.emit(selected)
        return True
    return False


class ViewInputFilter(QtCore.QObject):
    """Event filter giving *widget* its keys and double-clicks."""

    def __init__(self, widget: SeriesViewerWidget) -> None:
        super().__init__(widget)
        self._widget = widget

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        """Take slice/delete/Escape keys; toggle the fit on a left double-click."""
        kind = event.type()
        if kind == QtCore.QEvent.Type.KeyPress:
            return handle_key(self._widget, event.key())
        if (
            kind == QtCore.QEvent.Type.MouseButtonDblClick
            and watched is self._widget.graphics_view.viewport()  # not again on propagation
            and event.button() == QtCore.Qt.MouseButton.LeftButton
            and self._widget.volume is not None
        ):
            # Qt 6 sends press + double-click, which pyqtgraph reports as a single click
            self._widget.toggle_fit()
        return False
