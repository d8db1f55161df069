"""Lesions: the lesion table (model and view), the "Next caliper" bar, split and merge dialogs.

May import: PySide6, ``app.session`` (the ReadingSession API), ``recist`` value types.  Never
``storage``, and no RECIST arithmetic (the numbers come from the session's assessment).
"""
