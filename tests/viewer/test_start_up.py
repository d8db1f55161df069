"""Start-up: an unwritable ``CALIPER_HOME`` gives a message box; the PACS controller comes later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.qt


def test_unwritable_home_shows_a_message_box(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.main as main

    home = tmp_path / "home"
    home.write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setenv("CALIPER_HOME", str(home))
    monkeypatch.delenv("CALIPER_DB", raising=False)
    shown: list[str] = []
    monkeypatch.setattr(
        main.QMessageBox, "critical", staticmethod(lambda _parent, _title, text: shown.append(text))
    )

    code = main.run_gui(None, demo=False)

    assert code == 2
    assert len(shown) == 1
    assert "CALIPER_HOME" in shown[0]
    assert "Traceback" not in shown[0]


def test_the_pacs_stand_in_loads_the_real_controller_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window starts with a stand-in (no pydicom/pynetdicom yet); the real one follows."""
    from app.main import _LazyPacsController
    from app.pacs.controller import PacsController

    monkeypatch.setenv("CALIPER_HOME", str(tmp_path))
    stand_in = _LazyPacsController()
    assert stand_in.node_names() == []
    stand_in.shutdown()  # nothing loaded: nothing to stop
    assert stand_in._real is None
    real = stand_in.load()
    assert isinstance(real, PacsController)
    assert stand_in.load() is real
    assert stand_in.node_names() == real.node_names()
    assert stand_in.cancel == real.cancel  # anything else goes to the real controller
    stand_in.shutdown()


def test_the_window_is_shown_before_sqlalchemy_is_imported(tmp_path: Path) -> None:
    """``caliper`` shows its main window first; the database layer is imported after it."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(sys.argv[:1])\n"
        "import app.main as main\n"
        "def check():\n"
        "    w = getattr(app, 'main_window', None)\n"
        "    if w is None or not w.session.attached:\n"
        "        QTimer.singleShot(50, check)\n"
        "        return\n"
        "    print('attached; sqlalchemy imported:', 'sqlalchemy' in sys.modules, flush=True)\n"
        "    app.quit()\n"
        "QTimer.singleShot(50, check)\n"
        "print('code', main.run_gui(None, demo=False), flush=True)\n"
    )
    env = dict(
        os.environ,
        CALIPER_HOME=str(tmp_path),
        CALIPER_STARTUP_PROBE="1",
        QT_QPA_PLATFORM="offscreen",
    )
    env.pop("CALIPER_DB", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [x for x in done.stdout.splitlines() if "sqlalchemy imported" in x or "code" in x]
    assert lines == [
        "window shown; sqlalchemy imported: False",
        "attached; sqlalchemy imported: True",
        "code 0",
    ], done.stdout + done.stderr


def test_the_pending_session_relays_every_session_signal() -> None:
    """The stand-in the window is built on knows every signal of ReadingSession."""
    from psygnal import Signal

    from app.pending_session import SESSION_SIGNALS, NotReadyError, PendingSession
    from app.session import ReadingSession

    real = sorted(n for n, v in vars(ReadingSession).items() if isinstance(v, Signal))
    assert sorted(SESSION_SIGNALS) == real
    pending = PendingSession()
    assert pending.patient is None
    assert pending.reader is None
    assert pending.patients() == []
    assert pending.commands.can_undo_redo() == (False, False)
    with pytest.raises(NotReadyError, match="still opening the database"):
        pending.open_patient("X")
