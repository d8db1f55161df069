"""Coded concepts shared by the TID 1500 writer and reader, and image geometry helpers.

Standard codes first (DCM, SCT, UMLS as DICOM PS3.16 uses them); a private
``99CALIPER`` code only where no standard concept exists.  Every code and its
source is listed in ``docs/sr-codes.md`` (the test ``test_sr_codes_table_matches``
keeps that table and this module in step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from recist.model import LesionKind, MeasurementStatus
from recist.organs import ORGANS, find_organ

#: Private coding scheme for what no standard code says (listed in docs/sr-codes.md).
CALIPER_SCHEME = "99CALIPER"

LONG_AXIS = Code("103339001", "SCT", "Long axis")
SHORT_AXIS = Code("103340004", "SCT", "Short axis")
MILLIMETRE = Code("mm", "UCUM", "millimeter")
RECIST_11 = Code("126081", "DCM", "RECIST 1.1")  # CID 6147 Response Criteria
IRECIST = Code("IRECIST", CALIPER_SCHEME, "iRECIST")  # not in CID 6147
LESION = Code("52988006", "SCT", "Lesion")

# -- what a lesion is (CID 6145 Baseline Category; new lesions have no standard code) --------
TARGET_AT_BASELINE = Code("112074", "DCM", "Target Lesion at Baseline")
NON_TARGET_AT_BASELINE = Code("112075", "DCM", "Non-Target Lesion at Baseline")
NEW_LESION = Code("NEWLESION", CALIPER_SCHEME, "New lesion")
FINDING_TYPE = {
    LesionKind.TARGET: TARGET_AT_BASELINE,
    LesionKind.NON_TARGET: NON_TARGET_AT_BASELINE,
    LesionKind.NEW: NEW_LESION,
}
#: The only finding codes an imported group becomes a lesion from.
KIND_OF_FINDING = {
    TARGET_AT_BASELINE.value: LesionKind.TARGET,
    NON_TARGET_AT_BASELINE.value: LesionKind.NON_TARGET,
    NEW_LESION.value: LesionKind.NEW,
}

# -- time point type (CID 6146) ----------------------------------------------------------------
BASELINE_TIME_POINT = Code("C1442488", "UMLS", "Baseline")
POSTTREATMENT_TIME_POINT = Code("126074", "DCM", "Posttreatment")

# -- lesion status at a time point -------------------------------------------------------------
STATUS_NAME = Code("LESIONSTATUS", CALIPER_SCHEME, "Lesion status at time point")
#: Status values: standard where DICOM/SNOMED CT has the concept.
STATUS_CODES: dict[MeasurementStatus, Code] = {
    MeasurementStatus.PRESENT: Code("52101004", "SCT", "Present"),
    MeasurementStatus.ABSENT: Code("272519000", "SCT", "Absent"),
    MeasurementStatus.TOO_SMALL: Code("112133", "DCM", "Too small"),
    MeasurementStatus.MERGED: Code("112157", "DCM", "Coalescent"),
    MeasurementStatus.NOT_EVALUABLE: Code("NE", CALIPER_SCHEME, "Not evaluable"),
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: Code(
        "UNEQPROG", CALIPER_SCHEME, "Unequivocal progression"
    ),
    MeasurementStatus.FURTHER_INCREASE: Code("FURTHERINC", CALIPER_SCHEME, "Further increase"),
    MeasurementStatus.SPLIT: Code("SPLIT", CALIPER_SCHEME, "Split"),
}
EQUIVOCAL = Code("42425007", "SCT", "Equivocal")
FRAGMENT = Code("FRAGMENT", CALIPER_SCHEME, "Fragment long axis")
COALESCED_INTO = Code("COALESCEDINTO", CALIPER_SCHEME, "Coalesced into lesion")
#: Free-text anatomic location (e.g. "segment VII"), and the organ when it is not listed.
ANATOMIC_IDENTIFIER = Code("112050", "DCM", "Anatomic Identifier")
#: Finding site of an organ outside the controlled list (named by an Anatomic Identifier).
BODY_STRUCTURE = Code("123037004", "SCT", "Body structure")

# -- responses ---------------------------------------------------------------------------------
RESPONSE_EVALUATION = Code("112020", "DCM", "Response Evaluation")
CURRENT_RESPONSE = Code("112048", "DCM", "Current Response")
BEST_OVERALL_RESPONSE = Code("112049", "DCM", "Best Overall Response")
OVERALL_RESPONSE = Code("OVERALLRESP", CALIPER_SCHEME, "Overall response")
IRECIST_RESPONSE = Code("IRECISTRESP", CALIPER_SCHEME, "iRECIST overall response")
NEW_LESIONS_FINDING = Code("NEWLESIONS", CALIPER_SCHEME, "New lesions")
COMMENT = Code("121106", "DCM", "Comment")
#: Start of the Comment saying how a semi-automatic measurement was made (issue 16).
MEASUREMENT_METHOD_PREFIX = "Measurement method: "
# -- TID 4019 Algorithm Identification (written by highdicom, read by storage.exchange.sr_read)
ALGORITHM_NAME = Code("111001", "DCM", "Algorithm Name")
ALGORITHM_VERSION = Code("111003", "DCM", "Algorithm Version")
ALGORITHM_PARAMETERS = Code("111002", "DCM", "Algorithm Parameters")
PRESENT = STATUS_CODES[MeasurementStatus.PRESENT]
ABSENT = STATUS_CODES[MeasurementStatus.ABSENT]

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

#: Overall responses (RECIST 1.1 and iRECIST): no DICOM or SNOMED CT value set exists.
_OVERALL_MEANINGS = {
    "CR": "Complete response",
    "PR": "Partial response",
    "SD": "Stable disease",
    "PD": "Progressive disease",
    "NE": "Not evaluable",
    "NED": "No evidence of disease",
    "non-CR/non-PD": "Non-CR/non-PD",
    "iCR": "iRECIST complete response",
    "iPR": "iRECIST partial response",
    "iSD": "iRECIST stable disease",
    "iUPD": "iRECIST unconfirmed progressive disease",
    "iCPD": "iRECIST confirmed progressive disease",
    "non-iCR/non-iUPD": "Non-iCR/non-iUPD",
}
#: A response word of the engine ("PD", "non-CR/non-PD", "iUPD") -> its private code.
OVERALL_CODES: dict[str, Code] = {
    word: Code(word.upper().replace("/", "").replace("-", "")[:16], CALIPER_SCHEME, meaning)
    for word, meaning in _OVERALL_MEANINGS.items()
}
OVERALL_BY_CODE = {code.value: word for word, code in OVERALL_CODES.items()}

#: Long-axis names written by other tools that mean "the diameter RECIST uses".
LONG_AXIS_NAMES = {"103339001", "410668003", "81827009", "G-A193", "G-D7FE", "M-02550"}
SHORT_AXIS_NAMES = {"103340004", "G-A194"}

#: SNOMED CT body structures of the controlled organ list (recist.organs), by organ name.
ORGAN_CODES: dict[str, Code] = {
    organ.name: Code(organ.snomed_code, "SCT", organ.snomed_meaning) for organ in ORGANS
}

#: Every private code written, for the Coding Scheme Identification and the docs table.
PRIVATE_CODES: tuple[Code, ...] = (
    IRECIST,
    NEW_LESION,
    STATUS_NAME,
    *(c for c in STATUS_CODES.values() if c.scheme_designator == CALIPER_SCHEME),
    FRAGMENT,
    COALESCED_INTO,
    OVERALL_RESPONSE,
    IRECIST_RESPONSE,
    NEW_LESIONS_FINDING,
    *OVERALL_CODES.values(),
)


def organ_code(organ: str) -> Code:
    """The finding-site code of an organ: SNOMED CT; an unlisted organ is "Body structure".

    The name of an unlisted organ goes in an Anatomic Identifier (DCM 112050) beside it.
    """
    listed = find_organ(organ)
    return ORGAN_CODES[listed.name] if listed is not None else BODY_STRUCTURE


def organ_name(value: str, meaning: str) -> str:
    """Caliper's organ name for a finding-site code (its meaning, lower case, if unknown).

    A code of another scheme (e.g. SRT) whose meaning names a listed organ maps to that organ.
    """
    listed = find_organ(value) or find_organ(meaning)
    return listed.name if listed is not None else (meaning.strip().lower() or "unknown")


def status_code(status: MeasurementStatus) -> Code | None:
    """The code of a lesion status (None for "measured": the numbers say it)."""
    return STATUS_CODES.get(status)


def status_from_code(value: str) -> MeasurementStatus | None:
    """Inverse of :func:`status_code` (also the old private names); None for anything else."""
    for status, code in STATUS_CODES.items():
        if code.value == value:
            return status
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
    """A DICOM PN (``Family^Given``) from a full name such as ``Jane Doe``.

    Only a name of plain words is split (the last word is the family name); anything
    else (``root (local reader)``, ``Dr. A. Berg``) stays whole as the family name.
    Caret and backslash, which delimit PN components and values, become spaces.
    """
    clean = " ".join(full_name.replace("^", " ").replace("\\", " ").replace("=", " ").split())
    parts = clean.split(" ")
    plain = all(p.replace("-", "").replace("'", "").isalpha() for p in parts)
    if len(parts) >= 2 and plain:
        return f"{parts[-1]}^{' '.join(parts[:-1])}"[:64]
    return f"{clean[:63]}^" if clean else "Unknown^"


def full_name_of(pn: str) -> str:
    """Inverse of :func:`person_name`: ``Doe^Jane`` -> ``Jane Doe``; ``X^`` -> ``X``."""
    family, _, rest = pn.partition("^")
    given = rest.split("^")[0] if rest else ""
    return " ".join(p for p in (given, family) if p).strip()
