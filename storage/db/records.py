"""Records that :mod:`storage.db` returns besides the :mod:`recist.model` ones.

Signatures and stored assessments belong to the persistence of a reading
(who signed what, when), not to the rules, so they are defined here; like the
domain records they are frozen and carry no ORM state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recist.model import Lesion, Measurement, Patient, Timepoint


@dataclass(frozen=True, slots=True)
class Signature:
    """An investigator's electronic signature of one timepoint's assessment.

    ``content_hash`` is the SHA-256 of the frozen assessment and the
    measurements it was computed from.  A signature is never deleted: changing
    signed data voids it (``voided_at``, ``void_reason``, ``voided_by_id``).
    """

    id: int
    timepoint_id: int
    assessment_id: int
    reader_id: int
    printed_name: str
    meaning: str
    signed_at: datetime
    content_hash: str
    voided_at: datetime | None = None
    void_reason: str | None = None
    voided_by_id: int | None = None

    @property
    def is_valid(self) -> bool:
        """True until the signature is voided."""
        return self.voided_at is None


@dataclass(frozen=True, slots=True)
class RecordSignature:
    """A signature of a patient-level record (``entity`` e.g. ``"conversion_record"``)."""

    id: int
    entity: str
    entity_id: int
    patient_id: int
    reader_id: int
    printed_name: str
    meaning: str
    signed_at: datetime
    content_hash: str
    voided_at: datetime | None = None
    void_reason: str | None = None

    @property
    def valid(self) -> bool:
        """Not voided."""
        return self.voided_at is None


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    """The stored response of a timepoint: the engine's result for it, as JSON-able data.

    ``frozen`` assessments are the ones covered by a signature; they are never
    recomputed.
    """

    id: int
    timepoint_id: int
    overall: str | None
    engine_version: str
    computed_at: datetime
    frozen: bool
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PatientChart:
    """Everything the viewer needs to show a patient, loaded in one read transaction."""

    patient: Patient
    timepoints: list[Timepoint]
    lesions: list[Lesion]
    measurements: list[Measurement]
    assessments: list[StoredAssessment]
    signatures: list[Signature]
