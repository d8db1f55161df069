"""PostgreSQL role separation: the application role may only append to the audit trail.

A site runs migrations as an *owner* role (which owns the tables and their
triggers) and Caliper's workstations connect as an *application* role.
:func:`grant_application_role`, run by the owner after every upgrade
(``caliper db init --app-role ROLE``), gives the application role what Caliper
needs on the data tables, and on ``audit_event`` only ``SELECT`` and ``INSERT``:
it cannot ``UPDATE``, ``DELETE`` or ``TRUNCATE`` the trail, and as it owns no
table it cannot drop, disable or replace the append-only triggers either
(``ALTER TABLE ... DISABLE TRIGGER`` needs the owner).  ``scripts/postgres.sh``
creates both roles for the tests.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.db.errors import RepositoryError, wrap_sqlalchemy_errors
from storage.db.transactions import SessionSource

#: Tables the application role reads but never changes.
READ_ONLY = ("alembic_version",)
#: Tables it may only read and append to.
APPEND_ONLY = ("audit_event",)


def grant_application_role(database: SessionSource, role: str, dialect: str) -> None:
    """Grant ``role`` Caliper's application rights on a PostgreSQL database (run as the owner).

    Raises
    ------
    RepositoryError
        Not PostgreSQL, or the grants were refused (not run by the owner, no such role).
    """
    if dialect != "postgresql":
        raise RepositoryError("application roles exist only on PostgreSQL (SQLite has no roles)")
    if not role or not role.replace("_", "").isalnum():
        raise RepositoryError(
            f"--app-role wants a plain role name (letters, digits, _), got {role!r}"
        )
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        *(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {t} FROM {role}" for t in READ_ONLY),
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {role}" for t in APPEND_ONLY),
        f"REVOKE TRIGGER, REFERENCES, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {role}",
    ]
    with (
        wrap_sqlalchemy_errors(f"grant the application role {role}"),
        database.write_session(f"grant {role}") as session,
    ):
        for statement in statements:
            session.execute(text(statement))
