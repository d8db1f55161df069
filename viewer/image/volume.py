"""What the viewer needs from a loaded series (duck-typed ``storage.dicom.Volume``).

The viewer never imports ``storage``; any object with these attributes can be
displayed, which also lets tests build a small volume from pydicom directly.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VolumeLike(Protocol):
    """The attributes of ``storage.dicom.Volume`` that the viewer reads.

    Attributes
    ----------
    voxels : numpy.ndarray
        Shape ``(slices, rows, columns)``, rescaled values (HU for CT).
    spacing_mm : tuple of float
        ``(slice, row, column)`` spacing in millimetres.
    series_instance_uid : str
        The series the voxels come from.
    sop_instance_uids : list of str
        One SOP instance UID per slice.

    Optional attributes (read with defaults): ``modality``, ``patient_name``,
    ``patient_id``, ``study_date``, ``series_description``, ``window_center``,
    ``window_width``.
    """

    voxels: np.ndarray
    spacing_mm: tuple[float, float, float]
    series_instance_uid: str
    sop_instance_uids: list[str]

    def index_to_lps(
        self,
        slice: float,
        row: float,
        column: float,  # noqa: A002 - the Volume API name
    ) -> tuple[float, float, float]:
        """Map a continuous voxel index to patient LPS millimetres."""
        ...


def volume_text(volume: Any, name: str, default: str = "") -> str:
    """Return an optional text attribute of *volume* as a display string.

    Parameters
    ----------
    volume : VolumeLike
        The displayed volume.
    name : str
        Attribute name, e.g. ``"patient_name"``.
    default : str
        Returned when the attribute is missing or empty.

    Returns
    -------
    str
        The attribute as text (dates ``YYYYMMDD`` become ``YYYY-MM-DD``).
    """
    value = getattr(volume, name, None)
    if value is None or value == "":
        return default
    text = str(value)
    if name.endswith("_date") and len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text
