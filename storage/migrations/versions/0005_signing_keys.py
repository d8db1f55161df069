"""reader.public_key/signing_key, signature and record_signature ed25519/audit_head (Part 11)

Each reader with a password gets an Ed25519 key pair; the private key is stored
encrypted under a key derived from the password (``storage/db/passwords.py``).
A signature stores its Ed25519 signature over the signed content hash and the
audit head at that moment (``storage/db/integrity.py``).  Rows written before
this revision have none: their readers get a key pair at their next log-in.

Revision ID: 0005_signing_keys
Revises: 0004_endpoint_records
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_signing_keys"
down_revision: str | Sequence[str] | None = "0004_endpoint_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("reader", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("signing_key", sa.String(length=200), nullable=True))
    for table in ("signature", "record_signature"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("audit_head", sa.String(length=90), nullable=True))
            batch_op.add_column(sa.Column("ed25519", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table in ("record_signature", "signature"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("ed25519")
            batch_op.drop_column("audit_head")
    with op.batch_alter_table("reader", schema=None) as batch_op:
        batch_op.drop_column("signing_key")
        batch_op.drop_column("public_key")
