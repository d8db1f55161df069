"""Keyboard and double-click for the image view (as in Slicer, OHIF and syngo).

PageUp/PageDown and the arrow keys step through slices, Home/End jump to the
ends, Delete/Backspace ask to delete the selected caliper, Escape cancels
the caliper being drawn, a double-click shows the whole image (or, when it
already does, the body).  The filter sits on the graphics view so that
``QAbstractScrollArea`` never scrolls with these keys.

The single-letter tool keys (S, B, L, P, Z, W) are window shortcuts.
:class:`ToolKeyGuard` makes a letter typed while a text field has focus text
for that field, never a tool switch (issue 11, point 7); the data fields that
must not take stray letters (the organ) are lists, not text fields.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6 import QtCore, QtGui, QtWidgets

_Key = QtCore.Qt.Key
SLICE_STEPS: dict[int, int] = {
    _Key.Key_PageUp: -1,
    _Key.Key_PageDown: 1,
    _Key.Key_Up: -1,
    _Key.Key_Down: 1,
    _Key.Key_Left: -1,
    _Key.Key_Right: 1,
}
DELETE_KEYS = (_Key.Key_Delete, _Key.Key_Backspace)


class KeyTarget(Protocol):
    """What the keys and double-click act on (``SeriesViewerWidget`` is one)."""

    @property
    def volume(self) -> Any: ...
    @property
    def provisional_item(self) -> object | None: ...
    @property
    def slice_index(self) -> int: ...
    @property
    def slice_count(self) -> int: ...
    @property
    def selected_measurement_id(self) -> int | None: ...
    @property
    def delete_requested(self) -> QtCore.SignalInstance: ...
    @property
    def graphics_view(self) -> Any: ...
    def discard_pending(self) -> None: ...
    def set_slice(self, index: int) -> None: ...
    def toggle_fit(self) -> None: ...


def handle_key(widget: KeyTarget, key: int) -> bool:
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

    def __init__(self, widget: KeyTarget, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._widget = widget

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        """Take slice/delete/Escape keys; toggle the fit on a left double-click."""
        kind = event.type()
        if kind == QtCore.QEvent.Type.KeyPress and isinstance(event, QtGui.QKeyEvent):
            return handle_key(self._widget, event.key())
        if (
            kind == QtCore.QEvent.Type.MouseButtonDblClick
            and isinstance(event, QtGui.QMouseEvent)
            and watched is self._widget.graphics_view.viewport()  # not again on propagation
            and event.button() == QtCore.Qt.MouseButton.LeftButton
            and self._widget.volume is not None
        ):
            # Qt 6 sends press + double-click, which pyqtgraph reports as a single click
            self._widget.toggle_fit()
        return False


_TEXT_INPUTS = (
    QtWidgets.QLineEdit,
    QtWidgets.QTextEdit,
    QtWidgets.QPlainTextEdit,
    QtWidgets.QAbstractSpinBox,
)


def is_text_input(widget: QtCore.QObject | None) -> bool:
    """True when *widget* takes typed text (text edits, spin and date boxes, editable combos)."""
    if isinstance(widget, QtWidgets.QComboBox):
        return widget.isEditable()
    return isinstance(widget, _TEXT_INPUTS)


def is_tool_key(event: QtGui.QKeyEvent) -> bool:
    """True for a key that could be a single-letter shortcut: one printable character, no Ctrl."""
    modifiers = event.modifiers() & ~QtCore.Qt.KeyboardModifier.ShiftModifier
    modifiers &= ~QtCore.Qt.KeyboardModifier.KeypadModifier
    text = event.text()
    plain = modifiers == QtCore.Qt.KeyboardModifier.NoModifier
    return plain and len(text) == 1 and text.isprintable()


class ToolKeyGuard(QtCore.QObject):
    """Application event filter: while a text field has focus, a letter is text, not a tool key.

    Qt asks the focus widget first (``ShortcutOverride``); accepting it delivers
    the key to the field and no shortcut fires.  Line edits already do this;
    the guard extends it to every text input (spin and date boxes, editable
    combos, text edits), so no tool switches while the reader types.
    """

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        """Accept ``ShortcutOverride`` of a single-letter key on a text input."""
        if (
            event.type() == QtCore.QEvent.Type.ShortcutOverride
            and isinstance(event, QtGui.QKeyEvent)
            and is_text_input(watched)
            and is_tool_key(event)
        ):
            event.accept()
        return False
