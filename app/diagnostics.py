"""Logging to the user's log folder and crash reports that survive the crash.

Qt-free: ``app/main.py`` passes a callback that shows the crash dialog; the
command line uses the same logging without one.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from app import __version__
from storage import paths

LOG_FILE_NAME = "caliper.log"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Called with (one-line summary, path of the saved report) after a crash report is written.
CrashCallback = Callable[[str, Path], None]


def configure_logging(level: int = logging.INFO) -> Path:
    """Send log records to a rotating file in the user's log folder; return its path.

    Calling it again does not add a second handler.
    """
    log_path = paths.log_dir() / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if (
            isinstance(handler, logging.handlers.RotatingFileHandler)
            and Path(handler.baseFilename) == log_path.resolve()
        ):
            return log_path
    handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return log_path


def write_crash_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    folder: Path | None = None,
) -> Path:
    """Write a crash report (versions, platform, traceback) and return its path."""
    folder = folder or paths.log_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"crash-{stamp}.txt"
    lines = [
        f"Caliper {__version__} crash report",
        f"time (UTC): {datetime.now(UTC).isoformat()}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        "",
        "".join(traceback.format_exception(exc_type, exc, tb)),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def install_excepthook(show: CrashCallback | None = None) -> None:
    """Log uncaught exceptions, save a crash report, then call ``show`` (e.g. a dialog)."""

    def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logging.getLogger("caliper").error("uncaught exception", exc_info=(exc_type, exc, tb))
        try:
            report = write_crash_report(exc_type, exc, tb)
        except OSError:
            sys.__excepthook__(exc_type, exc, tb)
            return
        summary = f"{exc_type.__name__}: {exc}"
        if show is not None:
            show(summary, report)
        else:
            message = f"caliper: crashed ({summary}); report saved to {report}"
            print(message, file=sys.stderr)  # noqa: T201 - no window to show it in: the terminal

    sys.excepthook = _hook
