"""Stand-alone dialogs: log-in, signing, new timepoint, Find on PACS.

Each module holds one dialog.  May import: PySide6, ``app`` controllers, ``recist`` value types,
``viewer.errors`` and ``viewer.style``.  Never ``storage``, and no RECIST arithmetic.
"""
