"""Coded concepts shared by the TID 1500 writer and reader, and image geometry helpers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from recist.model import LesionKind, MeasurementStatus
from recist.organs import ORGANS, find_organ

#: Private coding scheme for what standard codes cannot say (lesion status at a timepoint).
CALIPER_SCHEME = "99CALIPER"

LONG_AXIS = Code("103339001", "SCT", "Long axis")
SHORT_AXIS = Code("103340004", "SCT", "Short axis")
MILLIMETRE = Code("mm", "UCUM", "millimeter")
RECIST_11 = Code("126081", "DCM", "RECIST 1.1")
LESION = Code("52988006", "SCT", "Lesion")
STATUS_NAME = Code("STATUS", CALIPER_SCHEME, "Lesion status at time point")

RESPONSE_EVALUATION = Code("112020", "DCM", "Response Evaluation")
CURRENT_RESPONSE = Code("112048", "DCM", "Current Response")
#: CID 6144 "RECIST Defined Lesion Response" by (category, RECIST code).
LESION_RESPONSE: dict[tuple[str, str], Code] = {
    ("target", "CR"): Code("112041", "DCM", "Target Lesion Complete Response"),
    ("target", "PR"): Code("112042", "DCM", "Target Lesion Partial Response"),
    ("target", "PD"): Code("112043", "DCM", "Target Lesion Progressive Disease"),
    ("target", "SD"): Code("112044", "DCM", "Target Lesion Stable Disease"),
    ("non_target", "CR"): Code("112045", "DCM", "Non-Target Lesion Complete Response"),
    ("non_target", "non-CR/non-PD"): Code(
        "112046", "DCM", "Non-Target Lesion Incomplete Response or Stable Disease"
    ),
    ("non_target", "PD"): Code("112047", "DCM", "Non-Target Lesion Progressive Disease"),
}
RESPONSE_BY_CODE = {code.value: key for key, code in LESION_RESPONSE.items()}

FINDING_TYPE = {
    LesionKind.TARGET: Code("112074", "DCM", "Target Lesion at Baseline"),
    LesionKind.NON_TARGET: Code("112075", "DCM", "Non-Target Lesion at Baseline"),
    LesionKind.NEW: LESION,
}

#: Long-axis names written by other tools that mean "the diameter RECIST uses".
LONG_AXIS_NAMES = {"103339001", "410668003", "81827009", "G-A193", "G-D7FE", "M-02550"}
SHORT_AXIS_NAMES = {"103340004", "G-A194"}

#: SNOMED CT body structures of the controlled organ list (recist.organs), by organ name.
ORGAN_CODES: dict[str, Code] = {
    organ.name: Code(organ.snomed_code, "SCT", organ.snomed_meaning) for organ in ORGANS
}


def organ_code(organ: str) -> Code:
    """The finding-site code of an organ; "other" organs get a private code naming them."""
    listed = find_organ(organ)
    if listed is not None:
        return ORGAN_CODES[listed.name]
    key = organ.strip().lower()
    return Code(key.upper().replace(" ", "_")[:16] or "UNKNOWN", CALIPER_SCHEME, organ.strip()[:64])


def organ_name(value: str, meaning: str) -> str:
    """Caliper's organ name for a finding-site code (its meaning, lower case, if unknown).

    A code of another scheme (e.g. SRT) whose meaning names a listed organ maps to that organ.
    """
    listed = find_organ(value) or find_organ(meaning)
    return listed.name if listed is not None else (meaning.strip().lower() or "unknown")


def status_code(status: MeasurementStatus) -> Code:
    """The private code of a lesion status."""
    return Code(status.name, CALIPER_SCHEME, status.value.replace("_", " "))


def status_from_code(value: str) -> MeasurementStatus | None:
    """Inverse of :func:`status_code`; None for anything else."""
    return MeasurementStatus.__members__.get(value)


def pixel_to_lps(image: Dataset, column: float, row: float) -> tuple[float, float, float]:
    """LPS millimetres of a pixel position (column, row; centre of pixel 0,0 is (0, 0)).

    Parameters
    ----------
    image
        A single-frame image with Image Position/Orientation (Patient) and Pixel Spacing.
    """
    origin = np.asarray(image.ImagePositionPatient, dtype=float)
    orientation = np.asarray(image.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    point = origin + orientation[:3] * column_spacing * column + orientation[3:] * row_spacing * row
    return (float(point[0]), float(point[1]), float(point[2]))


def lps_to_pixel(image: Dataset, point: Sequence[float]) -> tuple[float, float]:
    """(column, row) of an LPS point projected onto an image plane."""
    origin = np.asarray(image.ImagePositionPatient, dtype=float)
    orientation = np.asarray(image.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    delta = np.asarray(point, dtype=float) - origin
    return (
        float(delta @ orientation[:3] / column_spacing),
        float(delta @ orientation[3:] / row_spacing),
    )


def person_name(full_name: str) -> str:
    """A DICOM PN (``Family^Given``) from a full name such as ``Jane Doe``."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name.strip()
    return f"{parts[-1]}^{' '.join(parts[:-1])}"
