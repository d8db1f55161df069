"""Evaluate a case (placeholder until the engine lands)."""

from __future__ import annotations

from recist.case import Case, Settings
from recist.result import CaseResult


def evaluate(case: Case, settings: Settings | None = None) -> CaseResult:
    """Evaluate a case (not implemented yet)."""
    raise NotImplementedError("the RECIST engine is being built")
