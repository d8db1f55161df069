"""Alembic environment for Caliper's schema (``storage/migrations``).

``open_database()`` runs the migrations programmatically and hands over its
connection in ``config.attributes["connection"]``.  Run from the command line
(``alembic upgrade head`` in the checkout, configured by ``[tool.alembic]`` in
``pyproject.toml``), the database is ``-x url=...``, else ``$CALIPER_DB``, else
the default SQLite file.  ``render_as_batch`` lets SQLite alter tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import storage.db.models  # noqa: F401  (registers the tables on Base.metadata)
from storage.db.base import Base
from storage.db.database import create_database_engine, resolve_url

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=resolve_url(context.get_x_argument(as_dictionary=True).get("url")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection given by open_database(), or one we open."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = resolve_url(context.get_x_argument(as_dictionary=True).get("url"))
    engine = create_database_engine(url)
    try:
        with engine.connect() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
