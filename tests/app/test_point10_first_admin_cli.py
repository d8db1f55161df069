"""Issue 11, point 10, on the command line: the first administrator and investigator of a new site.

The real ``caliper`` console script runs in a subprocess on an empty CALIPER_HOME,
as the README's "First administrator and investigators" section says; and a database
the window created (offscreen first start: a local reader, formerly no ``system``)
gets ``system`` from ``caliper db init``, so that readers can be added to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recist.model import Role
from storage.db import open_database

REPO = Path(__file__).resolve().parents[2]
CALIPER = Path(sys.executable).parent / "caliper"


@pytest.fixture
def caliper(tmp_path: Path):
    if not CALIPER.exists():
        pytest.skip(f"the caliper console script is not installed next to {sys.executable}")
    home = tmp_path / "home"
    env = dict(os.environ, CALIPER_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("CALIPER_DB", None)
    env.pop("CALIPER_READER", None)

    def run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CALIPER), *argv],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )

    run.home = home  # type: ignore[attr-defined]
    return run


def _open(home: Path):
    return open_database(f"sqlite:///{home / 'data' / 'caliper.sqlite3'}")


def test_point10_first_admin_and_investigator_on_the_command_line(caliper) -> None:
    done = caliper("db", "init")
    assert done.returncode == 0
    assert "created admin reader 'system'" in done.stdout
    done = caliper(
        "reader",
        "add",
        "--username",
        "ada",
        "--name",
        "Dr Ada Admin",
        "--role",
        "admin",
        "--password-stdin",
        "--as",
        "system",
        stdin="admin pass\n",
    )
    assert done.returncode == 0, done.stderr
    done = caliper(
        "reader",
        "add",
        "--username",
        "ivan",
        "--name",
        "Dr Ivan Investigator",
        "--role",
        "investigator",
        "--password-stdin",
        "--as",
        "ada",
        stdin="admin pass\nfirst pass\n",  # ada's own password first: who writes is authenticated
    )
    assert done.returncode == 0, done.stderr
    done = caliper(
        "reader",
        "reset-password",
        "ivan",
        "--password-stdin",
        "--as",
        "ada",
        stdin="wrong pass\ntemp pass\n",
    )
    assert done.returncode == 2
    assert "wrong password for 'ada'" in done.stderr
    done = caliper(
        "reader",
        "reset-password",
        "ivan",
        "--password-stdin",
        "--as",
        "ada",
        stdin="admin pass\ntemp pass\n",
    )
    assert done.returncode == 0
    assert "new one when they next log in" in done.stdout
    listed = caliper("reader", "list").stdout
    assert "ivan\tinvestigator\tDr Ivan Investigator (password reset" in listed
    assert "ada\tadmin\tDr Ada Admin\n" in listed
    eve = ("reader", "add", "--username", "eve", "--name", "Eve", "--password-stdin")
    done = caliper(*eve, "--as", "ivan", stdin="temp pass\nx\n")
    assert done.returncode == 2
    assert "choose a new password first" in done.stderr
    db = _open(caliper.home)
    try:
        ivan = db.readers.change_password("ivan", "temp pass", "my own")
        assert ivan.role is Role.INVESTIGATOR
        assert db.readers.authenticate("ivan", "my own") == ivan
    finally:
        db.close()
    done = caliper(*eve, "--as", "ivan", stdin="my own\nx\n")
    assert done.returncode == 2
    assert "only an admin can add readers" in done.stderr
    assert "caliper db init" in done.stderr  # the way out
    done = caliper(*eve, "--as", "system", stdin="x\n")  # system only until the first admin
    assert done.returncode == 2
    assert "only until the first administrator" in done.stderr
    done = caliper(*eve[:-1], "--as", "ada")  # no terminal, no --password-stdin: no write
    assert done.returncode == 2
    assert "need ada's password" in done.stderr
    verified = caliper("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_point10_db_init_adds_system_to_a_database_the_window_created(caliper) -> None:
    home = caliper.home
    (home / "data").mkdir(parents=True)
    db = _open(home)  # what the window's first start used to leave: a local reader, no `system`
    try:
        db.readers.create("root", "root (local reader)", Role.READER, None)
    finally:
        db.close()
    done = caliper(
        "reader",
        "add",
        "--username",
        "ivan",
        "--name",
        "Dr Ivan",
        "--role",
        "investigator",
        "--password-stdin",
        "--as",
        "system",
        stdin="pw\n",
    )
    assert done.returncode == 2
    assert "no reader 'system' in this database; run `caliper db init`" in done.stderr
    done = caliper("db", "init")
    assert done.returncode == 0
    assert "created admin reader 'system'" in done.stdout
    done = caliper(
        "reader",
        "add",
        "--username",
        "ivan",
        "--name",
        "Dr Ivan",
        "--role",
        "investigator",
        "--password-stdin",
        "--as",
        "system",
        stdin="pw\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created" not in caliper("db", "init").stdout  # only once
    assert caliper("audit", "verify").returncode == 0
