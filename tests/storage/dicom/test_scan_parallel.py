"""The header scan with reader threads: the same report as a serial scan, bad files named, the
header index written once per scanned folder."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import storage.dicom.headers as headers
import storage.dicom.index as index_module
from storage.dicom import scan
from storage.dicom.records import ScanReport

scan_module = sys.modules["storage.dicom.scan"]  # the package exports the function as `scan`


def _mixed_folder(copy_series: Callable[..., Path]) -> Path:
    """30 CT slices plus an empty file, a truncated one, a text file and an unreadable one."""
    folder = copy_series("ct-chest-30")
    (folder / "empty.dcm").write_bytes(b"")
    good = sorted(folder.glob("1-*.dcm"))
    (folder / "truncated.dcm").write_bytes(good[0].read_bytes()[:400])
    (folder / "notes.txt").write_text("not DICOM\n", encoding="utf-8")
    locked = folder / "locked.dcm"
    shutil.copyfile(good[1], locked)
    locked.chmod(0)
    return folder


def _summary(report: ScanReport) -> tuple[object, ...]:
    return (
        [(s.series_instance_uid, s.files, [h.to_json() for h in s.headers]) for s in report.series],
        [(p.path, p.message) for p in report.problems],
        report.warnings,
    )


def _fresh_scan(folder: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> ScanReport:
    home.mkdir()
    monkeypatch.setenv("CALIPER_HOME", str(home))
    return scan(folder)


def test_threaded_scan_equals_serial_scan(
    copy_series: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _mixed_folder(copy_series)
    monkeypatch.setattr(scan_module, "PREFETCH_MIN_FILES", 10**9)
    monkeypatch.setattr(scan_module, "PROBE_FILES", 0)
    serial = _fresh_scan(folder, tmp_path / "serial", monkeypatch)
    monkeypatch.setattr(scan_module, "PREFETCH_MIN_FILES", 2)
    monkeypatch.setattr(scan_module, "PROBE_FILES", 3)
    monkeypatch.setattr(scan_module, "SLOW_IO_SECONDS", -1.0)  # as if on a network share
    threaded = _fresh_scan(folder, tmp_path / "threaded", monkeypatch)
    assert _summary(threaded) == _summary(serial)
    assert [s.n_images for s in threaded.series] == [31 if os.geteuid() == 0 else 30]
    named = {Path(p.path).name for p in threaded.problems}
    assert {"empty.dcm", "truncated.dcm", "notes.txt"} <= named


@pytest.mark.parametrize(
    ("slow_io_seconds", "threaded"),
    [(-1.0, True), (3600.0, False)],
    ids=["slow-io-reads-ahead-on-threads", "page-cache-reads-stay-in-the-calling-thread"],
)
def test_reader_threads_only_when_io_is_slow(
    copy_series: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    slow_io_seconds: float,
    threaded: bool,
) -> None:
    """Reads go to reader threads when the first files read slowly (a network share: the
    threshold below every read), never from the page cache (a threshold no storage reaches)."""
    import threading

    folder = copy_series("ct-chest-30")
    threads: set[str] = set()
    real = headers.prefetch

    def spy(file_path: str) -> headers.Prefetched:
        threads.add(threading.current_thread().name)
        return real(file_path)

    monkeypatch.setattr(scan_module, "prefetch", spy)
    monkeypatch.setattr(scan_module, "SLOW_IO_SECONDS", slow_io_seconds)
    report = _fresh_scan(folder, tmp_path / "home", monkeypatch)
    assert report.series[0].n_images == 30
    assert any(name.startswith("caliper-scan") for name in threads) is threaded


def test_a_file_whose_reading_raises_is_named_and_the_rest_is_read(
    copy_series: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_series("ct-chest-30")
    victim = sorted(folder.iterdir())[7]
    real = headers.read_header

    def flaky(path: str, *args: object, **kwargs: object) -> object:
        if path == str(victim):
            raise RuntimeError("disk on fire\nsecond line")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_module, "read_header", flaky)
    report = _fresh_scan(folder, tmp_path / "home", monkeypatch)
    assert report.series[0].n_images == 29
    assert [(p.path, p.message) for p in report.problems] == [
        (str(victim), "cannot be read: RuntimeError: disk on fire")
    ]


def test_prefetched_header_equals_the_plain_read(copy_series: Callable[..., Path]) -> None:
    folder = copy_series("mr-brain-24")
    for path in sorted(folder.iterdir()):
        plain = headers.read_header(str(path), str(path))
        ahead = headers.read_header(str(path), str(path), prefetched=headers.prefetch(str(path)))
        assert plain == ahead


def test_prefetch_of_a_missing_file_reports_like_the_plain_read(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.dcm")
    plain = headers.read_header(missing, missing)
    ahead = headers.read_header(missing, missing, prefetched=headers.prefetch(missing))
    assert plain == ahead
    assert "cannot be opened" in str(ahead)


def test_index_is_written_once_per_folder(
    copy_series: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _mixed_folder(copy_series)
    writes: list[str] = []
    real = os.replace

    def counting(src: str, dst: str) -> None:
        writes.append(str(dst))
        real(src, dst)

    monkeypatch.setattr(index_module.os, "replace", counting)
    _fresh_scan(folder, tmp_path / "home", monkeypatch)
    assert len(writes) == 1  # 34 files, one index write
    writes.clear()
    scan(folder)
    assert writes == []  # nothing changed: nothing written
    (folder / "notes.txt").write_text("changed\n", encoding="utf-8")
    scan(folder)
    assert len(writes) == 1
