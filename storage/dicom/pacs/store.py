"""Landing retrieved images in the series store, all or nothing.

A retrieve writes into a hidden ``.partial-*`` folder inside
:func:`storage.paths.series_store_dir`; only :meth:`SeriesStaging.commit`
renames it to ``<SeriesInstanceUID>/``, so a folder named after a series is
always complete.  A failed, cancelled or short retrieve removes its folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from storage.dicom.pacs.errors import PacsError, PacsRetrieveIncomplete
from storage.paths import series_store_dir

_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")
PARTIAL_PREFIX = ".partial-"


def check_uid(uid: str, what: str = "UID") -> str:
    """Return ``uid`` if it is a valid DICOM UID (it becomes a path component)."""
    if not isinstance(uid, str) or len(uid) > 64 or not _UID_RE.match(uid):
        raise PacsError(f"{what} must be a DICOM UID (digits and dots, at most 64), got {uid!r}")
    return uid


class SeriesStaging:
    """A temporary folder that becomes ``<store>/<SeriesInstanceUID>`` when complete.

    Parameters
    ----------
    series_instance_uid : str
        The series being retrieved.
    store_dir : Path, optional
        The series store (default :func:`storage.paths.series_store_dir`).

    Use it as a context manager: leaving the block by an exception, or
    without :meth:`commit`, removes the temporary folder.
    """

    def __init__(self, series_instance_uid: str, store_dir: Path | None = None) -> None:
        self.series_instance_uid = check_uid(series_instance_uid, "SeriesInstanceUID")
        self.store_dir = Path(store_dir) if store_dir else series_store_dir()
        self.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.final_dir = self.store_dir / self.series_instance_uid
        self.temp_dir = Path(
            tempfile.mkdtemp(
                prefix=f"{PARTIAL_PREFIX}{self.series_instance_uid}-", dir=self.store_dir
            )
        )
        self._lock = threading.Lock()
        self._sop_uids: set[str] = set()
        self.committed = False

    @property
    def count(self) -> int:
        """Number of distinct images written so far."""
        with self._lock:
            return len(self._sop_uids)

    def write(self, sop_instance_uid: str, data: bytes) -> Path:
        """Write one DICOM Part 10 file; returns its path in the temporary folder."""
        check_uid(sop_instance_uid, "SOPInstanceUID")
        path = self.temp_dir / f"{sop_instance_uid}.dcm"
        path.write_bytes(data)
        with self._lock:
            self._sop_uids.add(sop_instance_uid)
        return path

    def commit(self, expected: int | None = None) -> Path:
        """Move the images into place and return the series folder.

        Raises
        ------
        PacsRetrieveIncomplete
            Fewer than ``expected`` images (or none) arrived; the folder is removed.
        """
        got = self.count
        if got == 0 or (expected is not None and got < expected):
            self.discard()
            wanted = f"{expected}" if expected is not None else "at least 1"
            raise PacsRetrieveIncomplete(
                f"series {self.series_instance_uid}: received {got} of {wanted} images; "
                "nothing was imported"
            )
        old = None
        if self.final_dir.exists():
            old = (
                self.store_dir / f"{PARTIAL_PREFIX}old-{self.series_instance_uid}-{time.time_ns()}"
            )
            self.final_dir.rename(old)
        self.temp_dir.rename(self.final_dir)
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final_dir

    def discard(self) -> None:
        """Remove the temporary folder and everything in it."""
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> SeriesStaging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.discard()


def remove_stale_partials(store_dir: Path | None = None, max_age_s: float = 86400.0) -> int:
    """Remove ``.partial-*`` folders left by a crash more than ``max_age_s`` ago."""
    store = Path(store_dir) if store_dir else series_store_dir()
    removed = 0
    now = time.time()
    for path in store.glob(f"{PARTIAL_PREFIX}*"):
        if path.is_dir() and now - path.stat().st_mtime > max_age_s:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
