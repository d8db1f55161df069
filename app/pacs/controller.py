"""The Qt-free controller behind "Find on PACS".

It runs every PACS operation on one worker thread, so a slow or dead PACS
never freezes the window, and reports through psygnal signals (emitted from
that worker thread: a Qt listener must hop to its own thread, e.g. through a
queued Qt signal).  Nothing here shows a password: errors carry the PACS's
name and address only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from psygnal import Signal

from storage.dicom import pacs
from storage.dicom.pacs import PacsError, RetrieveCancelled, SeriesMatch, StudyMatch, StudyQuery

log = logging.getLogger(__name__)


def _parse_date(text: str, what: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PacsError(f"{what} must be a date like 2024-05-31, got {text!r}") from None


class PacsController:
    """Query a PACS and retrieve series into the local series store.

    Parameters
    ----------
    store_dir : Path, optional
        The series store (default ``storage.paths.series_store_dir()``).

    Signals
    -------
    studies_found(list)            list of StudyMatch
    series_found(str, list)        study UID, list of SeriesMatch
    retrieve_progressed(int, int)  images done, images expected (0 when unknown)
    series_retrieved(str)          folder of the complete series
    retrieve_cancelled()           the reader cancelled; nothing was imported
    failed(str)                    a message for the reader
    busy_changed(bool)             an operation started (True) or ended (False)
    """

    studies_found = Signal(list)
    series_found = Signal(str, list)
    retrieve_progressed = Signal(int, int)
    series_retrieved = Signal(str)
    retrieve_cancelled = Signal()
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, store_dir: Path | None = None) -> None:
        self._store_dir = store_dir
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caliper-pacs")
        self._cancel = threading.Event()
        self._series: dict[str, SeriesMatch] = {}
        self._pending = 0
        self._lock = threading.Lock()

    # -- what the dialog shows ---------------------------------------------

    def node_names(self) -> list[str]:
        """Names of the configured PACS nodes (empty when none or unreadable)."""
        try:
            return [node.name for node in pacs.load_nodes()]
        except PacsError as exc:
            self.failed.emit(str(exc))
            return []

    @property
    def busy(self) -> bool:
        """True while an operation runs or waits."""
        with self._lock:
            return self._pending > 0

    # -- operations (asynchronous) ----------------------------------------

    def find_studies(
        self,
        node_name: str,
        *,
        patient_id: str = "",
        patient_name: str = "",
        date_from: str = "",
        date_to: str = "",
        modality: str = "",
    ) -> Future[Any]:
        """Search ``node_name`` for studies; emits ``studies_found`` or ``failed``.

        Dates are ISO 8601 text ('' for open ends).
        """

        def work() -> list[StudyMatch]:
            query = StudyQuery(
                patient_id=patient_id,
                patient_name=patient_name,
                date_from=_parse_date(date_from, "From"),
                date_to=_parse_date(date_to, "To"),
                modality=modality,
            )
            found = pacs.find_studies(pacs.get_node(node_name), query)
            self.studies_found.emit(found)
            return found

        return self._submit(work)

    def find_series(self, node_name: str, study_instance_uid: str) -> Future[Any]:
        """List the series of one study; emits ``series_found`` or ``failed``."""

        def work() -> list[SeriesMatch]:
            found = pacs.find_series(pacs.get_node(node_name), study_instance_uid)
            self._series.update({s.series_instance_uid: s for s in found})
            self.series_found.emit(study_instance_uid, found)
            return found

        return self._submit(work)

    def retrieve(self, node_name: str, series_instance_uid: str) -> Future[Any]:
        """Retrieve one series; emits ``retrieve_progressed`` then ``series_retrieved``.

        On failure ``failed`` (or ``retrieve_cancelled``) is emitted and the
        series store holds nothing of the series.
        """
        self._cancel.clear()

        def work() -> Path:
            node = pacs.get_node(node_name)
            series = self._series.get(series_instance_uid) or series_instance_uid
            folder = pacs.retrieve_series(
                node,
                series,
                on_progress=self._on_progress,
                cancel=self._cancel,
                store_dir=self._store_dir,
            )
            self.series_retrieved.emit(str(folder))
            return folder

        return self._submit(work)

    def cancel(self) -> None:
        """Ask the running retrieve to stop (it emits ``retrieve_cancelled``)."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Cancel what runs and stop the worker thread."""
        self._cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def open_series(folder: str | Path) -> Any:
        """Load a retrieved series as any local one (``storage.dicom.load_series``)."""
        from storage.dicom import load_series

        return load_series(Path(folder))

    # -- plumbing -----------------------------------------------------------

    def _on_progress(self, done: int, total: int | None) -> None:
        self.retrieve_progressed.emit(done, total or 0)

    def _set_pending(self, delta: int) -> None:
        with self._lock:
            before = self._pending > 0
            self._pending += delta
            after = self._pending > 0
        if before != after:
            self.busy_changed.emit(after)

    def _submit(self, work: Callable[[], Any]) -> Future[Any]:
        self._set_pending(+1)

        def run() -> Any:
            # On failure the operation ends (busy_changed) before the message is
            # emitted, so a dialog that shows the message has its buttons back.
            try:
                result = work()
            except RetrieveCancelled:
                self._set_pending(-1)
                self.retrieve_cancelled.emit()
                raise
            except PacsError as exc:
                log.warning("PACS operation failed: %s", exc)
                self._set_pending(-1)
                self.failed.emit(str(exc))
                raise
            except BaseException as exc:
                log.exception("unexpected error in a PACS operation")
                self._set_pending(-1)
                self.failed.emit(f"Unexpected error: {exc}")
                raise
            self._set_pending(-1)
            return result

        return self._executor.submit(run)
