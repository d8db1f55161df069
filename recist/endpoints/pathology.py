"""Surgery and pathology of the liver metastases; major pathological response (MPR).

The protocol: a **major pathological response** is postoperative pathology of the
liver metastases showing no residual tumour cells, or residual tumour cells
making up 1–49 % of the specimen.  Pathologists report whole percentages, so
"1–49 %" is read as "more than 0 and less than 50 %", exactly (49.5 % is MPR,
50 % is not).  With several resected metastases, **every** one must show less
than 50 % residual tumour for the patient to have an MPR (the conservative
reading: one poorly responding metastasis is not a major response of "the liver
metastases"); the per-lesion values are kept, so a sponsor preferring a mean can
recompute it.  A pathological complete response (pCR) is 0 % in every
metastasis.  The Rubbia-Brandt tumour regression grade (TRG 1 = no residual
tumour … TRG 5 = no fibrosis) is recorded per metastasis when given; it does not
enter the MPR derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from recist.endpoints.childpugh import to_decimal
from recist.endpoints.conversion import Procedure
from recist.errors import InvalidRecordError
from recist.limits import texts_problem

__all__ = [
    "MPR_LIMIT_PCT",
    "Margin",
    "MprAssessment",
    "ResectedMetastasis",
    "SurgeryRecord",
    "assess_mpr",
    "residual_category",
]

MPR_LIMIT_PCT = Decimal(50)
"""Residual tumour below this percentage (in every metastasis) is a major response."""


class Margin(StrEnum):
    """Residual tumour classification of the resection (UICC R classification)."""

    R0 = "R0"
    """No residual tumour (microscopically clear margins)."""
    R1 = "R1"
    """Microscopic residual tumour."""
    R2 = "R2"
    """Macroscopic residual tumour."""


@dataclass(frozen=True, slots=True)
class ResectedMetastasis:
    """One resected liver metastasis and its pathology.

    Attributes
    ----------
    label : str
        The specimen's name (e.g. ``"segment 7"``), unique within the surgery.
    residual_tumour_pct : Decimal or None
        Residual viable tumour cells as a percentage of the tumour bed; None while
        the pathology report is pending.
    trg : int or None
        Rubbia-Brandt tumour regression grade 1–5 (optional).
    lesion_code : str
        The Caliper lesion it corresponds to (e.g. ``"T1"``), when known.
    """

    label: str
    residual_tumour_pct: Decimal | None = None
    trg: int | None = None
    lesion_code: str = ""

    def __post_init__(self) -> None:
        if not self.label or not self.label.strip():
            raise InvalidRecordError("resected metastasis: label must not be empty")
        problem = texts_problem(
            ("label", self.label, "label"), ("lesion_code", self.lesion_code, "lesion_id")
        )
        if problem is not None:
            raise InvalidRecordError(f"resected metastasis {problem}")
        pct = to_decimal(f"metastasis {self.label}: residual_tumour_pct", self.residual_tumour_pct)
        if pct is not None and not Decimal(0) <= pct <= Decimal(100):
            raise InvalidRecordError(
                f"metastasis {self.label}: residual_tumour_pct must be 0–100 %, got {pct}"
            )
        object.__setattr__(self, "residual_tumour_pct", pct)
        if self.trg is not None and (
            isinstance(self.trg, bool) or not isinstance(self.trg, int) or not 1 <= self.trg <= 5
        ):
            raise InvalidRecordError(
                f"metastasis {self.label}: trg (Rubbia-Brandt) must be 1–5, got {self.trg!r}"
            )


@dataclass(frozen=True, slots=True)
class SurgeryRecord:
    """The liver surgery (or local treatment) of a patient and its pathology."""

    id: int | None
    patient_id: int | None
    surgery_date: date | None = None
    procedures: tuple[Procedure, ...] = ()
    margin: Margin | None = None
    metastases: tuple[ResectedMetastasis, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        problem = texts_problem(("note", self.note, "note"))
        if problem is not None:
            raise InvalidRecordError(f"surgery record {problem}")
        try:
            procedures = tuple(Procedure(p) for p in self.procedures)
            if self.margin is not None:
                object.__setattr__(self, "margin", Margin(self.margin))
        except ValueError as exc:
            raise InvalidRecordError(f"surgery record: {exc}") from None
        object.__setattr__(self, "procedures", tuple(p for p in Procedure if p in procedures))
        labels = [m.label.strip().lower() for m in self.metastases]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise InvalidRecordError(f"surgery record: metastasis label used twice: {dupes[0]!r}")


def residual_category(pct: Decimal | None) -> str:
    """``"no residual tumour"``, ``"1-49 %"``, ``">= 50 %"`` or ``"pending"``."""
    if pct is None:
        return "pending"
    if pct == 0:
        return "no residual tumour"
    return "1-49 %" if pct < MPR_LIMIT_PCT else ">= 50 %"


@dataclass(frozen=True, slots=True)
class MprAssessment:
    """Major pathological response of one patient.

    Attributes
    ----------
    mpr : bool or None
        None when there is no surgery record, no resected metastasis, or a pending value.
    pcr : bool or None
        Pathological complete response (0 % everywhere), None as ``mpr``.
    reason : str
    per_metastasis : tuple of (label, pct, category)
    """

    mpr: bool | None
    pcr: bool | None
    reason: str
    per_metastasis: tuple[tuple[str, Decimal | None, str], ...] = ()


def assess_mpr(surgery: SurgeryRecord | None) -> MprAssessment:
    """Derive the MPR of a patient from its surgery record (module docstring).

    Examples
    --------
    >>> s = SurgeryRecord(None, None, metastases=(ResectedMetastasis("S7", Decimal(30)),))
    >>> assess_mpr(s).mpr
    True
    """
    if surgery is None:
        return MprAssessment(None, None, "no surgery recorded")
    if Procedure.RESECTION not in surgery.procedures and not surgery.metastases:
        return MprAssessment(None, None, "no resection: no specimen for pathology")
    if not surgery.metastases:
        return MprAssessment(None, None, "no resected metastasis recorded")
    per = tuple(
        (m.label, m.residual_tumour_pct, residual_category(m.residual_tumour_pct))
        for m in surgery.metastases
    )
    pending = [label for label, pct, _ in per if pct is None]
    if pending:
        return MprAssessment(None, None, "pathology pending for " + ", ".join(pending), per)
    values = [pct for _, pct, _ in per if pct is not None]
    worst_label, worst = max(
        ((label, pct) for label, pct, _ in per if pct is not None), key=lambda x: x[1]
    )
    if all(v == 0 for v in values):
        return MprAssessment(True, True, "no residual tumour in any resected metastasis (pCR)", per)
    if all(v < MPR_LIMIT_PCT for v in values):
        return MprAssessment(
            True,
            False,
            f"residual tumour below {MPR_LIMIT_PCT} % in every metastasis "
            f"(highest {worst} % in {worst_label})",
            per,
        )
    return MprAssessment(
        False,
        False,
        f"{worst_label} has {worst} % residual tumour (>= {MPR_LIMIT_PCT} %)",
        per,
    )
