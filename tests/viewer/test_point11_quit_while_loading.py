"""Issue 11, point 11: quitting while a series loads cancels the load and exits at once.

The real program runs in a subprocess (offscreen) on a CALIPER_HOME holding one patient
(made with ``caliper db init`` and ``caliper patient add``, so that no demo study is
seeded) and opens ``ct-wholebody-269`` at start (``caliper --open PATH``).  0.3 s after the load
starts it is quit — with Ctrl+Q on the real main window, or with SIGTERM to the ``caliper``
console script — and must be gone within 2 s, with exit code 0 and no crash report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.qt

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CALIPER_SHARED_DATA", REPO.parent / "shared" / "data"))
SERIES = SHARED / "ct-wholebody-269"
CALIPER = Path(sys.executable).parent / "caliper"
LOADING_MARK = "opening at start:"

#: ``caliper --open SERIES`` in-process, pressing Ctrl+Q on the main window 0.3 s after the
#: load began; prints the wall time of the key press.
_CTRL_Q_SCRIPT = r"""
import sys, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
started = time.perf_counter()
def press_ctrl_q():
    w = getattr(app, "main_window", None)
    if w is None or w.last_task is None:
        if time.perf_counter() - started < 60:
            QTimer.singleShot(10, press_ctrl_q)
        return
    def key():
        w.activateWindow()
        print(f"QUIT {time.time()}", flush=True)
        QTest.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    QTimer.singleShot(300, key)
QTimer.singleShot(10, press_ctrl_q)
from app.cli import main
sys.exit(main(["--open", sys.argv[1]]))
"""


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, CALIPER_HOME=str(home), QT_QPA_PLATFORM="offscreen")


def _crash_reports(home: Path) -> list[Path]:
    return sorted(home.rglob("crash-*.txt"))


def _wait(proc: subprocess.Popen[str], seconds: float) -> float | None:
    """Seconds until *proc* exits, or None (and it is killed) if it is still running."""
    started = time.perf_counter()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    return time.perf_counter() - started


@pytest.fixture
def series() -> Path:
    if not SERIES.is_dir():
        pytest.skip(f"{SERIES} is missing (set CALIPER_SHARED_DATA)")
    return SERIES


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A CALIPER_HOME with a database and one patient (made by the real console script)."""
    if not CALIPER.exists():
        pytest.skip(f"the caliper console script is not installed next to {sys.executable}")
    home = tmp_path / "home"
    for argv in (["db", "init"], ["patient", "add", "QUIT-001", "--as", "system"]):
        done = subprocess.run(
            [str(CALIPER), *argv],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return home


def test_point11_ctrl_q_while_loading_exits_within_a_second(home: Path, series: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CTRL_Q_SCRIPT, str(series)],
        cwd=REPO,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"Caliper did not exit after Ctrl+Q while loading:\n{out}\n{err[-3000:]}")
    ended = time.time()
    quits = [float(line.split()[1]) for line in out.splitlines() if line.startswith("QUIT ")]
    assert quits, out + err[-3000:]
    assert proc.returncode == 0, err[-3000:]
    assert ended - quits[-1] < 2.0, f"exit took {ended - quits[-1]:.2f} s after Ctrl+Q"
    assert not _crash_reports(home), _crash_reports(home)[0].read_text()
    assert "Signal source has been deleted" not in err


def _start_console_script(home: Path, series: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CALIPER), "--open", str(series)],
        cwd=REPO,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_log(home: Path, mark: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    log = home / "logs" / "caliper.log"
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if log.exists() and mark in log.read_text(encoding="utf-8", errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(
                f"Caliper exited early ({proc.returncode}): {proc.communicate()[1][-3000:]}"
            )
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"{mark!r} never appeared in {log}")


@pytest.mark.parametrize("delay", [0.3, 3.0], ids=["while-loading", "after-loading"])
def test_point11_sigterm_ends_caliper_cleanly(home: Path, series: Path, delay: float) -> None:
    proc = _start_console_script(home, series)
    _wait_for_log(home, LOADING_MARK, proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    seconds = _wait(proc, 10)
    _, err = proc.communicate()
    assert seconds is not None, f"still running 10 s after SIGTERM: {err[-2000:]}"
    assert seconds < 2.0, f"still running {seconds} s after SIGTERM: {err[-2000:]}"
    assert proc.returncode == 0, f"exit code {proc.returncode}: {err[-3000:]}"
    assert not _crash_reports(home), _crash_reports(home)[0].read_text()
    log = (home / "logs" / "caliper.log").read_text(encoding="utf-8")
    assert "quit on SIGTERM" in log
    assert (home / "config" / "window.ini").is_file()  # the window closed as on File → Quit
