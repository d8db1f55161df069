"""measurement.frame_number: the frame of a multi-frame image a caliper was drawn on

A measurement is anchored to its image by SOP Instance UID and, for a
multi-frame instance (enhanced CT/MR), by frame number; the slice index of the
volume it was drawn on is no longer used to find the image again (issue 11).
The geometry JSON of older rows has no frame number; they keep working for
single-frame images, which is what they were drawn on.

Revision ID: 0002_measurement_frame
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_measurement_frame"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frame_number", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_column("frame_number")
