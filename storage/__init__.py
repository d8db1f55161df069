"""Everything Caliper persists or exchanges; no Qt, no controller.

Packages: ``dicom/`` (finding, reading and caching DICOM series; ``dicom/pacs/`` talks to a PACS),
``db/`` (SQLAlchemy models, the ClinicalStore and reader repositories, the hash-chained audit trail;
the only place with SQL), ``migrations/`` (Alembic scripts), ``exchange/`` (response timelines as
JSON/CSV, DICOM SR TID 1500, CDISC SDTM), and ``paths`` (the user folders).  May import: ``recist``
records and the field's libraries (pydicom, SimpleITK, SQLAlchemy, Alembic, highdicom, pynetdicom).
Never ``app`` or ``viewer``.
"""
