"""Errors the reading session raises for the viewer to show (re-exported by :mod:`app.session`).

Each message is a sentence the reader can act on; the viewer's boundary
(``@shows_errors``) puts it in a dialog.  Storage errors never reach the viewer
directly: :func:`translated` turns them into these, keeping the original as
``__cause__`` for the details pane.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from recist.errors import RecistError
from storage.db import errors as db_errors

__all__ = [
    "AuthenticationFailedError",
    "DuplicateRecordError",
    "NoPatientOpenError",
    "PermissionDeniedError",
    "RecordNotFoundError",
    "SessionError",
    "TimepointLockedError",
    "translated",
]


class SessionError(Exception):
    """Base class of every error the reading session raises; the message says what to do."""


class NoPatientOpenError(SessionError):
    """An action needs an open patient (or a selected timepoint) and there is none."""


class RecordNotFoundError(SessionError, LookupError):
    """The patient, timepoint, lesion or measurement asked for does not exist."""


class DuplicateRecordError(SessionError):
    """A record with the same key exists (subject id, lesion code, timepoint label)."""


class TimepointLockedError(SessionError):
    """The edit changes a signed timepoint; it needs a reason (the amendment voids the signature).

    RECIST is cumulative, so an edit at an earlier timepoint also changes a
    later signed one.
    """


class PermissionDeniedError(SessionError, PermissionError):
    """The reader's role does not allow the action (only an investigator signs)."""


class AuthenticationFailedError(SessionError):
    """The username or password given to sign was wrong, or the reader is inactive."""


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Re-raise storage and record errors raised in the block as :class:`SessionError`.

    Parameters
    ----------
    what
        What was being done, as the start of the message ("Could not move the measurement").

    Raises
    ------
    SessionError
        Or the matching subclass; the original error is chained.
    """
    try:
        yield
    except SessionError:
        raise
    except db_errors.ReasonRequiredError as exc:
        raise TimepointLockedError(
            f"{what}: this changes a signed timepoint. Give a reason to amend it "
            f"(the signature is then voided). Details: {exc}"
        ) from exc
    except db_errors.PermissionDeniedError as exc:
        raise PermissionDeniedError(f"{what}: {exc}") from exc
    except db_errors.AuthenticationError as exc:
        raise AuthenticationFailedError(
            f"{what}: wrong username or password, or the reader is inactive."
        ) from exc
    except db_errors.NotFoundError as exc:
        raise RecordNotFoundError(f"{what}: {exc}") from exc
    except db_errors.DuplicateError as exc:
        raise DuplicateRecordError(f"{what}: {exc}") from exc
    except (db_errors.RepositoryError, RecistError) as exc:
        raise SessionError(f"{what}: {exc}") from exc
