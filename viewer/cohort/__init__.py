"""The cohort window: ORR at C3/C6, best-response table and live waterfall/spider/swimmer plots.

Owns: ``window`` (the widget) and ``plots`` (pyqtgraph items).  May import: PySide6, pyqtgraph,
``app.cohort`` (its controller), ``recist`` value types.  Never ``storage``.
"""
