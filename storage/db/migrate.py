"""Alembic, driven from code: upgrade to head at start-up, refuse a newer schema.

The scripts are located relative to this package (``storage/migrations``), not
the working directory, so an installed Caliper finds them too.  The same folder
is named in ``pyproject.toml`` (``[tool.alembic]``) for the ``alembic`` command.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.db.errors import SchemaTooNewError

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at ``storage/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this version of Caliper knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "storage/migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database (None for an empty database)."""
    with engine.connect() as connection:
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
    if revision is None:
        return
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
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
