"""Worker processes that decode compressed frames in parallel.

Most decoders of :mod:`storage.dicom.decoders` hold the GIL, so threads
cannot decode two of their frames at once; worker processes can.  (Series
whose first decoder releases the GIL, ``caliper-imagecodecs``, are decoded
by threads instead; see :func:`storage.dicom.decoders.needs_processes`.)  One
pool per Caliper process, created on first use and kept (its start-up, a
fresh interpreter importing numpy, pydicom and the decoders, is paid once):
one process per core, started by a fork server (never by forking the
multi-threaded GUI process; fresh interpreters where there is no fork
server).  The loading process decodes only until they are up: afterwards it
just feeds them and stores their slices, because a decoding thread would
hold the GIL that this bookkeeping needs and leave the workers idle.  A
frozen build (PyInstaller) gets no pool: a child would start the program
itself unless its entry point calls ``multiprocessing.freeze_support()``
first thing, after which it may set :data:`ENABLED`.  A pool that cannot
start or breaks is not used again: decoding then goes on in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from storage.dicom.pixels import FrameDecoder, ValueOverflow
from storage.dicom.records import FileHeader, FrameHeader

#: Worker processes: one per core (none on a single core, where they gain nothing).
PROCESSES = 0 if (os.cpu_count() or 1) < 2 else min(8, os.cpu_count() or 1)
#: False turns the pool off: in frozen builds (see above), and with the
#: environment variable ``CALIPER_DECODE_PROCESSES=0``.
ENABLED = not getattr(sys, "frozen", False) and os.environ.get("CALIPER_DECODE_PROCESSES") != "0"
#: Modules the fork server imports once, so that every worker starts ready.
PRELOAD = ["storage.dicom.workers", "jpeg_ls", "libjpeg", "openjpeg", "rle", "gdcm"]

Task = tuple[int, FileHeader, FrameHeader]
#: (volume index, "ok" | "overflow" | "error", decoded slice | error message | None)
Result = tuple[int, str, "np.ndarray | str | None"]

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_broken = False
_started = threading.Event()
_decoders: dict[tuple[str, bool], FrameDecoder] = {}


def pool() -> ProcessPoolExecutor | None:
    """The shared worker pool, or None when processes are off, absent or broken."""
    global _pool, _broken
    if not ENABLED or PROCESSES == 0 or _broken:
        return None
    with _lock:
        if _pool is None:
            # A fork server where there is one (Linux, macOS), else fresh interpreters (Windows).
            method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            try:
                context = multiprocessing.get_context(method)
                if method == "forkserver":
                    context.set_forkserver_preload(PRELOAD)
                _pool = ProcessPoolExecutor(max_workers=PROCESSES, mp_context=context)
            except (OSError, ValueError, ImportError, NotImplementedError):
                _broken = True  # decoding goes on in-process
                return None
        return _pool


def warm_up() -> None:
    """Start the worker processes now (from a background thread) so a load need not wait."""
    executor = pool()
    if executor is None:
        return
    try:
        for future in [executor.submit(_ready) for _ in range(PROCESSES)]:
            future.result()
    except Exception:  # noqa: BLE001 - a pool that cannot start is reported by mark_broken
        mark_broken()
    else:
        _started.set()


def is_started() -> bool:
    """True once :func:`warm_up` has seen every worker process answer."""
    return _started.is_set()


def mark_broken() -> None:
    """Stop using the pool (it failed to start or lost a worker)."""
    global _broken, _pool
    with _lock:
        _broken = True
        _started.clear()
        executor, _pool = _pool, None
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


def _ready() -> bool:
    return True


def decode_frames(
    dtype: str, checked: bool, shape: tuple[int, int], tasks: list[Task]
) -> list[Result]:
    """Decode frames in a worker process; never raises for a bad frame.

    Parameters
    ----------
    dtype : str
        The output type (``numpy.dtype.str``) chosen by the loader.
    checked : bool
        Check that int16 values fit (see :func:`storage.dicom.pixels.choose_dtype`).
    shape : (int, int)
        Rows and columns of the volume's slices (a frame of another size fails).
    tasks : list of (index, FileHeader, FrameHeader)
        The frames to decode and their slice index in the volume.

    Returns
    -------
    list of (index, status, value)
        ``"ok"`` with the rescaled slice, ``"overflow"`` when int16 does not
        hold a value, or ``"error"`` with the decoder's message.
    """
    key = (dtype, checked)
    decoder = _decoders.get(key)
    if decoder is None:
        decoder = _decoders[key] = FrameDecoder(np.dtype(dtype), checked)
    results: list[Result] = []
    for index, head, frame in tasks:
        out = np.empty(shape, dtype=decoder.dtype)
        try:
            decoder.decode(head, frame, out)
        except ValueOverflow:
            results.append((index, "overflow", None))
        except BaseException as exc:  # noqa: BLE001 - decoders may panic (pyo3 PanicException)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            results.append((index, "error", str(exc) or type(exc).__name__))
        else:
            results.append((index, "ok", out))
    return results
