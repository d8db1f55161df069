"""What a PACS query asks for and what it answers, independent of the protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

#: ``on_progress(images_done, images_expected_or_None)``
ProgressCallback = Callable[[int, "int | None"], None]


class CancelToken(Protocol):
    """Anything with ``is_set()``, e.g. :class:`threading.Event`."""

    def is_set(self) -> bool:
        """True once the reader asked to cancel."""
        ...


@dataclass(frozen=True, slots=True)
class StudyQuery:
    """Study-level search keys; empty fields match anything.

    ``patient_name`` gets a trailing ``*`` unless it already holds a
    wildcard, so "Smith" finds "Smith^John".
    """

    patient_id: str = ""
    patient_name: str = ""
    date_from: date | None = None
    date_to: date | None = None
    modality: str = ""

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")

    @property
    def name_pattern(self) -> str:
        """The patient name as a DICOM wildcard pattern ('' for any)."""
        name = self.patient_name.strip()
        if not name or "*" in name or "?" in name:
            return name
        return name + "*"

    @property
    def date_range(self) -> str:
        """The DICOM date range ``YYYYMMDD-YYYYMMDD`` ('' for any date)."""
        if not (self.date_from or self.date_to):
            return ""
        start = self.date_from.strftime("%Y%m%d") if self.date_from else ""
        end = self.date_to.strftime("%Y%m%d") if self.date_to else ""
        return f"{start}-{end}"


@dataclass(frozen=True, slots=True)
class StudyMatch:
    """One study a PACS found."""

    study_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""  # ISO 8601, '' when unknown
    study_description: str = ""
    accession_number: str = ""
    modalities: tuple[str, ...] = ()
    n_series: int | None = None
    n_instances: int | None = None


@dataclass(frozen=True, slots=True)
class SeriesMatch:
    """One series of a study a PACS found."""

    study_instance_uid: str
    series_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    n_instances: int | None = None


def iso_date(value: str) -> str:
    """``YYYYMMDD`` -> ``YYYY-MM-DD``; anything else is returned unchanged."""
    value = (value or "").strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def to_int(value: object) -> int | None:
    """An IS/US value as int, or None when absent or unreadable."""
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


@contextmanager
def call_on_cancel(
    cancel: CancelToken | None, action: Callable[[], object], name: str
) -> Iterator[None]:
    """Run ``action`` (abort, interrupt) as soon as ``cancel`` is set while the block runs.

    A watcher thread polls the token every 0.1 s, so a transfer blocked on a silent
    server is still cut off; the watcher ends with the block.
    """
    if cancel is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.1):
            if cancel.is_set():
                action()
                return

    watcher = threading.Thread(target=watch, name=name, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
