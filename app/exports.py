"""Exports of the open patient from the window: PDF report, DICOM SR, SDTM, timeline.

Qt-free controller behind the main window's Export menu.  It calls what
``caliper export`` calls (:func:`app.timelines.load_timeline`,
:func:`app.reports.pdf.write_patient_report`, :func:`storage.exchange.sr.build_timepoint_sr`,
:func:`storage.exchange.sdtm.build_sdtm`, the timeline writers), records the
audit witness the same way, and returns the files it wrote so the window can
name them.  A problem the reader can fix is an :class:`ExportError` with a
one-line message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import CliError
from app.timelines import find_images, load_all, load_timeline, make_folder, with_provenance
from storage.db import Database
from storage.exchange.timeline import dumps_timeline_csv, dumps_timeline_json, timeline_to_dict

__all__ = ["ExportController", "ExportError", "Exported"]


class ExportError(Exception):
    """An export could not be written; the message says why in one line."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the files, and notes on what was left out."""

    files: list[Path]
    notes: list[str] = field(default_factory=list)


def _images(folders: Sequence[str]) -> dict[str, Path]:
    """DICOM files under every folder of *folders*, by SOP Instance UID."""
    found: dict[str, Path] = {}
    try:
        for folder in dict.fromkeys(folders):  # each once, in order
            found.update(find_images(folder))
    except CliError as exc:
        raise ExportError(str(exc)) from exc
    return found


def _folder(path: str | Path) -> Path:
    try:
        return make_folder(path)
    except CliError as exc:
        raise ExportError(str(exc)) from exc


class ExportController:
    """Exports of one patient (or all, for SDTM) over the audited database.

    Parameters
    ----------
    database : storage.db.Database
        The database the window reads.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def _timeline(self, subject_id: str, what: str) -> tuple[Any, tuple[int, str] | None]:
        try:
            timeline = load_timeline(self.database, subject_id)
        except CliError as exc:
            raise ExportError(str(exc)) from exc
        head = self.database.record_witness(f"export {what} {subject_id}")
        return timeline, head

    def pdf_report(
        self, subject_id: str, pdf_path: str | Path, images_folders: Sequence[str] = ()
    ) -> Exported:
        """Write the PDF report of *subject_id* (key images from *images_folders*)."""
        from app.reports.pdf import write_patient_report

        timeline, head = self._timeline(subject_id, "report")
        try:
            images = _images(images_folders)
            notes = write_patient_report(timeline, pdf_path, images=images, audit_head=head)
        except CliError as exc:
            raise ExportError(str(exc)) from exc
        except OSError as exc:
            raise ExportError(f"cannot write {pdf_path}: {exc.strerror or exc}") from exc
        return Exported([Path(pdf_path)], list(notes))

    def timeline(self, subject_id: str, path: str | Path) -> Exported:
        """Write *subject_id*'s response timeline; CSV when *path* ends in ``.csv``, else JSON."""
        timeline, _ = self._timeline(subject_id, "timeline")
        data = timeline_to_dict(timeline)
        text = dumps_timeline_csv(data) if str(path).lower().endswith(".csv") else None
        text = text if text is not None else dumps_timeline_json(data)
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return Exported([Path(path)])

    def sdtm(self, out_dir: str | Path, subject_ids: list[str] | None = None) -> Exported:
        """Write SDTM TU, TR and RS (CSV) of *subject_ids* (default: every patient) to *out_dir*."""
        from storage.exchange.sdtm import build_sdtm
        from storage.exchange.sdtm_check import check_sdtm

        try:
            timelines = with_provenance(self.database, load_all(self.database, subject_ids))
        except CliError as exc:
            raise ExportError(str(exc)) from exc
        if not timelines:
            raise ExportError("no patient with a timepoint to export")
        self.database.record_witness("export sdtm")
        out = _folder(out_dir)
        datasets = build_sdtm(timelines)
        written = []
        try:
            for name, text in datasets.to_csv().items():
                path = out / f"{name}.csv"
                path.write_text(text, encoding="utf-8")
                written.append(path)
        except OSError as exc:
            raise ExportError(f"cannot write to {out}: {exc.strerror or exc}") from exc
        return Exported(written, [f"conformance: {p}" for p in check_sdtm(datasets)])

    def dicom_sr(
        self, subject_id: str, out_dir: str | Path, images_folders: Sequence[str]
    ) -> Exported:
        """Write one DICOM SR (TID 1500) per timepoint of *subject_id* to *out_dir*.

        The SR references the measured images, read from *images_folders*; a
        timepoint with nothing drawn on an image found there is left out (a note).
        """
        import pydicom

        from storage.exchange.sr import SrExportError, build_timepoint_sr

        timeline, head = self._timeline(subject_id, "sr")
        images = _images(images_folders)
        where = ", ".join(dict.fromkeys(images_folders)) or "the folders given"
        out = _folder(out_dir)
        written: list[Path] = []
        notes: list[str] = []
        for number, tp in enumerate(sorted(timeline.timepoints, key=lambda t: t.order), start=1):
            wanted = {
                m.geometry.sop_instance_uid
                for m in timeline.measurements
                if m.timepoint_id == tp.id and m.geometry is not None
            }
            found = sorted(wanted & images.keys())
            if len(found) < len(wanted) or not found:
                missing = len(wanted) - len(found)
                notes.append(
                    f"{tp.label} left out: "
                    + (
                        f"{missing} measured image(s) not under {where}"
                        if wanted
                        else "nothing was drawn on an image"
                    )
                )
                continue
            sources = [pydicom.dcmread(images[sop], stop_before_pixels=True) for sop in found]
            try:
                sr = build_timepoint_sr(
                    timeline, tp, sources, instance_number=number, audit_head=head
                )
            except SrExportError as exc:
                raise ExportError(str(exc)) from exc
            path = out / f"{timeline.patient.subject_id}_{tp.label}_SR.dcm"
            try:
                sr.save_as(path, enforce_file_format=True)
            except OSError as exc:
                raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
            written.append(path)
        if not written:
            raise ExportError(
                f"no DICOM SR written for {subject_id}: " + "; ".join(notes or ["no timepoint"])
            )
        return Exported(written, notes)
