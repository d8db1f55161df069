"""timepoint.dicom_patient_id: the DICOM Patient ID of the series a timepoint is read on

A series whose Patient ID (0010,0020) differs from that of the patient's
earlier series is attached only with the reader's explicit, audited
confirmation (issue 11); the ID is kept per timepoint to compare with.  Rows
written before this revision have none and are not compared.

Revision ID: 0003_timepoint_dicom_patient_id
Revises: 0002_measurement_frame
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_timepoint_dicom_patient_id"
down_revision: str | Sequence[str] | None = "0002_measurement_frame"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("timepoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dicom_patient_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("timepoint", schema=None) as batch_op:
        batch_op.drop_column("dicom_patient_id")
