"""RECIST 1.1 and iRECIST rules: pure Python, standard library only.

Lesions and timepoints in (a :class:`Case`), responses and warnings out (a
:class:`CaseResult`).  See ``docs/INTERFACES.md`` and ``rules.md``.

May import: the standard library only (enforced by ``tests/test_layers.py``).
"""

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recist.case import (
        Case,
        CaseTimepoint,
        LesionStatus,
        NewLesionEntry,
        NonTargetEntry,
        Settings,
        TargetEntry,
    )
    from recist.caseio import case_from_dict
    from recist.casewrite import case_to_dict
    from recist.errors import CaseFormatError, RecistError
    from recist.evaluate import evaluate
    from recist.records import case_from_records, case_to_records
    from recist.responses import Response
    from recist.result import (
        ENGINE_VERSION,
        CaseResult,
        RuleWarning,
        TimepointResult,
        TrackSummary,
        Warning,  # noqa: F401, A004 - the public API name of docs/INTERFACES.md (not in __all__)
        result_to_dict,
    )


__all__ = [
    "ENGINE_VERSION",
    "Case",
    "CaseFormatError",
    "CaseResult",
    "CaseTimepoint",
    "LesionStatus",
    "NewLesionEntry",
    "NonTargetEntry",
    "RecistError",
    "Response",
    "RuleWarning",
    "Settings",
    "TargetEntry",
    "TimepointResult",
    "TrackSummary",
    "case_from_dict",
    "case_from_records",
    "case_to_dict",
    "case_to_records",
    "evaluate",
    "result_to_dict",
]

#: Where each public name lives.  The package imports a submodule when one of its names is
#: first used (PEP 562): ``import recist.model`` (the GUI before its window shows) then loads
#: that module only, not the whole engine.
_WHERE = {
    "Case": "case",
    "CaseTimepoint": "case",
    "LesionStatus": "case",
    "NewLesionEntry": "case",
    "NonTargetEntry": "case",
    "Settings": "case",
    "TargetEntry": "case",
    "case_from_dict": "caseio",
    "case_to_dict": "casewrite",
    "CaseFormatError": "errors",
    "RecistError": "errors",
    "evaluate": "evaluate",
    "case_from_records": "records",
    "case_to_records": "records",
    "Response": "responses",
    "ENGINE_VERSION": "result",
    "CaseResult": "result",
    "RuleWarning": "result",
    "TimepointResult": "result",
    "TrackSummary": "result",
    "Warning": "result",
    "result_to_dict": "result",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'recist' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"recist.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


class _Package(types.ModuleType):
    """The package module: importing the submodule ``recist.evaluate`` keeps the function.

    The import system binds every submodule as an attribute of its package once it is
    loaded; for ``evaluate`` (the function shares its module's name) that would replace
    the function, which eager imports used to rebind afterwards.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _WHERE and isinstance(value, types.ModuleType):
            return  # a submodule of the same name as a public function or class
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
