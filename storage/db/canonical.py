"""Canonical JSON and the content hash: the exact text the audit trail and signatures hash.

A leaf of ``storage.db`` (standard library only): the audit trail, its replay,
timepoint signatures and endpoint-record signatures all use these, so they must
not import one another to get them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: The canonical encoder, built once (``json.dumps`` with options builds one per call).
_VALUES_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
)


def to_json(value: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON (sorted keys, no spaces, ASCII) of a values dict; None stays None."""
    if value is None:
        return None
    return _VALUES_JSON.encode(value)


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of signed content."""
    return hashlib.sha256((to_json(content) or "").encode("ascii")).hexdigest()
