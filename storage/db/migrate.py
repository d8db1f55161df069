"""Alembic, driven from code: upgrade to head at start-up, refuse a newer schema.

The scripts are located relative to this package (``storage/migrations``), not
the working directory, so an installed Caliper finds them too.  The same folder
is named in ``pyproject.toml`` (``[tool.alembic]``) for the ``alembic`` command.

Alembic itself is imported only when a database is not at the newest revision (issue 17:
it is a tenth of the window's start-up): the revisions are read from the scripts' own
``revision = "..."`` lines, and the database's from its ``alembic_version`` table;
tests/storage/db/test_schema.py checks that this agrees with Alembic.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from storage.db.errors import SchemaTooNewError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_REVISION_LINE = re.compile(
    r'^(down_revision|revision)\b[^=\n]*=\s*(?:"([^"]*)"|None)\s*$', re.MULTILINE
)


@cache
def script_revisions() -> tuple[frozenset[str], str | None]:
    """(every revision of ``storage/migrations/versions``, the single head or None).

    Read from the scripts' text, without importing Alembic; None when the history is not
    one simple line (then the callers ask Alembic).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(
            (m.group(1), m.group(2)) for m in _REVISION_LINE.finditer(script.read_text("utf-8"))
        )
        if "revision" not in found or "down_revision" not in found or found["revision"] is None:
            continue  # not a revision script (e.g. __init__.py)
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return frozenset(revisions), (next(iter(heads)) if len(heads) == 1 else None)


def is_current(revision: str | None) -> bool:
    """True if *revision* is the newest one this Caliper knows (no migration to run)."""
    return revision is not None and revision == script_revisions()[1]


def alembic_config() -> Config:
    """An Alembic configuration pointing at ``storage/migrations``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this version of Caliper knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "storage/migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database (None for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        if len(rows) <= 1:
            return str(rows[0][0]) if rows else None
        from alembic.runtime.migration import MigrationContext  # several heads: Alembic says

        return MigrationContext.configure(connection).get_current_revision()


def check_not_newer(revision: str | None, where: str) -> None:
    """Raise :class:`SchemaTooNewError` if ``revision`` is not one of our scripts.

    Parameters
    ----------
    revision
        The database's current revision (None = not initialised yet).
    where
        The database, for the message.
    """
    if revision is None or revision in script_revisions()[0]:
        return
    from alembic.script import ScriptDirectory

    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise SchemaTooNewError(
            f"{where} was written by a newer version of Caliper (schema revision {revision!r}; "
            f"this version knows up to {head_revision()!r}). Install the newer Caliper to open it; "
            "the database was not changed."
        )


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (``alembic upgrade head``) in one transaction."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
