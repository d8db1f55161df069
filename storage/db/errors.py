"""Exceptions raised by :mod:`storage.db`.

Every :mod:`sqlalchemy.exc` error that leaves a repository is wrapped in one of
these (``wrap_sqlalchemy_errors``), so callers never import SQLAlchemy to catch a
database problem.  Messages name the record and say what to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc


class RepositoryError(Exception):
    """Base class of every error raised by :mod:`storage.db`."""


class NotFoundError(RepositoryError, LookupError):
    """The requested record does not exist."""


class DuplicateError(RepositoryError):
    """A record with the same unique key (subject id, lesion code, username...) exists."""


class IntegrityViolationError(RepositoryError):
    """A write broke a database constraint other than uniqueness (e.g. a missing parent)."""


class InvalidInputError(IntegrityViolationError, ValueError):
    """A text no site's database can store: too long, NUL or other control characters,
    lone surrogates (the limits of :mod:`recist.limits`, the same on SQLite and PostgreSQL)."""


class OtherPatientError(IntegrityViolationError):
    """The series belongs to another DICOM patient than the patient's other series.

    Attributes
    ----------
    dicom_patient_id : str
        The Patient ID of the series being attached.
    known_ids : list of str
        The Patient IDs of the patient's other series.
    """

    def __init__(self, message: str, dicom_patient_id: str, known_ids: Sequence[str]) -> None:
        super().__init__(message)
        self.dicom_patient_id = dicom_patient_id
        self.known_ids = list(known_ids)


class SchemaTooNewError(RepositoryError):
    """The database was written by a newer Caliper; it is refused and left untouched."""


class DatabaseUnavailableError(RepositoryError):
    """The database could not be opened or reached (bad URL, not a database, server down)."""


class AuthenticationError(RepositoryError):
    """Wrong username or password, or the reader is inactive."""


class PermissionDeniedError(RepositoryError):
    """The reader's role does not allow the action (e.g. only an investigator signs)."""


class ReasonRequiredError(RepositoryError):
    """Signed data is being changed without a reason; give ``reason=...``."""


_UNIQUE_MARKERS = ("unique", "duplicate key")
_CORRUPT_MARKERS = ("not a database", "malformed", "encrypted", "disk image")


@contextmanager
def wrap_sqlalchemy_errors(what: str) -> Iterator[None]:
    """Translate :mod:`sqlalchemy.exc` errors raised in the block into :class:`RepositoryError`.

    Parameters
    ----------
    what
        A short description of the operation, used as the start of the message
        (``"add patient S-001"``).

    Raises
    ------
    DuplicateError
        A unique constraint was violated.
    IntegrityViolationError
        Another constraint (foreign key, not null, check) was violated.
    DatabaseUnavailableError
        The database could not be reached or is not a database.
    RepositoryError
        Any other SQLAlchemy error.
    """
    try:
        yield
    except sa_exc.IntegrityError as exc:
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        if any(marker in detail.lower() for marker in _UNIQUE_MARKERS):
            raise DuplicateError(
                f"{what}: a record with the same key already exists ({detail.splitlines()[0]})"
            ) from exc
        raise IntegrityViolationError(f"{what}: {detail.splitlines()[0]}") from exc
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        detail = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
        raise DatabaseUnavailableError(f"{what}: database error: {detail.splitlines()[0]}") from exc
    except sa_exc.DatabaseError as exc:
        detail = str(exc.orig) if exc.orig is not None else str(exc)
        if any(marker in detail.lower() for marker in _CORRUPT_MARKERS):
            raise DatabaseUnavailableError(f"{what}: {detail.splitlines()[0]}") from exc
        raise RepositoryError(f"{what}: {detail.splitlines()[0]}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise RepositoryError(f"{what}: {str(exc).splitlines()[0]}") from exc
