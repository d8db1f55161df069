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
    "ConfirmationNeededError",
    "DuplicateRecordError",
    "NoPatientOpenError",
    "OtherPatientSeriesError",
    "PermissionDeniedError",
    "RecordNotFoundError",
    "ScanDateMismatchError",
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


class ConfirmationNeededError(SessionError):
    """The edit is possible but unusual; the message asks "are you sure?".

    Nothing was written.  Ask the reader and, on yes, repeat the same call
    with ``confirmed=True``: the confirmation is then recorded with the edit
    (and so in the audit trail).
    """


class PermissionDeniedError(SessionError, PermissionError):
    """The reader's role does not allow the action (only an investigator signs)."""


class AuthenticationFailedError(SessionError):
    """The username or password given to sign was wrong, or the reader is inactive."""


class ScanDateMismatchError(ConfirmationNeededError):
    """The scan date differs from the series' DICOM date; repeat with ``confirm_scan_date``."""


class OtherPatientSeriesError(ConfirmationNeededError):
    """The series' DICOM Patient ID differs from that of the patient's earlier series.

    Repeat with ``confirm_other_patient=True`` once the reader confirmed; storage
    then audits "attach series of other patient ID X to subject Y".
    """


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
    except db_errors.OtherPatientError as exc:
        raise OtherPatientSeriesError(f"{what}: {exc}") from exc
    except (db_errors.RepositoryError, RecistError) as exc:
        raise SessionError(f"{what}: {exc}") from exc
