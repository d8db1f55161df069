"""segmentation: contours measured semi-automatically (lesion masks, liver volumetry)

Issue 16: the 3-D mask behind a semi-automatic measurement (volume, HU statistics, algorithm
name, version and parameters), and a timepoint's liver volumetry with its virtual resection
and future liver remnant.

Revision ID: 0006_segmentation
Revises: 0005_signing_keys
Create Date: 2026-12-01 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.db.base

revision: str = "0006_segmentation"
down_revision: str | Sequence[str] | None = "0005_signing_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "segmentation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timepoint_id", sa.Integer(), nullable=False),
        sa.Column("measurement_id", sa.Integer(), nullable=True),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("series_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column("algorithm_version", sa.String(length=16), nullable=False),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.Column("volume_ml", sa.Float(), nullable=False),
        sa.Column("mean_hu", sa.Float(), nullable=True),
        sa.Column("sd_hu", sa.Float(), nullable=True),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("mask_offset", sa.String(length=64), nullable=False),
        sa.Column("mask_shape", sa.String(length=64), nullable=False),
        sa.Column("mask_zlib", sa.LargeBinary(), nullable=False),
        sa.Column("mask_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["measurement_id"],
            ["measurement.id"],
            name=op.f("fk_segmentation_measurement_id_measurement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["reader.id"],
            name=op.f("fk_segmentation_reader_id_reader"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["timepoint_id"],
            ["timepoint.id"],
            name=op.f("fk_segmentation_timepoint_id_timepoint"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segmentation")),
    )
    with op.batch_alter_table("segmentation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segmentation_measurement_id"), ["measurement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_segmentation_timepoint_id"), ["timepoint_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("segmentation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segmentation_timepoint_id"))
        batch_op.drop_index(batch_op.f("ix_segmentation_measurement_id"))
    op.drop_table("segmentation")
