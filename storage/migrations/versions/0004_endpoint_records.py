"""conversion_record, surgery_record, survival_record, record_signature: trial endpoint records

Per patient (issue 15): the conversion record (MDT decision, planned procedure,
future liver remnant, Child-Pugh components, other labs) signed by the
investigator in record_signature; the surgery and pathology record; the
survival data (first dose, death, last known alive, off study, new therapy).

Revision ID: 0004_endpoint_records
Revises: 0003_timepoint_dicom_patient_id
Create Date: 2026-12-01 17:10:27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.db.base

revision: str = "0004_endpoint_records"
down_revision: str | Sequence[str] | None = "0003_timepoint_dicom_patient_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "conversion_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("mdt_date", sa.Date(), nullable=True),
        sa.Column("mdt_outcome", sa.String(length=20), nullable=True),
        sa.Column("procedures", sa.String(length=64), nullable=False),
        sa.Column("tumour_free_achievable", sa.Boolean(), nullable=True),
        sa.Column("flr_pct", sa.String(length=16), nullable=True),
        sa.Column("flr_source", sa.String(length=16), nullable=False),
        sa.Column("bilirubin", sa.String(length=16), nullable=True),
        sa.Column("bilirubin_unit", sa.String(length=8), nullable=False),
        sa.Column("albumin", sa.String(length=16), nullable=True),
        sa.Column("albumin_unit", sa.String(length=8), nullable=False),
        sa.Column("inr", sa.String(length=16), nullable=True),
        sa.Column("ascites", sa.String(length=20), nullable=True),
        sa.Column("encephalopathy", sa.String(length=20), nullable=True),
        sa.Column("other_labs_ok", sa.Boolean(), nullable=True),
        sa.Column("other_labs_note", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_conversion_record_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversion_record")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_conversion_record_patient_id")),
    )
    op.create_table(
        "record_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.String(length=400), nullable=False),
        sa.Column("signed_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("voided_at", storage.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_record_signature_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["reader.id"],
            name=op.f("fk_record_signature_reader_id_reader"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["reader.id"],
            name=op.f("fk_record_signature_voided_by_id_reader"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_signature")),
    )
    with op.batch_alter_table("record_signature", schema=None) as batch_op:
        batch_op.create_index("ix_record_signature_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_record_signature_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "surgery_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("surgery_date", sa.Date(), nullable=True),
        sa.Column("procedures", sa.String(length=64), nullable=False),
        sa.Column("margin", sa.String(length=4), nullable=True),
        sa.Column("metastases_json", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_surgery_record_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surgery_record")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_surgery_record_patient_id")),
    )
    op.create_table(
        "survival_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("treatment_start", sa.Date(), nullable=True),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("last_known_alive", sa.Date(), nullable=True),
        sa.Column("off_study_date", sa.Date(), nullable=True),
        sa.Column("off_study_reason", sa.Text(), nullable=False),
        sa.Column("new_therapy_date", sa.Date(), nullable=True),
        sa.Column("death_cause", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_survival_record_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survival_record")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_survival_record_patient_id")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("survival_record")
    op.drop_table("surgery_record")
    with op.batch_alter_table("record_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_signature_patient_id"))
        batch_op.drop_index("ix_record_signature_entity")

    op.drop_table("record_signature")
    op.drop_table("conversion_record")
