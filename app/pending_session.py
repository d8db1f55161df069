"""A stand-in for the reading session while the database is still being opened.

``caliper`` shows its main window before it imports the database layer (SQLAlchemy,
the ORM, the audit trail: about a second) and before anyone has logged in.  The
window is built on a :class:`PendingSession`, which knows no patient and refuses
every edit; once the database is open and the reader logged in, :meth:`attach`
hands it the real :class:`app.session.ReadingSession`.  From then on every
attribute and call goes to the real session, and its signals reach whoever
connected to the stand-in's signals of the same name.

Standard library and psygnal only: importing this module must not import
``storage``, SQLAlchemy or ``app.session``.
"""

from __future__ import annotations

from typing import Any

from psygnal import Signal

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


class NotReadyError(RuntimeError):
    """An edit or query asked of the session before the database was open."""


class _PendingCommands:
    """The undo stack before the session exists: nothing to undo or redo."""

    changed = Signal()

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

    patient_opened = Signal(object)
    timepoint_selected = Signal(object)
    lesion_added = Signal(object)
    lesion_changed = Signal(object)
    lesion_removed = Signal(object)
    measurement_added = Signal(object)
    measurement_changed = Signal(object)
    measurement_removed = Signal(object)
    assessment_updated = Signal(object)
    assessment_failed = Signal(object)
    timepoint_locked = Signal(object)
    timepoint_changed = Signal(object)

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
