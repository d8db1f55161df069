"""Where Caliper keeps its files on the reader's machine.

Everything lives in the platform's user folders (``platformdirs``) unless the
environment variable ``CALIPER_HOME`` names a folder, in which case data,
cache, config, logs and the series store are sub-folders of it (the tests set
it, and so can a site that wants one shared location).  Folders are created
with owner-only permissions, because they hold personal health information.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Caliper"


def _base(kind: str) -> Path:
    home = os.environ.get("CALIPER_HOME")
    if home:
        return Path(home) / kind
    getter = {
        "data": platformdirs.user_data_dir,
        "cache": platformdirs.user_cache_dir,
        "config": platformdirs.user_config_dir,
        "logs": platformdirs.user_log_dir,
    }[kind]
    return Path(getter(APP_NAME, appauthor=False))


class UserFolderError(OSError):
    """A user folder cannot be created or written; the message names it and says what to do."""


def _ensure(path: Path) -> Path:
    try:
        home = os.environ.get("CALIPER_HOME")
        if home:  # mkdir's mode is the last folder's only: CALIPER_HOME owner-only too
            Path(home).mkdir(parents=True, exist_ok=True, mode=0o700)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        home = os.environ.get("CALIPER_HOME")
        where = f" (CALIPER_HOME={home})" if home else ""
        raise UserFolderError(
            f"cannot create the folder {path}{where}: {exc.strerror or exc}; "
            "make it writable or set CALIPER_HOME to a folder you can write"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserFolderError(
            f"the folder {path} is not writable; make it writable or set CALIPER_HOME "
            "to a folder you can write"
        )
    return path


def data_dir() -> Path:
    """Folder of the default SQLite database and other persistent data."""
    return _ensure(_base("data"))


def cache_dir() -> Path:
    """Folder of rebuildable caches (DICOM header index)."""
    return _ensure(_base("cache"))


def config_dir() -> Path:
    """Folder of settings (window layout, PACS nodes)."""
    return _ensure(_base("config"))


def log_dir() -> Path:
    """Folder of log files and crash reports."""
    return _ensure(_base("logs"))


def series_store_dir() -> Path:
    """Folder where series retrieved from a PACS are kept, one sub-folder per series."""
    return _ensure(data_dir() / "series")


def default_database_path() -> Path:
    """The SQLite file used when no database URL is given."""
    return data_dir() / "caliper.sqlite3"
