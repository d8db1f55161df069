"""Fixtures of the database tests: every test runs on SQLite and on a real PostgreSQL 15.

PostgreSQL is started once per session by ``scripts/postgres.sh start`` (which
installs the Debian package if needed) and stopped afterwards.  A migrated
template database is built once; each test gets its own copy
(``CREATE DATABASE ... TEMPLATE``), so tests are isolated and fast.  Where
PostgreSQL cannot be installed, its half of the suite is skipped with the reason.
``CALIPER_TEST_PG_URL`` points the tests at an existing server instead.
"""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from recist.model import Lesion, LesionKind, Patient, Reader, Role, Timepoint
from storage.db import ClinicalStore, Database, open_database

REPO = Path(__file__).resolve().parents[3]
PG_SCRIPT = REPO / "scripts" / "postgres.sh"
TEMPLATE = "caliper_template"
PASSWORD = "correct horse battery"


class PostgresServer:
    """A running server and a factory of fresh databases.

    A background thread keeps a few copies of the migrated template ready and
    drops used databases, so tests do not wait for ``CREATE DATABASE`` and the
    cluster stays small (quick to delete at the end).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._counter = itertools.count()
        self._ready: queue.Queue[str] = queue.Queue(maxsize=3)
        self._used: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._thread: threading.Thread | None = None

    def start_prefetch(self) -> None:
        """Start the background thread (after the template exists)."""
        self._thread = threading.Thread(target=self._work, name="pg-prefetch", daemon=True)
        self._thread.start()

    def _new_name(self) -> str:
        return f"t{os.getpid()}_{next(self._counter)}"

    def _create(self, name: str, template: str) -> None:
        with self._engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                name = self._used.get_nowait()
                with self._engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                continue
            except queue.Empty:
                pass
            except Exception:  # noqa: BLE001 (a failed drop only costs disk space)
                continue
            if self._ready.full():
                self._stop.wait(0.02)
                continue
            name = self._new_name()
            try:
                self._create(name, TEMPLATE)
            except Exception:  # noqa: BLE001 (create() falls back to a synchronous copy)
                self._stop.wait(0.5)
                continue
            self._ready.put(name)

    def _url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create(self, *, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); :meth:`release` drops it."""
        if migrated:
            try:
                name = self._ready.get(timeout=30)
            except queue.Empty:
                name = self._new_name()
                self._create(name, TEMPLATE)
        else:
            name = self._new_name()
            self._create(name, "template0")
        return self._url(name)

    def release(self, url: str) -> None:
        """Drop a database created by :meth:`create`, in the background."""
        self._used.put(str(make_url(url).database))

    def close(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for the whole session (skips if it cannot be installed)."""
    external = os.environ.get("CALIPER_TEST_PG_URL")
    state_dir = None
    if external:
        url = external
    else:
        proc = subprocess.run(
            [str(PG_SCRIPT), "start"], capture_output=True, text=True, timeout=1200, check=False
        )
        if proc.returncode == 3:
            pytest.skip(
                "PostgreSQL 15 is not available and cannot be installed: "
                f"{proc.stderr.strip()[-400:]}"
            )
        if proc.returncode != 0:
            pytest.fail(
                f"scripts/postgres.sh start failed ({proc.returncode}): {proc.stderr[-2000:]}"
            )
        values = dict(line.split("=", 1) for line in proc.stdout.split() if "=" in line)
        url, state_dir = values["PGTEST_URL"], values["PGTEST_DIR"]
    server = PostgresServer(url)
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE}"))
            conn.execute(text(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0"))
        engine.dispose()
        open_database(
            make_url(url).set(database=TEMPLATE).render_as_string(hide_password=False)
        ).close()
        server.start_prefetch()
        yield server
    finally:
        server.close()
        if state_dir:
            subprocess.run(
                [str(PG_SCRIPT), "stop", state_dir], capture_output=True, timeout=120, check=False
            )


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: each test using the database runs on both."""
    return str(request.param)


@pytest.fixture
def make_url_for(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Factory of fresh database URLs on the current backend (``migrated=False``: an empty one)."""
    counter = itertools.count()
    created: list[tuple[PostgresServer, str]] = []

    def factory(*, migrated: bool = True) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'caliper{next(counter)}.sqlite3'}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create(migrated=migrated)
        created.append((server, url))
        return url

    yield factory
    for server, url in created:
        server.release(url)


@pytest.fixture
def db_url(make_url_for: Callable[..., str]) -> str:
    """URL of a fresh, migrated database."""
    return make_url_for()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open, fresh database."""
    database = open_database(db_url)
    yield database
    database.close()


@pytest.fixture
def system(db: Database) -> Reader:
    """The ``system`` admin reader."""
    return db.readers.ensure_system()


@pytest.fixture
def alice(db: Database, system: Reader) -> Reader:
    """An investigator (password :data:`PASSWORD`)."""
    return db.readers.create(
        "alice", "Dr Alice Investigator", Role.INVESTIGATOR, PASSWORD, by=system
    )


@pytest.fixture
def bob(db: Database, system: Reader) -> Reader:
    """A reader (password :data:`PASSWORD`)."""
    return db.readers.create("bob", "Bob Reader", Role.READER, PASSWORD, by=system)


@pytest.fixture
def store(db: Database, bob: Reader) -> ClinicalStore:
    """The clinical store as seen by bob."""
    return db.store(bob)


@dataclass
class Chart:
    """A small patient built by :func:`chart`."""

    patient: Patient
    timepoints: list[Timepoint]
    lesions: list[Lesion]


def build_chart(
    store: ClinicalStore, subject: str = "S-001", n_timepoints: int = 3, n_lesions: int = 3
) -> Chart:
    """A patient with ``n_timepoints`` timepoints and ``n_lesions`` liver target lesions."""
    patient = store.add_patient(
        Patient(id=None, subject_id=subject, trial="CRLM-01", confirmation_required=False)
    )
    labels = ["baseline"] + [f"C{3 * i}" for i in range(1, n_timepoints)]
    timepoints = [
        store.add_timepoint(
            Timepoint(
                id=None,
                patient_id=patient.id,
                order=i,
                label=label,
                scan_date=date(2026, 1, 5 + 7 * i),
            )
        )
        for i, label in enumerate(labels)
    ]
    lesions = [
        store.add_lesion(
            Lesion(
                id=None,
                patient_id=patient.id,
                code=f"T{i + 1}",
                kind=LesionKind.TARGET,
                organ="liver" if i < 2 else "lung",
                tracking_uid=f"2.25.{subject.encode().hex()}{i + 1}",
            )
        )
        for i in range(n_lesions)
    ]
    return Chart(patient, timepoints, lesions)


@pytest.fixture
def chart(store: ClinicalStore) -> Chart:
    """A patient with 3 timepoints and 3 target lesions, no measurements."""
    return build_chart(store)
