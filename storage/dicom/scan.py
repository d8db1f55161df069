"""Discovery: find the image series under a folder, zip, DICOMDIR or file."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from storage.dicom.errors import FileProblem
from storage.dicom.headers import read_header
from storage.dicom.index import HeaderIndex, Result
from storage.dicom.records import FileHeader, ScanReport, SeriesInfo
from storage.dicom.sources import Entry, collect, iter_member_bytes

log = logging.getLogger(__name__)


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
    """Read the headers of the entries that the index does not know."""
    out: list[tuple[Entry, Result]] = []
    on_disk = [e for e in entries if e.member is None]
    in_zip = [e for e in entries if e.member is not None]
    for entry in on_disk:
        out.append((entry, read_header(entry.path, entry.file_path)))
    for entry, data, error in iter_member_bytes(in_zip):
        if error is not None or data is None:
            out.append((entry, FileProblem(entry.path, error or "cannot be read")))
        else:
            out.append((entry, read_header(entry.path, entry.file_path, entry.member, data)))
    return out


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
