"""The local database: patients, timepoints, lesions, measurements, assessments,
readers and signatures, with a hash-chained, append-only audit trail.

SQLite in the user's data folder by default, any SQLAlchemy URL (PostgreSQL for
a site) through ``open_database(url)`` / ``--db`` / ``$CALIPER_DB``.  Nothing
here returns ORM rows: repositories return :mod:`recist.model` records and the
records of :mod:`storage.db.records`.

>>> db = open_database()                       # doctest: +SKIP
>>> reader = db.readers.authenticate("alice", "secret")  # doctest: +SKIP
>>> store = db.store(reader)                   # doctest: +SKIP

May import: ``recist`` records, SQLAlchemy, Alembic and ``storage.paths``.  Never Qt,
``app`` or ``viewer``; nothing outside ``storage/db`` and ``storage/migrations`` imports SQLAlchemy.
"""

from storage.db.audit import AuditEvent, AuditReport
from storage.db.database import Database, open_database, resolve_url
from storage.db.errors import (
    AuthenticationError,
    DatabaseUnavailableError,
    DuplicateError,
    IntegrityViolationError,
    InvalidInputError,
    NotFoundError,
    OtherPatientError,
    PermissionDeniedError,
    ReasonRequiredError,
    RepositoryError,
    SchemaTooNewError,
)
from storage.db.readers import SYSTEM_USERNAME, ReaderRepository
from storage.db.records import PatientChart, Signature, StoredAssessment
from storage.db.store import ClinicalStore

__all__ = [
    "SYSTEM_USERNAME",
    "AuditEvent",
    "AuditReport",
    "AuthenticationError",
    "ClinicalStore",
    "Database",
    "DatabaseUnavailableError",
    "DuplicateError",
    "IntegrityViolationError",
    "InvalidInputError",
    "NotFoundError",
    "OtherPatientError",
    "PatientChart",
    "PermissionDeniedError",
    "ReaderRepository",
    "ReasonRequiredError",
    "RepositoryError",
    "SchemaTooNewError",
    "Signature",
    "StoredAssessment",
    "open_database",
    "resolve_url",
]
