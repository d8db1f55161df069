"""Errors the reader sees: the ``@shows_errors`` boundary between the controller and Qt.

Controller and storage code raise typed exceptions; a widget slot decorated
with :func:`shows_errors` turns any of them into a message box whose main text
is a short sentence the reader can act on and whose *Details* hold the
traceback (glue-qt's ``messagebox_on_error``).  The box is opened window-modal
and non-blocking, so the rest of the window keeps its state and tests can find
and close it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

_log = logging.getLogger("caliper.viewer")

F = TypeVar("F", bound=Callable[..., Any])


def report_error(parent: QWidget | None, message: str, exc: BaseException) -> QMessageBox:
    """Show *exc* in a warning box titled by *message*; return the (open) box.

    Parameters
    ----------
    parent : QWidget or None
        The window the box belongs to.
    message : str
        What failed, e.g. ``"Could not sign the timepoint"``.
    exc : BaseException
        The error; its text is shown, its traceback goes into *Details*.

    Returns
    -------
    QMessageBox
        The box, already shown with ``open()``.
    """
    _log.warning("%s: %s", message, exc, exc_info=exc)
    box = QMessageBox(parent)
    box.setObjectName("errorBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Caliper")
    box.setText(message)
    box.setInformativeText(str(exc) or type(exc).__name__)
    box.setDetailedText("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box


def _positional_capacity(func: Callable[..., Any]) -> int | None:
    """How many positional arguments *func* takes (None when it takes ``*args``)."""
    params = inspect.signature(func).parameters.values()
    count = 0
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if param.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            count += 1
    return count


def _parent_of(owner: object) -> QWidget | None:
    """The widget a slot's owner shows boxes on: itself, or the ``window`` of a collaborator."""
    if isinstance(owner, QWidget):
        return owner
    window = getattr(owner, "window", None)
    return window if isinstance(window, QWidget) else None


def shows_errors(message: str) -> Callable[[F], F]:
    """Decorate a widget method so that an exception becomes a message box.

    The box belongs to the widget, or, for a method of a collaborator a window
    owns (``viewer.main_window``'s action classes), to its ``window`` attribute.

    Qt passes extra signal arguments (``triggered(bool)``) to slots; the
    wrapper drops those the method does not take, so a plain ``def
    _on_undo(self)`` can be connected to ``QAction.triggered``.

    Parameters
    ----------
    message : str
        The box's main text, e.g. ``"Could not record the measurement"``.

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(func: F) -> F:
        capacity = _positional_capacity(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if capacity is not None:
                args = args[:capacity]
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # the boundary: every failure is shown, none is lost
                parent = _parent_of(args[0]) if args else None
                report_error(parent or QApplication.activeWindow(), message, exc)
                return None

        # Qt inspects the wrapper's signature; expose the trimmed one.
        wrapper.__dict__["__signature__"] = inspect.signature(func)
        return cast(F, wrapper)

    return decorate
