"""Logs go to the user's log folder; an uncaught exception leaves a crash report."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from app import diagnostics
from storage import paths


def test_configure_logging_writes_to_the_log_folder_once() -> None:
    log_path = diagnostics.configure_logging()
    assert log_path == paths.log_dir() / "caliper.log"
    diagnostics.configure_logging()
    ours = [
        h
        for h in logging.getLogger().handlers
        if getattr(h, "baseFilename", None) == str(log_path.resolve())
    ]
    assert len(ours) == 1
    logging.getLogger("caliper.test").warning("hello from the test")
    for handler in ours:
        handler.flush()
    assert "hello from the test" in log_path.read_text()
    for handler in ours:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_uncaught_exception_saves_a_crash_report(tmp_path: Path) -> None:
    script = (
        "from app.diagnostics import install_excepthook\n"
        "install_excepthook()\n"
        "raise RuntimeError('boom in the viewer')\n"
    )
    env = {"CALIPER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "report saved to" in result.stderr
    reports = list((tmp_path / "logs").glob("crash-*.txt"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "RuntimeError: boom in the viewer" in text
    assert "Caliper" in text
    assert "python:" in text
