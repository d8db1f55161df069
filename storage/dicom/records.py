"""Plain records produced by discovery: file headers, series and scan reports.

A :class:`FileHeader` holds everything the loader needs from one file so that
loading never parses a header twice; it round-trips through JSON for the
header index cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from storage.dicom.errors import FileProblem

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """Geometry and rescale of one frame (one 2-D image) of a file.

    Attributes
    ----------
    index : int
        0-based frame number inside its file (0 for single-frame files).
    position : tuple of float or None
        ImagePositionPatient (LPS mm of the centre of the first pixel).
    orientation : tuple of float or None
        ImageOrientationPatient: row cosine (direction of increasing column
        index) then column cosine (direction of increasing row index).
    pixel_spacing : tuple of float or None
        (row spacing, column spacing) in mm.
    slope, intercept : float
        Rescale slope and intercept (1 and 0 when absent).
    slice_thickness : float or None
        Nominal slice thickness in mm.
    """

    index: int
    position: Vec3 | None
    orientation: tuple[float, float, float, float, float, float] | None
    pixel_spacing: tuple[float, float] | None
    slope: float = 1.0
    intercept: float = 0.0
    slice_thickness: float | None = None


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What discovery learnt about one image file (no pixel data read).

    Attributes
    ----------
    path : str
        Display name: the file path, or ``archive.zip::member``.
    file_path : str
        The file on disk (the archive for a zip member).
    member : str or None
        Name of the member inside the zip archive, if any.
    pixel_offset : int or None
        Byte offset of the pixel data value in the file, when the data are
        native (uncompressed), little endian and of defined length.
    pixel_length : int or None
        Declared length of that value in bytes.
    encapsulated_offset : int or None
        Byte offset of the encapsulated (compressed) pixel data value, i.e.
        of its first item, the basic offset table, in a file on disk.
    note : str or None
        What was unusual but tolerated when reading the header (e.g. a
        dataset without preamble and file meta information).
    series_date, acquisition_date : str
        ``YYYYMMDD`` as stored ('' when absent); the acquisition date falls
        back to the date part of AcquisitionDateTime.
    """

    path: str
    file_path: str
    member: str | None
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    modality: str
    series_description: str
    series_number: int | None
    instance_number: int | None
    rows: int
    columns: int
    n_frames: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    samples_per_pixel: int
    photometric: str
    transfer_syntax: str
    pixel_keyword: str
    pixel_offset: int | None
    pixel_length: int | None
    window_center: float | None
    window_width: float | None
    spacing_between_slices: float | None
    frames: tuple[FrameHeader, ...]
    encapsulated_offset: int | None = None
    note: str | None = None
    series_date: str = ""
    acquisition_date: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (inverse of :meth:`from_json`)."""
        # Field by field: dataclasses.asdict deep-copies and is several times slower.
        data = {name: getattr(self, name) for name in _HEADER_FIELDS}
        data["frames"] = [
            {
                "index": f.index,
                "position": f.position,
                "orientation": f.orientation,
                "pixel_spacing": f.pixel_spacing,
                "slope": f.slope,
                "intercept": f.intercept,
                "slice_thickness": f.slice_thickness,
            }
            for f in self.frames
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileHeader:
        """Rebuild a header from :meth:`to_json` output."""
        frames = tuple(
            FrameHeader(
                index=int(f["index"]),
                position=_tuple_or_none(f["position"]),
                orientation=_tuple_or_none(f["orientation"]),
                pixel_spacing=_tuple_or_none(f["pixel_spacing"]),
                slope=float(f["slope"]),
                intercept=float(f["intercept"]),
                slice_thickness=f["slice_thickness"],
            )
            for f in data["frames"]
        )
        values = {k: v for k, v in data.items() if k != "frames"}
        return cls(**values, frames=frames)


_HEADER_FIELDS = tuple(f.name for f in fields(FileHeader) if f.name != "frames")


def scan_date_of(acquisition_date: str, series_date: str, study_date: str) -> date | None:
    """The scan date of a series: Acquisition Date, else Series Date, else Study Date.

    Each is a DICOM DA value (``YYYYMMDD``; the old ``YYYY.MM.DD`` form is
    accepted); an empty or unreadable one is skipped.  None when none is usable.
    """
    for value in (acquisition_date, series_date, study_date):
        digits = (value or "").strip().replace(".", "")
        if len(digits) == 8 and digits.isdigit():
            try:
                return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
            except ValueError:
                continue
    return None


def _tuple_or_none(value: Any) -> Any:
    return None if value is None else tuple(float(v) for v in value)


@dataclass(frozen=True)
class SeriesInfo:
    """One image series found by :func:`storage.dicom.scan`.

    Attributes
    ----------
    series_instance_uid, study_instance_uid, patient_id, patient_name : str
        Identifiers from the first file of the series.
    study_date : str
        ``YYYYMMDD`` as stored (may be empty).
    series_date, acquisition_date : str
        ``YYYYMMDD`` as stored (may be empty); :attr:`scan_date` picks one.
    modality, series_description : str
        As stored (may be empty).
    series_number : int or None
        As stored.
    rows, columns : int
        Image size of the series' first file.
    n_images : int
        Number of 2-D images (frames of multi-frame files count one each).
    files : list of str
        Display paths of the files of the series.
    headers : tuple of FileHeader
        The parsed headers, which :func:`storage.dicom.load_series` reuses.
    """

    series_instance_uid: str
    study_instance_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    modality: str
    series_description: str
    series_number: int | None
    rows: int
    columns: int
    n_images: int
    files: list[str]
    headers: tuple[FileHeader, ...] = field(default=(), repr=False, compare=False)
    series_date: str = ""
    acquisition_date: str = ""

    @property
    def scan_date(self) -> date | None:
        """When the images were acquired (see :func:`scan_date_of`)."""
        return scan_date_of(self.acquisition_date, self.series_date, self.study_date)

    @classmethod
    def from_headers(cls, headers: list[FileHeader]) -> SeriesInfo:
        """Summarise the headers of one series (all share one series UID)."""
        ordered = sorted(headers, key=lambda h: (h.instance_number or 0, h.path))
        first = ordered[0]
        return cls(
            series_instance_uid=first.series_instance_uid,
            study_instance_uid=first.study_instance_uid,
            patient_id=first.patient_id,
            patient_name=first.patient_name,
            study_date=first.study_date,
            modality=first.modality,
            series_description=first.series_description,
            series_number=first.series_number,
            rows=first.rows,
            columns=first.columns,
            n_images=sum(h.n_frames for h in ordered),
            files=[h.path for h in ordered],
            headers=tuple(ordered),
            series_date=first.series_date,
            acquisition_date=first.acquisition_date,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-serialisable dict (without headers)."""
        return {
            "series_instance_uid": self.series_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "study_date": self.study_date,
            "series_date": self.series_date,
            "acquisition_date": self.acquisition_date,
            "modality": self.modality,
            "series_description": self.series_description,
            "series_number": self.series_number,
            "rows": self.rows,
            "columns": self.columns,
            "n_images": self.n_images,
            "n_files": len(self.files),
        }


@dataclass
class ScanReport:
    """Result of :func:`storage.dicom.scan`.

    Attributes
    ----------
    root : str
        The folder, archive, DICOMDIR or file that was scanned.
    series : list of SeriesInfo
        Image series, grouped by SeriesInstanceUID.
    problems : list of FileProblem
        Files that were skipped (unreadable, not DICOM, non-image objects,
        absurd declared sizes, unsafe zip members, ...).
    from_cache : int
        How many file headers came from the header index cache.
    warnings : list of str
        Files that were read although something about them is unusual,
        each as ``"path: what"`` (e.g. a dataset without preamble).
    """

    root: str
    series: list[SeriesInfo] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    from_cache: int = 0
    warnings: list[str] = field(default_factory=list)

    def find(self, series_uid: str) -> SeriesInfo | None:
        """Return the series with this SeriesInstanceUID, or None."""
        for info in self.series:
            if info.series_instance_uid == series_uid:
                return info
        return None
