"""Controlled terms and variable lists of the SDTM tumour domains (TU, TR, RS)."""

from __future__ import annotations

from recist.model import LesionKind, MeasurementStatus
from recist.organs import find_organ

TU_COLUMNS = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "TUSEQ",
    "TUGRPID",
    "TUREFID",
    "TULNKID",
    "TUTESTCD",
    "TUTEST",
    "TUORRES",
    "TUSTRESC",
    "TULOC",
    "TUMETHOD",
    "TUEVAL",
    "TUEVALID",
    "VISITNUM",
    "VISIT",
    "TUDTC",
)
#: TR of SDTMIG 3.4 (baseline flag TRLOBXFL); :func:`tr_columns` gives 3.3's TRBLFL instead.
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
    "TRLOBXFL",
    "TREVAL",
    "TREVALID",
    "TRDRVFL",
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
    "RSDRVFL",
    "VISITNUM",
    "VISIT",
    "RSDTC",
)
SUPP_COLUMNS = (
    "STUDYID",
    "RDOMAIN",
    "USUBJID",
    "IDVAR",
    "IDVARVAL",
    "QNAM",
    "QLABEL",
    "QVAL",
    "QORIG",
    "QEVAL",
)

#: SDTMIG versions the export follows; they differ in TR's baseline flag.
SDTMIG_VERSIONS = ("3.3", "3.4")
BASELINE_FLAG = {"3.3": "TRBLFL", "3.4": "TRLOBXFL"}


def tr_columns(version: str = "3.4") -> tuple[str, ...]:
    """TR's variables for an SDTMIG version (3.3: TRBLFL, 3.4: TRLOBXFL)."""
    return tuple(BASELINE_FLAG[version] if c == "TRLOBXFL" else c for c in TR_COLUMNS)


#: Variable labels (SDTMIG; at most 40 characters).
LABELS: dict[str, str] = {
    "STUDYID": "Study Identifier",
    "DOMAIN": "Domain Abbreviation",
    "USUBJID": "Unique Subject Identifier",
    "TUSEQ": "Sequence Number",
    "TRSEQ": "Sequence Number",
    "RSSEQ": "Sequence Number",
    "TUGRPID": "Group ID",
    "TUREFID": "Reference ID",
    "TULNKID": "Link ID",
    "TRLNKID": "Link ID",
    "TRLNKGRP": "Link Group ID",
    "RSLNKGRP": "Link Group ID",
    "TUTESTCD": "Tumor/Lesion ID Short Name",
    "TUTEST": "Tumor/Lesion ID Test Name",
    "TUORRES": "Tumor/Lesion ID Result",
    "TUSTRESC": "Tumor/Lesion ID Result Std. Format",
    "TULOC": "Location of the Tumor/Lesion",
    "TUMETHOD": "Method of Identification",
    "TUEVAL": "Evaluator",
    "TUEVALID": "Evaluator Identifier",
    "TRTESTCD": "Tumor/Lesion Assessment Short Name",
    "TRTEST": "Tumor/Lesion Assessment Test Name",
    "TRORRES": "Result or Finding in Original Units",
    "TRORRESU": "Original Units",
    "TRSTRESC": "Character Result/Finding in Std Format",
    "TRSTRESN": "Numeric Result/Finding in Std Units",
    "TRSTRESU": "Standard Units",
    "TRSTAT": "Completion Status",
    "TRREASND": "Reason Not Done",
    "TRMETHOD": "Method Used to Identify the Tumor/Lesion",
    "TRLOBXFL": "Last Observation Before Exposure Flag",
    "TRBLFL": "Baseline Flag",
    "TREVAL": "Evaluator",
    "TREVALID": "Evaluator Identifier",
    "TRDRVFL": "Derived Flag",
    "RSTESTCD": "Assessment Short Name",
    "RSTEST": "Assessment Name",
    "RSCAT": "Category for Assessment",
    "RSORRES": "Result or Finding in Original Units",
    "RSSTRESC": "Character Result/Finding in Std Format",
    "RSEVAL": "Evaluator",
    "RSEVALID": "Evaluator Identifier",
    "RSDRVFL": "Derived Flag",
    "VISITNUM": "Visit Number",
    "VISIT": "Visit Name",
    "TUDTC": "Date/Time of Tumor/Lesion Identification",
    "TRDTC": "Date/Time of Tumor/Lesion Measurement",
    "RSDTC": "Date/Time of Assessment",
    "RDOMAIN": "Related Domain Abbreviation",
    "IDVAR": "Identifying Variable",
    "IDVARVAL": "Identifying Variable Value",
    "QNAM": "Qualifier Variable Name",
    "QLABEL": "Qualifier Variable Label",
    "QVAL": "Data Value",
    "QORIG": "Origin",
    "QEVAL": "Evaluator",
}

#: Core of each variable (SDTMIG): Req (never empty), Exp (present, may be empty), Perm.
CORE: dict[str, str] = {
    **dict.fromkeys(("STUDYID", "DOMAIN", "USUBJID", "TUSEQ", "TRSEQ", "RSSEQ"), "Req"),
    **dict.fromkeys(("TUTESTCD", "TUTEST", "TRTESTCD", "TRTEST", "RSTESTCD", "RSTEST"), "Req"),
    **dict.fromkeys(("TULNKID", "TUORRES", "TUSTRESC", "TULOC", "TUMETHOD"), "Exp"),
    **dict.fromkeys(("TRLNKID", "TRORRES", "TRORRESU", "TRSTRESC", "TRSTRESN"), "Exp"),
    **dict.fromkeys(("TRSTRESU", "TRSTAT", "TRREASND", "TRMETHOD", "TRLNKGRP"), "Exp"),
    **dict.fromkeys(("TRLOBXFL", "TRBLFL", "RSCAT", "RSORRES", "RSSTRESC", "RSEVAL"), "Exp"),
    **dict.fromkeys(("TUEVAL", "TREVAL", "VISITNUM", "TUDTC", "TRDTC", "RSDTC"), "Exp"),
    **dict.fromkeys(("RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"), "Req"),
}
#: Numeric variables; every other one is character.
NUMERIC = frozenset({"TUSEQ", "TRSEQ", "RSSEQ", "VISITNUM", "TRSTRESN"})

TU_TESTS = {"TUMIDENT": "Tumor Identification", "TUSPLIT": "Tumor Split", "TUMERGE": "Tumor Merged"}
#: Evaluators (CDISC EVAL codelist) and the evaluator identifiers of independent readers.
EVALUATORS = frozenset({"INVESTIGATOR", "INDEPENDENT ASSESSOR"})
TR_TESTS = {
    "LDIAM": "Longest Diameter",
    "LPERP": "Longest Perpendicular",
    "SUMDIAM": "Sum of Diameters",
    "TUMSTATE": "Tumor State",
    "VOLUME": "Volume",  # of a semi-automatic measurement's contour, mL (issue 16)
}
#: Unit of a lesion's volume (TRORRESU/TRSTRESU of VOLUME).
VOLUME_UNIT = "mL"
RS_TESTS = {
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
    "BESTRESP": "Best Overall Response",
}
#: Results of the ONCRSR codelist that RS uses (RECIST 1.1 and iRECIST).
RS_RESULTS = frozenset(
    {
        "CR",
        "PR",
        "SD",
        "PD",
        "NE",
        "NED",
        "NON-CR/NON-PD",
        "Y",
        "N",
        "iCR",
        "iPR",
        "iSD",
        "iUPD",
        "iCPD",
        "NON-iCR/NON-iUPD",
    }
)
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
    MeasurementStatus.FURTHER_INCREASE: "UNEQUIVOCAL PROGRESSION",
}
EQUIVOCAL = "EQUIVOCAL"
TUMSTATE_RESULTS = frozenset({*TUMSTATE.values(), EQUIVOCAL})
TOO_SMALL = "TOO SMALL TO MEASURE"
TSTM_MM = 5.0
METHOD = {"CT": "CT SCAN", "MR": "MRI", "PT": "PET SCAN", "US": "ULTRASOUND"}

#: SUPPTU qualifier of a lesion's free-text location: QNAM -> QLABEL.
TU_QUALIFIERS: dict[str, str] = {"TULOCDTL": "Location Detail"}

#: SUPPTR qualifiers of a diameter (LDIAM/LPERP) that an algorithm proposed (issue 16's Smart
#: caliper): QNAM -> QLABEL.  MEASMETH is :data:`SEMI_AUTOMATIC` (a TR record without it was
#: measured by hand); MEASALG the algorithm and its version; MEASEDIT ``Y``/``N`` whether the
#: reader changed the proposal (moved the caliper, edited the contour, replaced the lines by a
#: status; absent when not known) and MEASEDTL what.  The same facts as the PDF report and the
#: timeline's method columns (``storage.exchange.timeline.MeasurementProvenance``).
TR_QUALIFIERS: dict[str, str] = {
    "MEASMETH": "Measurement Method",
    "MEASALG": "Measurement Algorithm and Version",
    "MEASEDIT": "Proposal Edited by Reader",
    "MEASEDTL": "Reader Edits to the Proposal",
}
MANUAL, SEMI_AUTOMATIC = "MANUAL", "SEMI-AUTOMATIC"
#: Terms of the qualifiers with a codelist (Define-XML), by QNAM.
QUALIFIER_TERMS: dict[str, tuple[str, ...]] = {
    "MEASMETH": (MANUAL, SEMI_AUTOMATIC),
    "MEASEDIT": ("N", "Y"),
}
#: Origin of each qualifier: what the reader recorded, or what Caliper derives from it.
QUALIFIER_ORIGIN: dict[str, str] = {
    "TULOCDTL": "CRF",
    "MEASMETH": "CRF",
    "MEASALG": "CRF",
    "MEASEDIT": "Derived",
    "MEASEDTL": "Derived",
}

SDTM_RESPONSE = {"non-CR/non-PD": "NON-CR/NON-PD", "non-iCR/non-iUPD": "NON-iCR/NON-iUPD"}


def lesion_link_id(kind: LesionKind, code: str) -> str:
    """TULNKID of a lesion: ``T1`` -> ``T01``, ``NT2`` -> ``NT02``, ``N1`` -> ``NEW01``."""
    digits = "".join(ch for ch in code if ch.isdigit()) or "1"
    return f"{TU_PREFIX[kind]}{int(digits):02d}"


def tu_location(organ: str) -> str:
    """TULOC of a lesion: the organ's CDISC LOC term (an unlisted organ upper-cased).

    The organ comes from the same list (:mod:`recist.organs`) as the SR finding
    site, so both exports name the same concept.  The free-text location
    (``segment VII``) is not a LOC term: it goes to SUPPTU (QNAM ``TULOCDTL``).

    >>> tu_location("Lymph nodes")
    'LYMPH NODE'
    """
    listed = find_organ(organ)
    return listed.cdisc_loc if listed is not None else " ".join(organ.split()).upper()
