"""Rendered outputs: the per-patient PDF report and the cohort plots.

The one part of ``app`` that may use Qt (QPdfWriter/QPainter, pyqtgraph
exporters); nothing here is imported by the Qt-free parts of ``app`` except
lazily from the ``caliper export`` commands.  This package's ``__init__``
imports no Qt so that importing ``app.reports`` stays cheap.
"""
