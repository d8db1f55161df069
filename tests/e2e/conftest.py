"""Fixtures for the end-to-end tests: a virtual X display and the real ``caliper`` program.

The display is Xvfb, started here (CI has no display); Xvfb, xdotool and the
libraries Qt's xcb platform plugin needs are Debian packages installed with
apt-get when missing, as the dciodvfy and poppler fixtures do.  Each test
starts ``.venv/bin/caliper`` (the installed console script) in its own
``CALIPER_HOME`` and drives it with real X events (``driver.py``).
Screenshots go to ``$CALIPER_E2E_SHOTS`` (default: the test's tmp folder).
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.driver import CALIPER, CaliperProgram
from tests.system_tools import system_tool

#: Shared libraries Qt's xcb platform plugin loads, with their Debian packages.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}
FIRST_DISPLAY = 45  # below it, displays people start by hand; the first free one from here is used


def _free_display() -> int:
    for number in range(FIRST_DISPLAY, 200):
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture(scope="session")
def xdotool() -> str:
    """Path of xdotool (installed on demand)."""
    return system_tool("xdotool")


@pytest.fixture(scope="session")
def x_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh Xvfb display (1600x1000, 24 bit), stopped after the session; ``":N"``."""
    missing = [
        package for name, package in XCB_LIBRARIES.items() if ctypes.util.find_library(name) is None
    ]
    xvfb = system_tool("Xvfb", *missing)
    system_tool("xwininfo")  # x11-utils: xprop, xwininfo for looking at a failing run by hand
    if not CALIPER.exists():
        pytest.fail(f"the caliper console script is not installed at {CALIPER}: pip install -e .")
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    for _ in range(5):  # another Xvfb may take the number between our look and its start
        number = _free_display()
        with log.open("ab") as out:
            server = subprocess.Popen(
                [
                    xvfb,
                    f":{number}",
                    "-screen",
                    "0",
                    "1600x1000x24",  # noqa: S607
                    "-nolisten",
                    "tcp",
                ],
                stdout=out,
                stderr=out,
            )  # noqa: S603
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        if server.poll() is None:
            break
    else:
        pytest.fail(f"Xvfb would not start: {log.read_text(errors='replace')[-1000:]}")
    time.sleep(0.2)
    try:
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go (``$CALIPER_E2E_SHOTS/<test>`` or tmp)."""
    base = os.environ.get("CALIPER_E2E_SHOTS")
    return Path(base) / request.node.name if base else tmp_path / "shots"


class Launcher:
    """Starts ``caliper`` on one display and ``CALIPER_HOME``; what the ``caliper`` fixture gives.

    ``launcher(*args, password=None)`` starts the window program (again after a quit: a
    restart on the same home, which logs in); ``launcher.cli(*args)`` runs a command on
    the same home before or between starts (``db init``, ``reader add``).
    """

    def __init__(self, display: str, home: Path, shots: Path, xdotool: str) -> None:
        self._make = lambda: CaliperProgram(display, home, shots, xdotool)
        self.home = home
        self.started: list[CaliperProgram] = []

    #: The administrator a first start creates in the "first administrator" dialog.
    ADMIN = ("Ada Admin", "ada", "e2e-admin-password")

    def __call__(self, *args: str, password: str | None = None) -> CaliperProgram:
        """Start the window program; the first start on a new home creates :attr:`ADMIN`,
        later starts log in with *password* (default: the administrator's)."""
        program = self._make()
        self.started.append(program)
        if password is None and not (self.home / "data" / "caliper.sqlite3").exists():
            return program.start(*args, first_admin=self.ADMIN)
        return program.start(*args, password=password or self.ADMIN[2])

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """``caliper ARGS`` on this home; its output (fails the test on a non-zero exit)."""
        return self._make().cli(*args, stdin=stdin).stdout


@pytest.fixture
def caliper(x_display: str, xdotool: str, tmp_path: Path, shots: Path) -> Iterator[Launcher]:
    """A :class:`Launcher` for a fresh ``CALIPER_HOME``; every program it started is
    stopped (SIGTERM, then SIGKILL) at the end."""
    launcher = Launcher(x_display, tmp_path / "home", shots, xdotool)
    yield launcher
    for program in launcher.started:
        program.stop()
