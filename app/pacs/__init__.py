"""The PACS controller behind "Find on PACS": query and retrieve on a worker thread.

Owns: ``controller``.  May import: ``storage.dicom.pacs`` (the DIMSE and DICOMweb clients) and
``storage.paths``.  Never Qt: it reports through psygnal signals that the viewer hops onto its
own thread.
"""
