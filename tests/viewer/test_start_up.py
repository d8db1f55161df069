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
