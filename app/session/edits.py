"""Editing half of :class:`app.session.ReadingSession`: every edit is one undoable command.

Kept apart from the reading and signing methods so each module stays small; the
session class is the only user of this mixin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.session.undo import Command, CommandStack, CompositeCommand
from app.session.commands import (
    AddLesion,
    AddMeasurement,
    DeleteLesion,
    DeleteMeasurement,
    SessionEditor,
    Token,
    UpdateLesion,
    UpdateMeasurement,
)
from app.session.errors import SessionError, TimepointLockedError, translated
from app.session.records import (
    UNSPECIFIED_ORGAN,
    measurement_from_geometry,
    merge_values,
    new_tracking_uid,
    next_lesion_code,
    pick_measurement,
    split_values,
    with_status,
)
from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Reader,
    Timepoint,
)

_NEEDS_DRAWING = frozenset({MeasurementStatus.MEASURED})
_NEEDS_DETAILS = frozenset({MeasurementStatus.SPLIT, MeasurementStatus.MERGED})


class EditingMixin:
    """Measurement and lesion edits, undo and redo of the reading session."""

    reader: Reader
    commands: CommandStack[SessionEditor]
    _editor: SessionEditor
    _store: Any

    if TYPE_CHECKING:
        def _patient_id(self) -> int: ...
        def _timepoint(self, timepoint_id: int | None) -> Timepoint: ...
        def _lesion(self, lesion_id: int) -> Lesion: ...
        def _measurement(self, measurement_id: int) -> Measurement: ...
        def _reassess(self) -> None: ...
        def lesions(self) -> list[Lesion]: ...
        def timepoints(self) -> list[Timepoint]: ...
        def measurements(self, timepoint_id: int | None = None) -> list[Measurement]: ...
        def measurement_for(
            self, lesion_id: int, timepoint_id: int | None = None
        ) -> Measurement | None: ...

    # -- edits (each one command) -----------------------------------------------------------

    def record_measurement(
        self,
        geometry: DrawnGeometry,
        *,
        lesion_id: int | None = None,
        kind: LesionKind = LesionKind.TARGET,
        organ: str = "",
        location: str = "",
        nodal: bool = False,
        reason: str | None = None,
    ) -> Measurement:
        """Record the lines drawn at the current timepoint as one undoable edit.

        Parameters
        ----------
        geometry
            Long axis (and short axis when bidirectional); lengths are rounded to 0.1 mm.
        lesion_id
            The lesion measured; None creates a lesion with the next free code of
            ``kind`` (T1.., NT1.., N1..) and ``organ``/``location``/``nodal``
            (``organ`` defaults to "unspecified").  If this reader already
            measured the lesion here, that measurement is replaced.
        reason
            Needed when the edit changes a signed timepoint (an amendment).

        Returns
        -------
        Measurement
            The stored measurement.
        """
        timepoint = self._timepoint(None)
        self._refuse_if_signed(
            timepoint.order, reason, f"Could not record the measurement at {timepoint.label}"
        )
        if lesion_id is None:
            return self._record_on_new_lesion(
                geometry, timepoint, kind, organ, location, nodal, reason
            )
        lesion = self._lesion(lesion_id)
        existing = self.measurement_for(lesion_id, timepoint.id)
        if existing is not None and existing.reader_id == self.reader.id:
            new = measurement_from_geometry(
                geometry, lesion_id=lesion_id, timepoint_id=timepoint.id or 0,
                reader_id=self.reader.id, base=existing,
            )
            command: Command[SessionEditor] = UpdateMeasurement(
                *self._refs(existing), existing, new, reason, f"Measure {lesion.code}"
            )
            return self._push(command, f"Could not measure {lesion.code}") or existing
        new = measurement_from_geometry(
            geometry, lesion_id=lesion_id, timepoint_id=timepoint.id or 0, reader_id=self.reader.id
        )
        command = AddMeasurement(
            new, Token.new("measurement"), self._lesion_ref(lesion_id), reason,
            f"Measure {lesion.code}",
        )
        stored: Measurement = self._push(command, f"Could not measure {lesion.code}")
        return stored

    def _record_on_new_lesion(
        self, geometry: DrawnGeometry, timepoint: Timepoint, kind: LesionKind,
        organ: str, location: str, nodal: bool, reason: str | None,
    ) -> Measurement:
        code = next_lesion_code(kind, self.lesions())
        with translated(f"Could not create lesion {code}"):
            lesion = Lesion(
                id=None, patient_id=self._patient_id(), code=code, kind=kind,
                organ=organ.strip() or UNSPECIFIED_ORGAN, tracking_uid=new_tracking_uid(),
                location=location, nodal=nodal,
            )
        lesion_ref = Token.new("lesion")
        measurement = measurement_from_geometry(
            geometry, lesion_id=None, timepoint_id=timepoint.id or 0, reader_id=self.reader.id
        )
        parent = CompositeCommand(
            f"Measure new lesion {code}",
            (
                AddLesion(lesion, lesion_ref),
                AddMeasurement(measurement, Token.new("measurement"), lesion_ref, reason),
            ),
        )
        results = self._push(parent, f"Could not measure new lesion {code}")
        stored: Measurement = results[-1]
        return stored

    def move_measurement(
        self, measurement_id: int, geometry: DrawnGeometry, *, reason: str | None = None
    ) -> None:
        """Replace a measurement's lines (one drag = one edit; unchanged lines push nothing)."""
        old = self._measurement(measurement_id)
        if old.geometry == geometry:
            return
        self._refuse_if_signed(
            self._timepoint(old.timepoint_id).order, reason, "Could not move the measurement"
        )
        new = measurement_from_geometry(
            geometry, lesion_id=old.lesion_id, timepoint_id=old.timepoint_id or 0,
            reader_id=old.reader_id, base=old,
        )
        self._push(
            UpdateMeasurement(*self._refs(old), old, new, reason, "Move measurement"),
            "Could not move the measurement",
        )

    def set_status(
        self,
        lesion_id: int,
        status: MeasurementStatus,
        timepoint_id: int | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Record a status for a lesion (too small, absent, not evaluable, present, UPD...).

        Statuses without a length drop the lines and lengths.  ``MEASURED`` needs
        lines (use :meth:`record_measurement`); split and merged need details.
        """
        status = MeasurementStatus(status)
        if status in _NEEDS_DRAWING or status in _NEEDS_DETAILS:
            raise SessionError(
                f"Status {status.value!r} cannot be set alone: "
                + ("draw the lesion to measure it." if status in _NEEDS_DRAWING
                   else "record the fragments or the lesion it merged into.")
            )
        timepoint = self._timepoint(timepoint_id)
        lesion = self._lesion(lesion_id)
        self._write_values(
            lesion, timepoint, lambda m: with_status(m, status), {"status": status},
            f"Set {lesion.code} {status.value.replace('_', ' ')}",
            f"Could not set the status of {lesion.code}", reason,
        )

    def record_split(
        self,
        lesion_id: int,
        fragments_mm: Sequence[float],
        *,
        timepoint_id: int | None = None,
        reason: str | None = None,
    ) -> Measurement:
        """Record that a target split into fragments (RECIST 1.1 §4.3.2), as one undoable edit.

        Each fragment is stored (rounded to 0.1 mm) and the target counts as
        their sum in the sum of diameters.  Any lines drawn for it at the
        timepoint are dropped: they no longer show the recorded value.

        Raises
        ------
        SessionError
            The lesion is not a target, or a fragment is not a positive length.
        """
        timepoint = self._timepoint(timepoint_id)
        lesion = self._target(lesion_id, "split")
        what = f"Could not record {lesion.code} as split"
        values = split_values(fragments_mm, what)
        parts = " + ".join(f"{v:.1f}" for v in values["fragments_mm"])
        stored: Measurement = self._write_values(
            lesion, timepoint, lambda m: replace(m, **values), values,
            f"Split {lesion.code} ({parts} mm)", what, reason,
        )
        return stored

    def record_merge(
        self,
        lesion_id: int,
        into_code: str,
        *,
        timepoint_id: int | None = None,
        reason: str | None = None,
    ) -> Measurement:
        """Record that a target coalesced into another target (RECIST 1.1 §4.3.2), one edit.

        The merged target counts 0 mm and is linked to the code it joined; the
        coalesced mass is measured on that target.

        Raises
        ------
        SessionError
            Either lesion is not a target, ``into_code`` is the lesion itself or unknown.
        """
        timepoint = self._timepoint(timepoint_id)
        lesion = self._target(lesion_id, "merged")
        what = f"Could not record {lesion.code} as merged"
        code = into_code.strip().upper()
        into = next((les for les in self.lesions() if les.code.upper() == code), None)
        if into is None or into.kind is not LesionKind.TARGET or into.id == lesion_id:
            others = ", ".join(
                les.code for les in self.lesions()
                if les.kind is LesionKind.TARGET and les.id != lesion_id
            )
            raise SessionError(
                f"{what}: {into_code!r} is not another target of this patient "
                f"(choose one of: {others or 'none; add the target it joined first'})."
            )
        values = merge_values(into.code)
        stored: Measurement = self._write_values(
            lesion, timepoint, lambda m: replace(m, **values), values,
            f"Merge {lesion.code} into {into.code}", what, reason,
        )
        return stored

    def _target(self, lesion_id: int, status: str) -> Lesion:
        lesion = self._lesion(lesion_id)
        if lesion.kind is not LesionKind.TARGET:
            raise SessionError(
                f"Could not record {lesion.code} as {status}: only target lesions are recorded "
                f"split or merged ({lesion.code} is a {lesion.kind.value.replace('_', '-')} lesion)."
            )
        return lesion

    def _write_values(
        self, lesion: Lesion, timepoint: Timepoint, change: Callable[[Measurement], Measurement],
        values: dict[str, Any], label: str, what: str, reason: str | None,
    ) -> Any:
        """Change this reader's measurement of ``lesion`` at ``timepoint`` (or add one): one edit."""
        self._refuse_if_signed(timepoint.order, reason, what)
        existing = pick_measurement(self.measurements(timepoint.id), lesion.id or 0, self.reader.id)
        with translated(what):
            if existing is not None and existing.reader_id == self.reader.id:
                command: Command[SessionEditor] = UpdateMeasurement(
                    *self._refs(existing), existing, change(existing), reason, label
                )
            else:
                blank = Measurement(
                    id=None, lesion_id=lesion.id, timepoint_id=timepoint.id,
                    reader_id=self.reader.id, **values,
                )
                command = AddMeasurement(
                    blank, Token.new("measurement"), self._lesion_ref(lesion.id or 0), reason,
                    label,
                )
        return self._push(command, what) or existing

    def delete_measurement(self, measurement_id: int, *, reason: str | None = None) -> None:
        """Delete a measurement (undo re-creates it)."""
        old = self._measurement(measurement_id)
        self._refuse_if_signed(
            self._timepoint(old.timepoint_id).order, reason, "Could not delete the measurement"
        )
        self._push(
            DeleteMeasurement(*self._refs(old), old, reason), "Could not delete the measurement"
        )

    def delete_lesion(self, lesion_id: int, *, reason: str | None = None) -> None:
        """Delete a lesion with its measurements at every timepoint, as one undoable edit."""
        lesion = self._lesion(lesion_id)
        with translated(f"Could not delete lesion {lesion.code}"):
            all_measurements = self._store.measurements(patient_id=self._patient_id())
        children: list[Command[SessionEditor]] = [
            DeleteMeasurement(*self._refs(m), m, reason)
            for m in all_measurements
            if m.lesion_id == lesion_id
        ]
        self._refuse_if_signed(
            self._first_order(lesion_id, all_measurements), reason,
            f"Could not delete lesion {lesion.code}",
        )
        children.append(DeleteLesion(self._lesion_ref(lesion_id), lesion, reason))
        self._push(
            CompositeCommand(f"Delete lesion {lesion.code}", tuple(children)),
            f"Could not delete lesion {lesion.code}",
        )

    def change_lesion(
        self,
        lesion_id: int,
        *,
        code: str | None = None,
        kind: LesionKind | None = None,
        organ: str | None = None,
        location: str | None = None,
        nodal: bool | None = None,
        reason: str | None = None,
    ) -> None:
        """Change a lesion's code, kind, organ, location or nodal flag (None keeps a value)."""
        old = self._lesion(lesion_id)
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("code", code.strip() if code is not None else None), ("kind", kind),
                ("organ", organ.strip() if organ is not None else None),
                ("location", location), ("nodal", nodal),
            )
            if value is not None
        }
        with translated(f"Could not change lesion {old.code}"):
            new = replace(old, **changes)
            if new != old:
                measured = self._store.measurements(patient_id=self._patient_id())
        if new != old:
            self._refuse_if_signed(
                self._first_order(lesion_id, measured), reason, f"Could not change lesion {old.code}"
            )
        label = f"Change lesion {old.code}"
        self._push(
            UpdateLesion(self._lesion_ref(lesion_id), old, new, reason, label),
            f"Could not change lesion {old.code}",
        )

    # -- locks ------------------------------------------------------------------------------

    def _refuse_if_signed(self, from_order: int | None, reason: str | None, what: str) -> None:
        """Refuse, before anything is written, an unexplained edit of signed data.

        RECIST is cumulative (baseline, nadir, confirmation), so an edit at the
        timepoint of order ``from_order`` changes every later one as well.  With
        a ``reason`` the edit is an amendment: storage voids the signatures.
        """
        if from_order is None or (reason is not None and reason.strip()):
            return
        with translated(what):
            signed = {s.timepoint_id for s in self._store.signatures(self._patient_id())
                      if s.is_valid}
        labels = [tp.label for tp in self.timepoints()
                  if tp.id in signed and tp.order >= from_order]
        if labels:
            which = " and ".join(labels)
            verb = "is" if len(labels) == 1 else "are"
            raise TimepointLockedError(
                f"{what}: {which} {verb} signed and this edit would change it. "
                "Give a reason to amend it (the signature is then voided and the "
                "investigator signs again); nothing was saved."
            )

    def _first_order(self, lesion_id: int, measurements: Sequence[Measurement]) -> int | None:
        """The order of the first timepoint where the lesion is measured (None: nowhere)."""
        timepoint_ids = {m.timepoint_id for m in measurements if m.lesion_id == lesion_id}
        orders = [tp.order for tp in self.timepoints() if tp.id in timepoint_ids]
        return min(orders, default=None)

    # -- undo -------------------------------------------------------------------------------

    def undo(self, *, reason: str | None = None) -> None:
        """Undo the latest edit (a new audited write); ``reason`` if it touches signed data."""
        self._step(self.commands.undo, "Could not undo", reason)

    def redo(self, *, reason: str | None = None) -> None:
        """Redo the latest undone edit (a new audited write)."""
        self._step(self.commands.redo, "Could not redo", reason)

    def _step(self, step: Callable[[], object], what: str, reason: str | None) -> None:
        self._editor.fallback_reason = reason
        try:
            with translated(what):
                done = step()
        finally:
            self._editor.fallback_reason = None
        if done is not None:
            self._reassess()

    def _push(self, command: Command[SessionEditor], what: str) -> Any:
        if command.is_noop():
            return None
        with translated(what):
            result = self.commands.push(command)
        self._reassess()
        return result

    def _lesion_ref(self, lesion_id: int) -> Token:
        return self._editor.lesion_ids.token_for(lesion_id)

    def _refs(self, measurement: Measurement) -> tuple[Token, Token]:
        """The tokens of a stored measurement and of its lesion."""
        assert measurement.id is not None and measurement.lesion_id is not None
        return (
            self._editor.measurement_ids.token_for(measurement.id),
            self._lesion_ref(measurement.lesion_id),
        )
