"""Controlled terms and variable lists of the SDTM tumour domains (TU, TR, RS)."""

from __future__ import annotations

from recist.model import LesionKind, MeasurementStatus
from recist.organs import find_organ

TU_COLUMNS = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "TUSEQ",
    "TULNKID",
    "TUTESTCD",
    "TUTEST",
    "TUORRES",
    "TUSTRESC",
    "TUREFID",
    "TULOC",
    "TUMETHOD",
    "TUEVAL",
    "TUEVALID",
    "VISITNUM",
    "VISIT",
    "TUDTC",
)
TR_COLUMNS = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "TRSEQ",
    "TRLNKGRP",
    "TRLNKID",
    "TRTESTCD",
    "TRTEST",
    "TRORRES",
    "TRORRESU",
    "TRSTRESC",
    "TRSTRESN",
    "TRSTRESU",
    "TRSTAT",
    "TRREASND",
    "TRMETHOD",
    "TREVAL",
    "TREVALID",
    "VISITNUM",
    "VISIT",
    "TRDTC",
)
RS_COLUMNS = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "RSSEQ",
    "RSLNKGRP",
    "RSTESTCD",
    "RSTEST",
    "RSCAT",
    "RSORRES",
    "RSSTRESC",
    "RSEVAL",
    "RSEVALID",
    "VISITNUM",
    "VISIT",
    "RSDTC",
)

TU_TESTS = {"TUMIDENT": "Tumor Identification", "TUSPLIT": "Tumor Split", "TUMERGE": "Tumor Merged"}
TR_TESTS = {
    "LDIAM": "Longest Diameter",
    "LPERP": "Longest Perpendicular",
    "SUMDIAM": "Sum of Diameters",
    "TUMSTATE": "Tumor State",
}
RS_TESTS = {
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
}
TU_RESULT = {
    LesionKind.TARGET: "TARGET",
    LesionKind.NON_TARGET: "NON-TARGET",
    LesionKind.NEW: "NEW",
}
TU_PREFIX = {LesionKind.TARGET: "T", LesionKind.NON_TARGET: "NT", LesionKind.NEW: "NEW"}
TUMSTATE = {
    MeasurementStatus.PRESENT: "PRESENT",
    MeasurementStatus.ABSENT: "ABSENT",
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: "UNEQUIVOCAL PROGRESSION",
    MeasurementStatus.MEASURED: "PRESENT",
    MeasurementStatus.TOO_SMALL: "PRESENT",
}
TOO_SMALL = "TOO SMALL TO MEASURE"
TSTM_MM = 5.0
METHOD = {"CT": "CT SCAN", "MR": "MRI", "PT": "PET SCAN", "US": "ULTRASOUND"}

SDTM_RESPONSE = {"non-CR/non-PD": "NON-CR/NON-PD", "non-iCR/non-iUPD": "NON-iCR/NON-iUPD"}


def lesion_link_id(kind: LesionKind, code: str) -> str:
    """TULNKID of a lesion: ``T1`` -> ``T01``, ``NT2`` -> ``NT02``, ``N1`` -> ``NEW01``."""
    digits = "".join(ch for ch in code if ch.isdigit()) or "1"
    return f"{TU_PREFIX[kind]}{int(digits):02d}"


def tu_location(organ: str, location: str = "") -> str:
    """TULOC of a lesion: the organ's CDISC LOC term, then the location.

    The organ comes from the same list (:mod:`recist.organs`) as the SR finding
    site, so both exports name the same concept; "other" organs are upper-cased.

    >>> tu_location("Lymph nodes", "portocaval")
    'LYMPH NODE, PORTOCAVAL'
    """
    listed = find_organ(organ)
    text = listed.cdisc_loc if listed is not None else " ".join(organ.split()).upper()
    return f"{text}, {location.upper()}" if location else text
