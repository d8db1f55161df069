"""Opening a database: engine set-up, migrations at start-up, read and write transactions.

SQLite (the default, one file in the user's data folder) runs in WAL mode with
foreign keys on, a busy timeout and ``synchronous=FULL`` (a committed
change survives a power cut, not only a crash); the pysqlite driver's own transaction
handling is switched off so that a *write* transaction starts with
``BEGIN IMMEDIATE`` (taking the write lock first, which serialises audit
appends and avoids lock-upgrade deadlocks) and a read transaction with a plain
``BEGIN``.  On PostgreSQL a write transaction first takes a transaction-level
advisory lock for the same purpose.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import storage.db.migrate as migrate
from recist.model import Reader
from storage import paths
from storage.db.audit import (
    KEYRING_INFO,
    AuditEvent,
    AuditReport,
    Keyring,
    export_csv,
    row_to_event,
    verify_chain,
)
from storage.db.checkpoint import CheckpointSigner
from storage.db.errors import (
    DatabaseUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RepositoryError,
    wrap_sqlalchemy_errors,
)
from storage.db.integrity import check_integrity, with_integrity
from storage.db.models import AuditEventRow
from storage.db.readers import ReaderRepository, UnlockedReader
from storage.db.store import ClinicalStore
from storage.db.witness import (
    Witness,
    WitnessCheck,
    WitnessedCheckpoints,
    unwitnessed_signatures,
    witness_path,
)
from storage.paths import default_database_path

#: Key of the advisory lock that serialises writers on PostgreSQL ("CALIPER" in ASCII-ish).
ADVISORY_LOCK_KEY = 0x43414C49
_WRITE_OPTION = "caliper_write"
BUSY_TIMEOUT_S = 30.0


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``$CALIPER_DB``, else the default SQLite file.

    A value without ``://`` is taken as the path of a SQLite file.
    """
    value = url or os.environ.get("CALIPER_DB") or str(default_database_path())
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    return value


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION, False):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")


def _refuse_newer_sqlite(path: Path) -> None:
    """Read the schema revision through a read-only connection: a refused file stays untouched."""
    if not path.exists() or path.stat().st_size == 0:
        return
    probe = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )
    try:
        with wrap_sqlalchemy_errors(f"open {path}"):
            revision = migrate.current_revision(probe)
    except DatabaseUnavailableError as exc:
        raise DatabaseUnavailableError(
            f"{path} is not a Caliper database or cannot be read: {exc}"
        ) from exc
    finally:
        probe.dispose()
    migrate.check_not_newer(revision, str(path))


def create_database_engine(url: str) -> Engine:
    """An engine for ``url`` with Caliper's connection settings (no migrations run).

    Raises
    ------
    DatabaseUnavailableError
        If the URL is malformed or its driver is not installed.
    """
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
            _configure_sqlite(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
            if backend == "postgresql":
                _configure_postgresql(engine)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DatabaseUnavailableError(f"cannot use database URL {url!r}: {exc}") from exc
    return engine


class Database:
    """An open Caliper database: readers, per-reader clinical stores, the audit trail.

    Build it with :func:`open_database`.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        #: Private signing keys unlocked in this session (memory only): every audit event
        #: written in a reader's name is signed with theirs (``storage.db.audit.Keyring``).
        self.keyring = Keyring()
        self.readers = ReaderRepository(self, self.keyring)
        self.witness = Witness(
            witness_path(
                make_url(url).render_as_string(hide_password=True),
                _sqlite_path(url) if url.startswith("sqlite") else None,
                paths.data_dir(),
            )
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read_session(self, what: str = "read") -> Iterator[Session]:
        """A session for reading, in one (deferred) transaction; errors become RepositoryError."""
        with wrap_sqlalchemy_errors(what), self._read() as session, session.begin():
            yield session

    @contextmanager
    def write_session(self, what: str = "write") -> Iterator[Session]:
        """A session whose transaction holds the write lock from its start; commits on success."""
        with wrap_sqlalchemy_errors(what), self._write() as session, session.begin():
            session.info[KEYRING_INFO] = self.keyring
            yield session

    def store(self, reader: Reader) -> ClinicalStore:
        """The clinical store through which ``reader`` reads and writes; every write is audited.

        Parameters
        ----------
        reader
            A stored :class:`recist.model.Reader` (``id`` set).

        Returns
        -------
        ClinicalStore

        Raises
        ------
        NotFoundError
            The reader is not stored.
        PermissionDeniedError
            The reader is inactive (deactivated readers keep their history but cannot write).
        """
        stored = self.readers.by_id(reader.id) if reader.id is not None else None
        if stored is None or stored.username != reader.username:
            raise NotFoundError(f"reader {reader.username!r} is not stored in this database")
        if not stored.active:
            raise PermissionDeniedError(f"reader {reader.username!r} is inactive")
        return ClinicalStore(self, stored)

    def read_only_store(self) -> ClinicalStore:
        """A clinical store for reading only (exports, listings).

        Its writes raise PermissionDeniedError.
        """
        return ClinicalStore(self, None)

    def verify_audit(
        self,
        expect_head: tuple[int, str] | None = None,
        *,
        full: bool = False,
        signer: UnlockedReader | None = None,
        require_signed: bool = False,
    ) -> AuditReport:
        """Verify the audit chain and that the tables match it (``storage.db.audit.verify_chain``).

        What the last verified checkpoint of this database (kept in the user's data
        folder, :mod:`storage.db.checkpoint`) covers is only fingerprint-checked; an
        intact trail moves the checkpoint to its head.

        Parameters
        ----------
        expect_head
            ``(seq, hash)`` of an event recorded earlier, to detect a truncated trail.
        full
            Verify every event and row, whatever the checkpoint covers.
        signer
            A reader (investigator or admin) who signs the checkpoint this verify writes.
        require_signed
            Do not trust an unsigned checkpoint: verify everything it covers
            (``storage.db.audit.verify_chain``).
        """
        checkpoints = WitnessedCheckpoints(
            paths.data_dir() / "audit-checkpoints",
            make_url(self.url).render_as_string(hide_password=True),
            self.witness,
            None
            if signer is None
            else CheckpointSigner.for_reader(signer.reader, signer.private_key, signer.public_key),
        )
        with self.read_session("verify audit trail") as session:
            witnessed = self.witness.check(session)  # before this verify records its head
            self._signatures_witnessed(session, witnessed)
            report = verify_chain(
                session,
                expect_head,
                checkpoints=checkpoints,
                full=full,
                require_signed=require_signed,
            )
            report = with_integrity(report, check_integrity(session), witnessed)
            if report.ok:
                self._record_head(
                    session, "verify", checkpoints.pending, checkpoints.pending_signature
                )
        return report

    def _signatures_witnessed(self, session: Session, witnessed: WitnessCheck) -> None:
        """Signatures the witness did not see made: a problem where the witness is the site's."""
        if not witnessed.entries:
            return
        missing = unwitnessed_signatures(session, self.witness)
        if not missing:
            return
        text = f"{', '.join(missing[:10])} not recorded in the witness when made"
        if self.dialect == "sqlite" or os.environ.get("CALIPER_WITNESS"):
            witnessed.problems.append(text + " (written into the database outside Caliper?)")
        else:
            witnessed.notes.append(
                text + " (made on another workstation? set CALIPER_WITNESS to the site's "
                "shared witness to check every signature)"
            )

    def _record_head(
        self,
        session: Session,
        why: str,
        checkpoint: str | None = None,
        signed: tuple[str, str] | None = None,
    ) -> None:
        try:
            self.witness.record_head(session, why, checkpoint, signed)
        except OSError as exc:
            raise RepositoryError(
                f"cannot write the audit witness {self.witness.path}: {exc.strerror or exc}"
            ) from exc

    def record_witness(self, why: str) -> tuple[int, str] | None:
        """Append the current audit head to the witness (after a signature or an export).

        Returns
        -------
        tuple of (int, str) or None
            ``(seq, hash)`` of the head recorded; None for an empty trail.
        """
        with self.read_session("record the audit head") as session:
            self._record_head(session, why)
            head = session.execute(
                select(AuditEventRow.id, AuditEventRow.hash)
                .order_by(AuditEventRow.id.desc())
                .limit(1)
            ).first()
        return (head[0], head[1]) if head else None

    def audit_events(
        self, *, entity: str | None = None, entity_id: object = None, limit: int | None = None
    ) -> list[AuditEvent]:
        """Audit events in sequence order, optionally of one entity (and id)."""
        query = select(AuditEventRow).order_by(AuditEventRow.id)
        if entity is not None:
            query = query.where(AuditEventRow.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEventRow.entity_id == str(entity_id))
        if limit is not None:
            query = query.limit(limit)
        with self.read_session("read audit trail") as session:
            return [row_to_event(row) for row in session.scalars(query)]

    def export_audit_csv(self, path: str | Path) -> int:
        """Write the audit trail as CSV; return the number of events written."""
        with self.read_session("export audit trail") as session:
            count = export_csv(session, Path(path))
            self._record_head(session, "export audit trail")
            return count

    def close(self) -> None:
        """Close every pooled connection and forget the unlocked signing keys."""
        self.keyring.clear()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(url: str | None = None, *, upgrade: bool = True) -> Database:
    """Open (creating if needed) a Caliper database and bring its schema to head.

    Parameters
    ----------
    url
        An SQLAlchemy URL or a SQLite file path; None uses ``$CALIPER_DB`` or
        ``caliper.sqlite3`` in the user data folder (``$CALIPER_HOME/data``).
    upgrade
        Run ``alembic upgrade head`` (the default; False only for tools and tests).

    Returns
    -------
    Database

    Raises
    ------
    SchemaTooNewError
        The database has a schema revision this version does not know; it is
        left untouched.
    DatabaseUnavailableError
        The URL is bad, the server unreachable, or the file is not a database.
    """
    resolved = resolve_url(url)
    path = _sqlite_path(resolved) if resolved.startswith("sqlite") else None
    if path is not None:
        _refuse_newer_sqlite(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            old = os.umask(0o077)  # the file holds personal health information
            try:
                path.touch()
            finally:
                os.umask(old)
    engine = create_database_engine(resolved)
    shown = make_url(resolved).render_as_string(hide_password=True)
    try:
        with wrap_sqlalchemy_errors(f"open {shown}"):
            revision = migrate.current_revision(engine)
            migrate.check_not_newer(revision, shown)
            if upgrade and not migrate.is_current(revision):
                migrate.upgrade(engine.execution_options(**{_WRITE_OPTION: True}))
    except (RepositoryError, SQLAlchemyError):
        engine.dispose()
        raise
    return Database(engine, resolved)
