"""The limits every site applies to what it is given: text lengths, characters, JSON nesting.

One table, used by the case parser (:mod:`recist.caseio`) and by the database's
inputs (``storage.db.mappers``), so that a case file or a command-line value
accepted at one site is accepted at every site, whether it stores in SQLite
(which checks no length and takes NUL characters) or PostgreSQL (which
refuses NUL, lone surrogates and text longer than a ``VARCHAR(n)``).

The lengths are those of the database columns (counted in characters, as
PostgreSQL counts them); ``tests/storage/db/test_input_limits.py`` checks that the
two agree.  Standard library only.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_CASE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LENGTH",
    "loads_json",
    "shorten",
    "text_problem",
    "texts_problem",
]

#: Longest text of each kind, in characters (the database column's length).
MAX_LENGTH: dict[str, int] = {
    "subject_id": 64,
    "trial": 200,
    "site": 200,
    "label": 64,
    "modality": 16,
    "contrast_phase": 64,
    "uid": 64,
    "dicom_patient_id": 64,
    "lesion_id": 32,
    "organ": 100,
    "location": 200,
    "username": 64,
    "full_name": 200,
    "note": 10_000,
    # free text of the endpoint records (Text columns: the limit is the same at every site)
    "reason": 1_000,
}
#: Deepest nesting of objects and lists in a case or timeline file (the format needs 8).
MAX_JSON_DEPTH = 32
#: Largest case or timeline file read.
MAX_CASE_BYTES = 50 * 1024 * 1024
_MULTILINE = str.maketrans("", "", "\n\r\t")
_SHOWN = 60


def shorten(value: object, limit: int = _SHOWN) -> str:
    """``repr(value)`` cut to *limit* characters, for error messages."""
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def text_problem(value: str, kind: str, *, multiline: bool = False) -> str | None:
    """What is wrong with a text of this kind, or None when every site can store it.

    Parameters
    ----------
    value : str
        The text.
    kind : str
        A key of :data:`MAX_LENGTH` (``"organ"``, ``"subject_id"``, ...).
    multiline : bool
        Allow line breaks and tabs (notes); single-line texts allow neither.

    Returns
    -------
    str or None
        E.g. ``"is 10485760 characters long; at most 100 are allowed"`` or
        ``"contains the character U+0000 at position 3, which cannot be stored"``.
    """
    limit = MAX_LENGTH[kind]
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are allowed"
    if value.isprintable() or (multiline and value.translate(_MULTILINE).isprintable()):
        return None
    for position, char in enumerate(value):
        if not (char.isprintable() or (multiline and char in "\n\r\t")):
            what = "a lone surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "the character"
            return (
                f"contains {what} U+{ord(char):04X} at position {position}, which is not "
                "printable text" + ("" if multiline else " on one line")
            )
    return None  # pragma: no cover - isprintable() said otherwise


def texts_problem(*texts: tuple[str, str | None, str]) -> str | None:
    """The first problem of several texts as ``"FIELD: PROBLEM"``, or None when all can be stored.

    Each text is ``(field, value, kind)``; None values are skipped; ``"note"`` texts may
    span lines.  E.g. ``"death_cause: contains the character U+0000 at position 3, ..."``.
    """
    for name, value, kind in texts:
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{name}: must be text, got {shorten(value)}"
        problem = text_problem(value, kind, multiline=kind == "note")
        if problem is not None:
            return f"{name}: {problem}"
    return None


def loads_json(text: str | bytes) -> Any:
    """Parse the JSON of a case or timeline file, refusing what no site should read.

    Parameters
    ----------
    text : str or bytes
        The file's content (bytes are decoded as UTF-8).

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    ValueError
        With a one-line message: larger than :data:`MAX_CASE_BYTES`, not UTF-8,
        not JSON (with line and column), or nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    if len(text) > MAX_CASE_BYTES:
        raise ValueError(f"file is larger than {MAX_CASE_BYTES // (1024 * 1024)} MB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not a UTF-8 text file (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ValueError(_too_deep()) from None
    if _depth_over(data, MAX_JSON_DEPTH):
        raise ValueError(_too_deep())
    return data


def _too_deep() -> str:
    return f"not a case file: objects and lists nested deeper than {MAX_JSON_DEPTH} levels"


def _depth_over(data: Any, limit: int) -> bool:
    """True when lists and objects nest deeper than *limit* (iteratively: no recursion)."""
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
