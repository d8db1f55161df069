"""Responses: the response panel (per-timepoint RECIST result with its reason) and the spider plot.

May import: PySide6, pyqtgraph, ``recist`` value types.  Never ``storage`` or RECIST arithmetic.
"""
