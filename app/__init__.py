"""Caliper application layer: Qt-free controllers, command line, reports.

Only ``app.main`` (the composition root) and ``app.reports`` may import Qt.
"""

__version__ = "0.1.0"
