"""audit_event.signature: each event signed by the reader it is written in the name of

Issue 13: an event written in the name of a reader who has a signing key carries that
reader's Ed25519 signature over the event's chain hash (``storage/db/audit.py``), so an
event appended into the database in a reader's name, even with a correct chain hash,
fails ``caliper audit verify``.

The signature is not part of the chain hash (it signs the hash).  Events written before
this revision carry none: on a database that already has events, this revision appends
one event (``signing_start`` of entity ``audit``, no reader) that marks where signing
starts; ``audit verify`` counts the unsigned events before it and fails unsigned events
of readers with a key after it.  On a new database the marker is not needed: every event
is written with this revision in place.

Revision ID: 0007_audit_event_signature
Revises: 0006_segmentation
Create Date: 2026-12-01 19:45:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.db.base

revision: str = "0007_audit_event_signature"
down_revision: str | Sequence[str] | None = "0006_segmentation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at_utc", storage.db.base.UTCDateTime(timezone=True)),
    sa.column("reader_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("before_json", sa.Text()),
    sa.column("after_json", sa.Text()),
    sa.column("reason", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    """Apply this revision."""
    # a plain ADD COLUMN (no batch re-creation of the table, which would drop its triggers)
    op.add_column("audit_event", sa.Column("signature", sa.String(length=100), nullable=True))
    from storage.db.audit import SIGNING_START, event_hash
    from storage.db.canonical import to_json

    bind = op.get_bind()
    last = bind.execute(
        sa.select(_EVENTS.c.id, _EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)
    ).first()
    if last is None:
        return
    fields = {
        "seq": last[0] + 1,
        "at_utc": datetime.now(UTC),
        "reader_id": None,
        "action": SIGNING_START,
        "entity": "audit",
        "entity_id": "0007",
        "before_json": None,
        "after_json": to_json({"note": "events from here on are signed by their readers"}),
        "reason": "schema revision 0007_audit_event_signature",
        "prev_hash": last[1],
    }
    digest = event_hash(**fields)
    fields["id"] = fields.pop("seq")
    bind.execute(sa.insert(_EVENTS).values(hash=digest, **fields))


def downgrade() -> None:
    """Revert this revision (the marker event stays: the trail is append-only)."""
    op.drop_column("audit_event", "signature")
