"""app.pyside_hook: PySide6's per-import source check, answered from the file itself (issue 17)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("PySide6.QtCore")


def _modules() -> list[ModuleType]:
    import json  # a stdlib package: no PySide6

    import PySide6  # its __init__.py names itself

    import app.main  # uses PySide6
    import app.pyside_hook  # names PySide6 in its docstring
    import recist.model  # no Qt

    return [json, PySide6, app.main, app.pyside_hook, recist.model, sys, ModuleType("no_file")]


def test_the_fast_check_gives_pysides_answer_for_every_kind_of_module() -> None:
    import inspect

    from app.pyside_hook import uses_pyside

    def pyside_check(module: ModuleType) -> bool:  # shibokensupport.feature._mod_uses_pyside
        try:
            return "PySide6" in inspect.getsource(module)
        except (TypeError, OSError, SyntaxError):
            return False

    answers = {m.__name__: uses_pyside(m, pyside_check) for m in _modules()}
    assert answers == {m.__name__: pyside_check(m) for m in _modules()}
    assert answers["app.main"]
    assert not answers["recist.model"]
    assert not answers["sys"]


def test_install_replaces_the_hook_once_and_is_used_by_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import PySide6.QtCore  # noqa: F401 - loads shibokensupport.feature

    from app import pyside_hook

    feature = sys.modules["shibokensupport.feature"]
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)  # undone after
    assert pyside_hook.install()
    replaced = feature._mod_uses_pyside
    assert pyside_hook.install()
    assert feature._mod_uses_pyside is replaced  # idempotent: not wrapped twice
    (tmp_path / "uses_qt_hook_probe.py").write_text("import PySide6.QtCore\n", encoding="utf-8")
    (tmp_path / "no_qt_hook_probe.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import no_qt_hook_probe  # noqa: F401
    import uses_qt_hook_probe  # noqa: F401

    assert feature.pyside_feature_dict["uses_qt_hook_probe"] == 0  # a PySide module
    assert feature.pyside_feature_dict["no_qt_hook_probe"] == -1  # ignored by __feature__


def test_install_does_nothing_without_pysides_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import pyside_hook

    monkeypatch.setitem(sys.modules, "shibokensupport.feature", ModuleType("feature"))
    assert not pyside_hook.install()
