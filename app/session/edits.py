"""Editing half of :class:`app.session.ReadingSession`: every edit is one undoable command.

Kept apart from the reading and signing methods so each module stays small; the
session class is the only user of this mixin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.session.checks import (
    DEFAULT_PLAUSIBLE_FACTOR,
    ask_unless_confirmed,
    check_field_of_view,
    check_kind_at,
    check_size_change,
    counted_mm,
    note_after_check,
)
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
    checked_lesion_code,
    measurement_from_geometry,
    merge_values,
    new_tracking_uid,
    next_lesion_code,
    pick_measurement,
    split_values,
    with_status,
)
from app.session.semiauto import ContourProposal, contour_record, flr_decimal
from app.session.undo import Command, CommandStack, CompositeCommand
from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Method,
    Reader,
    Timepoint,
)
from recist.organs import canonical_organ, is_lymph_node
from storage.db.segmentations import StoredSegmentation

_NEEDS_DRAWING = frozenset({MeasurementStatus.MEASURED})
_NEEDS_DETAILS = frozenset({MeasurementStatus.SPLIT, MeasurementStatus.MERGED})


class EditingMixin:
    """Measurement and lesion edits, undo and redo of the reading session."""

    reader: Reader
    commands: CommandStack[SessionEditor]
    plausible_change_factor: float | None = DEFAULT_PLAUSIBLE_FACTOR
    """A lesion more than this many times larger or smaller than at its last measurement
    needs ``confirmed=True`` (a setting of the session; None never asks)."""
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
        field_of_view_mm: float | None = None,
        confirmed: bool = False,
        method: Method = Method.MANUAL,
    ) -> Measurement:
        """Record the lines drawn at the current timepoint as one undoable edit.

        Parameters
        ----------
        geometry
            Long axis (and short axis when bidirectional); lengths are rounded to 0.1 mm.
        lesion_id
            The lesion measured; None creates a lesion with the next free code of
            ``kind`` (T1.., NT1.., N1..) and ``organ``/``location``/``nodal``
            (``organ`` defaults to "unspecified"; a listed organ is stored in its
            listed form, and a lymph node is always nodal).  If this reader
            already measured the lesion here, that measurement is replaced.
            Targets and non-targets are created only at baseline, new lesions
            only at follow-up.
        reason
            Needed when the edit changes a signed timepoint (an amendment).
        field_of_view_mm
            The larger side of the image drawn on; a longer caliper is refused.
        confirmed
            The reader confirmed a size change beyond :attr:`plausible_change_factor`
            (recorded in the measurement's note, so in the audit trail).
        method
            ``Method.SEMI_AUTO`` for lines an algorithm proposed (see
            :meth:`record_semi_auto_measurement`, which also stores the contour).

        Returns
        -------
        Measurement
            The stored measurement.

        Raises
        ------
        ConfirmationNeededError
            The lesion grew or shrank beyond the factor since its last
            measurement; ask the reader, then call again with ``confirmed=True``.
        SessionError
            A role RECIST does not allow at this timepoint, or a caliper longer
            than the field of view (the message says what to do instead).
        """
        timepoint = self._timepoint(None)
        self._refuse_if_signed(
            timepoint.order, reason, f"Could not record the measurement at {timepoint.label}"
        )
        check_field_of_view(
            geometry, field_of_view_mm, f"Could not record the measurement at {timepoint.label}"
        )
        if lesion_id is None:
            return self._record_on_new_lesion(
                geometry, timepoint, kind, organ, location, nodal, reason, method
            )
        lesion = self._lesion(lesion_id)
        self._check_measurable_at(lesion, timepoint, f"Could not measure {lesion.code}")
        existing = self.measurement_for(lesion_id, timepoint.id)
        if existing is not None and existing.reader_id == self.reader.id:
            new = measurement_from_geometry(
                geometry,
                lesion_id=lesion_id,
                timepoint_id=timepoint.id or 0,
                reader_id=self.reader.id,
                base=existing,
                method=method,
            )
            new = self._plausible(lesion, timepoint, new, confirmed)
            command: Command[SessionEditor] = UpdateMeasurement(
                *self._refs(existing), existing, new, reason, f"Measure {lesion.code}"
            )
            return self._push(command, f"Could not measure {lesion.code}") or existing
        new = measurement_from_geometry(
            geometry,
            lesion_id=lesion_id,
            timepoint_id=timepoint.id or 0,
            reader_id=self.reader.id,
            method=method,
        )
        new = self._plausible(lesion, timepoint, new, confirmed)
        command = AddMeasurement(
            new,
            Token.new("measurement"),
            self._lesion_ref(lesion_id),
            reason,
            f"Measure {lesion.code}",
        )
        stored: Measurement = self._push(command, f"Could not measure {lesion.code}")
        return stored

    def _record_on_new_lesion(
        self,
        geometry: DrawnGeometry,
        timepoint: Timepoint,
        kind: LesionKind,
        organ: str,
        location: str,
        nodal: bool,
        reason: str | None,
        method: Method = Method.MANUAL,
    ) -> Measurement:
        code = next_lesion_code(kind, self.lesions())
        check_kind_at(kind, timepoint, f"Could not create {code} at {timepoint.label}")
        with translated(f"Could not create lesion {code}"):
            lesion = Lesion(
                id=None,
                patient_id=self._patient_id(),
                code=code,
                kind=kind,
                organ=canonical_organ(organ) or UNSPECIFIED_ORGAN,
                tracking_uid=new_tracking_uid(),
                location=location.strip(),
                nodal=nodal or is_lymph_node(organ),
            )
        lesion_ref = Token.new("lesion")
        measurement = measurement_from_geometry(
            geometry,
            lesion_id=None,
            timepoint_id=timepoint.id or 0,
            reader_id=self.reader.id,
            method=method,
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
        self,
        measurement_id: int,
        geometry: DrawnGeometry,
        *,
        reason: str | None = None,
        field_of_view_mm: float | None = None,
        confirmed: bool = False,
    ) -> None:
        """Replace a measurement's lines (one drag = one edit; unchanged lines push nothing).

        ``field_of_view_mm`` and ``confirmed`` as for :meth:`record_measurement`
        (the same checks; raises ``ConfirmationNeededError`` the same way).
        """
        old = self._measurement(measurement_id)
        if old.geometry == geometry:
            return
        self._refuse_if_signed(
            self._timepoint(old.timepoint_id).order, reason, "Could not move the measurement"
        )
        check_field_of_view(geometry, field_of_view_mm, "Could not move the measurement")
        new = measurement_from_geometry(
            geometry,
            lesion_id=old.lesion_id,
            timepoint_id=old.timepoint_id or 0,
            reader_id=old.reader_id,
            base=old,
        )
        new = self._plausible(
            self._lesion(old.lesion_id or 0), self._timepoint(old.timepoint_id), new, confirmed
        )
        self._push(
            UpdateMeasurement(*self._refs(old), old, new, reason, "Move measurement"),
            "Could not move the measurement",
        )

    def record_semi_auto_measurement(
        self,
        proposal: ContourProposal,
        geometry: DrawnGeometry,
        *,
        lesion_id: int | None = None,
        kind: LesionKind = LesionKind.TARGET,
        organ: str = "",
        location: str = "",
        nodal: bool = False,
        reason: str | None = None,
        field_of_view_mm: float | None = None,
        confirmed: bool = False,
    ) -> Measurement:
        """Store a proposal the reader accepted: the caliper and the contour behind it.

        One undoable edit and one transaction: a ``Method.SEMI_AUTO`` measurement of
        ``geometry`` (the proposed caliper as the reader left it, adjusted or not; arguments as
        for :meth:`record_measurement`) and the proposal's contour with its volume, HU
        statistics and algorithm name, version and parameters (audited, entity
        ``segmentation``).  Undo removes the measurement and unlinks the contour (audited); redo,
        or the undo of a Delete, links it to the measurement again.
        """
        timepoint = self._timepoint(None)
        existing = self.measurement_for(lesion_id, timepoint.id) if lesion_id is not None else None
        if (
            existing is not None
            and existing.id is not None
            and existing.reader_id == self.reader.id
        ):
            # the lesion measured again: its contour is replaced, not added beside the old
            # one (both stayed linked; undo left the rejected proposal's contour outlined)
            return self.record_contour_edit(
                existing.id,
                proposal,
                geometry,
                reason=reason,
                field_of_view_mm=field_of_view_mm,
                confirmed=confirmed,
                label=f"Measure {self._lesion(lesion_id or 0).code}",
            )
        undo_depth = len(self.commands.undo_commands)
        try:
            with self._editor.transaction("semi-automatic measurement"):
                stored = self.record_measurement(
                    geometry,
                    lesion_id=lesion_id,
                    kind=kind,
                    organ=organ,
                    location=location,
                    nodal=nodal,
                    reason=reason,
                    field_of_view_mm=field_of_view_mm,
                    confirmed=confirmed,
                    method=Method.SEMI_AUTO,
                )
                with translated("Could not store the lesion's contour"):
                    self._store.segmentations.add(
                        contour_record(
                            proposal,
                            kind="lesion",
                            timepoint_id=timepoint.id or 0,
                            measurement_id=stored.id,
                            series_instance_uid=geometry.series_instance_uid,
                        ),
                        reason=reason,
                    )
        except BaseException:
            if len(self.commands.undo_commands) > undo_depth:
                self.commands.discard_top()  # its writes were rolled back with the contour
            raise
        return stored

    def read_seg_contours(
        self, path: str, sop_instance_uids: list[str]
    ) -> list[tuple[str, tuple[int, int, int], Any]]:
        """The segments of a DICOM SEG over a series (``semiauto.read_seg_contours``)."""
        from app.session.semiauto import read_seg_contours

        return read_seg_contours(path, sop_instance_uids)

    def segmentation_for(self, measurement_id: int) -> StoredSegmentation | None:
        """The contour stored with a semi-automatic measurement, or None."""
        with translated("Could not read the lesion's contour"):
            found: StoredSegmentation | None = self._store.segmentations.for_measurement(
                measurement_id
            )
        return found

    def record_contour_edit(
        self,
        measurement_id: int,
        proposal: ContourProposal,
        geometry: DrawnGeometry,
        *,
        reason: str | None = None,
        field_of_view_mm: float | None = None,
        confirmed: bool = False,
        label: str = "Edit contour",
    ) -> Measurement:
        """Store a lesion contour edited with the brush and the caliper recomputed from it.

        One undoable edit ("Edit contour"): the measurement's lines become ``geometry``
        (still ``Method.SEMI_AUTO``; the checks of :meth:`move_measurement` apply) and the
        edited contour (``proposal``: mask, volume, HU statistics, algorithm and parameters)
        replaces the one linked to it (``app.session.contour_edits.ReplaceContour``; audited).
        """
        from app.session.contour_edits import ReplaceContour

        old = self._measurement(measurement_id)
        timepoint = self._timepoint(old.timepoint_id)
        what = "Could not store the edited contour"
        self._refuse_if_signed(timepoint.order, reason, what)
        check_field_of_view(geometry, field_of_view_mm, what)
        new = measurement_from_geometry(
            geometry,
            lesion_id=old.lesion_id,
            timepoint_id=old.timepoint_id or 0,
            reader_id=old.reader_id,
            base=old,
            method=Method.SEMI_AUTO,
        )
        new = self._plausible(self._lesion(old.lesion_id or 0), timepoint, new, confirmed)
        with translated(what):
            old_ids = tuple(self._store.segmentations.ids_for_measurement(measurement_id))
        refs = self._refs(old)
        record = contour_record(
            proposal,
            kind="lesion",
            timepoint_id=timepoint.id or 0,
            measurement_id=None,
            series_instance_uid=geometry.series_instance_uid,
        )
        command: CompositeCommand[SessionEditor] = CompositeCommand(
            label,
            tuple(
                c
                for c in (
                    UpdateMeasurement(*refs, old, new, reason, label),
                    ReplaceContour(*refs, old_ids, record, old, new, reason, label),
                )
                if not c.is_noop()
            ),
        )
        self._push(command, what)
        return self._measurement(measurement_id)

    def record_liver_volumetry(
        self,
        liver: ContourProposal,
        series_instance_uid: str,
        *,
        volumetry: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> StoredSegmentation:
        """Store the liver segmented at the current timepoint (and its virtual resection).

        ``volumetry`` is ``app.segmentation.Volumetry.to_dict()``: total liver, tumour,
        resected and remnant volumes (mL) and ``flr_percent`` (the volumetry panel adds
        ``resection_method``: ``cut plane`` or ``painted``).  Audited; a signed timepoint
        needs ``reason``.
        """
        timepoint = self._timepoint(None)
        with translated("Could not store the liver volumetry"):
            stored: StoredSegmentation = self._store.segmentations.add(
                contour_record(
                    liver,
                    kind="liver",
                    timepoint_id=timepoint.id or 0,
                    measurement_id=None,
                    series_instance_uid=series_instance_uid,
                    values=volumetry,
                ),
                reason=reason,
            )
        return stored

    def record_virtual_resection(
        self, segmentation_id: int, volumetry: dict[str, Any], *, reason: str | None = None
    ) -> StoredSegmentation:
        """Replace the virtual resection of a stored liver volumetry (audited)."""
        with translated("Could not store the virtual resection"):
            stored: StoredSegmentation = self._store.segmentations.set_values(
                segmentation_id, dict(volumetry), reason=reason
            )
        return stored

    def liver_volumetry(self) -> StoredSegmentation | None:
        """The open patient's latest liver volumetry (latest timepoint first), or None."""
        with translated("Could not read the liver volumetry"):
            found: StoredSegmentation | None = self._store.segmentations.latest_liver(
                self._patient_id()
            )
        return found

    def measured_flr_percent(self) -> Decimal | None:
        """The future liver remnant % of the latest liver volumetry with a virtual resection.

        For the conversion record (``ConversionRecord.flr_pct`` with
        ``FlrSource.MEASURED``); None when no resection was recorded.
        """
        volumetry = self.liver_volumetry()
        return None if volumetry is None else flr_decimal(volumetry.values)

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
                + (
                    "draw the lesion to measure it."
                    if status in _NEEDS_DRAWING
                    else "record the fragments or the lesion it merged into."
                )
            )
        timepoint = self._timepoint(timepoint_id)
        lesion = self._lesion(lesion_id)
        self._check_measurable_at(lesion, timepoint, f"Could not set the status of {lesion.code}")
        if status is MeasurementStatus.ABSENT and timepoint.is_baseline:
            # one key (0, "disappeared") at the baseline made the baseline sum 0 for that
            # target and the follow-up PD
            raise SessionError(
                f"Could not set the status of {lesion.code}: a lesion cannot have disappeared at "
                f"{timepoint.label}, the baseline (it is recorded there because it is seen); "
                "measure it, or delete the lesion if it was recorded by mistake."
            )
        self._write_values(
            lesion,
            timepoint,
            lambda m: with_status(m, status),
            {"status": status},
            f"Set {lesion.code} {status.value.replace('_', ' ')}",
            f"Could not set the status of {lesion.code}",
            reason,
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
            lesion,
            timepoint,
            lambda m: replace(m, **values),
            values,
            f"Split {lesion.code} ({parts} mm)",
            what,
            reason,
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
                les.code
                for les in self.lesions()
                if les.kind is LesionKind.TARGET and les.id != lesion_id
            )
            raise SessionError(
                f"{what}: {into_code!r} is not another target of this patient "
                f"(choose one of: {others or 'none; add the target it joined first'})."
            )
        values = merge_values(into.code)
        stored: Measurement = self._write_values(
            lesion,
            timepoint,
            lambda m: replace(m, **values),
            values,
            f"Merge {lesion.code} into {into.code}",
            what,
            reason,
        )
        return stored

    def _target(self, lesion_id: int, status: str) -> Lesion:
        lesion = self._lesion(lesion_id)
        if lesion.kind is not LesionKind.TARGET:
            raise SessionError(
                f"Could not record {lesion.code} as {status}: only target lesions are recorded "
                f"split or merged ({lesion.code} is a "
                f"{lesion.kind.value.replace('_', '-')} lesion)."
            )
        return lesion

    def _write_values(
        self,
        lesion: Lesion,
        timepoint: Timepoint,
        change: Callable[[Measurement], Measurement],
        values: dict[str, Any],
        label: str,
        what: str,
        reason: str | None,
    ) -> Any:
        """Change (or add) this reader's measurement of ``lesion`` at ``timepoint``: one edit."""
        self._refuse_if_signed(timepoint.order, reason, what)
        existing = pick_measurement(self.measurements(timepoint.id), lesion.id or 0, self.reader.id)
        with translated(what):
            if existing is not None and existing.reader_id == self.reader.id:
                changed = change(existing)
                command: Command[SessionEditor] = UpdateMeasurement(
                    *self._refs(existing), existing, changed, reason, label
                )
                if changed.geometry is None and existing.id is not None:
                    # no lines, no contour (it stayed outlined and counted as tumour)
                    from app.session.contour_edits import UnlinkContours

                    ids = tuple(self._store.segmentations.ids_for_measurement(existing.id))
                    unlink = UnlinkContours(self._refs(existing)[0], ids, reason)
                    if not unlink.is_noop():
                        command = CompositeCommand(label, (command, unlink))
            else:
                blank = Measurement(
                    id=None,
                    lesion_id=lesion.id,
                    timepoint_id=timepoint.id,
                    reader_id=self.reader.id,
                    **values,
                )
                command = AddMeasurement(
                    blank,
                    Token.new("measurement"),
                    self._lesion_ref(lesion.id or 0),
                    reason,
                    label,
                )
        result = self._push(command, what)
        if isinstance(result, list):  # a composite: the measurement's own command first
            result = result[0] if result else None
        return result or existing

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
            self._first_order(lesion_id, all_measurements),
            reason,
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
        """Change a lesion's code, kind, organ, location or nodal flag (None keeps a value).

        A listed organ is stored in its listed form; changing the organ to a lymph
        node makes the lesion nodal (unless ``nodal`` says otherwise).  The kind
        must fit the timepoint the lesion was first recorded at (targets and
        non-targets at baseline, new lesions at follow-up).
        """
        old = self._lesion(lesion_id)
        if organ is not None and nodal is None and is_lymph_node(organ):
            nodal = True
        if code is not None:
            try:
                code = checked_lesion_code(code)
            except ValueError as exc:
                raise SessionError(f"Could not rename {old.code}: {exc}") from exc
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("code", code),
                ("kind", kind),
                ("organ", canonical_organ(organ) if organ is not None else None),
                ("location", location),
                ("nodal", nodal),
            )
            if value is not None
        }
        if kind is not None and kind is not old.kind:
            first = self._first_timepoint_of(lesion_id) or self._timepoint(None)
            check_kind_at(
                kind,
                first,
                f"Could not make {old.code} a {kind.value.replace('_', '-')} lesion "
                f"({old.code} was first recorded at {first.label})",
            )
        with translated(f"Could not change lesion {old.code}"):
            new = replace(old, **changes)
            if new != old:
                measured = self._store.measurements(patient_id=self._patient_id())
        if new != old:
            self._refuse_if_signed(
                self._first_order(lesion_id, measured),
                reason,
                f"Could not change lesion {old.code}",
            )
        label = f"Change lesion {old.code}"
        self._push(
            UpdateLesion(self._lesion_ref(lesion_id), old, new, reason, label),
            f"Could not change lesion {old.code}",
        )

    # -- RECIST roles and plausibility (issue 11, points 2 and 3) ------------------------------

    def _first_timepoint_of(self, lesion_id: int) -> Timepoint | None:
        """The earliest timepoint where the lesion has a measurement (None: nowhere yet)."""
        with translated("Could not find where the lesion was first recorded"):
            measured = self._store.measurements(patient_id=self._patient_id())
        ids = {m.timepoint_id for m in measured if m.lesion_id == lesion_id}
        return next((tp for tp in self.timepoints() if tp.id in ids), None)

    def _check_measurable_at(self, lesion: Lesion, timepoint: Timepoint, what: str) -> None:
        """Refuse recording a new lesion at baseline (it appeared later, by definition)."""
        if lesion.kind is LesionKind.NEW and timepoint.is_baseline:
            raise SessionError(
                f"{what}: {lesion.code} is a new lesion, so it has nothing to record at "
                f"{timepoint.label}; measure the baseline's targets and non-targets here, "
                f"or select a follow-up timepoint to record {lesion.code}."
            )

    def _last_measured_before(
        self, lesion: Lesion, timepoint: Timepoint
    ) -> tuple[Timepoint, Measurement] | None:
        """The lesion's latest measurement with a length before ``timepoint``."""
        earlier = [tp for tp in self.timepoints() if tp.order < timepoint.order]
        for tp in reversed(earlier):
            found = self.measurement_for(lesion.id or 0, tp.id)
            if found is not None and counted_mm(found, lesion):
                return tp, found
        return None

    def _plausible(
        self, lesion: Lesion, timepoint: Timepoint, new: Measurement, confirmed: bool
    ) -> Measurement:
        """``new`` with its confirmation note; asks first when its size change is implausible."""
        change = check_size_change(
            lesion, new, self._last_measured_before(lesion, timepoint), self.plausible_change_factor
        )
        ask_unless_confirmed(change, confirmed)
        return replace(new, note=note_after_check(new.note, change))

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
            signed = {
                s.timepoint_id for s in self._store.signatures(self._patient_id()) if s.is_valid
            }
        labels = [
            tp.label for tp in self.timepoints() if tp.id in signed and tp.order >= from_order
        ]
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
        assert measurement.id is not None
        assert measurement.lesion_id is not None
        return (
            self._editor.measurement_ids.token_for(measurement.id),
            self._lesion_ref(measurement.lesion_id),
        )
