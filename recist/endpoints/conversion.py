"""Surgical conversion: the patient's conversion record and "conversion criteria met".

The protocol counts a conversion as successful when **all** of these hold
(criterion codes in brackets):

1. [LIVER_PR] the liver metastases reached a partial response (or better) after
   conversion therapy: the best liver response (:mod:`recist.endpoints.liver`,
   a protocol-defined organ response, not a RECIST category) on or before the
   MDT decision date is CR or PR;
2. [TUMOUR_FREE] a tumour-free liver is achievable by resection ± ablation or
   stereotactic radiotherapy: the MDT says so and a procedure is planned;
3. [FLR] the future liver remnant **exceeds** 40 % (40 % itself fails);
4. [CHILD_PUGH_A] Child-Pugh class A (:mod:`recist.endpoints.childpugh`);
5. [OTHER_LABS] other liver function and laboratory values meet the surgical
   and anaesthesia requirements (the investigator's yes/no with a note).

Each criterion is *met*, *not met* or *missing* (an input is not recorded),
with a reason in words.  The patient meets the conversion criteria when all
five are met; fails them when any is not met (even with others missing); and is
*undetermined* otherwise.  The MDT outcome is recorded beside the criteria, and
a disagreement between the two is noted, not overruled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from recist.endpoints.childpugh import ChildPughInputs, ChildPughResult, child_pugh, to_decimal
from recist.endpoints.liver import LiverResponse
from recist.errors import InvalidRecordError
from recist.limits import texts_problem
from recist.responses import Response

__all__ = [
    "FLR_THRESHOLD_PCT",
    "ConversionAssessment",
    "ConversionRecord",
    "Criterion",
    "CriterionStatus",
    "FlrSource",
    "MdtOutcome",
    "Procedure",
    "assess_conversion",
]

FLR_THRESHOLD_PCT = Decimal(40)
"""The future liver remnant must exceed this percentage."""


class Procedure(StrEnum):
    """A local treatment of liver metastases (planned at the MDT or performed)."""

    RESECTION = "resection"
    """Hepatectomy (anatomical or non-anatomical)."""
    ABLATION = "ablation"
    """Thermal ablation (radiofrequency, microwave)."""
    SBRT = "sbrt"
    """Stereotactic body radiotherapy."""


class MdtOutcome(StrEnum):
    """What the multidisciplinary team decided."""

    RESECTABLE = "resectable"
    """Convert: refer for surgery (± ablation / SBRT)."""
    CONTINUE = "continue"
    """Not yet: continue conversion therapy and re-discuss."""
    UNRESECTABLE = "unresectable"
    """Conversion not achievable."""


class FlrSource(StrEnum):
    """Where the future liver remnant percentage comes from."""

    ENTERED = "entered"
    """Typed by the investigator (volumetry done elsewhere)."""
    MEASURED = "measured"
    """Computed by Caliper from liver volumes it measured."""


class CriterionStatus(StrEnum):
    """The state of one conversion criterion."""

    MET = "met"
    """The criterion holds."""
    NOT_MET = "not met"
    """The criterion fails."""
    MISSING = "missing"
    """An input is not recorded, so the criterion cannot be judged."""


@dataclass(frozen=True, slots=True)
class ConversionRecord:
    """A patient's conversion record as the investigator enters it.

    Raises
    ------
    InvalidRecordError
        A percentage outside 0–100, an unknown procedure or outcome, bad
        Child-Pugh values (the message names the field).
    """

    id: int | None
    patient_id: int | None
    mdt_date: date | None = None
    mdt_outcome: MdtOutcome | None = None
    procedures: tuple[Procedure, ...] = ()
    tumour_free_achievable: bool | None = None
    flr_pct: Decimal | None = None
    flr_source: FlrSource = FlrSource.ENTERED
    child_pugh: ChildPughInputs = field(default_factory=ChildPughInputs)
    other_labs_ok: bool | None = None
    other_labs_note: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        problem = texts_problem(
            ("other_labs_note", self.other_labs_note, "note"), ("note", self.note, "note")
        )
        if problem is not None:
            raise InvalidRecordError(f"conversion record {problem}")
        try:
            if self.mdt_outcome is not None:
                object.__setattr__(self, "mdt_outcome", MdtOutcome(self.mdt_outcome))
            procedures = tuple(Procedure(p) for p in self.procedures)
            object.__setattr__(self, "flr_source", FlrSource(self.flr_source))
        except ValueError as exc:
            raise InvalidRecordError(f"conversion record: {exc}") from None
        if len(set(procedures)) != len(procedures):
            raise InvalidRecordError(f"procedures lists one twice: {[p.value for p in procedures]}")
        object.__setattr__(self, "procedures", tuple(p for p in Procedure if p in procedures))
        flr = to_decimal("flr_pct", self.flr_pct)
        if flr is not None and not Decimal(0) <= flr <= Decimal(100):
            raise InvalidRecordError(f"flr_pct must be a percentage 0–100, got {flr}")
        object.__setattr__(self, "flr_pct", flr)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One conversion criterion with its status and the reason."""

    code: str
    name: str
    status: CriterionStatus
    reason: str


@dataclass(frozen=True, slots=True)
class ConversionAssessment:
    """The derived conversion result.

    Attributes
    ----------
    met : bool or None
        True: all criteria met; False: at least one not met; None: undetermined.
    criteria : tuple of Criterion
        The five criteria in protocol order.
    missing : tuple of str
        Every input still to record (named as on the form).
    child_pugh : ChildPughResult or None
    notes : tuple of str
        E.g. the MDT outcome disagreeing with the criteria.
    """

    met: bool | None
    criteria: tuple[Criterion, ...]
    missing: tuple[str, ...]
    child_pugh: ChildPughResult | None
    notes: tuple[str, ...] = ()

    @property
    def status_text(self) -> str:
        """``"met"``, ``"not met"`` or ``"undetermined"``."""
        return {True: "met", False: "not met", None: "undetermined"}[self.met]

    @property
    def reason(self) -> str:
        """One line: the verdict and the failing or missing criteria."""
        failing = [c for c in self.criteria if c.status is CriterionStatus.NOT_MET]
        if self.met:
            return "conversion criteria met: " + "; ".join(c.reason for c in self.criteria)
        if failing:
            return "conversion criteria not met: " + "; ".join(c.reason for c in failing)
        return "conversion undetermined: missing " + ", ".join(self.missing)


def _liver_criterion(record: ConversionRecord | None, liver: LiverResponse | None) -> Criterion:
    name = "partial response of the liver metastases"
    if liver is None or not liver.applicable:
        why = liver.note if liver is not None else "no liver response computed"
        return Criterion("LIVER_PR", name, CriterionStatus.MISSING, f"liver response: {why}")
    up_to = record.mdt_date if record is not None else None
    best = liver.best(up_to)
    when = f" up to the MDT on {up_to}" if up_to else ""
    if best is None:
        return Criterion(
            "LIVER_PR", name, CriterionStatus.MISSING, f"no evaluable liver assessment{when}"
        )
    pct = f" ({best.pct_from_baseline:+} % liver SOD)" if best.pct_from_baseline is not None else ""
    text = f"best liver response {best.response} at {best.label}{pct}{when}"
    if best.response in (Response.CR, Response.PR):
        return Criterion("LIVER_PR", name, CriterionStatus.MET, text)
    if best.response is Response.NE:
        return Criterion("LIVER_PR", name, CriterionStatus.MISSING, text + ": not evaluable")
    return Criterion("LIVER_PR", name, CriterionStatus.NOT_MET, text + ": no PR or CR")


def _tumour_free_criterion(record: ConversionRecord) -> Criterion:
    name = "tumour-free liver achievable"
    plan = " + ".join(p.value for p in record.procedures)
    if record.tumour_free_achievable is None:
        return Criterion(
            "TUMOUR_FREE",
            name,
            CriterionStatus.MISSING,
            "tumour-free liver achievable: not recorded",
        )
    if not record.tumour_free_achievable:
        return Criterion(
            "TUMOUR_FREE", name, CriterionStatus.NOT_MET, "a tumour-free liver is not achievable"
        )
    if not record.procedures:
        return Criterion(
            "TUMOUR_FREE",
            name,
            CriterionStatus.MISSING,
            "tumour-free liver achievable, but no planned procedure recorded",
        )
    return Criterion(
        "TUMOUR_FREE", name, CriterionStatus.MET, f"tumour-free liver achievable by {plan}"
    )


def _flr_criterion(record: ConversionRecord) -> Criterion:
    name = f"future liver remnant > {FLR_THRESHOLD_PCT} %"
    if record.flr_pct is None:
        return Criterion("FLR", name, CriterionStatus.MISSING, "future liver remnant: not recorded")
    source = " (measured)" if record.flr_source is FlrSource.MEASURED else ""
    if record.flr_pct > FLR_THRESHOLD_PCT:
        return Criterion(
            "FLR",
            name,
            CriterionStatus.MET,
            f"FLR {record.flr_pct} %{source} > {FLR_THRESHOLD_PCT} %",
        )
    return Criterion(
        "FLR",
        name,
        CriterionStatus.NOT_MET,
        f"FLR {record.flr_pct} %{source} does not exceed {FLR_THRESHOLD_PCT} %",
    )


def _child_pugh_criterion(result: ChildPughResult) -> Criterion:
    name = "Child-Pugh class A"
    if result.child_class is None:
        return Criterion("CHILD_PUGH_A", name, CriterionStatus.MISSING, result.reason)
    status = CriterionStatus.MET if result.child_class == "A" else CriterionStatus.NOT_MET
    return Criterion(
        "CHILD_PUGH_A",
        name,
        status,
        f"Child-Pugh {result.child_class} (score {result.score})"
        + ("" if status is CriterionStatus.MET else ", not A"),
    )


def _labs_criterion(record: ConversionRecord) -> Criterion:
    name = "other labs meet surgical and anaesthesia requirements"
    note = f" ({record.other_labs_note})" if record.other_labs_note else ""
    if record.other_labs_ok is None:
        return Criterion("OTHER_LABS", name, CriterionStatus.MISSING, "other labs: not recorded")
    if record.other_labs_ok:
        return Criterion("OTHER_LABS", name, CriterionStatus.MET, f"other labs acceptable{note}")
    return Criterion(
        "OTHER_LABS", name, CriterionStatus.NOT_MET, f"other labs not acceptable{note}"
    )


_MISSING_INPUT = {
    "LIVER_PR": "liver response",
    "TUMOUR_FREE": "tumour-free liver achievable / planned procedure",
    "FLR": "future liver remnant",
    "OTHER_LABS": "other labs",
}


def assess_conversion(
    record: ConversionRecord | None, liver: LiverResponse | None
) -> ConversionAssessment:
    """Derive "conversion criteria met" with the reason for each criterion (module docstring).

    Parameters
    ----------
    record
        The conversion record; None when none was entered (every input missing).
    liver
        The patient's liver response (:func:`recist.endpoints.liver.liver_response`).
    """
    rec = record if record is not None else ConversionRecord(None, None)
    cp = child_pugh(rec.child_pugh)
    criteria = (
        _liver_criterion(record, liver),
        _tumour_free_criterion(rec),
        _flr_criterion(rec),
        _child_pugh_criterion(cp),
        _labs_criterion(rec),
    )
    missing: list[str] = []
    for c in criteria:
        if c.status is CriterionStatus.MISSING:
            if c.code == "CHILD_PUGH_A":
                missing.extend(f"Child-Pugh {m}" for m in cp.missing)
            else:
                missing.append(_MISSING_INPUT[c.code])
    statuses = {c.status for c in criteria}
    met: bool | None
    if CriterionStatus.NOT_MET in statuses:
        met = False
    elif CriterionStatus.MISSING in statuses:
        met = None
    else:
        met = True
    notes: list[str] = []
    if record is None:
        notes.append("no conversion record")
    elif record.mdt_outcome is MdtOutcome.RESECTABLE and met is False:
        notes.append(
            "the MDT judged the patient resectable, but the conversion criteria are not met"
        )
    elif record.mdt_outcome is MdtOutcome.UNRESECTABLE and met is True:
        notes.append("the conversion criteria are met, but the MDT judged the patient unresectable")
    if record is not None and record.mdt_date is None:
        missing.append("MDT decision date")
    return ConversionAssessment(met, criteria, tuple(missing), cp, tuple(notes))
