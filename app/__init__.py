"""Caliper application layer: Qt-free controllers, command line, reports.

Only ``app.main`` (the composition root) and ``app.reports`` may import Qt.

This package is the first thing the ``caliper`` entry point imports, so the start-up
clock starts here: :func:`seconds_since_start` (the log's "window shown" and "first
slice shown" lines) counts from process start, not from when ``run_gui`` was reached.
"""

import time

#: When the entry point began (``perf_counter``): ``caliper`` and ``python -m app`` import
#: this package before anything else of Caliper.
STARTED = time.perf_counter()

__version__ = "0.1.0"


def seconds_since_start() -> float:
    """Seconds since the ``caliper`` process started (since :data:`STARTED`)."""
    return time.perf_counter() - STARTED
