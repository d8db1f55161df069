"""Formats other systems read and write: timelines (``timeline``: the case format as JSON and CSV),
DICOM SR TID 1500 (``sr``, ``sr_read``, ``sr_codes``) and CDISC SDTM TU/TR/RS (``sdtm*``).

Pure conversion between ``recist`` records and files: the database is reached by the callers in
``app``.  May import: ``recist``, pydicom, highdicom, pandas/pyreadstat (XPT).  Never Qt, never SQL.
"""
