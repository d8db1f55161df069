"""Silence pydicom's value-validation warnings while Caliper reads files.

Damaged and non-conformant files are reported through ``FileProblem`` and
``Volume.warnings``; pydicom's own ``UserWarning`` noise (invalid UI or DS
values, ...) would only repeat that on stderr (pydicom also logs it to the
``pydicom`` logger).  ``warnings.catch_warnings`` saves and restores the
process-wide filter list and so is unsafe when scans and loads run in
several threads; this context manager instead installs one filter while any
reader is active and removes it when the last one leaves.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_filter: tuple[object, ...] | None = None


@contextmanager
def pydicom_quiet() -> Iterator[None]:
    """Ignore ``UserWarning`` raised from pydicom inside the ``with`` block (thread-safe)."""
    global _depth, _filter
    with _lock:
        if _depth == 0:
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")
            _filter = warnings.filters[0]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _filter is not None:
                filters = warnings.filters  # a list at runtime; typeshed says Sequence
                try:
                    if isinstance(filters, list):
                        filters.remove(_filter)
                except ValueError:  # someone reset the filters meanwhile
                    pass
                mutated = getattr(warnings, "_filters_mutated", None)
                if mutated is not None:  # invalidate the per-module "already warned" caches
                    mutated()
                _filter = None
