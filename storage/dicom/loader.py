"""Load one series into a :class:`Volume`, optionally in the background."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

import storage.dicom.workers as workers
from storage.dicom.decoders import needs_processes
from storage.dicom.errors import DicomLoadError
from storage.dicom.geometry import Layout, arrange
from storage.dicom.pixels import FrameDecoder, ValueOverflow, choose_dtype, lowest_value
from storage.dicom.records import SeriesInfo
from storage.dicom.scan import scan
from storage.dicom.volume import Volume

#: A volume may not need more memory than this (checked before allocating).
MAX_VOLUME_BYTES = 8 * 1024**3
#: Worker threads decoding slices (file reads release the GIL).
WORKERS = max(2, min(8, (os.cpu_count() or 2) * 2))
#: Compressed series with at least this many slices are decoded in worker processes too.
PROCESS_MIN_SLICES = 16
#: Slices per task sent to a worker process.
PROCESS_CHUNK = 4

Progress = Callable[[int, int], None]


def load_series(
    source: str | Path | SeriesInfo,
    series_uid: str | None = None,
    *,
    on_progress: Progress | None = None,
    background: bool = False,
    first_slice: int | None = None,
) -> Volume:
    """Load one image series into a volume with exact geometry.

    Parameters
    ----------
    source : str, pathlib.Path or SeriesInfo
        A folder, zip, DICOMDIR or file (scanned first), or a series from
        :func:`storage.dicom.scan`.
    series_uid : str or None
        Which series to load when *source* is a path holding several; None
        loads the only one, or the one with the most images (with a warning).
    on_progress : callable or None
        Called as ``on_progress(slices_done, total)`` after every slice, from
        the loading threads (one call at a time, ``slices_done`` increasing);
        keep it short, e.g. post the numbers to the GUI thread.
    background : bool
        If True, return as soon as slice 0 is decoded; the other slices fill in
        from a background thread (``Volume.slices_loaded``, ``is_complete``,
        ``wait()``).
    first_slice : int or None
        The slice decoded first (the one a viewer shows first); the others
        follow outwards from it, nearest first.  None means the middle slice
        (``n // 2``), the one Caliper's viewer opens on; an index out of range
        is clamped.

    Returns
    -------
    Volume
        The voxels (rescaled), spacing, origin, direction and warnings.

    Raises
    ------
    DicomLoadError
        If no such series exists, its geometry is unusable, it would need
        more than ``MAX_VOLUME_BYTES``, or no slice at all can be decoded.
    """
    started = time.perf_counter()
    info, extra_warnings = _resolve(source, series_uid)
    images = [(head, frame) for head in info.headers for frame in head.frames]
    if not images:
        raise DicomLoadError(f"series {info.series_instance_uid} has no images")
    try:
        layout = arrange(images)
    except ValueError as exc:
        raise DicomLoadError(
            f"series {info.series_instance_uid} ({info.files[0]}): {exc}", info.files[0]
        ) from exc
    parallel = (
        len(layout.images) >= PROCESS_MIN_SLICES
        and sum(needs_processes(h.transfer_syntax) for h, _ in layout.images) >= PROCESS_MIN_SLICES
    )
    if parallel:  # start the worker processes while slice 0 is decoded here
        threading.Thread(target=workers.warm_up, name="caliper-decode-warm-up", daemon=True).start()
    dtype, checked = choose_dtype(layout.images)
    shape = (len(layout.images), layout.rows, layout.columns)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes > MAX_VOLUME_BYTES:
        raise DicomLoadError(
            f"series {info.series_instance_uid} ({info.files[0]}) would need "
            f"{nbytes / 1024**3:.1f} GiB ({shape[0]}x{shape[1]}x{shape[2]}), over the "
            f"{MAX_VOLUME_BYTES / 1024**3:.0f} GiB limit; refused",
            info.files[0],
        )
    try:
        voxels = np.zeros(shape, dtype=dtype)
    except MemoryError as exc:
        raise DicomLoadError(
            f"series {info.series_instance_uid} ({info.files[0]}): not enough memory for "
            f"{nbytes / 1024**3:.1f} GiB ({shape[0]}x{shape[1]}x{shape[2]})",
            info.files[0],
        ) from exc
    volume = _make_volume(voxels, layout, extra_warnings + _notes(info))
    filler = _Filler(volume, layout, FrameDecoder(dtype, checked), on_progress, started, parallel)
    order = decode_order(len(layout.images), first_slice)
    filler.fill(order[:1])
    if background:
        thread = threading.Thread(
            target=filler.run_rest, args=(order[1:],), name="caliper-load-series", daemon=True
        )
        thread.start()
        return volume
    filler.run_rest(order[1:])
    if filler.failures == len(layout.images):
        raise DicomLoadError(
            f"series {info.series_instance_uid}: no slice could be decoded; {volume.warnings[-1]}",
            info.files[0],
        )
    return volume


def decode_order(n: int, first: int | None = None) -> list[int]:
    """Slice indices 0..n-1 in decoding order: *first* (default the middle), then outwards.

    >>> decode_order(5)
    [2, 1, 3, 0, 4]
    >>> decode_order(4, 0)
    [0, 1, 2, 3]
    """
    if n <= 0:
        return []
    start = n // 2 if first is None else min(max(int(first), 0), n - 1)
    order = [start]
    for step in range(1, n):
        for index in (start - step, start + step):
            if 0 <= index < n:
                order.append(index)
    return order


def _resolve(
    source: str | Path | SeriesInfo, series_uid: str | None
) -> tuple[SeriesInfo, list[str]]:
    if isinstance(source, SeriesInfo):
        if not source.headers:
            raise DicomLoadError(
                f"series {source.series_instance_uid} carries no file headers; "
                "get it from storage.dicom.scan()"
            )
        return source, []
    report = scan(source)
    if series_uid is not None:
        info = report.find(series_uid)
        if info is None:
            found = ", ".join(s.series_instance_uid for s in report.series) or "none"
            raise DicomLoadError(
                f"{source}: no image series {series_uid} (found: {found})", str(source)
            )
        return info, []
    if not report.series:
        detail = "; ".join(str(p) for p in report.problems[:3])
        more = f" (+{len(report.problems) - 3} more)" if len(report.problems) > 3 else ""
        raise DicomLoadError(
            f"{source}: no image series found" + (f": {detail}{more}" if detail else ""),
            str(source),
        )
    if len(report.series) == 1:
        return report.series[0], []
    info = max(report.series, key=lambda s: s.n_images)
    return info, [
        f"{len(report.series)} series found under {source}; loaded the largest "
        f"({info.series_instance_uid}, {info.n_images} images)"
    ]


def _notes(info: SeriesInfo) -> list[str]:
    """What was tolerated in the files' headers, naming the files (three at most)."""
    notes = [f"{h.path}: {h.note}" for h in info.headers if h.note]
    if len(notes) > 3:
        notes[3:] = [f"... and {len(notes) - 3} more files like these"]
    return notes


def _make_volume(voxels: np.ndarray, layout: Layout, extra_warnings: list[str]) -> Volume:
    head, frame = layout.images[0]
    metadata: dict[str, object] = {
        "series_instance_uid": head.series_instance_uid,
        "study_instance_uid": head.study_instance_uid,
        "patient_id": head.patient_id,
        "patient_name": head.patient_name,
        "study_date": head.study_date,
        "series_date": head.series_date,
        "acquisition_date": head.acquisition_date,
        "modality": head.modality,
        "series_description": head.series_description,
        "slice_thickness_mm": frame.slice_thickness,
        "window_center": head.window_center,
        "window_width": head.window_width,
        "photometric": head.photometric,
    }
    return Volume(
        voxels=voxels,
        spacing_mm=layout.spacing_mm,
        origin_lps_mm=layout.origin_lps_mm,
        direction=layout.direction,
        slice_positions_lps_mm=layout.slice_positions,
        sop_instance_uids=[h.sop_instance_uid for h, _ in layout.images],
        frame_numbers=[f.index + 1 for _, f in layout.images],
        metadata=metadata,
        warnings=extra_warnings + layout.warnings,
    )


class _Filler:
    """Decodes the slices of one volume, reporting progress and failures."""

    def __init__(
        self,
        volume: Volume,
        layout: Layout,
        decoder: FrameDecoder,
        on_progress: Progress | None,
        started: float,
        parallel: bool = False,
    ) -> None:
        self.volume = volume
        self.parallel = parallel
        self.layout = layout
        self.decoder = decoder
        self.on_progress = on_progress
        self.started = started
        self.failures = 0
        self.overflow: list[int] = []
        self._progress_lock = threading.Lock()
        self._fill_value = lowest_value(decoder.dtype, layout.images)

    def _one(self, index: int) -> None:
        if self.volume.is_cancelled:
            return
        head, frame = self.layout.images[index]
        try:
            self.decoder.decode(head, frame, self.volume.voxels[index])
        except ValueOverflow:
            self._record(index, "overflow", None)
        except BaseException as exc:  # noqa: BLE001 - decoders may panic (pyo3 PanicException)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            self._record(index, "error", str(exc))
        else:
            self._record(index, "ok", None)

    def _record(self, index: int, status: str, value: np.ndarray | str | None) -> None:
        """Store one slice's outcome (from this process or a worker) and report progress."""
        if status == "ok" and value is not None:
            self.volume.voxels[index] = value
        elif status == "overflow":
            with self._progress_lock:
                self.overflow.append(index)
        elif status == "error":
            head, frame = self.layout.images[index]
            self.volume.voxels[index].fill(self._fill_value)
            where = head.path if head.n_frames == 1 else f"{head.path} frame {frame.index + 1}"
            with self._progress_lock:
                self.failures += 1
                self.volume.warnings.append(
                    f"slice {index} ({where}) could not be decoded: {value}; left blank"
                )
        with self._progress_lock:  # one lock: progress is reported in increasing order
            done = self.volume._slice_done()
            if self.on_progress is not None:
                self.on_progress(done, len(self.layout.images))

    def fill(self, indices: list[int]) -> None:
        """Decode the given slices in the calling thread."""
        for index in indices:
            self._one(index)

    def run_rest(self, rest: list[int]) -> None:
        """Decode the slices *rest* (in that order, as far as workers allow), then finish."""
        try:
            executor = workers.pool() if self.parallel else None
            if len(rest) <= 2:
                self.fill(rest)
            elif executor is not None:
                self._run_with_processes(rest)
            else:
                with ThreadPoolExecutor(
                    max_workers=WORKERS, thread_name_prefix="caliper-decode"
                ) as pool:
                    for _ in pool.map(self._one, rest, chunksize=4):
                        pass
            if self.volume.is_cancelled:
                self.volume.warnings.append(
                    f"loading cancelled after {self.volume.slices_loaded} of "
                    f"{len(self.layout.images)} slices"
                )
            elif self.overflow:
                self._widen()
        finally:
            self.volume._finish(time.perf_counter() - self.started)

    def _run_with_processes(self, rest: list[int]) -> None:
        """Decode *rest* in worker processes, in order, two chunks per worker in flight.

        Until the workers are up this thread decodes chunks itself; afterwards
        it only submits chunks and stores the slices that come back.  If the
        pool breaks, what it held is decoded here.
        """
        chunks = deque(rest[i : i + PROCESS_CHUNK] for i in range(0, len(rest), PROCESS_CHUNK))
        pending: deque[tuple[list[int], Future[list[workers.Result]]]] = deque()
        window = 2 * workers.PROCESSES
        shape = self.volume.voxels.shape[1:]
        executor = workers.pool()
        while chunks or pending:
            if self.volume.is_cancelled:
                chunks.clear()
                for _chunk, waiting in pending:
                    waiting.cancel()  # those already running finish and are stored
            while executor is not None and chunks and len(pending) < window:
                tasks = [(i, *self.layout.images[i]) for i in chunks[0]]
                try:
                    future = executor.submit(
                        workers.decode_frames,
                        self.decoder.dtype.str,
                        self.decoder.checked,
                        shape,
                        tasks,
                    )
                except Exception:  # noqa: BLE001 - the pool broke or shut down
                    workers.mark_broken()
                    executor = None
                    break
                pending.append((chunks.popleft(), future))
            if not pending or (chunks and not workers.is_started() and not pending[0][1].done()):
                if chunks:
                    self.fill(chunks.popleft())  # the workers are not up yet (or gone)
                continue
            chunk, future = pending.popleft()
            try:
                results = future.result()
            except (Exception, CancelledError):  # noqa: BLE001 - cancelled, or a lost worker
                if executor is not None and not self.volume.is_cancelled:
                    workers.mark_broken()
                    executor = None
                self.fill(chunk)  # decodes nothing once the load is cancelled
                continue
            for index, status, value in results:
                self._record(index, status, value)

    def _widen(self) -> None:
        """Some values do not fit int16: switch the volume to float32, redo those slices."""
        self.volume.voxels = self.volume.voxels.astype(np.float32)
        self.decoder = FrameDecoder(np.dtype(np.float32))
        for index in self.overflow:
            head, frame = self.layout.images[index]
            try:
                self.decoder.decode(head, frame, self.volume.voxels[index])
            except BaseException as exc:  # noqa: BLE001 - same policy as _one
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                self.volume.voxels[index].fill(self._fill_value)
                self.failures += 1
                self.volume.warnings.append(
                    f"slice {index} ({head.path}) could not be decoded: {exc}; left blank"
                )
