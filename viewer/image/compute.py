"""A computation off the GUI thread, with progress and cancel (e.g. a segmentation).

:class:`ComputeTask` runs ``work(progress, cancelled)`` in Qt's thread pool: the work calls
``progress(fraction)`` and polls ``cancelled()``; the task reports back through queued signals
on the GUI thread.  After :meth:`ComputeTask.cancel` returns it emits nothing (one lock guards
cancel and every emission, as ``SeriesLoadTask`` does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

Work = Callable[[Callable[[float], None], Callable[[], bool]], Any]


class _ComputeSignals(QObject):
    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(object)


class ComputeTask(QRunnable):
    """Run ``work(progress, cancelled)``; emit ``finished(result)`` or ``failed(exception)``.

    Attributes
    ----------
    signals : QObject
        ``progress(fraction)``, ``finished(result)``, ``failed(exception)``; none once
        cancelled.
    """

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._work = work
        self.signals = _ComputeSignals()
        self._lock = threading.Lock()
        self._cancelled = False
        self._done = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next poll; emit nothing from now on."""
        with self._lock:
            self._cancelled = True

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` has returned; False if still running after *timeout* s."""
        return self._done.wait(timeout)

    def _emit(self, signal: Any, *args: Any) -> None:
        with self._lock:
            if self._cancelled:
                return
            try:
                signal.emit(*args)
            except RuntimeError:  # the receiver side is gone
                self._cancelled = True

    def run(self) -> None:
        """Do the work; emit its result or its error (nothing if cancelled)."""
        try:
            result = self._work(
                lambda f: self._emit(self.signals.progress, float(f)), lambda: self._cancelled
            )
        except Exception as exc:  # noqa: BLE001 - reported on the GUI thread
            self._emit(self.signals.failed, exc)
        else:
            self._emit(self.signals.finished, result)
        finally:
            self._done.set()
