"""Contours measured semi-automatically: a lesion's 3-D mask behind its measurement, livers.

:class:`Segmentations` is a collaborator of :class:`~storage.db.store.ClinicalStore`
(``store.segmentations``) sharing its :class:`~storage.db.transactions.Transactions`: each
write is one transaction with its audit event (entity ``segmentation``; the event holds every
value and the SHA-256 of the mask, not the mask), joins the store's ``batch()``, and, on a
signed timepoint, needs a reason (an amendment that voids the signature), like a measurement.

The mask travels as :class:`MaskBox`: a boolean box of the series' voxel grid and its
first voxel, stored as zlib-compressed ``numpy.packbits``.

A lesion contour stored with a measurement keeps, in its ``values`` (key
:data:`CALIPER_WHEN_STORED`), the measurement's caliper as it was when the contour was stored:
the proposal the reader accepted, or the caliper recomputed from a contour the reader edited.
:func:`caliper_change` compares it with the measurement as it is now, so a report can say
whether the reader moved the caliper afterwards (an undone move is no move).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.model import Measurement, MeasurementStatus
from storage.db.errors import NotFoundError, RepositoryError
from storage.db.mappers import geometry_to_json, measurement_from_row
from storage.db.models import MeasurementRow, SegmentationRow, TimepointRow
from storage.db.transactions import Transactions

#: What a segmentation is of: a lesion's contour, a timepoint's liver, or the region the
#: reader painted as resected in a virtual resection of that liver (``values`` name the liver).
KINDS: tuple[str, ...] = ("lesion", "liver", "resection")

#: Key of a lesion contour's ``values``: the caliper of its measurement when it was stored.
CALIPER_WHEN_STORED = "caliper_when_stored"


def caliper_values(measurement: Measurement) -> dict[str, Any]:
    """A measurement's caliper as JSON values: status, diameters and the drawn lines."""
    geometry = geometry_to_json(measurement.geometry)
    return {
        "status": measurement.status.value,
        "long_axis_mm": measurement.long_axis_mm,
        "short_axis_mm": measurement.short_axis_mm,
        "geometry": None if geometry is None else json.loads(geometry),
    }


def _same(a: Any, b: Any) -> bool:
    """JSON values equal (numbers within 1e-6: a float read back from another database)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return abs(float(a) - float(b)) <= 1e-6
    return bool(a == b)


def status_change(status: MeasurementStatus) -> str:
    """How a status that replaced a caliper is named: ``"status set to not evaluable"``."""
    return f"status set to {status.value.replace('_', ' ')}"


def caliper_change(contour: StoredSegmentation, measurement: Measurement) -> str | None:
    """What the reader changed in ``measurement`` since its contour was stored with it.

    ``""`` nothing (an undone change is none), ``"caliper moved"`` (its lines or diameters),
    ``"status set to absent"`` (or another status: the lines were replaced by it); None when
    the contour does not record its caliper (stored before Caliper recorded it).
    """
    stored = contour.values.get(CALIPER_WHEN_STORED)
    if not isinstance(stored, dict):
        return None
    now = caliper_values(measurement)
    if _same(stored, now):
        return ""
    if stored.get("status") != now["status"]:
        return status_change(measurement.status)
    return "caliper moved"


@dataclass(frozen=True)
class MaskBox:
    """A boolean 3-D mask in a box of a series' voxel grid.

    Attributes
    ----------
    offset : tuple of int
        ``(slice, row, column)`` of the box's first voxel in the series.
    mask : numpy.ndarray
        Boolean ``(slices, rows, columns)``.
    """

    offset: tuple[int, int, int]
    mask: np.ndarray = field(repr=False)

    def packed(self) -> bytes:
        """zlib of ``numpy.packbits`` of the mask (C order)."""
        return zlib.compress(np.packbits(self.mask.astype(bool), axis=None).tobytes(), 6)

    def sha256(self) -> str:
        """Hash of the shape, offset and voxels: what the audit trail records of the mask."""
        h = hashlib.sha256()
        h.update(json.dumps([list(self.offset), list(self.mask.shape)]).encode())
        h.update(np.packbits(self.mask.astype(bool), axis=None).tobytes())
        return h.hexdigest()

    @staticmethod
    def unpack(offset: str, shape: str, data: bytes) -> MaskBox:
        """Read a stored mask back; a damaged one raises :class:`RepositoryError`."""
        try:
            o = tuple(int(v) for v in offset.split(","))
            s = tuple(int(v) for v in shape.split(","))
            n = int(np.prod(s))
            bits = np.unpackbits(np.frombuffer(zlib.decompress(data), dtype=np.uint8))
            if len(o) != 3 or len(s) != 3 or bits.size < n:
                raise ValueError(f"offset {offset!r}, shape {shape!r}, {bits.size} bits")
        except (ValueError, zlib.error) as exc:
            raise RepositoryError(f"segmentation mask is damaged: {exc}") from exc
        return MaskBox((o[0], o[1], o[2]), bits[:n].reshape(s).astype(bool))


@dataclass(frozen=True)
class StoredSegmentation:
    """One stored segmentation (``id`` None before it is stored).

    Attributes
    ----------
    kind : str
        ``lesion``, ``liver`` or ``resection``.
    values : dict
        Further numbers: for a liver, ``total_liver_ml``, ``tumour_ml`` (with
        ``tumour_resected_ml``, ``tumour_remnant_ml`` and ``tumour_basis``: the lesions' own
        stored volumes or their contours' voxels), ``resected_ml``, ``remnant_ml``,
        ``flr_percent`` once a virtual resection is recorded (and how it was
        marked: ``resection_method`` ``cut plane`` or ``painted``; a painted one also
        ``resection_segmentation_id``, the row of the painted mask).  For a resection:
        ``liver_segmentation_id`` and the ``tumour_segmentation_ids`` its FLR counted.  For a
        lesion stored with a measurement, :data:`CALIPER_WHEN_STORED` (added by
        :meth:`Segmentations.add`): that measurement's status, diameters and lines then.
    """

    id: int | None
    timepoint_id: int
    measurement_id: int | None
    kind: str
    series_instance_uid: str
    algorithm: str
    algorithm_version: str
    parameters: dict[str, Any]
    volume_ml: float
    mask: MaskBox
    mean_hu: float | None = None
    sd_hu: float | None = None
    values: dict[str, Any] = field(default_factory=dict)
    reader_id: int | None = None
    created_at: datetime | None = None

    def audit_values(self) -> dict[str, Any]:
        """What the audit trail records (the mask by its hash, shape and offset)."""
        return {
            "timepoint_id": self.timepoint_id,
            "measurement_id": self.measurement_id,
            "kind": self.kind,
            "series_instance_uid": self.series_instance_uid,
            "algorithm": self.algorithm,
            "algorithm_version": self.algorithm_version,
            "parameters": self.parameters,
            "volume_ml": self.volume_ml,
            "mean_hu": self.mean_hu,
            "sd_hu": self.sd_hu,
            "values": self.values,
            "mask_offset": list(self.mask.offset),
            "mask_shape": list(self.mask.mask.shape),
            "mask_sha256": self.mask.sha256(),
        }


def _get(session: Session, segmentation_id: int) -> SegmentationRow:
    """The stored contour row, or NotFoundError."""
    row = session.get(SegmentationRow, segmentation_id)
    if row is None:
        raise NotFoundError(f"segmentation {segmentation_id} not found")
    return row


def _from_row(row: SegmentationRow) -> StoredSegmentation:
    return StoredSegmentation(
        id=row.id,
        timepoint_id=row.timepoint_id,
        measurement_id=row.measurement_id,
        kind=row.kind,
        series_instance_uid=row.series_instance_uid,
        algorithm=row.algorithm,
        algorithm_version=row.algorithm_version,
        parameters=json.loads(row.parameters_json or "{}"),
        volume_ml=row.volume_ml,
        mask=MaskBox.unpack(row.mask_offset, row.mask_shape, row.mask_zlib),
        mean_hu=row.mean_hu,
        sd_hu=row.sd_hu,
        values=json.loads(row.values_json or "{}"),
        reader_id=row.reader_id,
        created_at=row.created_at,
    )


def _fill(row: SegmentationRow, seg: StoredSegmentation) -> None:
    row.kind = seg.kind
    row.series_instance_uid = seg.series_instance_uid
    row.algorithm = seg.algorithm
    row.algorithm_version = seg.algorithm_version
    row.parameters_json = json.dumps(seg.parameters, sort_keys=True)
    row.volume_ml = float(seg.volume_ml)
    row.mean_hu = None if seg.mean_hu is None else float(seg.mean_hu)
    row.sd_hu = None if seg.sd_hu is None else float(seg.sd_hu)
    row.values_json = json.dumps(seg.values, sort_keys=True)
    row.mask_offset = ",".join(str(int(v)) for v in seg.mask.offset)
    row.mask_shape = ",".join(str(int(v)) for v in seg.mask.mask.shape)
    row.mask_zlib = seg.mask.packed()
    row.mask_sha256 = seg.mask.sha256()


class Segmentations:
    """Stored segmentations of one database, written as the store's reader."""

    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def add(
        self, segmentation: StoredSegmentation, reason: str | None = None
    ) -> StoredSegmentation:
        """Store a segmentation (audited); ``reason`` is needed on a signed timepoint.

        Raises
        ------
        NotFoundError
            The timepoint or measurement does not exist.
        RepositoryError
            An unknown kind, or a measurement of another timepoint.
        """
        if segmentation.kind not in KINDS:
            raise RepositoryError(
                f"segmentation kind must be one of {', '.join(KINDS)}, got {segmentation.kind!r}"
            )
        with self._tx.write(f"add {segmentation.kind} segmentation") as session:
            tp = session.get(TimepointRow, segmentation.timepoint_id)
            if tp is None:
                raise NotFoundError(f"timepoint {segmentation.timepoint_id} not found")
            if segmentation.measurement_id is not None:
                m = session.get(MeasurementRow, segmentation.measurement_id)
                if m is None:
                    raise NotFoundError(f"measurement {segmentation.measurement_id} not found")
                if m.timepoint_id != tp.id:
                    raise RepositoryError(
                        f"measurement {m.id} is of another timepoint than {tp.label}"
                    )
                if segmentation.kind == "lesion":
                    caliper = caliper_values(measurement_from_row(m))
                    values = {CALIPER_WHEN_STORED: caliper, **segmentation.values}
                    segmentation = replace(segmentation, values=values)
            self._tx.guard(
                session,
                tp.patient_id,
                tp.order,
                reason,
                f"adding a {segmentation.kind} contour at {tp.label}",
            )
            row = SegmentationRow(
                timepoint_id=tp.id,
                measurement_id=segmentation.measurement_id,
                reader_id=self._tx.writer_id(),
            )
            _fill(row, segmentation)
            session.add(row)
            session.flush()
            stored = _from_row(row)
            self._tx.audit(
                session,
                "create",
                "segmentation",
                row.id,
                after=stored.audit_values(),
                reason=reason,
            )
        return stored

    def set_values(
        self, segmentation_id: int, values: dict[str, Any], reason: str | None = None
    ) -> StoredSegmentation:
        """Replace a segmentation's further values (a liver's virtual resection), audited."""
        with self._tx.write(f"update segmentation {segmentation_id}") as session:
            row = _get(session, segmentation_id)
            return self._audited_change(
                session,
                row,
                reason,
                f"changing a {row.kind} contour",
                lambda r: setattr(r, "values_json", json.dumps(values, sort_keys=True)),
            )

    def link(
        self, segmentation_id: int, measurement_id: int | None, reason: str | None = None
    ) -> StoredSegmentation:
        """Link a contour to a measurement, or unlink it (None), audited.

        Undo and redo delete and re-insert a measurement under a new id; the session moves
        its contour along with this (never left unlinked from the measurement it belongs to).
        """
        with self._tx.write(f"link segmentation {segmentation_id}") as session:
            row = _get(session, segmentation_id)
            if measurement_id is not None:
                m = session.get(MeasurementRow, measurement_id)
                if m is None:
                    raise NotFoundError(f"measurement {measurement_id} not found")
                if m.timepoint_id != row.timepoint_id:
                    raise RepositoryError(
                        f"measurement {m.id} is of another timepoint than segmentation {row.id}"
                    )
            return self._audited_change(
                session,
                row,
                reason,
                "relinking a contour",
                lambda r: setattr(r, "measurement_id", measurement_id),
            )

    def _audited_change(
        self,
        session: Session,
        row: SegmentationRow,
        reason: str | None,
        doing: str,
        change: Callable[[SegmentationRow], None],
    ) -> StoredSegmentation:
        """Apply ``change`` to a stored contour (signed timepoints need ``reason``), audited."""
        old = _from_row(row)
        tp = session.get_one(TimepointRow, row.timepoint_id)
        self._tx.guard(session, tp.patient_id, tp.order, reason, f"{doing} at {tp.label}")
        change(row)
        session.flush()
        new = _from_row(row)
        self._tx.audit(
            session,
            "update",
            "segmentation",
            row.id,
            before=old.audit_values(),
            after=new.audit_values(),
            reason=reason,
        )
        return new

    def get(self, segmentation_id: int) -> StoredSegmentation:
        """One stored segmentation; NotFoundError if there is none with that id."""
        with self._tx.read("read a segmentation") as session:
            return _from_row(_get(session, segmentation_id))

    def ids_for_measurement(self, measurement_id: int) -> list[int]:
        """Ids of every contour linked to a measurement."""
        query = select(SegmentationRow.id).where(SegmentationRow.measurement_id == measurement_id)
        with self._tx.read("list a measurement's contours") as session:
            return [int(i) for i in session.scalars(query.order_by(SegmentationRow.id))]

    def for_timepoint(self, timepoint_id: int, kind: str | None = None) -> list[StoredSegmentation]:
        """A timepoint's segmentations in the order they were stored."""
        query = select(SegmentationRow).where(SegmentationRow.timepoint_id == timepoint_id)
        if kind is not None:
            query = query.where(SegmentationRow.kind == kind)
        with self._tx.read("list segmentations") as session:
            return [_from_row(r) for r in session.scalars(query.order_by(SegmentationRow.id))]

    def for_measurement(self, measurement_id: int) -> StoredSegmentation | None:
        """The latest contour stored with a measurement, or None."""
        query = (
            select(SegmentationRow)
            .where(SegmentationRow.measurement_id == measurement_id)
            .order_by(SegmentationRow.id.desc())
            .limit(1)
        )
        with self._tx.read("read a measurement's contour") as session:
            row = session.scalars(query).first()
            return None if row is None else _from_row(row)

    def for_measurements(self, measurement_ids: Iterable[int]) -> dict[int, StoredSegmentation]:
        """The latest lesion contour linked to each of ``measurement_ids`` (one query)."""
        wanted = sorted(set(measurement_ids))
        if not wanted:
            return {}
        query = (
            select(SegmentationRow)
            .where(SegmentationRow.measurement_id.in_(wanted), SegmentationRow.kind == "lesion")
            .order_by(SegmentationRow.id)
        )
        with self._tx.read("read the measurements' contours") as session:
            found = {}
            for row in session.scalars(query):
                found[int(row.measurement_id or 0)] = _from_row(row)  # the latest wins
            return found

    def latest_liver(self, patient_id: int) -> StoredSegmentation | None:
        """The patient's most recent liver volumetry (latest timepoint, then latest stored)."""
        query = (
            select(SegmentationRow)
            .join(TimepointRow, SegmentationRow.timepoint_id == TimepointRow.id)
            .where(TimepointRow.patient_id == patient_id, SegmentationRow.kind == "liver")
            .order_by(TimepointRow.order.desc(), SegmentationRow.id.desc())
            .limit(1)
        )
        with self._tx.read("read the liver volumetry") as session:
            row = session.scalars(query).first()
            return None if row is None else _from_row(row)
