"""``caliper export ...`` and ``caliper import sr``: exchange formats over the audited database.

Every export reads the patient through the store API (``Database.read_only_store``),
never a copy, and recomputes the responses with :mod:`recist` from exactly what
was read:

* ``export timeline --patient ID --format json|csv [--out FILE]``
* ``export report --patient ID OUT.pdf [--images DIR]``  (PDF; key images when found)
* ``export sr --patient ID --images DIR --out DIR [--timepoint LABEL]``  (TID 1500)
* ``export sdtm --out DIR [--patient ID ...] [--study STUDYID] [--xpt] [--define] [--sdtmig 3.3|3.4]
  [--schedule FILE]``  (TU/TR/RS/SUPPTU/SUPPTR CSV, XPORT, Define-XML 2.1)
* ``export cohort --out DIR [--format png|svg]``  (ORR table, plots)
* ``import sr FILE [--patient ID] [--timepoint LABEL] [--accept-other-patient] --as USERNAME``
  (creates the patient and timepoint from the report when missing; lists what it skips)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from app.cli.common import database as _database
from app.cli.export_seg import lesion_contours, write_timepoint_seg
from app.errors import CliError
from app.timelines import find_images, load_all, load_timeline, make_folder, with_provenance
from recist.model import Reader
from storage.db import Database
from storage.exchange.sdtm import build_sdtm
from storage.exchange.sr import SrExportError, build_timepoint_sr
from storage.exchange.sr_read import SrImportError, read_sr
from storage.exchange.timeline import (
    dumps_timeline_csv,
    dumps_timeline_json,
    timeline_to_dict,
)


def _say(text: str, *, err: bool = False) -> None:
    """One line for the user (stderr for notes about what was skipped)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _write_text(text: str, out: str | None) -> None:
    if not out:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from exc


def _timeline(args: argparse.Namespace) -> int:
    with _database(args) as db:
        data = timeline_to_dict(load_timeline(db, args.patient))
        db.record_witness(f"export timeline {args.patient}")
    text = dumps_timeline_json(data) if args.format == "json" else dumps_timeline_csv(data)
    _write_text(text, args.out)
    return 0


def _report(args: argparse.Namespace) -> int:
    from app.reports.pdf import write_patient_report

    with _database(args) as db:
        timeline = load_timeline(db, args.patient)
        head = db.record_witness(f"export report {args.patient}")
    images = find_images(args.images) if args.images else {}
    notes = write_patient_report(timeline, args.pdf, images=images, audit_head=head)
    _say(f"wrote {args.pdf}" + "".join(f"\n  note: {n}" for n in notes))
    return 0


def _headers(paths: dict[str, Path], wanted: set[str]) -> list[Dataset]:
    return [
        pydicom.dcmread(paths[sop], stop_before_pixels=True)
        for sop in sorted(wanted)
        if sop in paths
    ]


def _series_image(paths: dict[str, Path], series_uid: str | None) -> list[Dataset]:
    """One image header of the timepoint's series (the report's evidence), if found."""
    if not series_uid:
        return []
    for path in paths.values():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if str(ds.get("SeriesInstanceUID", "")) == series_uid:
            return [ds]
    return []


def _slice_indices(paths: dict[str, Path]) -> dict[str, int]:
    """Slice index of each single-frame image in its series, ordered as the loader orders them.

    Along the slice normal (ImageOrientationPatient row x column), lowest first: the
    position a caliper's ``slice_index`` records.  Multi-frame images are left out.
    """
    import numpy as np

    by_series: dict[str, list[tuple[float, str]]] = {}
    for sop, path in paths.items():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
            position = np.asarray(ds.ImagePositionPatient, dtype=float)
        except (AttributeError, ValueError, OSError, pydicom.errors.InvalidDicomError):
            continue
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            continue
        distance = float(position @ np.cross(iop[:3], iop[3:]))
        by_series.setdefault(str(ds.SeriesInstanceUID), []).append((distance, sop))
    return {
        sop: index
        for members in by_series.values()
        for index, (_, sop) in enumerate(sorted(members))
    }


def _sr(args: argparse.Namespace) -> int:
    with _database(args) as db:
        timeline = load_timeline(db, args.patient)
        contours = lesion_contours(db, timeline)
        head = db.record_witness(f"export sr {args.patient}")
    images = find_images(args.images)
    timepoints = [t for t in timeline.timepoints if not args.timepoint or t.label == args.timepoint]
    if not timepoints:
        raise CliError(f"patient {args.patient} has no timepoint {args.timepoint!r}")
    out = make_folder(args.out)
    written, skipped = 0, []
    for number, tp in enumerate(sorted(timepoints, key=lambda t: t.order), start=1):
        wanted = {
            m.geometry.sop_instance_uid
            for m in timeline.measurements
            if m.timepoint_id == tp.id and m.geometry is not None
        }
        missing = sorted(wanted - images.keys())
        if missing:
            raise CliError(
                f"timepoint {tp.label}: source image {missing[0]} (of {len(missing)}) "
                f"not found under {args.images}"
            )
        sources = _headers(images, wanted) or _series_image(images, tp.series_instance_uid)
        if not sources:
            why = f"{tp.label}: nothing was drawn on an image and its series " + (
                f"{tp.series_instance_uid} is not under {args.images}"
                if tp.series_instance_uid
                else "is not recorded"
            )
            skipped.append(why)
            _say(f"skipped {why}", err=True)
            continue
        seg_path, segments = write_timepoint_seg(contours, timeline, tp, images, out)
        if seg_path is not None:
            _say(f"wrote {seg_path}")
        try:
            sr = build_timepoint_sr(
                timeline,
                tp,
                sources,
                instance_number=number,
                organization=args.organization,
                audit_head=head,
                segments=segments,
            )
        except SrExportError as exc:
            raise CliError(str(exc)) from exc
        path = out / f"{timeline.patient.subject_id}_{tp.label}_SR.dcm"
        sr.save_as(path, enforce_file_format=True)
        written += 1
        _say(f"wrote {path}" + (" (verified)" if sr.VerificationFlag == "VERIFIED" else ""))
    if not written:
        raise CliError(
            f"no report written for {args.patient}: every timepoint was skipped ("
            + "; ".join(skipped)
            + "); draw the measurements on images, or attach each timepoint's series and "
            "give its folder with --images"
        )
    return 0


def _sdtm(args: argparse.Namespace) -> int:
    from storage.exchange.sdtm_check import check_sdtm
    from storage.exchange.sdtm_visits import VisitScheduleError, read_schedule

    try:
        schedule = read_schedule(args.schedule) if args.schedule else None
    except VisitScheduleError as exc:
        raise CliError(str(exc)) from exc
    with _database(args) as db:
        timelines = with_provenance(db, load_all(db, args.patient))  # SUPPTR: semi-automatic
        db.record_witness("export sdtm")
    if not timelines:
        raise CliError("no patient with a timepoint to export")
    out = make_folder(args.out)
    datasets = build_sdtm(timelines, studyid=args.study, version=args.sdtmig, schedule=schedule)
    written = []
    for name, text in datasets.to_csv().items():
        (out / f"{name}.csv").write_text(text, encoding="utf-8")
        written.append(f"{name}.csv")
    if args.xpt:
        from storage.exchange.sdtm_xpt import write_xpt

        written += [p.name for p in write_xpt(datasets, out)]
    if args.define:
        from storage.exchange.sdtm_define import write_define

        study = args.study or timelines[0].patient.trial or "STUDY"
        write_define(datasets, study, str(out / "define.xml"))
        written.append("define.xml")
    _say(
        f"wrote {', '.join(written)} (SDTMIG {args.sdtmig}) for {len(timelines)} patients to {out}"
    )
    for problem in check_sdtm(datasets):
        _say(f"  conformance: {problem}", err=True)
    return 0


def _cohort(args: argparse.Namespace) -> int:
    from app.cohort.metrics import cohort_summary, write_cohort_tables
    from app.timelines import load_evaluated

    with _database(args) as db:
        evaluated = load_evaluated(db)  # each case built once, reused for the cutoffs
        db.record_witness("export cohort")
    out = make_folder(args.out)
    summary = cohort_summary(
        [e.timeline for e in evaluated],
        cases={e.timeline.patient.subject_id: e.case for e in evaluated},
    )
    files = write_cohort_tables(summary, out)
    from app.reports.plots import write_cohort_plots

    files += write_cohort_plots(summary, out, fmt=args.format)
    for path in files:
        _say(f"wrote {path}")
    return 0


def _actor(db: Database, args: argparse.Namespace) -> Reader:
    """The reader named by ``--as``, authenticated (see :mod:`app.cli.db`)."""
    from app.cli.db import _actor as authenticated_actor

    return authenticated_actor(args, db)


def _import_sr(args: argparse.Namespace) -> int:
    from app.sr_import import SrImportRefused, import_report

    try:
        report = read_sr(args.file)
    except SrImportError as exc:
        raise CliError(str(exc)) from exc
    paths = find_images(args.images) if args.images else {}
    images = {sop: pydicom.dcmread(p, stop_before_pixels=True) for sop, p in paths.items()}
    with _database(args) as db:
        try:
            result = import_report(
                db,
                _actor(db, args),
                report,
                subject_id=args.patient,
                label=args.timepoint,
                images=images,
                slice_of_sop=_slice_indices(paths),
                accept_other_patient=args.accept_other_patient,
                reason=args.reason,
            )
        except SrImportRefused as exc:
            raise CliError(f"{args.file}: {exc}") from exc
    for what in result.created:
        _say(f"created {what}")
    _say(
        f"imported {result.imported} measurements from {args.file} into "
        f"{result.subject_id} {result.label}"
    )
    for line in result.skipped:
        _say(f"  skipped {line}", err=True)
    for line in result.notes:
        _say(f"  note: {line}", err=True)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` (timeline, report, sr, sdtm, cohort) and ``import sr`` to ``caliper``."""
    export = subparsers.add_parser("export", help="timelines, PDF reports, DICOM SR, SDTM, cohort")
    sub = export.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    p = sub.add_parser("timeline", help="a patient's response timeline as JSON or CSV")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=_timeline)
    p = sub.add_parser("report", help="a patient's PDF report")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("pdf", metavar="OUT.pdf")
    p.add_argument("--images", metavar="DIR", help="where the measured series are (key images)")
    p.set_defaults(func=_report)
    p = sub.add_parser("sr", help="DICOM SR TID 1500, one file per timepoint")
    p.add_argument("--patient", metavar="ID", required=True)
    p.add_argument("--images", metavar="DIR", required=True, help="the measured series' files")
    p.add_argument("--timepoint", metavar="LABEL", help="only this timepoint")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument(
        "--organization", metavar="NAME", help="observer/verifier organisation (default: site)"
    )
    p.set_defaults(func=_sr)
    p = sub.add_parser("sdtm", help="CDISC SDTM TU, TR, RS as CSV (and XPORT)")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--patient", metavar="ID", action="append", help="repeat; default all")
    p.add_argument("--study", metavar="STUDYID", help="default: each patient's trial")
    p.add_argument("--xpt", action="store_true", help="also SAS transport files (XPORT v5)")
    p.add_argument("--define", action="store_true", help="also define.xml (Define-XML 2.1)")
    p.add_argument(
        "--sdtmig",
        choices=["3.3", "3.4"],
        default="3.4",
        help="SDTMIG version (baseline flag TRBLFL in 3.3, TRLOBXFL in 3.4)",
    )
    p.add_argument(
        "--schedule",
        metavar="FILE.json",
        help="the trial's visit schedule (default: baseline, C3, C6, every 9 weeks)",
    )
    p.set_defaults(func=_sdtm)
    p = sub.add_parser("cohort", help="ORR with exact CIs, BOR table, waterfall/spider/swimmer")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--format", choices=["png", "svg"], default="png")
    p.set_defaults(func=_cohort)

    imp = subparsers.add_parser("import", help="import measurements from DICOM SR")
    isub = imp.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    p = isub.add_parser(
        "sr",
        help="a TID 1500 report into a patient's timepoint (created from the report if missing)",
    )
    p.add_argument("file", metavar="SR.dcm")
    p.add_argument(
        "--patient", metavar="ID", help="default: the report's Clinical Trial Subject ID"
    )
    p.add_argument("--timepoint", metavar="LABEL", help="default: the report's time point")
    p.add_argument(
        "--accept-other-patient",
        action="store_true",
        help="import although subject, protocol, DICOM patient or study differ (audited)",
    )
    p.add_argument("--images", metavar="DIR", help="source images, to complete coordinates")
    p.add_argument("--reason", help="needed when the timepoint is signed")
    from app.cli.db import _add_as

    _add_as(p)
    p.set_defaults(func=_import_sr)
