"""``caliper conversion|surgery|survival|endpoints ...`` and ``caliper export adam|endpoints``.

The trial's endpoint records from the command line, every change audited as the
reader named by ``--as`` (or ``$CALIPER_READER``):

* ``conversion set --patient ID [--mdt-date D] [--mdt-outcome O] [--procedure P ...]
  [--tumour-free yes|no] [--flr PCT] [--bilirubin V --bilirubin-unit U] [--albumin V
  --albumin-unit U] [--inr V] [--ascites A] [--encephalopathy E] [--other-labs yes|no]
  [--other-labs-note TEXT] [--reason TEXT]`` — only the options given change;
* ``conversion show --patient ID [--json]`` — the criteria with their reasons;
* ``conversion sign --patient ID --as INVESTIGATOR [--password-stdin]``;
* ``surgery set --patient ID --date D --procedure P [--margin R0] --metastasis
  "LABEL=PCT[,trg=N][,lesion=T1]" ...``;
* ``survival set --patient ID [--first-dose D] [--death D] [--last-alive D]
  [--off-study D --off-study-reason TEXT] [--new-therapy D]``;
* ``endpoints show --patient ID [--json]`` — liver response, conversion, MPR, PFS, OS, DoR;
* ``export adam --out DIR [--patient ID ...] [--study S] [--xpt]`` — ADSL, ADRS, ADTTE
  (and the SDTM they trace to);
* ``export endpoints --out DIR [--format png|svg] [--pdf FILE]`` — rates, KM tables
  and plots, the cohort PDF.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import recist
from app.cli.common import database as _database
from app.errors import CliError
from recist.endpoints import (
    AlbuminUnit,
    Ascites,
    BilirubinUnit,
    ConversionRecord,
    Encephalopathy,
    MdtOutcome,
    Procedure,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
)
from recist.errors import InvalidRecordError
from recist.model import Patient, Reader
from storage.db import Database, NotFoundError


def _actor(db: Database, args: argparse.Namespace) -> Reader:
    """The reader named by ``--as``, authenticated (see :mod:`app.cli.db`)."""
    from app.cli.db import _actor as authenticated_actor

    return authenticated_actor(args, db)


def _patient(db: Database, subject_id: str) -> Patient:
    try:
        return db.read_only_store().patient(subject_id)
    except NotFoundError as exc:
        raise CliError(f"no patient {subject_id!r}") from exc


def _stored_id(patient: Patient) -> int:
    """The database id of a patient read from the store (always set there)."""
    if patient.id is None:
        raise CliError(f"patient {patient.subject_id!r} has no database id")
    return patient.id


def _date(option: str, text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from exc


def _yes_no(option: str, text: str | None) -> bool | None:
    if text is None:
        return None
    value = {"yes": True, "y": True, "no": False, "n": False}.get(text.lower())
    if value is None:
        raise CliError(f"{option}: say yes or no, got {text!r}")
    return value


def _decimal(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return recist.endpoints.childpugh.to_decimal(option, text)
    except InvalidRecordError as exc:
        raise CliError(str(exc)) from exc


def _set(values: dict[str, Any], name: str, value: Any) -> None:
    if value is not None:
        values[name] = value


# -- conversion -------------------------------------------------------------------------------


def _conversion_set(args: argparse.Namespace) -> int:
    with _database(args) as db:
        store = db.store(_actor(db, args))
        patient = _patient(db, args.patient)
        patient_id = _stored_id(patient)
        old = store.conversion_record(patient_id) or ConversionRecord(None, patient_id)
        cp: dict[str, Any] = {}
        _set(cp, "bilirubin", _decimal("--bilirubin", args.bilirubin))
        _set(cp, "bilirubin_unit", args.bilirubin_unit)
        _set(cp, "albumin", _decimal("--albumin", args.albumin))
        _set(cp, "albumin_unit", args.albumin_unit)
        _set(cp, "inr", _decimal("--inr", args.inr))
        _set(cp, "ascites", args.ascites)
        _set(cp, "encephalopathy", args.encephalopathy)
        values: dict[str, Any] = {}
        _set(values, "mdt_date", _date("--mdt-date", args.mdt_date))
        _set(values, "mdt_outcome", args.mdt_outcome)
        if args.procedure:
            values["procedures"] = tuple(args.procedure)
        _set(values, "tumour_free_achievable", _yes_no("--tumour-free", args.tumour_free))
        _set(values, "flr_pct", _decimal("--flr", args.flr))
        _set(values, "other_labs_ok", _yes_no("--other-labs", args.other_labs))
        _set(values, "other_labs_note", args.other_labs_note)
        _set(values, "note", args.note)
        try:
            record = replace(old, child_pugh=replace(old.child_pugh, **cp), **values)
        except (InvalidRecordError, ValueError) as exc:
            raise CliError(f"conversion record of {args.patient}: {exc}") from exc
        store.save_conversion_record(record, reason=args.reason)
        _print_conversion(db, patient, as_json=False)
    return 0


def _conversion_assessment(db: Database, patient: Patient) -> tuple[Any, Any]:
    from app.cohort.endpoints import patient_endpoints
    from app.timelines import load_timeline

    records = db.read_only_store().endpoint_records(_stored_id(patient))
    try:
        timeline = load_timeline(db, patient.subject_id)
    except CliError:
        from recist.endpoints import assess_conversion

        return assess_conversion(records.conversion, None), records
    return patient_endpoints(timeline, records).conversion, records


def _print_conversion(db: Database, patient: Patient, *, as_json: bool) -> None:
    assessment, records = _conversion_assessment(db, patient)
    signature = records.conversion_signature
    if as_json:
        from storage.db.endpoints import conversion_assessment_values, endpoint_values

        data = {
            "subject_id": patient.subject_id,
            "record": endpoint_values(records.conversion) if records.conversion else None,
            "assessment": conversion_assessment_values(assessment),
            "signed_by": signature.printed_name if signature else None,
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    print(f"{patient.subject_id}: conversion criteria {assessment.status_text}")
    for c in assessment.criteria:
        print(f"  [{c.status.value:>7}] {c.name}: {c.reason}")
    if assessment.missing:
        print("  missing: " + ", ".join(assessment.missing))
    for note in assessment.notes:
        print(f"  note: {note}")
    if signature:
        print(f"  signed by {signature.printed_name} at {signature.signed_at:%Y-%m-%d %H:%M} UTC")


def _conversion_show(args: argparse.Namespace) -> int:
    with _database(args) as db:
        _print_conversion(db, _patient(db, args.patient), as_json=args.json)
    return 0


def _conversion_sign(args: argparse.Namespace) -> int:
    with _database(args) as db:
        from app.cli.db import actor_password

        signer = _actor(db, args)  # authenticated with the password, which signs too
        patient = _patient(db, args.patient)
        password = actor_password(args, signer.username)
        assessment, _ = _conversion_assessment(db, patient)
        signature = db.store(signer).sign_conversion_record(
            _stored_id(patient), signer, password, assessment
        )
        print(f"signed: {signature.meaning} ({signature.printed_name})")
    return 0


# -- surgery and survival --------------------------------------------------------------------


def _metastasis(text: str) -> ResectedMetastasis:
    """``LABEL=PCT[,trg=N][,lesion=T1]`` (PCT may be ``pending``)."""
    head, *rest = text.split(",")
    if "=" not in head:
        raise CliError(f"--metastasis {text!r}: write LABEL=PERCENT, e.g. 'segment 7=30,trg=2'")
    label, pct = (part.strip() for part in head.split("=", 1))
    extra = dict(part.split("=", 1) for part in rest if "=" in part)
    try:
        return ResectedMetastasis(
            label,
            None if pct.lower() == "pending" else _decimal(f"--metastasis {label}", pct),
            int(extra["trg"]) if "trg" in extra else None,
            extra.get("lesion", ""),
        )
    except (InvalidRecordError, ValueError) as exc:
        raise CliError(f"--metastasis {text!r}: {exc}") from exc


def _surgery_set(args: argparse.Namespace) -> int:
    with _database(args) as db:
        store = db.store(_actor(db, args))
        patient = _patient(db, args.patient)
        patient_id = _stored_id(patient)
        old = store.surgery_record(patient_id) or SurgeryRecord(None, patient_id)
        values: dict[str, Any] = {}
        _set(values, "surgery_date", _date("--date", args.date))
        if args.procedure:
            values["procedures"] = tuple(args.procedure)
        _set(values, "margin", args.margin)
        if args.metastasis:
            values["metastases"] = tuple(_metastasis(m) for m in args.metastasis)
        _set(values, "note", args.note)
        try:
            record = replace(old, **values)
        except (InvalidRecordError, ValueError) as exc:
            raise CliError(f"surgery record of {args.patient}: {exc}") from exc
        saved = store.save_surgery_record(record, reason=args.reason)
        mpr = recist.endpoints.assess_mpr(saved)
        verdict = {True: "yes", False: "no", None: "undetermined"}[mpr.mpr]
        print(f"{patient.subject_id}: MPR {verdict} ({mpr.reason})")
    return 0


def _survival_set(args: argparse.Namespace) -> int:
    with _database(args) as db:
        store = db.store(_actor(db, args))
        patient = _patient(db, args.patient)
        patient_id = _stored_id(patient)
        old = store.survival_record(patient_id) or SurvivalRecord(
            None, patient_id, patient.first_dose_date
        )
        values: dict[str, Any] = {}
        for option, name in (
            ("first_dose", "treatment_start"),
            ("death", "death_date"),
            ("last_alive", "last_known_alive"),
            ("off_study", "off_study_date"),
            ("new_therapy", "new_therapy_date"),
        ):
            _set(values, name, _date("--" + option.replace("_", "-"), getattr(args, option)))
        _set(values, "off_study_reason", args.off_study_reason)
        _set(values, "death_cause", args.death_cause)
        try:
            record = replace(old, **values)
        except (InvalidRecordError, ValueError) as exc:
            raise CliError(f"survival data of {args.patient}: {exc}") from exc
        store.save_survival_record(record, reason=args.reason)
        print(f"{patient.subject_id}: survival data saved")
    return 0


# -- endpoints and exports -------------------------------------------------------------------


def _tte_text(tte: Any) -> str:
    if tte is None:
        return "not derivable (no first dose recorded)"
    what = "event" if tte.event else f"censored (CNSR {tte.cnsr})"
    return f"{tte.days} days ({tte.months:.1f} months), {what}: {tte.description}; ends {tte.end}"


def _endpoints_show(args: argparse.Namespace) -> int:
    from app.cohort.endpoints import patient_endpoints
    from app.timelines import load_timeline

    with _database(args) as db:
        patient = _patient(db, args.patient)
        timeline = load_timeline(db, patient.subject_id)
        records = db.read_only_store().endpoint_records(_stored_id(patient))
        e = patient_endpoints(timeline, records)
    if args.json:
        best = e.liver.best() if e.liver.applicable else None
        data = {
            "subject_id": patient.subject_id,
            "best_overall_response": e.best_overall_response,
            "liver": [
                {
                    "label": t.label,
                    "response": t.response,
                    "pct_from_baseline": None
                    if t.pct_from_baseline is None
                    else str(t.pct_from_baseline),
                }
                for t in e.liver.timepoints
            ],
            "best_liver_response": best.response if best else None,
            "conversion": {"met": e.conversion.met, "reason": e.conversion.reason},
            "mpr": {"mpr": e.mpr.mpr, "pcr": e.mpr.pcr, "reason": e.mpr.reason},
            **{
                name: None
                if tte is None
                else {
                    "start": tte.start.isoformat(),
                    "end": tte.end.isoformat(),
                    "days": tte.days,
                    "event": tte.event,
                    "cnsr": tte.cnsr,
                    "description": tte.description,
                }
                for name, tte in (("pfs", e.pfs), ("os", e.os), ("dor", e.dor))
            },
        }
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return 0
    print(f"{patient.subject_id}: best overall response (RECIST 1.1) {e.best_overall_response}")
    if e.liver.applicable:
        print("  liver response (protocol-defined organ response, not a RECIST category):")
        for t in e.liver.timepoints:
            pct = "" if t.pct_from_baseline is None else f" {t.pct_from_baseline:+} %"
            print(f"    {t.label} {t.date}: {t.response}{pct}")
    else:
        print(f"  liver response: {e.liver.note}")
    print(f"  conversion: {e.conversion.reason}")
    print(f"  MPR: {e.mpr.reason}")
    print(f"  PFS: {_tte_text(e.pfs)}")
    print(f"  OS: {_tte_text(e.os)}")
    if e.dor is not None:
        print(f"  DoR: {_tte_text(e.dor)}")
    return 0


def _out_dir(path: str) -> Path:
    from app.timelines import make_folder  # pydicom: only for the exports that write a folder

    return make_folder(path)


def _export_adam(args: argparse.Namespace) -> int:
    from app.timelines import load_all, with_provenance
    from storage.exchange.adam import build_adam
    from storage.exchange.sdtm import build_sdtm

    out = _out_dir(args.out)
    with _database(args) as db:
        timelines = with_provenance(db, load_all(db, args.patient))  # SUPPTR as export sdtm
        if not timelines:
            raise CliError("no patient with a timepoint to export")
        store = db.read_only_store()
        patients = [(t, store.endpoint_records(_stored_id(t.patient))) for t in timelines]
    sdtm = build_sdtm(timelines, args.study)
    adam, _ = build_adam(patients, sdtm, args.study)
    written = []
    for name, text in {
        **{f"sdtm_{k}": v for k, v in sdtm.to_csv().items()},
        **adam.to_csv(),
    }.items():
        path = out / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if args.xpt:
        from storage.exchange.adam_xpt import write_adam_xpt

        written += write_adam_xpt(adam, out)
    for path in written:
        print(f"wrote {path}")
    return 0


def _export_endpoints(args: argparse.Namespace) -> int:
    from app.cohort.endpoints import endpoint_summary, load_endpoint_rows, write_endpoint_tables
    from app.timelines import load_all

    out = _out_dir(args.out)
    with _database(args) as db:
        rows = load_endpoint_rows(db, load_all(db))
    summary = endpoint_summary(rows)
    files = write_endpoint_tables(summary, out)
    from app.reports.km import write_km_plots

    files += write_km_plots(summary, out, fmt=args.format)
    if args.pdf:
        from app.cohort.metrics import cohort_summary
        from app.reports.cohort_pdf import write_cohort_report

        files.append(
            write_cohort_report(
                cohort_summary([r.timeline for r in rows]), summary, args.pdf, title=args.title
            )
        )
    for path in files:
        print(f"wrote {path}")
    return 0


def _as(parser: argparse.ArgumentParser) -> None:
    from app.cli.db import _add_as

    _add_as(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``conversion``, ``surgery``, ``survival``, ``endpoints``, ``export adam|endpoints``."""
    conv = subparsers.add_parser(
        "conversion", help="a patient's conversion record (MDT, FLR, Child-Pugh)"
    )
    sub = conv.add_subparsers(dest="conversion_command", metavar="WHAT", required=True)
    p = sub.add_parser("set", help="enter or change conversion values (only those given)")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--mdt-date", metavar="YYYY-MM-DD")
    p.add_argument("--mdt-outcome", choices=[o.value for o in MdtOutcome])
    p.add_argument(
        "--procedure",
        action="append",
        choices=[x.value for x in Procedure],
        help="planned procedure; repeat for combinations",
    )
    p.add_argument("--tumour-free", metavar="yes|no", help="tumour-free liver achievable")
    p.add_argument("--flr", metavar="PCT", help="future liver remnant, percent")
    p.add_argument("--bilirubin", metavar="VALUE")
    p.add_argument("--bilirubin-unit", choices=[u.value for u in BilirubinUnit])
    p.add_argument("--albumin", metavar="VALUE")
    p.add_argument("--albumin-unit", choices=[u.value for u in AlbuminUnit])
    p.add_argument("--inr", metavar="VALUE")
    p.add_argument("--ascites", choices=[a.value for a in Ascites])
    p.add_argument("--encephalopathy", choices=[e.value for e in Encephalopathy])
    p.add_argument("--other-labs", metavar="yes|no", help="other labs meet surgical requirements")
    p.add_argument("--other-labs-note")
    p.add_argument("--note")
    p.add_argument("--reason", help="needed when the record is signed")
    _as(p)
    p.set_defaults(func=_conversion_set)
    p = sub.add_parser("show", help="the conversion criteria with their reasons")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_conversion_show)
    p = sub.add_parser("sign", help="the investigator signs the conversion record")
    p.add_argument("--patient", metavar="ID", required=True)
    _as(p)
    p.set_defaults(func=_conversion_sign)

    surg = subparsers.add_parser("surgery", help="a patient's surgery and pathology (MPR)")
    ssub = surg.add_subparsers(dest="surgery_command", metavar="WHAT", required=True)
    p = ssub.add_parser("set", help="enter or change the surgery record")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--date", metavar="YYYY-MM-DD")
    p.add_argument("--procedure", action="append", choices=[x.value for x in Procedure])
    p.add_argument("--margin", choices=["R0", "R1", "R2"])
    p.add_argument(
        "--metastasis",
        action="append",
        metavar="LABEL=PCT[,trg=N][,lesion=T1]",
        help="a resected metastasis and its residual tumour percent; repeat",
    )
    p.add_argument("--note")
    p.add_argument("--reason")
    _as(p)
    p.set_defaults(func=_surgery_set)

    surv = subparsers.add_parser("survival", help="a patient's survival data (PFS, OS)")
    vsub = surv.add_subparsers(dest="survival_command", metavar="WHAT", required=True)
    p = vsub.add_parser("set", help="enter or change survival dates")
    p.add_argument("--patient", metavar="ID", required=True)
    for option in ("first-dose", "death", "last-alive", "off-study", "new-therapy"):
        p.add_argument(f"--{option}", metavar="YYYY-MM-DD")
    p.add_argument("--off-study-reason")
    p.add_argument("--death-cause")
    p.add_argument("--reason")
    _as(p)
    p.set_defaults(func=_survival_set)

    ends = subparsers.add_parser("endpoints", help="a patient's derived endpoints")
    esub = ends.add_subparsers(dest="endpoints_command", metavar="WHAT", required=True)
    p = esub.add_parser("show", help="liver response, conversion, MPR, PFS, OS, DoR")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_endpoints_show)

    export = subparsers.choices.get("export")
    if export is None:  # the export module is not registered: give these their own group
        export = subparsers.add_parser("export", help="exports")
        export.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    action = next(a for a in export._actions if isinstance(a, argparse._SubParsersAction))
    p = action.add_parser("adam", help="CDISC ADaM ADSL, ADRS, ADTTE as CSV (and XPORT), with SDTM")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--patient", metavar="ID", action="append", help="repeat; default all")
    p.add_argument("--study", metavar="STUDYID", help="default: each patient's trial")
    p.add_argument("--xpt", action="store_true", help="also SAS transport files (XPORT v5)")
    p.set_defaults(func=_export_adam)
    p = action.add_parser("endpoints", help="conversion/MPR rates, PFS/OS Kaplan-Meier, cohort PDF")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--format", choices=["png", "svg"], default="png")
    p.add_argument("--pdf", metavar="FILE", help="also the cohort PDF report")
    p.add_argument("--title", default="Cohort report", help="the PDF's title")
    p.set_defaults(func=_export_endpoints)
