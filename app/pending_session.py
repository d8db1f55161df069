"""A stand-in for the reading session while the database is still being opened.

``caliper`` shows its main window before it imports the database layer (SQLAlchemy,
the ORM, the audit trail: about a second) and before anyone has logged in.  The
window is built on a :class:`PendingSession`, which knows no patient and refuses
every edit; once the database is open and the reader logged in, :meth:`attach`
hands it the real :class:`app.session.ReadingSession`.  From then on every
attribute and call goes to the real session, and its signals reach whoever
connected to the stand-in's signals of the same name.

Standard library only: importing this module must not import ``storage``, SQLAlchemy,
``app.session`` or psygnal (importing psygnal reads package metadata: tens of
milliseconds before the window shows).  The stand-in's signals are
:class:`_Signal`, a minimal psygnal look-alike; the real session's psygnal signals
are relayed to them by :meth:`PendingSession.attach`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: The signals of ``ReadingSession`` (tests/viewer/test_start_up.py checks the list).
SESSION_SIGNALS = (
    "patient_opened",
    "timepoint_selected",
    "lesion_added",
    "lesion_changed",
    "lesion_removed",
    "measurement_added",
    "measurement_changed",
    "measurement_removed",
    "assessment_updated",
    "assessment_failed",
    "timepoint_locked",
    "timepoint_changed",
)

#: What the window reads before the database is open: nothing yet.
_NONE_BEFORE_ATTACH = frozenset(
    ("patient", "current_timepoint", "assessment", "assessment_problem", "reader", "endpoints")
)

NOT_READY = "Caliper is still opening the database; try again in a moment."


class _SignalInstance:
    """The connected slots of one signal of one object (``connect``/``disconnect``/``emit``).

    As psygnal does, a slot that takes fewer positional arguments than are emitted is
    called with the first ones only (``commands.changed`` slots take none).
    """

    def __init__(self) -> None:
        self._slots: list[tuple[Callable[..., Any], int | None]] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        """Call *slot* on every :meth:`emit`; return it (usable as a decorator)."""
        self._slots.append((slot, _max_args(slot)))
        return slot

    def disconnect(self, slot: Callable[..., Any] | None = None) -> None:
        """Stop calling *slot* (every slot when None)."""
        self._slots = [] if slot is None else [(s, n) for s, n in self._slots if s != slot]

    def emit(self, *args: Any) -> None:
        """Call every connected slot, in the order they were connected."""
        for slot, n in list(self._slots):
            slot(*(args if n is None else args[:n]))

    def __len__(self) -> int:
        return len(self._slots)


def _max_args(slot: Callable[..., Any]) -> int | None:
    """How many positional arguments *slot* takes (None: any number)."""
    try:
        parameters = inspect.signature(slot).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it everything
        return None
    positional = 0
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional


class _Signal:
    """A class attribute giving each instance its own :class:`_SignalInstance`."""

    def __init__(self, *_types: object) -> None:
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = f"_signal_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        found = instance.__dict__.get(self._name)
        if found is None:
            found = instance.__dict__[self._name] = _SignalInstance()
        return found


class NotReadyError(RuntimeError):
    """An edit or query asked of the session before the database was open."""


class _PendingCommands:
    """The undo stack before the session exists: nothing to undo or redo."""

    changed = _Signal()

    def __init__(self) -> None:
        self.real: Any = None
        self.undo_label = "Undo"
        self.redo_label = "Redo"

    def can_undo_redo(self) -> tuple[bool, bool]:
        """Neither (until the real stack is attached)."""
        if self.real is not None:
            can_undo, can_redo = self.real.can_undo_redo()
            return (bool(can_undo), bool(can_redo))
        return (False, False)

    def __getattr__(self, name: str) -> Any:
        if name == "real" or self.__dict__.get("real") is None:
            raise AttributeError(name)
        return getattr(self.real, name)


def _relay(signal: Any) -> Any:
    """A slot that re-emits on *signal* (psygnal, given ``signal.emit`` itself, emits at once)."""

    def relay(*args: object) -> None:
        signal.emit(*args)

    return relay


class PendingSession:
    """The window's session: empty until :meth:`attach`, then the real one.

    Before :meth:`attach` it has no patient, no timepoint and no assessment,
    lists no patients, and any other call raises :class:`NotReadyError`.
    """

    patient_opened = _Signal(object)
    timepoint_selected = _Signal(object)
    lesion_added = _Signal(object)
    lesion_changed = _Signal(object)
    lesion_removed = _Signal(object)
    measurement_added = _Signal(object)
    measurement_changed = _Signal(object)
    measurement_removed = _Signal(object)
    assessment_updated = _Signal(object)
    assessment_failed = _Signal(object)
    timepoint_locked = _Signal(object)
    timepoint_changed = _Signal(object)

    def __init__(self) -> None:
        self.real: Any = None
        self.commands = _PendingCommands()

    @property
    def attached(self) -> bool:
        """True once the real session is in place."""
        return self.real is not None

    def attach(self, session: Any) -> None:
        """Hand over to *session* (a ``ReadingSession``): forward its signals, then its calls."""
        for name in SESSION_SIGNALS:
            getattr(session, name).connect(_relay(getattr(self, name)))
        self.commands.real = session.commands
        session.commands.changed.connect(_relay(self.commands.changed))
        self.real = session
        self.commands.changed.emit()

    # the empty state the window draws before the database is open
    def patients(self) -> list[Any]:
        """The real session's patients; none before :meth:`attach`."""
        return [] if self.real is None else list(self.real.patients())

    def __getattr__(self, name: str) -> Any:
        real = self.__dict__.get("real")
        if real is not None:
            return getattr(real, name)
        if name in _NONE_BEFORE_ATTACH:
            return None
        if name.startswith("_"):
            raise AttributeError(name)

        def not_ready(*_args: object, **_kwargs: object) -> Any:
            raise NotReadyError(NOT_READY)

        return not_ready

    def __setattr__(self, name: str, value: Any) -> None:
        real = self.__dict__.get("real")
        if real is not None and name not in ("real", "commands"):
            setattr(real, name, value)
        else:
            object.__setattr__(self, name, value)
