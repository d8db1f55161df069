"""An unwritable ``CALIPER_HOME`` at window start: a message box saying so, not a traceback."""

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
