"""A faster PySide6 import hook: the same answer without ``inspect.getsource``.

Once PySide6 is imported, every module imported afterwards passes through its
``__feature__`` hook (``shibokensupport.feature.feature_imported``), which asks
whether the module's source mentions ``PySide6`` by calling
``inspect.getsource(module)``.  That call walks ``sys.modules`` and tokenizes the
file: about 0.4 ms per module, some 150 ms for the 400 modules ``caliper`` imports
before its window shows (issue 17).  :func:`install` replaces the check with a
plain read of the ``.py`` file, the same test on the same text; anything else (no
file, not Python source, unreadable) still goes to PySide's own check.

Standard library only; it does not import PySide6 (``app.main`` calls it right after
importing Qt).  Without the private hook (another PySide6 version) it does nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: Marks the replacement, so that :func:`install` is idempotent.
_MARK = "_caliper_fast_check"


def uses_pyside(module: ModuleType, fallback: Callable[[ModuleType], Any]) -> bool:
    """Whether *module*'s source file mentions ``PySide6`` (*fallback* when it has none)."""
    path = getattr(module, "__file__", None)
    if isinstance(path, str) and path.endswith(".py"):
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            pass
    return bool(fallback(module))


def install() -> bool:
    """Replace PySide6's per-import source check; True if it is (now) replaced."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False
    if getattr(original, _MARK, False):
        return True

    def check(module: ModuleType) -> bool:
        return uses_pyside(module, original)

    setattr(check, _MARK, True)
    feature._mod_uses_pyside = check  # type: ignore[attr-defined]  # PySide6's private hook
    return True
