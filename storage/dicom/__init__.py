"""Finding, reading and caching DICOM series (files, zip archives, DICOMDIR).

Public API (see ``docs/INTERFACES.md``)::

    from storage.dicom import scan, load_series, SeriesInfo, ScanReport, Volume, DicomLoadError

``scan`` reads headers only and caches them; ``load_series`` sorts the slices
along the image normal, rescales them and keeps the exact geometry.  Files
inside a zip archive are named ``archive.zip::member/path.dcm`` in
``SeriesInfo.files`` and in problem reports; they are read in memory, never
extracted.
"""

from storage.dicom.errors import DicomLoadError, FileProblem
from storage.dicom.loader import load_series
from storage.dicom.records import ScanReport, SeriesInfo
from storage.dicom.scan import scan
from storage.dicom.volume import Volume

__all__ = [
    "DicomLoadError",
    "FileProblem",
    "ScanReport",
    "SeriesInfo",
    "Volume",
    "load_series",
    "scan",
]
