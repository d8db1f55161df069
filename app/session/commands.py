"""The reading session's commands and the editor they act on.

Commands are frozen records of one gesture (old and new values).  They do not
write themselves: they call the :class:`SessionEditor` (the command context),
which writes through the reader's ``ClinicalStore`` (one audited transaction
per write) and emits the session's signals.  So an undo or a redo is just
another audited write, and the viewer hears about it the same way as about the
first edit.

Ids move under undo: undoing "add measurement" deletes its row and redoing it
inserts a new one, and SQLite may even hand a freed id to another record.  So
commands never hold raw ids: they hold a :class:`Token` per record, and the
editor's :class:`IdRegistry` (one per record type) maps each token to the id
its record has now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import count
from typing import Any, Protocol

from app.session.errors import RecordNotFoundError
from app.session.undo import Command
from recist.model import Lesion, Measurement, Timepoint

__all__ = [
    "AddLesion",
    "AddMeasurement",
    "DeleteLesion",
    "DeleteMeasurement",
    "IdRegistry",
    "Ref",
    "SessionEditor",
    "Token",
    "UpdateLesion",
    "UpdateMeasurement",
    "UpdateTimepoint",
]

_serials = count(1)


@dataclass(frozen=True)
class Token:
    """Stands for one record across deletions and re-creations (its id may change)."""

    kind: str
    serial: int

    @classmethod
    def new(cls, kind: str) -> Token:
        """A fresh, process-unique token."""
        return cls(kind, next(_serials))


Ref = Token
"""What a command holds to name a record."""


class IdRegistry:
    """Maps each record's token to the id the record has now (None while deleted).

    Parameters
    ----------
    kind
        The record type, for tokens and messages ("lesion", "measurement").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._token_of: dict[int, Token] = {}
        self._current: dict[Token, int] = {}

    def token_for(self, record_id: int) -> Token:
        """The token of the record that has ``record_id`` now (a new one if it has none)."""
        token = self._token_of.get(record_id)
        if token is None:
            token = Token.new(self.kind)
            self.bind(token, record_id)
        return token

    def resolve(self, token: Token) -> int:
        """The id the record ``token`` stands for has now.

        Raises
        ------
        RecordNotFoundError
            The record does not exist at the moment (not yet created, or deleted).
        """
        try:
            return self._current[token]
        except KeyError:
            raise RecordNotFoundError(
                f"The {self.kind} this edit refers to no longer exists (changed elsewhere?)."
            ) from None

    def bind(self, token: Token, record_id: int) -> None:
        """Record that the record ``token`` stands for now has id ``record_id``."""
        self._current[token] = record_id
        self._token_of[record_id] = token

    def forget(self, token: Token) -> None:
        """Record that the record was deleted (its id may be reused by another record)."""
        record_id = self._current.pop(token, None)
        if record_id is not None and self._token_of.get(record_id) == token:
            del self._token_of[record_id]

    def snapshot(self) -> tuple[dict[int, Token], dict[Token, int]]:
        """A copy of the bindings, to :meth:`restore` when a transaction rolls back."""
        return dict(self._token_of), dict(self._current)

    def restore(self, saved: tuple[dict[int, Token], dict[Token, int]]) -> None:
        """Put back the bindings of a :meth:`snapshot`."""
        self._token_of, self._current = dict(saved[0]), dict(saved[1])


class _Signals(Protocol):
    """The session signals the editor emits (psygnal ``SignalInstance`` objects)."""

    lesion_added: Any
    lesion_changed: Any
    lesion_removed: Any
    measurement_added: Any
    measurement_changed: Any
    measurement_removed: Any
    timepoint_changed: Any


class SessionEditor:
    """The command context: audited writes through the store, then the matching signal.

    A command runs inside :meth:`transaction` (the session's undo stack does
    this for every push, undo and redo): its writes are one store batch, so a
    composite edit is stored, with its audit events, entirely or not at all;
    the signals of its writes are emitted only once the batch has committed.

    Parameters
    ----------
    store
        The reader's ``storage.db.ClinicalStore``.
    signals
        The :class:`~app.session.ReadingSession` whose signals are emitted.
    """

    def __init__(self, store: Any, signals: _Signals) -> None:
        self.store = store
        self.signals = signals
        self.lesion_ids = IdRegistry("lesion")
        self.measurement_ids = IdRegistry("measurement")
        self.contours_of: dict[Token, list[int]] = {}
        """Contours unlinked when their measurement was deleted (undo); relinked when it returns."""
        self.fallback_reason: str | None = None
        """Reason used when a command has none (set by ``ReadingSession.undo(reason=...)``)."""
        self._pending: list[tuple[Any, Any]] | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`transaction`: a failure rolls back every write made in it."""
        return self._pending is not None

    @contextmanager
    def transaction(self, what: str = "edit") -> Iterator[None]:
        """Run the block's writes as one store batch (all or nothing, audit events included).

        Signals of the block's writes are held back and emitted after the
        commit; on a rollback they are dropped and the id registries are put
        back as they were, so the viewer and the commands never see records
        that were not stored.  A nested call joins the outer transaction.
        """
        if self._pending is not None:
            yield
            return
        saved = (self.lesion_ids.snapshot(), self.measurement_ids.snapshot())
        saved_contours = {k: list(v) for k, v in self.contours_of.items()}
        self._pending = []
        self._after_commit = []
        try:
            with self.store.batch(what):
                yield
        except BaseException:
            self.lesion_ids.restore(saved[0])
            self.measurement_ids.restore(saved[1])
            self.contours_of = saved_contours
            raise
        else:
            pending, after = self._pending, self._after_commit
            self._pending, self._after_commit = None, []
            for signal, value in pending:
                signal.emit(value)
            for call in dict.fromkeys(after):  # each once, in order
                call()
        finally:
            self._pending = None
            self._after_commit = []

    def after_commit(self, call: Callable[[], None]) -> None:
        """Call ``call`` now, or once after the commit of the open transaction (not on a rollback).

        The session's re-assessment goes through here: computed inside a transaction it would
        be read by listeners whose own reads (the endpoint controller's read-only store) do not
        see the uncommitted writes yet, and they would keep the stale answer.
        """
        if self._pending is None:
            call()
        else:
            self._after_commit.append(call)

    def _emit(self, signal: Any, value: Any) -> None:
        """Emit now, or after the commit of the open transaction."""
        if self._pending is None:
            signal.emit(value)
        else:
            self._pending.append((signal, value))

    def reset(self) -> None:
        """Forget every token (another patient was opened; the old commands are gone)."""
        self.lesion_ids = IdRegistry("lesion")
        self.measurement_ids = IdRegistry("measurement")
        self.contours_of = {}

    def _reason(self, reason: str | None) -> str | None:
        return reason if reason is not None else self.fallback_reason

    def update_timepoint(
        self, timepoint: Timepoint, reason: str | None, confirm_other_patient: bool = False
    ) -> Timepoint:
        """Write ``timepoint``'s values (timepoints are never deleted, so their ids are stable)."""
        stored: Timepoint = self.store.update_timepoint(
            timepoint, reason=self._reason(reason), confirm_other_patient=confirm_other_patient
        )
        self._emit(self.signals.timepoint_changed, stored)
        return stored

    def add_lesion(self, lesion: Lesion, ref: Ref) -> Lesion:
        """Insert ``lesion`` (its id is ignored) and bind ``ref`` to the new id."""
        stored: Lesion = self.store.add_lesion(replace(lesion, id=None))
        assert stored.id is not None
        self.lesion_ids.bind(ref, stored.id)
        self._emit(self.signals.lesion_added, stored)
        return stored

    def update_lesion(self, lesion: Lesion, ref: Ref, reason: str | None) -> Lesion:
        """Write ``lesion``'s values over the row ``ref`` stands for."""
        record = replace(lesion, id=self.lesion_ids.resolve(ref))
        stored: Lesion = self.store.update_lesion(record, reason=self._reason(reason))
        self._emit(self.signals.lesion_changed, stored)
        return stored

    def delete_lesion(self, ref: Ref, reason: str | None) -> None:
        """Delete the lesion ``ref`` stands for (its measurements should be gone first)."""
        lesion_id = self.lesion_ids.resolve(ref)
        self.store.delete_lesion(lesion_id, reason=self._reason(reason))
        self.lesion_ids.forget(ref)
        self._emit(self.signals.lesion_removed, lesion_id)

    def add_measurement(
        self, measurement: Measurement, ref: Ref, lesion_ref: Ref, reason: str | None
    ) -> Measurement:
        """Insert ``measurement`` on the lesion ``lesion_ref`` stands for; bind ``ref``."""
        record = replace(measurement, id=None, lesion_id=self.lesion_ids.resolve(lesion_ref))
        stored: Measurement = self.store.add_measurement(record, reason=self._reason(reason))
        assert stored.id is not None
        self.measurement_ids.bind(ref, stored.id)
        for segmentation_id in self.contours_of.pop(ref, []):  # redo / undo of a delete
            self.store.segmentations.link(segmentation_id, stored.id, self._reason(reason))
        self._emit(self.signals.measurement_added, stored)
        return stored

    def update_measurement(
        self, measurement: Measurement, ref: Ref, lesion_ref: Ref, reason: str | None
    ) -> Measurement:
        """Write ``measurement``'s values over the row ``ref`` stands for."""
        record = replace(
            measurement,
            id=self.measurement_ids.resolve(ref),
            lesion_id=self.lesion_ids.resolve(lesion_ref),
        )
        stored: Measurement = self.store.update_measurement(record, reason=self._reason(reason))
        self._emit(self.signals.measurement_changed, stored)
        return stored

    def delete_measurement(self, ref: Ref, reason: str | None) -> None:
        """Delete the measurement ``ref`` stands for."""
        measurement_id = self.measurement_ids.resolve(ref)
        segmentations: Any = getattr(self.store, "segmentations", None)
        contours: list[int] = []
        if segmentations is not None:
            contours = segmentations.ids_for_measurement(measurement_id)
        for segmentation_id in contours:  # explicit and audited, not the foreign key's SET NULL
            segmentations.link(segmentation_id, None, self._reason(reason))
        if contours:
            self.contours_of[ref] = contours
        self.store.delete_measurement(measurement_id, reason=self._reason(reason))
        self.measurement_ids.forget(ref)
        self._emit(self.signals.measurement_removed, measurement_id)


def _same_values(old: Measurement, new: Measurement) -> bool:
    """Equal apart from the time stamp (a re-save of the same lines changes nothing)."""
    return replace(old, measured_at=None) == replace(new, measured_at=None)


@dataclass(frozen=True)
class AddLesion(Command[SessionEditor]):
    """Create a lesion; ``ref`` names it from then on."""

    lesion: Lesion
    ref: Ref
    label: str = "Add lesion"

    def apply(self, ctx: SessionEditor) -> Lesion:
        """Insert the lesion."""
        return ctx.add_lesion(self.lesion, self.ref)

    def revert(self, ctx: SessionEditor) -> None:
        """Delete it again."""
        ctx.delete_lesion(self.ref, None)


@dataclass(frozen=True)
class UpdateLesion(Command[SessionEditor]):
    """Change a lesion's code, kind, organ, location or nodal flag."""

    ref: Ref
    old: Lesion
    new: Lesion
    reason: str | None = None
    label: str = "Change lesion"

    def apply(self, ctx: SessionEditor) -> Lesion:
        """Write the new values."""
        return ctx.update_lesion(self.new, self.ref, self.reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Write the old values back."""
        ctx.update_lesion(self.old, self.ref, self.reason)

    def is_noop(self) -> bool:
        """True when nothing differs."""
        return self.old == self.new


@dataclass(frozen=True)
class DeleteLesion(Command[SessionEditor]):
    """Delete a lesion that has no measurements left (a child of a composite)."""

    ref: Ref
    lesion: Lesion
    reason: str | None = None
    label: str = "Delete lesion"

    def apply(self, ctx: SessionEditor) -> None:
        """Delete the row."""
        ctx.delete_lesion(self.ref, self.reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Insert it again; later commands follow it to its new id."""
        ctx.add_lesion(self.lesion, self.ref)


@dataclass(frozen=True)
class AddMeasurement(Command[SessionEditor]):
    """Record a measurement; ``ref`` names it from then on."""

    measurement: Measurement
    ref: Ref
    lesion_ref: Ref
    reason: str | None = None
    label: str = "Record measurement"

    def apply(self, ctx: SessionEditor) -> Measurement:
        """Insert the measurement."""
        return ctx.add_measurement(self.measurement, self.ref, self.lesion_ref, self.reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Delete it again."""
        ctx.delete_measurement(self.ref, self.reason)


@dataclass(frozen=True)
class UpdateMeasurement(Command[SessionEditor]):
    """Replace a measurement's values (move, re-measure, status change)."""

    ref: Ref
    lesion_ref: Ref
    old: Measurement
    new: Measurement
    reason: str | None = None
    label: str = "Edit measurement"

    def apply(self, ctx: SessionEditor) -> Measurement:
        """Write the new values."""
        return ctx.update_measurement(self.new, self.ref, self.lesion_ref, self.reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Write the old values back."""
        ctx.update_measurement(self.old, self.ref, self.lesion_ref, self.reason)

    def is_noop(self) -> bool:
        """True when only the time stamp would change."""
        return _same_values(self.old, self.new)


@dataclass(frozen=True)
class DeleteMeasurement(Command[SessionEditor]):
    """Delete a measurement."""

    ref: Ref
    lesion_ref: Ref
    measurement: Measurement
    reason: str | None = None
    label: str = "Delete measurement"

    def apply(self, ctx: SessionEditor) -> None:
        """Delete the row."""
        ctx.delete_measurement(self.ref, self.reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Insert it again; later commands follow it to its new id."""
        ctx.add_measurement(self.measurement, self.ref, self.lesion_ref, self.reason)


@dataclass(frozen=True)
class UpdateTimepoint(Command[SessionEditor]):
    """Change a timepoint's values (e.g. attach the series it was read on)."""

    old: Timepoint
    new: Timepoint
    reason: str | None = None
    label: str = "Change timepoint"
    confirm_other_patient: bool = False
    """The reader confirmed a series of another DICOM patient (audited on every write)."""

    def apply(self, ctx: SessionEditor) -> Timepoint:
        """Write the new values."""
        return ctx.update_timepoint(self.new, self.reason, self.confirm_other_patient)

    def revert(self, ctx: SessionEditor) -> None:
        """Write the old values back."""
        ctx.update_timepoint(self.old, self.reason, self.confirm_other_patient)

    def is_noop(self) -> bool:
        """True when nothing differs."""
        return self.old == self.new
