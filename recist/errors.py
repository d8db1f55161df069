"""Exceptions raised by the rules layer."""

from __future__ import annotations

#: Longest problem text of a CaseFormatError (values quoted in it are cut).
_MAX_PROBLEM = 300


class RecistError(Exception):
    """Base class of every error raised by :mod:`recist`."""


class InvalidRecordError(RecistError, ValueError):
    """A domain record was built with a value that is not allowed; the message names the field."""


class CaseFormatError(RecistError, ValueError):
    """A case (rules.md §10 format) is malformed.

    Parameters
    ----------
    field : str
        Where the problem is, as a path into the case, e.g.
        ``"timepoints[2].targets[0].diameter_mm"`` (empty for the whole case).
    problem : str
        What is wrong and what was expected.

    Attributes
    ----------
    field : str
        The path given.
    problem : str
        The description given; ``str(error)`` is ``"<field>: <problem>"``.
    """

    def __init__(self, field: str, problem: str) -> None:
        if len(problem) > _MAX_PROBLEM:  # a 10 MB value quoted back is no message
            problem = problem[: _MAX_PROBLEM - 3] + "..."
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)

    def __reduce__(self) -> tuple[type[CaseFormatError], tuple[str, str]]:
        return (type(self), (self.field, self.problem))
