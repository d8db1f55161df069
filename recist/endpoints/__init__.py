"""The conversion trial's endpoints beyond ORR, as pure rules (standard library only).

* :mod:`~recist.endpoints.liver` — the response of the liver metastases alone
  (a protocol-defined organ response, not a RECIST category);
* :mod:`~recist.endpoints.childpugh` — Child-Pugh score and class (Pugh 1973);
* :mod:`~recist.endpoints.conversion` — the conversion record and "conversion
  criteria met" with a reason per criterion;
* :mod:`~recist.endpoints.pathology` — surgery, pathology and major pathological response;
* :mod:`~recist.endpoints.survival` — PFS, OS and duration of response with the
  FDA censoring rules and the 18-month cut-off;
* :mod:`~recist.endpoints.patient` — all of them for one patient.

docs/ENDPOINTS.md describes the rules for a reader.

May import: the standard library and the rest of ``recist`` (records, organs, the RECIST engine).
"""

from recist.endpoints.childpugh import (
    AlbuminUnit,
    Ascites,
    BilirubinUnit,
    ChildPughInputs,
    ChildPughResult,
    Encephalopathy,
    child_pugh,
)
from recist.endpoints.conversion import (
    ConversionAssessment,
    ConversionRecord,
    Criterion,
    CriterionStatus,
    FlrSource,
    MdtOutcome,
    Procedure,
    assess_conversion,
)
from recist.endpoints.liver import LiverResponse, LiverTimepoint, is_liver, liver_response
from recist.endpoints.pathology import (
    Margin,
    MprAssessment,
    ResectedMetastasis,
    SurgeryRecord,
    assess_mpr,
)
from recist.endpoints.patient import PatientEndpoints, derive_endpoints, tumour_assessments
from recist.endpoints.survival import (
    CNSR_DESCRIPTIONS,
    SurvivalRecord,
    SurvivalSettings,
    TimeToEvent,
    TumourAssessment,
    add_months,
    derive_dor,
    derive_os,
    derive_pfs,
)

__all__ = [
    "CNSR_DESCRIPTIONS",
    "AlbuminUnit",
    "Ascites",
    "BilirubinUnit",
    "ChildPughInputs",
    "ChildPughResult",
    "ConversionAssessment",
    "ConversionRecord",
    "Criterion",
    "CriterionStatus",
    "Encephalopathy",
    "FlrSource",
    "LiverResponse",
    "LiverTimepoint",
    "Margin",
    "MdtOutcome",
    "MprAssessment",
    "PatientEndpoints",
    "Procedure",
    "ResectedMetastasis",
    "SurgeryRecord",
    "SurvivalRecord",
    "SurvivalSettings",
    "TimeToEvent",
    "TumourAssessment",
    "add_months",
    "assess_conversion",
    "assess_mpr",
    "child_pugh",
    "derive_dor",
    "derive_endpoints",
    "derive_os",
    "derive_pfs",
    "is_liver",
    "liver_response",
    "tumour_assessments",
]
