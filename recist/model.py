"""Domain records shared by every layer: readers, patients, timepoints, lesions, measurements.

These are the persistent facts a reader enters.  They are frozen and valid
once constructed (highdicom's principle): a bad value raises
:class:`~recist.errors.InvalidRecordError` naming the field.  The rules engine
turns them into a :class:`recist.case.Case` (``recist.case_from_records``) and
evaluates that; storage maps them to and from rows; the viewer shows them.

Lengths are millimetres (``*_mm``), image positions are pixels (``*_px``, as
``(column, row)``), patient positions are DICOM LPS millimetres (``*_lps_mm``).
Dates are :class:`datetime.date`; instants are timezone-aware UTC
:class:`datetime.datetime`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from recist.errors import InvalidRecordError


class Criteria(StrEnum):
    """Response criteria a patient is read with."""

    RECIST11 = "RECIST1.1"
    """RECIST 1.1 (Eisenhauer 2009)."""
    IRECIST = "iRECIST"
    """iRECIST (Seymour 2017), computed alongside RECIST 1.1."""


class Role(StrEnum):
    """What a reader may do."""

    READER = "reader"
    """Measures lesions and records statuses."""
    INVESTIGATOR = "investigator"
    """Everything a reader does, and signs the confirmation of a response."""
    ADMIN = "admin"
    """Manages readers and settings; does not sign."""


class LesionKind(StrEnum):
    """RECIST category of a lesion; fixed at the timepoint it is first recorded."""

    TARGET = "target"
    """Measured target lesion (at most 5, 2 per organ)."""
    NON_TARGET = "non_target"
    """Followed qualitatively (present / absent / unequivocal progression)."""
    NEW = "new"
    """Appeared after baseline."""


class MeasurementStatus(StrEnum):
    """What the reader recorded for a lesion at a timepoint."""

    MEASURED = "measured"
    """A long axis (and, for nodes, a short axis) was measured."""
    TOO_SMALL = "too_small"
    """Present but too small to measure (TSTM): 5 mm is used."""
    ABSENT = "absent"
    """Disappeared: 0 mm for a target, absent for a non-target."""
    NOT_EVALUABLE = "not_evaluable"
    """Not imaged or not assessable: never 0, the timepoint may become NE."""
    PRESENT = "present"
    """Non-target or new lesion seen, not measured."""
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    """Non-target with unequivocal progression."""
    FURTHER_INCREASE = "further_increase"
    """iRECIST, after iUPD: non-target disease increased further since the last assessment."""
    SPLIT = "split"
    """Target split into fragments; ``fragments_mm`` holds each, the long axis their sum."""
    MERGED = "merged"
    """Coalesced into another target (``coalesced_into``); its own diameter is 0."""


class Method(StrEnum):
    """How a measurement was drawn."""

    MANUAL = "manual"
    """Both end points placed by the reader."""
    SEMI_AUTO = "semi_auto"
    """Proposed by an algorithm, accepted or edited by the reader."""


def _check_length(name: str, value: float | None, *, allow_none: bool = True) -> None:
    if value is None:
        if not allow_none:
            raise InvalidRecordError(f"{name} is required")
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRecordError(f"{name} must be a finite number of millimetres, got {value!r}")
    if value < 0:
        raise InvalidRecordError(f"{name} must be >= 0 mm, got {value}")
    if value > 2000:
        raise InvalidRecordError(f"{name} must be <= 2000 mm, got {value}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One caliper line: two end points in image pixels and in patient millimetres."""

    start_px: tuple[float, float]
    end_px: tuple[float, float]
    start_lps_mm: tuple[float, float, float]
    end_lps_mm: tuple[float, float, float]

    @property
    def length_mm(self) -> float:
        """Euclidean length in patient space."""
        return math.dist(self.start_lps_mm, self.end_lps_mm)


@dataclass(frozen=True, slots=True)
class DrawnGeometry:
    """Where a measurement was drawn, enough to redraw it and to export DICOM SR.

    The image is identified by ``sop_instance_uid`` and, in a multi-frame
    instance, ``frame_number`` (1-based); the end points are in that image's
    pixels and in patient LPS millimetres.  ``slice_index`` only records the
    position in the volume the caliper was drawn on: the files behind a series
    may change (more, fewer or other instances), so the image is always found
    again with :meth:`slice_in`, never by ``slice_index``.
    """

    series_instance_uid: str
    sop_instance_uid: str
    slice_index: int
    long_axis: Segment
    short_axis: Segment | None = None
    frame_number: int | None = None

    def __post_init__(self) -> None:
        if not self.series_instance_uid:
            raise InvalidRecordError("series_instance_uid is required for drawn geometry")
        if self.slice_index < 0:
            raise InvalidRecordError(f"slice_index must be >= 0, got {self.slice_index}")
        if self.frame_number is not None and self.frame_number < 1:
            raise InvalidRecordError(
                f"frame_number is 1-based (a frame of a multi-frame image), got {self.frame_number}"
            )

    def slice_in(
        self, sop_instance_uids: Sequence[str], frame_numbers: Sequence[int] | None = None
    ) -> int | None:
        """The index of this geometry's image in a volume, or None when it is not there.

        The one lookup every caller uses (image view, prior view, screenshots,
        key images): by SOP Instance UID and, for a multi-frame instance, frame
        number.  A geometry without a frame number matches only an instance
        that occurs once (a single-frame image); which frame of a multi-frame
        instance was meant is then unknown, so none is chosen.

        Parameters
        ----------
        sop_instance_uids : sequence of str
            SOP Instance UID of every slice of the volume.
        frame_numbers : sequence of int, optional
            1-based frame number of every slice inside its instance (all 1, or
            absent, for single-frame images).

        Returns
        -------
        int or None
            The slice index, or None if the image is not in the volume.
        """
        if not self.sop_instance_uid:
            return None
        hits = [i for i, uid in enumerate(sop_instance_uids) if uid == self.sop_instance_uid]
        if self.frame_number is None:
            return hits[0] if len(hits) == 1 else None
        for i in hits:
            frame = frame_numbers[i] if frame_numbers is not None and i < len(frame_numbers) else 1
            if frame == self.frame_number:
                return i
        return None


@dataclass(frozen=True, slots=True)
class Reader:
    """A person using Caliper."""

    id: int | None
    username: str
    full_name: str
    role: Role
    active: bool = True

    def __post_init__(self) -> None:
        if not self.username or not self.username.strip():
            raise InvalidRecordError("username must not be empty")
        if not self.full_name or not self.full_name.strip():
            raise InvalidRecordError("full_name must not be empty")


@dataclass(frozen=True, slots=True)
class Patient:
    """A trial subject and the reading rules of the protocol."""

    id: int | None
    subject_id: str
    trial: str = ""
    site: str = ""
    first_dose_date: date | None = None
    criteria: Criteria = Criteria.RECIST11
    confirmation_required: bool = True
    min_sd_days: int = 42

    def __post_init__(self) -> None:
        if not self.subject_id or not self.subject_id.strip():
            raise InvalidRecordError("subject_id must not be empty")
        if self.min_sd_days < 0:
            raise InvalidRecordError(f"min_sd_days must be >= 0, got {self.min_sd_days}")


@dataclass(frozen=True, slots=True)
class Timepoint:
    """One scheduled exam of a patient; ``order`` 0 is the baseline."""

    id: int | None
    patient_id: int | None
    order: int
    label: str
    scan_date: date | None = None
    cycle: int | None = None
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    modality: str | None = None
    slice_thickness_mm: float | None = None
    contrast_phase: str | None = None
    dicom_patient_id: str | None = None
    """Patient ID (0010,0020) of the attached series, to catch another patient's images."""

    def __post_init__(self) -> None:
        if self.order < 0:
            raise InvalidRecordError(f"order must be >= 0 (0 = baseline), got {self.order}")
        if not self.label or not self.label.strip():
            raise InvalidRecordError("label must not be empty")
        _check_length("slice_thickness_mm", self.slice_thickness_mm)

    @property
    def is_baseline(self) -> bool:
        """True for the pre-treatment timepoint."""
        return self.order == 0


@dataclass(frozen=True, slots=True)
class Lesion:
    """A lesion tracked across timepoints by ``tracking_uid`` (TID 4108)."""

    id: int | None
    patient_id: int | None
    code: str
    kind: LesionKind
    organ: str
    tracking_uid: str
    location: str = ""
    nodal: bool = False

    def __post_init__(self) -> None:
        if not self.code or not self.code.strip():
            raise InvalidRecordError("lesion code must not be empty (e.g. T1, NT1, N1)")
        if not self.organ or not self.organ.strip():
            raise InvalidRecordError(f"lesion {self.code}: organ must not be empty")
        if not self.tracking_uid:
            raise InvalidRecordError(f"lesion {self.code}: tracking_uid must not be empty")


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one reader recorded for one lesion at one timepoint."""

    id: int | None
    lesion_id: int | None
    timepoint_id: int | None
    reader_id: int | None
    status: MeasurementStatus
    long_axis_mm: float | None = None
    short_axis_mm: float | None = None
    geometry: DrawnGeometry | None = None
    method: Method = Method.MANUAL
    measured_at: datetime | None = None
    fragments_mm: tuple[float, ...] = field(default_factory=tuple)
    coalesced_into: str | None = None
    equivocal: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        _check_length("long_axis_mm", self.long_axis_mm)
        _check_length("short_axis_mm", self.short_axis_mm)
        for i, fragment in enumerate(self.fragments_mm):
            _check_length(f"fragments_mm[{i}]", fragment, allow_none=False)
        if (
            self.status is MeasurementStatus.MEASURED
            and self.long_axis_mm is None
            and self.short_axis_mm is None
        ):
            raise InvalidRecordError("a measured lesion needs long_axis_mm or short_axis_mm")
        if self.status is MeasurementStatus.SPLIT and not self.fragments_mm:
            raise InvalidRecordError("a split lesion needs fragments_mm")
        if self.status is MeasurementStatus.MERGED and not self.coalesced_into:
            raise InvalidRecordError("a merged lesion needs coalesced_into (the code it joined)")
        if (
            self.long_axis_mm is not None
            and self.short_axis_mm is not None
            and self.short_axis_mm > self.long_axis_mm + 1e-9
        ):
            raise InvalidRecordError(
                f"short_axis_mm ({self.short_axis_mm}) must not exceed long_axis_mm "
                f"({self.long_axis_mm})"
            )
        if self.measured_at is not None and self.measured_at.utcoffset() is None:
            raise InvalidRecordError("measured_at must be timezone-aware (UTC)")
