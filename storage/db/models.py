"""SQLAlchemy 2 models of the tables; nothing outside :mod:`storage.db` sees these rows.

Repositories map them to :mod:`recist.model` records (``storage/db/mappers.py``).
Enumerations are stored as their string values (no database enum types, so the
same migration serves SQLite and PostgreSQL and new members need no DDL).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, TimestampMixin, utcnow


class ReaderRow(TimestampMixin, Base):
    """A person using Caliper: password verifier, Ed25519 key pair (``storage/db/passwords.py``)."""

    __tablename__ = "reader"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    public_key: Mapped[str | None] = mapped_column(String(64))  # Ed25519, base64
    signing_key: Mapped[str | None] = mapped_column(String(200))  # private key, encrypted


class PatientRow(TimestampMixin, Base):
    """A trial subject and the reading rules of the protocol."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), unique=True)
    trial: Mapped[str] = mapped_column(String(200), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    first_dose_date: Mapped[date | None]
    criteria: Mapped[str] = mapped_column(String(20))
    confirmation_required: Mapped[bool] = mapped_column(Boolean)
    min_sd_days: Mapped[int] = mapped_column(Integer)

    timepoints: Mapped[list[TimepointRow]] = relationship(back_populates="patient")
    lesions: Mapped[list[LesionRow]] = relationship(back_populates="patient")


class TimepointRow(TimestampMixin, Base):
    """One scheduled exam; ``order`` 0 is the baseline."""

    __tablename__ = "timepoint"
    __table_args__ = (
        UniqueConstraint("patient_id", "order"),
        UniqueConstraint("patient_id", "label"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), index=True
    )
    order: Mapped[int] = mapped_column("order", Integer)
    label: Mapped[str] = mapped_column(String(64))
    scan_date: Mapped[date | None]
    cycle: Mapped[int | None] = mapped_column(Integer)
    study_instance_uid: Mapped[str | None] = mapped_column(String(64))
    series_instance_uid: Mapped[str | None] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(16))
    slice_thickness_mm: Mapped[float | None] = mapped_column(Float)
    contrast_phase: Mapped[str | None] = mapped_column(String(64))
    dicom_patient_id: Mapped[str | None] = mapped_column(String(64))  # of the attached series

    patient: Mapped[PatientRow] = relationship(back_populates="timepoints")


class LesionRow(TimestampMixin, Base):
    """A lesion tracked across timepoints by ``tracking_uid``."""

    __tablename__ = "lesion"
    __table_args__ = (UniqueConstraint("patient_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    organ: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200), default="")
    nodal: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking_uid: Mapped[str] = mapped_column(String(64), unique=True)

    patient: Mapped[PatientRow] = relationship(back_populates="lesions")


class MeasurementRow(TimestampMixin, Base):
    """What one reader recorded for one lesion at one timepoint."""

    __tablename__ = "measurement"
    __table_args__ = (UniqueConstraint("lesion_id", "timepoint_id", "reader_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesion_id: Mapped[int] = mapped_column(ForeignKey("lesion.id", ondelete="RESTRICT"), index=True)
    timepoint_id: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="RESTRICT"), index=True
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(32))
    long_axis_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_mm: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    measured_at: Mapped[datetime]
    series_instance_uid: Mapped[str | None] = mapped_column(String(64))
    sop_instance_uid: Mapped[str | None] = mapped_column(String(64))
    frame_number: Mapped[int | None] = mapped_column(Integer)  # multi-frame images, 1-based
    geometry_json: Mapped[str | None] = mapped_column(Text)
    fragments_json: Mapped[str] = mapped_column(Text, default="[]")
    coalesced_into: Mapped[str | None] = mapped_column(String(32))
    equivocal: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")


class AssessmentRow(TimestampMixin, Base):
    """The response computed for a timepoint; ``frozen`` rows are the ones a signature covers."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="RESTRICT"), index=True
    )
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    overall: Mapped[str | None] = mapped_column(String(32))
    engine_version: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    result_json: Mapped[str] = mapped_column(Text)


class SignatureRow(TimestampMixin, Base):
    """An investigator's electronic signature of a timepoint's frozen assessment."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="RESTRICT"), index=True
    )
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="RESTRICT"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(400))
    signed_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    audit_head: Mapped[str | None] = mapped_column(String(90))  # "seq:hash" when signed
    ed25519: Mapped[str | None] = mapped_column(String(100))  # storage/db/integrity.py


class AuditEventRow(Base):
    """One link of the append-only, hash-chained audit trail (``id`` is the sequence number)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at_utc: Mapped[datetime]
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The reader's Ed25519 signature over ``hash`` (base64; None for ``system``, readers
    #: without a key and events before migration 0007), see ``storage/db/audit.py``.
    signature: Mapped[str | None] = mapped_column(String(100))


class ConversionRecordRow(TimestampMixin, Base):
    """A patient's conversion record (MDT decision, plan, FLR, Child-Pugh components, labs).

    Decimal values are stored as their exact text so that 40.0 stays 40.0.
    """

    __tablename__ = "conversion_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), unique=True
    )
    mdt_date: Mapped[date | None]
    mdt_outcome: Mapped[str | None] = mapped_column(String(20))
    procedures: Mapped[str] = mapped_column(String(64), default="")  # "resection+ablation"
    tumour_free_achievable: Mapped[bool | None] = mapped_column(Boolean)
    flr_pct: Mapped[str | None] = mapped_column(String(16))
    flr_source: Mapped[str] = mapped_column(String(16), default="entered")
    bilirubin: Mapped[str | None] = mapped_column(String(16))
    bilirubin_unit: Mapped[str] = mapped_column(String(8), default="umol/L")
    albumin: Mapped[str | None] = mapped_column(String(16))
    albumin_unit: Mapped[str] = mapped_column(String(8), default="g/L")
    inr: Mapped[str | None] = mapped_column(String(16))
    ascites: Mapped[str | None] = mapped_column(String(20))
    encephalopathy: Mapped[str | None] = mapped_column(String(20))
    other_labs_ok: Mapped[bool | None] = mapped_column(Boolean)
    other_labs_note: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")


class SurgeryRecordRow(TimestampMixin, Base):
    """A patient's liver surgery and the pathology of each resected metastasis (JSON list)."""

    __tablename__ = "surgery_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), unique=True
    )
    surgery_date: Mapped[date | None]
    procedures: Mapped[str] = mapped_column(String(64), default="")
    margin: Mapped[str | None] = mapped_column(String(4))
    metastases_json: Mapped[str] = mapped_column(Text, default="[]")
    note: Mapped[str] = mapped_column(Text, default="")


class SurvivalRecordRow(TimestampMixin, Base):
    """A patient's survival data: first dose, death, last known alive, off study, new therapy."""

    __tablename__ = "survival_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), unique=True
    )
    treatment_start: Mapped[date | None]
    death_date: Mapped[date | None]
    last_known_alive: Mapped[date | None]
    off_study_date: Mapped[date | None]
    off_study_reason: Mapped[str] = mapped_column(Text, default="")
    new_therapy_date: Mapped[date | None]
    death_cause: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")


class RecordSignatureRow(TimestampMixin, Base):
    """An investigator's signature of a patient-level record (e.g. the conversion record).

    ``content_json`` is the signed content (record values + derived result);
    ``content_hash`` its SHA-256, as for timepoint signatures.
    """

    __tablename__ = "record_signature"
    __table_args__ = (Index("ix_record_signature_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="RESTRICT"), index=True
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(400))
    signed_at: Mapped[datetime]
    content_json: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    audit_head: Mapped[str | None] = mapped_column(String(90))  # "seq:hash" when signed
    ed25519: Mapped[str | None] = mapped_column(String(100))  # storage/db/integrity.py


class SegmentationRow(TimestampMixin, Base):
    """A contour measured semi-automatically (issue 16): the 3-D mask, what it measured and how.

    ``kind`` is ``lesion`` (the contour behind a semi-automatic measurement, linked by
    ``measurement_id``; the link becomes NULL if the measurement is deleted, the contour and its
    audit events stay), ``liver`` (a timepoint's liver volumetry: ``values_json`` holds the
    virtual resection's volumes and the future liver remnant %) or ``resection`` (the region
    painted as resected in a virtual resection; ``values_json`` names its liver row).  The mask
    is a box of the series' voxel grid: ``mask_offset``/``mask_shape`` as
    ``"slice,row,column"``, the voxels as zlib-compressed ``numpy.packbits``, and their SHA-256
    (which the audit trail records).
    """

    __tablename__ = "segmentation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timepoint_id: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="RESTRICT"), index=True
    )
    measurement_id: Mapped[int | None] = mapped_column(
        ForeignKey("measurement.id", ondelete="SET NULL"), index=True
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("reader.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    series_instance_uid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(16))
    parameters_json: Mapped[str] = mapped_column(Text)
    volume_ml: Mapped[float] = mapped_column(Float)
    mean_hu: Mapped[float | None] = mapped_column(Float)
    sd_hu: Mapped[float | None] = mapped_column(Float)
    values_json: Mapped[str] = mapped_column(Text, default="{}")
    mask_offset: Mapped[str] = mapped_column(String(64))
    mask_shape: Mapped[str] = mapped_column(String(64))
    mask_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    mask_sha256: Mapped[str] = mapped_column(String(64))
