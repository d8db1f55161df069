"""Commands and the one undo stack (STYLE §4), Qt-free.

Every edit a reader makes is a small frozen dataclass that holds the old and the
new values and knows how to :meth:`~Command.apply` and :meth:`~Command.revert`
itself against a *context* (the object that performs the writes; for reading
that is the session's editor, see :mod:`app.session.commands`).  The
:class:`CommandStack` applies a command when it is pushed and walks back and
forth through the history on :meth:`~CommandStack.undo` / :meth:`~CommandStack.redo`.
Modelled on glue's ``glue/core/command.py`` but typed.

Undo is not erasure: a revert is a new write through the context, so each undo
or redo of a clinical edit leaves a new audit row and never removes one.

The Qt side only mirrors the stack: action enabled state from
:meth:`CommandStack.can_undo_redo`, texts from :attr:`CommandStack.undo_label`
and :attr:`CommandStack.redo_label`, refreshed on :attr:`CommandStack.changed`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psygnal import Signal

__all__ = ["Command", "CommandStack", "CompositeCommand", "DEFAULT_MAX_DEPTH"]

DEFAULT_MAX_DEPTH = 100
"""How many commands the stack keeps for undo by default; older ones are forgotten."""

ContextT = TypeVar("ContextT")


class Command(ABC, Generic[ContextT]):
    """One undoable edit; subclasses are frozen dataclasses holding old and new values.

    Subclasses set the class attribute :attr:`label` (shown as "Undo <label>")
    and implement :meth:`apply` and :meth:`revert`.  A command whose old and new
    values are equal reports it through :meth:`is_noop` and is never pushed.

    Examples
    --------
    >>> @dataclass(frozen=True)
    ... class SetValue(Command[dict]):
    ...     key: str
    ...     old: int
    ...     new: int
    ...     label = "Set value"
    ...     def apply(self, ctx: dict) -> None:
    ...         ctx[self.key] = self.new
    ...     def revert(self, ctx: dict) -> None:
    ...         ctx[self.key] = self.old
    ...     def is_noop(self) -> bool:
    ...         return self.old == self.new
    """

    label: str = "Edit"
    """What the command does, as a menu would say it after "Undo" ("Move measurement")."""

    @abstractmethod
    def apply(self, ctx: ContextT) -> Any:
        """Perform the edit (first time and on redo); the return value is passed back by push."""

    @abstractmethod
    def revert(self, ctx: ContextT) -> None:
        """Undo the edit with a new write that restores the old values."""

    def is_noop(self) -> bool:
        """True when applying would change nothing (such a command is not pushed)."""
        return False


@dataclass(frozen=True)
class CompositeCommand(Command[ContextT]):
    """A parent command made of child commands, undone and redone as one gesture.

    Children apply in order and revert in reverse order (e.g. delete a lesion:
    first its measurements, then the lesion; undo re-creates the lesion first).
    If a child fails while applying, the children already applied are reverted
    before the error propagates, so the stack never holds a half-done gesture;
    a context whose ``in_transaction`` is true (the reading session's editor
    inside a store batch) is left to roll the whole gesture back itself, so no
    compensating write is made.

    Parameters
    ----------
    label
        The text after "Undo" for the whole gesture.
    children
        The commands, in the order they are applied.
    """

    label: str = "Edit"
    children: tuple[Command[ContextT], ...] = ()

    @classmethod
    def of(cls, label: str, children: Sequence[Command[ContextT]]) -> CompositeCommand[ContextT]:
        """Build a composite from any sequence, dropping children that are no-ops."""
        return cls(label, tuple(c for c in children if not c.is_noop()))

    def apply(self, ctx: ContextT) -> list[Any]:
        """Apply every child in order; returns the children's results."""
        return _run_all(self.children, ctx, forward=True)

    def revert(self, ctx: ContextT) -> None:
        """Revert every child in reverse order."""
        _run_all(self.children, ctx, forward=False)

    def is_noop(self) -> bool:
        """True when there is no child that changes anything."""
        return all(child.is_noop() for child in self.children)


def _run_all(children: Sequence[Command[Any]], ctx: Any, *, forward: bool) -> list[Any]:
    """Apply (or revert, in reverse) each child; on failure roll back the ones done."""
    ordered = list(children) if forward else list(reversed(children))
    done: list[Command[Any]] = []
    results: list[Any] = []
    try:
        for child in ordered:
            if forward:
                results.append(child.apply(ctx))
            else:
                child.revert(ctx)
            done.append(child)
    except Exception:
        if getattr(ctx, "in_transaction", False):
            raise  # the context's transaction rolls back every child at once
        for child in reversed(done):
            try:
                if forward:
                    child.revert(ctx)
                else:
                    child.apply(ctx)
            except Exception:  # noqa: BLE001, S110 - keep the first error; rollback is best effort
                continue
        raise
    return results


class CommandStack(Generic[ContextT]):
    """The single undo/redo history of a reading session.

    Parameters
    ----------
    context
        Passed to every command's ``apply``/``revert`` (the object doing the writes).
    max_depth
        How many commands can be undone; pushing more forgets the oldest.
    atomic
        ``atomic(label)`` gives the context manager each apply/revert runs in
        (the reading session passes its editor's store transaction, so every
        gesture is all or nothing); by default none.

    Attributes
    ----------
    changed : psygnal.Signal
        Emitted (no arguments) after every push, undo, redo or clear.
    """

    changed = Signal()

    def __init__(
        self,
        context: ContextT,
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
        atomic: Callable[[str], AbstractContextManager[object]] | None = None,
    ) -> None:
        if max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {max_depth}")
        self.context = context
        self._atomic = atomic or (lambda _label: nullcontext())
        self.max_depth = max_depth
        self._undo: deque[Command[ContextT]] = deque(maxlen=max_depth)
        self._redo: list[Command[ContextT]] = []

    def push(self, command: Command[ContextT]) -> Any:
        """Apply ``command`` and record it for undo; the redo history is cleared.

        A command that changes nothing (:meth:`Command.is_noop`) is neither
        applied nor recorded.  If ``apply`` raises, the stack is left unchanged.

        Parameters
        ----------
        command
            The edit of one gesture.

        Returns
        -------
        Any
            What ``command.apply`` returned (``None`` for a no-op).
        """
        if command.is_noop():
            return None
        with self._atomic(command.label):
            result = command.apply(self.context)
        self._undo.append(command)
        self._redo.clear()
        self.changed.emit()
        return result

    def undo(self) -> Command[ContextT] | None:
        """Revert the latest command; returns it, or ``None`` when there is nothing to undo.

        If ``revert`` raises, the command stays where it was and the error propagates.
        """
        if not self._undo:
            return None
        command = self._undo[-1]
        with self._atomic(f"undo {command.label}"):
            command.revert(self.context)
        self._undo.pop()
        self._redo.append(command)
        self.changed.emit()
        return command

    def redo(self) -> Command[ContextT] | None:
        """Re-apply the latest undone command; returns it, or ``None`` when there is none.

        If ``apply`` raises, the command stays where it was and the error propagates.
        """
        if not self._redo:
            return None
        command = self._redo[-1]
        with self._atomic(f"redo {command.label}"):
            command.apply(self.context)
        self._redo.pop()
        self._undo.append(command)
        self.changed.emit()
        return command

    def discard_top(self) -> None:
        """Forget the last command without reverting it: an enclosing transaction that it
        joined was rolled back, so its writes are already gone."""
        if self._undo:
            self._undo.pop()
            self.changed.emit()

    def clear(self) -> None:
        """Forget the whole history (e.g. another patient was opened, a timepoint signed)."""
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def can_undo_redo(self) -> tuple[bool, bool]:
        """Whether :meth:`undo` and :meth:`redo` would do something."""
        return bool(self._undo), bool(self._redo)

    @property
    def undo_label(self) -> str:
        """Menu text for undo: ``"Undo Move measurement"``, or ``"Undo"`` when empty."""
        return f"Undo {self._undo[-1].label}" if self._undo else "Undo"

    @property
    def redo_label(self) -> str:
        """Menu text for redo: ``"Redo Move measurement"``, or ``"Redo"`` when empty."""
        return f"Redo {self._redo[-1].label}" if self._redo else "Redo"

    @property
    def undo_commands(self) -> tuple[Command[ContextT], ...]:
        """The commands that can be undone, oldest first."""
        return tuple(self._undo)

    @property
    def redo_commands(self) -> tuple[Command[ContextT], ...]:
        """The commands that can be redone, next-to-redo last."""
        return tuple(self._redo)
