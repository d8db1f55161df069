"""What the viewer needs from a loaded series (duck-typed ``storage.dicom.Volume``).

The viewer never imports ``storage``; any object with these attributes can be
displayed, which also lets tests build a small volume from pydicom directly.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recist.model import DrawnGeometry


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


def slice_of(volume: Any, geometry: DrawnGeometry | None) -> int | None:
    """The slice of *volume* that shows *geometry*'s image, or None when it is not loaded.

    Every view that draws a stored measurement finds its image here: by SOP
    Instance UID (and frame number for multi-frame images) through
    :meth:`recist.model.DrawnGeometry.slice_in`, never by the stored
    ``slice_index``, which belongs to the volume the caliper was drawn on.
    """
    if volume is None or geometry is None:
        return None
    if geometry.series_instance_uid != getattr(volume, "series_instance_uid", None):
        return None  # an image of another series cannot be in this one
    return geometry.slice_in(
        list(getattr(volume, "sop_instance_uids", None) or []),
        getattr(volume, "frame_numbers", None),
    )


def frame_of(volume: Any, index: int) -> int | None:
    """The 1-based frame number of slice *index* when its instance is multi-frame, else None."""
    uids = list(getattr(volume, "sop_instance_uids", None) or [])
    frames = list(getattr(volume, "frame_numbers", None) or [])
    if not 0 <= index < len(uids) or index >= len(frames):
        return None
    frame = int(frames[index])
    multi = frame > 1 or uids.count(uids[index]) > 1
    return frame if multi else None


def instance_set_key(volume: Any) -> str:
    """Series Instance UID plus a digest of its images (SOP Instance UID and frame).

    Two volumes of one series built from different files (a 14-slice excerpt
    and the whole 269-slice series) have different keys, so caches and the
    image view never take one for the other.
    """
    uids = list(getattr(volume, "sop_instance_uids", None) or [])
    frames = list(getattr(volume, "frame_numbers", None) or [1] * len(uids))
    images = sorted(f"{uid}#{frame}" for uid, frame in zip(uids, frames, strict=False))
    digest = hashlib.sha1("\n".join(images).encode("ascii", "replace")).hexdigest()[:16]
    return f"{volume.series_instance_uid}:{len(images)}:{digest}"
