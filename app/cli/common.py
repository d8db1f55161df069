"""What every command group shares: opening the database a command names, with clear errors."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import recist
from app.errors import CliError
from storage.db import Database, RepositoryError, open_database


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Database]:
    """The database of ``--db`` / ``$CALIPER_DB``; storage and rule errors become CliError."""
    try:
        db = open_database(getattr(args, "db", None))
    except RepositoryError as exc:
        raise CliError(str(exc)) from exc
    try:
        yield db
    except (RepositoryError, recist.RecistError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
