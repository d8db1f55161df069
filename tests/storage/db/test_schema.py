"""Opening databases: migrations == models, newer schemas refused untouched, bad files, settings."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from recist.model import Patient
from storage.db import (
    DatabaseUnavailableError,
    SchemaTooNewError,
    open_database,
    resolve_url,
)
from storage.db.base import Base, UTCDateTime
from storage.db.migrate import MIGRATIONS_DIR, head_revision
from storage.paths import default_database_path


def test_upgrade_head_matches_the_models(make_url_for: Callable[..., str]) -> None:
    db = open_database(make_url_for(migrated=False))
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
    finally:
        db.close()


def test_opening_twice_is_idempotent(db_url: str) -> None:
    open_database(db_url).close()
    db = open_database(db_url)
    assert db.verify_audit().ok
    db.close()


def _stamp(url: str, revision: str) -> None:
    db = open_database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.close()


def _snapshot(url: str) -> tuple[object, ...]:
    """What the database holds: revision, tables, audit events (for SQLite, the files' bytes)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            events = conn.execute(text("SELECT count(*), max(hash) FROM audit_event")).one()
            tables = sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    files: tuple[object, ...] = ()
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        files = tuple(
            hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
            for p in (path, Path(f"{path}-wal"))
        )
    return (revision, tuple(events), tuple(tables), *files)


def test_newer_schema_is_refused_and_left_untouched(db_url: str) -> None:
    _stamp(db_url, "ffff_from_the_future")
    before = _snapshot(db_url)
    assert before[0] == "ffff_from_the_future"
    with pytest.raises(
        SchemaTooNewError, match="newer version of Caliper.*ffff_from_the_future.*not changed"
    ):
        open_database(db_url)
    assert _snapshot(db_url) == before


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(DatabaseUnavailableError, match="notes.sqlite3"):
        open_database(str(path))
    assert path.read_bytes() == b"this is not a database, just text " * 100


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="nosuchdriver"):
        open_database("nosuchdriver://x/y")


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="127.0.0.1"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_default_database_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database()
    try:
        assert db.url == f"sqlite:///{default_database_path().resolve()}"
        assert str(default_database_path()).startswith(os.environ["CALIPER_HOME"])
        mode = stat.S_IMODE(default_database_path().stat().st_mode)
        assert mode & 0o077 == 0, oct(mode)
    finally:
        db.close()


def test_caliper_db_variable_and_plain_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALIPER_DB", str(tmp_path / "site.sqlite3"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'site.sqlite3'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "c.sqlite3"))
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        db.close()


def test_migrations_are_found_relative_to_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    open_database(str(tmp_path / "elsewhere.sqlite3")).close()


def test_timestamps_are_utc_aware(db, system) -> None:  # type: ignore[no-untyped-def]
    event = db.audit_events()[0]
    assert event.at_utc.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - event.at_utc) < timedelta(minutes=5)
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), db.engine.dialect)
    store = db.store(system)
    store.add_patient(Patient(id=None, subject_id="S-9"))
    assert all(e.at_utc.tzinfo is not None for e in db.audit_events())


def test_alembic_command_line_uses_pyproject_config(tmp_path: Path) -> None:
    """``alembic upgrade head`` / ``downgrade base`` from the checkout, as a developer runs them."""
    import subprocess
    import sys

    alembic = Path(sys.executable).with_name("alembic")
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    root = Path(__file__).resolve().parents[3]
    for args in (["upgrade", "head"], ["check"], ["downgrade", "base"], ["upgrade", "head"]):
        done = subprocess.run(
            [str(alembic), "-x", f"url={url}", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    db = open_database(url)
    assert db.verify_audit().ok
    db.close()


def test_revisions_read_from_the_scripts_agree_with_alembic() -> None:
    """``storage.db.migrate`` skips Alembic at head by reading the scripts; Alembic agrees."""
    from alembic.script import ScriptDirectory

    from storage.db import migrate

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    revisions, head = migrate.script_revisions()
    assert revisions == {s.revision for s in scripts.walk_revisions()}
    assert head == head_revision()
    assert migrate.is_current(head)
    assert not migrate.is_current(None)
