"""The Qt layer: widgets, pyqtgraph items, table models and dialogs.

Packages: ``image/`` (everything drawn on the pixels), ``lesions/`` (lesion table and "Next caliper"
bar), ``response/`` (response panel, spider plot), ``cohort/`` (cohort window), ``dialogs/``
(stand-alone dialogs), and ``main_window/`` (composes them all); ``errors`` and ``style`` are shared
by all.  May import: PySide6, pyqtgraph, numpy, the ``app`` controllers' API and ``recist`` value
types.  Never ``storage`` or SQL: widgets reach data only through ``app`` controllers.
"""
