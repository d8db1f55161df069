"""Discovery: find the image series under a folder, zip, DICOMDIR or file."""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from storage.dicom.errors import FileProblem
from storage.dicom.headers import Prefetched, prefetch, read_header
from storage.dicom.index import HeaderIndex, Result
from storage.dicom.quiet import pydicom_quiet
from storage.dicom.records import FileHeader, ScanReport, SeriesInfo
from storage.dicom.sources import Entry, collect, iter_member_bytes

log = logging.getLogger(__name__)

#: Threads reading the first bytes of files ahead of the parser (0: none).
READ_THREADS = max(2, min(8, (os.cpu_count() or 2) * 2))
#: Files one reader task reads.
PREFETCH_BATCH = 8
#: How many tasks the reader threads may be ahead of the parser (bounds the memory held:
#: at most PREFETCH_AHEAD x PREFETCH_BATCH x 64 KiB).
PREFETCH_AHEAD = 2 * READ_THREADS
#: Fewer files than this are read in the calling thread (starting threads would cost more).
PREFETCH_MIN_FILES = 16
#: Files read first in the calling thread, timing their I/O.
PROBE_FILES = 8
#: Mean I/O time per probed file (stat, open, read 64 KiB) above which the reader threads
#: are used; from the page cache it is ~20 microseconds, from a network share milliseconds.
SLOW_IO_SECONDS = 0.25e-3


def scan(path: str | Path) -> ScanReport:
    """Find the DICOM image series under *path*, reading headers only.

    Parameters
    ----------
    path : str or pathlib.Path
        A folder (searched recursively), a zip archive (members are read in
        memory, never extracted), a DICOMDIR, or a single DICOM file.

    Returns
    -------
    ScanReport
        The image series grouped by SeriesInstanceUID, and one
        :class:`FileProblem` per skipped file (not DICOM, corrupt, truncated,
        non-image objects such as SR, SEG, RT or secondary captures, absurd
        declared sizes, unsafe zip members, ...).

    Raises
    ------
    DicomLoadError
        If *path* does not exist or is a damaged archive / DICOMDIR.

    Notes
    -----
    Header results are cached in the user cache folder, keyed by path, size
    and modification time, so that scanning the same folder again reads no
    file that has not changed.
    """
    root = Path(path).expanduser()
    _kind, entries, problems = collect(root)
    index = HeaderIndex(root)
    results: list[tuple[Entry, Result]] = []
    misses: list[Entry] = []
    from_cache = 0
    for entry in entries:
        hit, result = index.get(entry)
        if hit:
            from_cache += 1
            results.append((entry, result))
        else:
            misses.append(entry)
    for entry, result in _read_all(misses):
        index.put(entry, result)
        results.append((entry, result))
    index.save()
    report = ScanReport(root=str(root), problems=problems, from_cache=from_cache)
    _group(results, report)
    return report


def _read_all(entries: list[Entry]) -> list[tuple[Entry, Result]]:
    """Read the headers of the entries that the index does not know, in their order.

    The first :data:`PROBE_FILES` files on disk are read here, timing their
    I/O.  When it is slow (over :data:`SLOW_IO_SECONDS` per file: a network
    share, a cold disk) and at least :data:`PREFETCH_MIN_FILES` files remain,
    :data:`READ_THREADS` threads stat and read the first bytes of the others
    ahead of the parser (I/O releases the GIL, so the reads overlap each
    other and the parsing) while this thread parses them in order; parsing
    holds the GIL, so it stays in one thread.  From the page cache the reads
    take microseconds and handing them to threads would cost more than it
    saves (measured: ``benchmarks/bench_scan_ab.py``), so they stay here.
    The results are those of a serial read, in the same order; a file whose
    reading fails in an unexpected way becomes a :class:`FileProblem` naming
    it, and the others are read all the same.
    """
    on_disk = [e for e in entries if e.member is None]
    in_zip = [e for e in entries if e.member is not None]
    out: list[tuple[Entry, Result]] = []
    with pydicom_quiet():  # once for the whole scan, not once per file
        probe, rest = on_disk[:PROBE_FILES], on_disk[PROBE_FILES:]
        io_seconds = 0.0
        for entry in probe:
            started = time.perf_counter()
            try:
                prefetched: Prefetched | None = prefetch(entry.file_path)
            except Exception:  # noqa: BLE001 - read_header reads it again and names the failure
                prefetched = None
            io_seconds += time.perf_counter() - started
            out.append((entry, _read_one(entry, prefetched=prefetched)))
        slow = bool(probe) and io_seconds / len(probe) > SLOW_IO_SECONDS
        if slow and len(rest) >= PREFETCH_MIN_FILES and READ_THREADS > 0:
            out.extend(_read_prefetched(rest))
        else:
            out.extend((entry, _read_one(entry)) for entry in rest)
        for entry, data, error in iter_member_bytes(in_zip):
            if error is not None or data is None:
                out.append((entry, FileProblem(entry.path, error or "cannot be read")))
            else:
                out.append((entry, _read_one(entry, data)))
    return out


def _read_one(
    entry: Entry, data: bytes | None = None, prefetched: Prefetched | None = None
) -> Result:
    """The header of one entry; never raises (a failure is a problem naming the file)."""
    try:
        return read_header(entry.path, entry.file_path, entry.member, data, prefetched)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the scan
        lines = str(exc).strip().splitlines()
        detail = f": {lines[0][:300]}" if lines else ""
        return FileProblem(entry.path, f"cannot be read: {type(exc).__name__}{detail}")


def _read_prefetched(entries: list[Entry]) -> Iterator[tuple[Entry, Result]]:
    """:func:`_read_one` of every entry, in order, their first bytes read ahead by threads.

    Each reader task reads :data:`PREFETCH_BATCH` files, so that handing work
    to the threads (which needs the GIL) costs little beside the parsing.
    """
    batches = [entries[i : i + PREFETCH_BATCH] for i in range(0, len(entries), PREFETCH_BATCH)]
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="caliper-scan") as pool:
        ahead: deque[Future[list[Prefetched]]] = deque()
        todo = iter(batches)
        for batch in batches:
            while len(ahead) < PREFETCH_AHEAD and (upcoming := next(todo, None)) is not None:
                ahead.append(pool.submit(_prefetch_all, [e.file_path for e in upcoming]))
            try:
                read: list[Prefetched | None] = list(ahead.popleft().result())
            except Exception:  # noqa: BLE001 - read them here instead, where a failure is named
                read = [None] * len(batch)
            for entry, prefetched in zip(batch, read, strict=True):
                yield entry, _read_one(entry, prefetched=prefetched)


def _prefetch_all(file_paths: list[str]) -> list[Prefetched]:
    return [prefetch(path) for path in file_paths]


def _group(results: list[tuple[Entry, Result]], report: ScanReport) -> None:
    by_series: dict[str, list[FileHeader]] = defaultdict(list)
    for _entry, result in sorted(results, key=lambda item: item[0].path):
        if isinstance(result, FileHeader):
            by_series[result.series_instance_uid].append(result)
            if result.note:
                report.warnings.append(f"{result.path}: {result.note}")
                log.warning("%s: %s", result.path, result.note)
        elif isinstance(result, FileProblem):
            report.problems.append(result)
    series = [SeriesInfo.from_headers(headers) for headers in by_series.values()]
    series.sort(
        key=lambda s: (
            s.study_date,
            s.study_instance_uid,
            s.series_number or 0,
            s.series_instance_uid,
        )
    )
    report.series = series
    report.problems.sort(key=lambda p: p.path)
