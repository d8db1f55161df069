"""The open patient's endpoint records: conversion, surgery and pathology, survival data.

Qt-free controller behind the three record dialogs (``viewer.dialogs.conversion``,
``viewer.dialogs.surgery``, ``viewer.dialogs.survival``) and the liver column of the
response panel.  The reading session owns one (``ReadingSession.endpoints``); it
reads the session's open patient and reader, and writes through the reader's
``ClinicalStore``, so every save is audited as that reader (old -> new values).

The dialogs hand over what was typed as a *form* (text, choices and yes/no, never
parsed in a slot); the controller parses it field by field.  A bad field never
loses the others: :meth:`EndpointController.conversion_preview` (and the surgery
and survival previews) return the derived result of the valid fields with an
error per bad field, named as on the form; the ``save_*`` methods refuse the
whole form with a :class:`FieldError` naming the first bad field, before
anything is written.

The conversion record is signed by an investigator (password re-entered) like a
timepoint; changing a signed record needs a reason (``reason``) and voids the
signature (storage audits both).  docs/ENDPOINTS.md describes the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from psygnal import Signal

import recist
from app.session.errors import (
    AuthenticationFailedError,
    NoPatientOpenError,
    SessionError,
    translated,
)
from recist.case import Case
from recist.endpoints import (
    ChildPughInputs,
    ChildPughResult,
    ConversionAssessment,
    ConversionRecord,
    CriterionStatus,
    FlrSource,
    LiverResponse,
    MprAssessment,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
    TimeToEvent,
    assess_conversion,
    assess_mpr,
    child_pugh,
    derive_endpoints,
    liver_response,
)
from recist.endpoints.childpugh import to_decimal
from recist.errors import InvalidRecordError, RecistError
from recist.model import Patient
from storage.db import Database, NotFoundError
from storage.db.endpoints import EndpointRecords, RecordSignature
from storage.db.errors import ReasonRequiredError

__all__ = [
    "FIELD_LABELS",
    "ConversionForm",
    "ConversionPreview",
    "EndpointController",
    "FieldError",
    "MetastasisForm",
    "SignedRecordError",
    "SurgeryForm",
    "SurgeryPreview",
    "SurvivalForm",
    "SurvivalPreview",
]

log = logging.getLogger(__name__)

#: How each form field is named on the dialogs (and so in every error message).
FIELD_LABELS = {
    "mdt_date": "MDT date",
    "mdt_outcome": "MDT outcome",
    "procedures": "Planned procedure",
    "tumour_free": "Tumour-free liver achievable",
    "flr_pct": "Future liver remnant (%)",
    "bilirubin": "Bilirubin",
    "albumin": "Albumin",
    "inr": "INR",
    "ascites": "Ascites",
    "encephalopathy": "Encephalopathy",
    "other_labs_ok": "Other labs acceptable",
    "other_labs_note": "Other labs note",
    "note": "Note",
    "reason": "Reason for the change",
    "surgery_date": "Surgery date",
    "margin": "Resection margin",
    "metastases": "Resected metastases",
    "treatment_start": "Treatment start (first dose)",
    "death_date": "Death date",
    "last_known_alive": "Last known alive",
    "off_study_date": "Off-study date",
    "off_study_reason": "Off-study reason",
    "new_therapy_date": "New anticancer therapy start",
    "death_cause": "Cause of death",
    "username": "Investigator",
}


class FieldError(SessionError):
    """A form value is not allowed; ``field`` is its key, the message starts with its label."""

    def __init__(self, field_key: str, message: str) -> None:
        self.field = field_key
        label = FIELD_LABELS.get(field_key.split(".")[0], field_key)
        super().__init__(message if message.startswith(label) else f"{label}: {message}")


class SignedRecordError(FieldError):
    """The record is signed: changing it needs a reason (and voids the signature)."""


# -- forms: what the dialogs hand over -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversionForm:
    """The conversion dialog's values as typed (``""`` / None: not recorded)."""

    mdt_date: str = ""
    mdt_outcome: str = ""
    procedures: tuple[str, ...] = ()
    tumour_free: bool | None = None
    flr_pct: str = ""
    bilirubin: str = ""
    bilirubin_unit: str = "umol/L"
    albumin: str = ""
    albumin_unit: str = "g/L"
    inr: str = ""
    ascites: str = ""
    encephalopathy: str = ""
    other_labs_ok: bool | None = None
    other_labs_note: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class MetastasisForm:
    """One resected metastasis as typed: residual tumour % (``pending`` or empty: pending)."""

    label: str = ""
    residual_pct: str = ""
    trg: str = ""
    lesion_code: str = ""


@dataclass(frozen=True, slots=True)
class SurgeryForm:
    """The surgery and pathology dialog's values as typed.

    ``metastases`` may be given as ``(label, residual_pct, trg, lesion_code)`` tuples.
    """

    surgery_date: str = ""
    procedures: tuple[str, ...] = ()
    margin: str = ""
    metastases: tuple[MetastasisForm, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        rows = tuple(
            m if isinstance(m, MetastasisForm) else MetastasisForm(*m) for m in self.metastases
        )
        object.__setattr__(self, "metastases", rows)


@dataclass(frozen=True, slots=True)
class SurvivalForm:
    """The survival data dialog's values as typed."""

    treatment_start: str = ""
    death_date: str = ""
    death_cause: str = ""
    last_known_alive: str = ""
    off_study_date: str = ""
    off_study_reason: str = ""
    new_therapy_date: str = ""
    note: str = ""


# -- previews: what the dialogs show live ----------------------------------------------------


@dataclass(frozen=True)
class ConversionPreview:
    """The derived conversion result of a form's valid fields.

    Attributes
    ----------
    record : ConversionRecord
        The record the valid fields make (bad fields left out).
    child_pugh : ChildPughResult
        Points per component, score and class (or what is missing).
    assessment : ConversionAssessment
        "Conversion criteria met" with a reason per criterion and the missing inputs.
    errors : dict of str to str
        Field key -> message, for every bad field.
    missing_fields : tuple of str
        The keys of the form fields still to fill for the criteria.
    """

    record: ConversionRecord
    child_pugh: ChildPughResult
    assessment: ConversionAssessment
    errors: dict[str, str] = field(default_factory=dict)
    missing_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurgeryPreview:
    """The MPR derived from a form's valid fields, and an error per bad field."""

    record: SurgeryRecord
    mpr: MprAssessment
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SurvivalPreview:
    """PFS and OS derived with a form's valid dates, and an error per bad field."""

    record: SurvivalRecord
    pfs: TimeToEvent | None
    os: TimeToEvent | None
    errors: dict[str, str] = field(default_factory=dict)


# -- parsing, field by field -------------------------------------------------------------------


class _Parser:
    """Parses form fields, collecting one error per bad field instead of stopping."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        label = FIELD_LABELS.get(key.split(".")[0], key)
        self.errors.setdefault(key, message if message.startswith(label) else f"{label}: {message}")

    def date(self, key: str, text: str) -> date | None:
        text = text.strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(key, f"{text!r} is not a date (write YYYY-MM-DD, e.g. 2026-05-04)")
            return None

    def number(self, key: str, text: str) -> Decimal | None:
        try:
            return to_decimal(FIELD_LABELS.get(key, key), text.strip().replace(",", "."))
        except InvalidRecordError:
            self.fail(key, f"{text.strip()!r} is not a number")
            return None

    def attempt(self, key: str, build: Callable[[], Any], default: Any) -> Any:
        """``build()``, or *default* with the record error noted against *key*."""
        try:
            return build()
        except (InvalidRecordError, ValueError) as exc:
            self.fail(key, str(exc))
            return default


def _child_pugh_ok(p: _Parser, key: str, values: dict[str, Any]) -> bool:
    """Whether one Child-Pugh component (with its unit) is valid; the error is noted if not."""
    try:
        ChildPughInputs(**values)
    except (InvalidRecordError, ValueError) as exc:
        p.fail(key, str(exc))
        return False
    return True


def _parse_conversion(
    form: ConversionForm, patient_id: int | None
) -> tuple[ConversionRecord, dict[str, str]]:
    p = _Parser()
    cp: dict[str, Any] = {"bilirubin_unit": form.bilirubin_unit, "albumin_unit": form.albumin_unit}
    for key, unit in (("bilirubin", "bilirubin_unit"), ("albumin", "albumin_unit"), ("inr", None)):
        value = p.number(key, getattr(form, key))
        if value is None:
            continue
        one: dict[str, Any] = {key: value} | ({unit: getattr(form, unit)} if unit else {})
        if _child_pugh_ok(p, key, one):
            cp[key] = value
    for key in ("ascites", "encephalopathy"):
        text = getattr(form, key)
        if text and _child_pugh_ok(p, key, {key: text}):
            cp[key] = text
    inputs = p.attempt("bilirubin_unit", lambda: ChildPughInputs(**cp), ChildPughInputs())
    values: dict[str, Any] = {
        "mdt_date": p.date("mdt_date", form.mdt_date),
        "tumour_free_achievable": form.tumour_free,
        "other_labs_ok": form.other_labs_ok,
        "other_labs_note": form.other_labs_note.strip(),
        "note": form.note.strip(),
        "child_pugh": inputs,
    }
    flr = p.number("flr_pct", form.flr_pct)
    if flr is not None and p.attempt(
        "flr_pct", lambda: ConversionRecord(None, None, flr_pct=flr), None
    ):
        values["flr_pct"] = flr
    if form.mdt_outcome and p.attempt(
        "mdt_outcome",
        lambda: ConversionRecord(None, None, mdt_outcome=form.mdt_outcome),  # type: ignore[arg-type]  # the record converts the text and names what is wrong
        None,
    ):
        values["mdt_outcome"] = form.mdt_outcome
    if p.attempt(
        "procedures",
        lambda: ConversionRecord(None, None, procedures=form.procedures),  # type: ignore[arg-type]  # the record converts the text and names what is wrong
        None,
    ):
        values["procedures"] = form.procedures
    record = ConversionRecord(None, patient_id, **values)
    return record, p.errors


def _parse_surgery(
    form: SurgeryForm, patient_id: int | None
) -> tuple[SurgeryRecord, dict[str, str]]:
    p = _Parser()
    metastases = []
    for i, m in enumerate(form.metastases, start=1):
        key = f"metastases.{i}"
        label = m.label.strip()
        if not label:
            if m.residual_pct.strip() or m.trg.strip():
                p.fail(key, f"row {i} has no specimen label")
            continue
        text = m.residual_pct.strip()
        pct = None if text.lower() in ("", "pending") else p.number(key, text)
        if text and text.lower() != "pending" and pct is None:
            p.errors[key] = (
                f"Resected metastases: {label}: residual tumour {text!r} is not a number"
            )
            continue
        trg: int | None = None
        if m.trg.strip():
            try:
                trg = int(m.trg.strip())
            except ValueError:
                p.fail(key, f"{label}: TRG {m.trg.strip()!r} is not a grade 1-5")
                continue
        try:
            metastases.append(ResectedMetastasis(label, pct, trg, m.lesion_code.strip()))
        except InvalidRecordError as exc:
            p.fail(
                key,
                str(exc)
                .replace(f"metastasis {label}: ", f"{label}: ")
                .replace("residual_tumour_pct", "residual tumour %")
                .replace("trg (", "TRG ("),
            )
    labels = [m.label.strip().lower() for m in metastases]
    for i, name in enumerate(labels):
        if name in labels[:i]:
            p.fail("metastases", f"the specimen label {metastases[i].label!r} is used twice")
            metastases = [m for j, m in enumerate(metastases) if labels[j] not in labels[:j]]
            break
    values: dict[str, Any] = {
        "surgery_date": p.date("surgery_date", form.surgery_date),
        "metastases": tuple(metastases),
        "note": form.note.strip(),
    }
    if form.margin and p.attempt(
        "margin",
        lambda: SurgeryRecord(None, None, margin=form.margin),  # type: ignore[arg-type]  # the record converts the text and names what is wrong
        None,
    ):
        values["margin"] = form.margin
    if p.attempt(
        "procedures",
        lambda: SurgeryRecord(None, None, procedures=form.procedures),  # type: ignore[arg-type]  # the record converts the text and names what is wrong
        None,
    ):
        values["procedures"] = form.procedures
    return SurgeryRecord(None, patient_id, **values), p.errors


_SURVIVAL_DATES = (
    "treatment_start",
    "death_date",
    "last_known_alive",
    "off_study_date",
    "new_therapy_date",
)


def _parse_survival(
    form: SurvivalForm, patient_id: int | None
) -> tuple[SurvivalRecord, dict[str, str]]:
    p = _Parser()
    values: dict[str, Any] = {k: p.date(k, getattr(form, k)) for k in _SURVIVAL_DATES}
    texts = {k: getattr(form, k).strip() for k in ("off_study_reason", "death_cause", "note")}
    try:
        record = SurvivalRecord(None, patient_id, **values, **texts)
    except InvalidRecordError as exc:
        # the dates' order (SurvivalRecord names the fields): blame the first field named
        message = str(exc)
        named = sorted(
            (message.find(k), k) for k in (*_SURVIVAL_DATES, "off_study_reason") if k in message
        )
        key = named[0][1] if named else "treatment_start"
        for k in _SURVIVAL_DATES:
            message = message.replace(k, FIELD_LABELS[k].lower())
        p.fail(key, message.replace("off_study_reason", FIELD_LABELS["off_study_reason"].lower()))
        values["off_study_date" if key == "off_study_reason" else key] = None
        record = p.attempt(
            key,
            lambda: SurvivalRecord(None, patient_id, **values, **texts),
            SurvivalRecord(None, patient_id),
        )
    return record, p.errors


def _first_error(errors: dict[str, str]) -> FieldError | None:
    if not errors:
        return None
    key, message = next(iter(errors.items()))
    return FieldError(key, message)


_CP_FIELDS = {
    "bilirubin": "bilirubin",
    "albumin": "albumin",
    "INR": "inr",
    "ascites": "ascites",
    "encephalopathy": "encephalopathy",
}


def _missing_fields(record: ConversionRecord, assessment: ConversionAssessment) -> tuple[str, ...]:
    keys: list[str] = []
    for c in assessment.criteria:
        if c.status is not CriterionStatus.MISSING:
            continue
        if c.code == "TUMOUR_FREE":
            keys.append("procedures" if record.tumour_free_achievable else "tumour_free")
        elif c.code == "FLR":
            keys.append("flr_pct")
        elif c.code == "CHILD_PUGH_A" and assessment.child_pugh is not None:
            keys.extend(_CP_FIELDS[m] for m in assessment.child_pugh.missing)
        elif c.code == "OTHER_LABS":
            keys.append("other_labs_ok")
    if record.mdt_date is None:
        keys.append("mdt_date")
    return tuple(keys)


def _text(value: object) -> str:
    return "" if value is None else str(value)


# -- the controller --------------------------------------------------------------------------


class EndpointController:
    """Reads, previews, saves and signs the open patient's endpoint records.

    Parameters
    ----------
    session
        The reading session (``database``, ``reader``, ``patient`` and its
        ``patient_opened`` / ``assessment_updated`` / ``assessment_failed`` signals).

    Attributes
    ----------
    records_changed : psygnal.Signal
        Emitted with the entity (``"conversion_record"``, ``"surgery_record"``,
        ``"survival_record"``, ``"record_signature"``) after a save or a signature.
    """

    records_changed = Signal(str)

    def __init__(self, session: Any) -> None:
        self._session = session
        self._case: tuple[int, Case | None] | None = None
        for name in ("patient_opened", "assessment_updated", "assessment_failed"):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(self._forget)

    # -- the patient -------------------------------------------------------------------------

    @property
    def _db(self) -> Database:
        database: Database = self._session.database
        return database

    def _patient(self) -> Patient:
        patient: Patient | None = self._session.patient
        if patient is None or patient.id is None:
            raise NoPatientOpenError("Open a patient first.")
        return patient

    @property
    def subject_id(self) -> str:
        """The open patient's subject id (``""`` when none is open)."""
        patient = self._session.patient
        return patient.subject_id if patient is not None else ""

    def _forget(self, *_: object) -> None:
        self._case = None

    def _patient_case(self) -> Case | None:
        """The open patient's case (one measurement per lesion and timepoint), or None."""
        patient = self._patient()
        if self._case is None or self._case[0] != patient.id:
            from app.timelines import one_per_lesion

            with translated(f"Could not read {patient.subject_id}"):
                chart = self._db.read_only_store().chart(patient.subject_id)
                case = None
                if chart.timepoints:
                    case = recist.case_from_records(
                        chart.patient,
                        chart.timepoints,
                        chart.lesions,
                        one_per_lesion(list(chart.measurements)),
                    )
            self._case = (patient.id, case)  # type: ignore[assignment]  # a stored patient has an int id
        return self._case[1]  # type: ignore[index]  # set on the line above

    def liver_response(self) -> LiverResponse | None:
        """The open patient's liver response (a protocol-defined organ response, not RECIST).

        None when no patient is open, it has no timepoint, or its data cannot be evaluated.
        """
        if self._session.patient is None:
            return None
        try:
            case = self._patient_case()
            return liver_response(case) if case is not None else None
        except (SessionError, RecistError):
            log.exception("liver response not computable")
            return None

    def records(self) -> EndpointRecords:
        """The open patient's stored conversion, surgery and survival records and signatures."""
        patient = self._patient()
        with translated(f"Could not read the endpoint records of {patient.subject_id}"):
            return self._db.read_only_store().endpoint_records(patient.id)  # type: ignore[arg-type]  # a stored patient has an int id

    def _store(self) -> Any:
        with translated("Could not open the database for writing"):
            return self._db.store(self._session.reader)

    def _save(self, what: str, saver: str, record: Any, reason: str | None) -> Any:
        try:
            with translated(what):
                saved = getattr(self._store(), saver)(record, reason=(reason or "").strip() or None)
        except SessionError as exc:
            if isinstance(exc.__cause__, ReasonRequiredError):
                raise SignedRecordError(
                    "reason",
                    f"{what}: the record is signed by an investigator. Give a reason for the "
                    "change (the signature is then voided).",
                ) from exc
            raise
        return saved

    # -- conversion --------------------------------------------------------------------------

    def conversion_form(self) -> ConversionForm:
        """The stored conversion record as a form (an empty form when none is stored)."""
        record = self.records().conversion
        if record is None:
            return ConversionForm()
        cp = record.child_pugh
        return ConversionForm(
            mdt_date=_text(record.mdt_date),
            mdt_outcome=_text(record.mdt_outcome and record.mdt_outcome.value),
            procedures=tuple(p.value for p in record.procedures),
            tumour_free=record.tumour_free_achievable,
            flr_pct=_text(record.flr_pct),
            bilirubin=_text(cp.bilirubin),
            bilirubin_unit=cp.bilirubin_unit.value,
            albumin=_text(cp.albumin),
            albumin_unit=cp.albumin_unit.value,
            inr=_text(cp.inr),
            ascites=_text(cp.ascites and cp.ascites.value),
            encephalopathy=_text(cp.encephalopathy and cp.encephalopathy.value),
            other_labs_ok=record.other_labs_ok,
            other_labs_note=record.other_labs_note,
            note=record.note,
        )

    def conversion_preview(self, form: ConversionForm) -> ConversionPreview:
        """Child-Pugh and the conversion criteria of what the form holds now (nothing is saved)."""
        patient = self._patient()
        record, errors = _parse_conversion(form, patient.id)
        stored = self.records().conversion
        if stored is not None:
            record = replace(record, id=stored.id, flr_source=stored.flr_source)
        assessment = assess_conversion(record, self.liver_response())
        return ConversionPreview(
            record,
            child_pugh(record.child_pugh),
            assessment,
            errors,
            _missing_fields(record, assessment),
        )

    def conversion_assessment(self) -> ConversionAssessment:
        """The conversion criteria of the stored record (what a signature covers)."""
        return assess_conversion(self.records().conversion, self.liver_response())

    def conversion_signature(self) -> RecordSignature | None:
        """The valid signature of the stored conversion record, if any."""
        return self.records().conversion_signature

    def save_conversion(
        self,
        form: ConversionForm,
        reason: str | None = None,
        flr_source: FlrSource | None = None,
    ) -> ConversionRecord:
        """Store the conversion record (created, or only the changed values audited).

        ``flr_source`` says where the form's FLR % came from (``FlrSource.MEASURED`` when the
        liver volumetry sends it); None keeps what the stored record says.

        Raises
        ------
        FieldError
            A bad field (the message names it); nothing is written.
        SignedRecordError
            The record is signed and no ``reason`` was given; nothing is written.
        """
        patient = self._patient()
        record, errors = _parse_conversion(form, patient.id)
        error = _first_error(errors)
        if error is not None:
            raise error
        stored = self.records().conversion
        if stored is not None:
            record = replace(record, id=stored.id, flr_source=stored.flr_source)
        if flr_source is not None:
            record = replace(record, flr_source=flr_source)
        saved: ConversionRecord = self._save(
            f"Could not save the conversion record of {patient.subject_id}",
            "save_conversion_record",
            record,
            reason,
        )
        self.records_changed.emit("conversion_record")
        return saved

    def sign_meanings(self) -> list[str]:
        """The meanings an investigator can sign the conversion record with (no free text)."""
        subject = self.subject_id
        verdict = {True: "criteria met", False: "criteria not met", None: "undetermined"}[
            self.conversion_assessment().met
        ]
        return [
            f"I confirm the conversion record of {subject}: {verdict}",
            f"I reviewed and approved the conversion record of {subject} ({verdict})",
        ]

    def sign_conversion(
        self, username: str, password: str, meaning: str | None = None
    ) -> RecordSignature:
        """An investigator signs the stored conversion record and its derived criteria.

        Raises
        ------
        AuthenticationFailedError
            Unknown username or wrong password (the refusal is audited).
        PermissionDeniedError
            The signer is not an investigator.
        SessionError
            No stored record, or it is already signed.
        """
        patient = self._patient()
        what = f"Could not sign the conversion record of {patient.subject_id}"
        if not username.strip():
            raise FieldError("username", "give the investigator's username")
        with translated(what):
            try:
                signer = self._db.readers.get(username.strip())
            except NotFoundError as exc:
                raise AuthenticationFailedError(
                    f"{what}: wrong username or password, or the reader is inactive."
                ) from exc
            if self.records().conversion is None:
                raise SessionError(f"{what}: save the record first.")
            signature: RecordSignature = self._db.store(signer).sign_conversion_record(
                patient.id,  # type: ignore[arg-type]  # a stored patient has an int id
                signer,
                password,
                self.conversion_assessment(),
                meaning,
            )
        self.records_changed.emit("record_signature")
        return signature

    # -- surgery and pathology ---------------------------------------------------------------

    def surgery_form(self) -> SurgeryForm:
        """The stored surgery and pathology record as a form."""
        record = self.records().surgery
        if record is None:
            return SurgeryForm()
        return SurgeryForm(
            surgery_date=_text(record.surgery_date),
            procedures=tuple(p.value for p in record.procedures),
            margin=_text(record.margin and record.margin.value),
            metastases=tuple(
                MetastasisForm(m.label, _text(m.residual_tumour_pct), _text(m.trg), m.lesion_code)
                for m in record.metastases
            ),
            note=record.note,
        )

    def surgery_preview(self, form: SurgeryForm) -> SurgeryPreview:
        """The MPR of what the form holds now (nothing is saved)."""
        record, errors = _parse_surgery(form, self._patient().id)
        return SurgeryPreview(record, assess_mpr(record), errors)

    def save_surgery(self, form: SurgeryForm, reason: str | None = None) -> SurgeryRecord:
        """Store the surgery and pathology record.

        Raises
        ------
        FieldError
            A bad field or metastasis row (the message names it); nothing is written.
        """
        patient = self._patient()
        record, errors = _parse_surgery(form, patient.id)
        error = _first_error(errors)
        if error is not None:
            raise error
        saved: SurgeryRecord = self._save(
            f"Could not save the surgery record of {patient.subject_id}",
            "save_surgery_record",
            record,
            reason,
        )
        self.records_changed.emit("surgery_record")
        return saved

    # -- survival ----------------------------------------------------------------------------

    def survival_form(self) -> SurvivalForm:
        """The stored survival data as a form (the first dose prefilled from the patient)."""
        record = self.records().survival
        if record is None:
            first = self._patient().first_dose_date
            return SurvivalForm(treatment_start=_text(first))
        return SurvivalForm(
            **{k: _text(getattr(record, k)) for k in _SURVIVAL_DATES},
            off_study_reason=record.off_study_reason,
            death_cause=record.death_cause,
            note=record.note,
        )

    def survival_preview(self, form: SurvivalForm) -> SurvivalPreview:
        """PFS and OS with the form's dates and the patient's assessments (nothing is saved)."""
        patient = self._patient()
        record, errors = _parse_survival(form, patient.id)
        pfs = os_ = None
        case = self._patient_case()
        if case is not None:
            try:
                stored = self.records()
                derived = derive_endpoints(
                    case,
                    recist.evaluate(case),
                    conversion=stored.conversion,
                    surgery=stored.surgery,
                    survival=record,
                )
                pfs, os_ = derived.pfs, derived.os
            except RecistError:
                log.exception("survival preview not computable")
        return SurvivalPreview(record, pfs, os_, errors)

    def save_survival(self, form: SurvivalForm, reason: str | None = None) -> SurvivalRecord:
        """Store the survival data.

        Raises
        ------
        FieldError
            A bad date, or dates out of order (the message names the field); nothing is written.
        """
        patient = self._patient()
        record, errors = _parse_survival(form, patient.id)
        error = _first_error(errors)
        if error is not None:
            raise error
        saved: SurvivalRecord = self._save(
            f"Could not save the survival data of {patient.subject_id}",
            "save_survival_record",
            record,
            reason,
        )
        self.records_changed.emit("survival_record")
        return saved
