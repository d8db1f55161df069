"""RECIST 1.1 and iRECIST rules: pure Python, standard library only.

Lesions and timepoints in (a :class:`Case`), responses and warnings out (a
:class:`CaseResult`).  See ``docs/INTERFACES.md`` and ``rules.md``.

May import: the standard library only (enforced by ``tests/test_layers.py``).
"""

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
