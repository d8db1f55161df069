"""The cohort view's controller: one trial's ORR, best-response table and plot export.

Qt-free.  It reads every patient of a trial through the store (the same
:func:`app.timelines.load_all` that ``caliper export cohort`` uses, so the
screen and the exported files agree), summarises them with :mod:`app.cohort.metrics`,
and writes tables and plots with :func:`app.cohort.metrics.write_cohort_tables` and
:func:`app.reports.plots.write_cohort_plots`.

Loaded timelines and their summary are kept per trial until :meth:`CohortController.reload`, so
that the summary and the table of one refresh are computed from one read.  The trial's endpoints
(:meth:`CohortController.endpoint_summary`: conversion and MPR rates with exact CIs, PFS and OS
Kaplan–Meier) come from :mod:`app.cohort.endpoints`, as ``caliper export endpoints`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import recist
from app.cohort.endpoints import (
    EndpointSummary,
    endpoint_summary,
    load_endpoint_rows,
    write_endpoint_tables,
)
from app.cohort.metrics import CohortSummary, cohort_summary, write_cohort_tables
from storage.db import Database
from storage.exchange.timeline import PatientTimeline

#: Plot file formats :meth:`CohortController.export` writes.
EXPORT_FORMATS = ("png", "svg")


@dataclass(frozen=True)
class BorRow:
    """One patient's line in the best-overall-response table.

    Parameters
    ----------
    subject_id, trial
        The patient.
    criteria
        ``"RECIST1.1"`` or ``"iRECIST"`` (the patient's protocol).
    best_overall_response
        BOR of the whole timeline (``None`` when it could not be computed).
    confirmed
        Whether the CR/PR was confirmed by a later timepoint.
    confirmation_required
        Whether the protocol requires confirmation (when not, ``confirmed`` is moot).
    progression_date
        Date of the first progression (PFS event), ``None`` when none.
    progression_day
        Days from baseline to ``progression_date``.
    bor_at
        BOR up to each cutoff cycle (``{3: "PR", 6: "PR"}``), as used for ORR.
    """

    subject_id: str
    trial: str
    criteria: str
    best_overall_response: str | None
    confirmed: bool
    confirmation_required: bool
    progression_date: date | None
    progression_day: int | None
    bor_at: Mapping[int, str | None] = field(default_factory=dict)


class CohortController:
    """What the cohort widget calls: trials, the summary, the BOR table and export.

    Parameters
    ----------
    database
        The open database; patients are read with a read-only store.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._cache: dict[str | None, list[PatientTimeline]] = {}
        self._summaries: dict[str | None, CohortSummary] = {}
        self._endpoints: dict[str | None, EndpointSummary] = {}
        self._evaluated: dict[str, tuple[recist.Case, recist.CaseResult]] = {}

    def trials(self) -> list[str]:
        """The trial names found on patients, sorted (patients without a trial are left out)."""
        names = {p.trial for p in self._database.read_only_store().patients() if p.trial}
        return sorted(names)

    def reload(self) -> None:
        """Forget what was read, so the next call reads the database again."""
        self._cache.clear()
        self._evaluated.clear()
        self._summaries.clear()
        self._endpoints.clear()

    def timelines(self, trial: str | None = None) -> list[PatientTimeline]:
        """Evaluated timelines of the trial's patients (all patients when ``trial`` is None).

        Patients without any timepoint are left out, as in ``caliper export cohort``.
        """
        if trial not in self._cache and trial is not None and None in self._cache:
            # every patient is read already: the trial's are among them (no second read)
            self._cache[trial] = [t for t in self._cache[None] if t.patient.trial == trial]
        if trial not in self._cache:
            # Imported here: the exchange formats it brings (pydicom, highdicom) are only
            # needed once a cohort is opened, not at start-up.
            from app.timelines import load_evaluated

            # one read of every chart (not one per patient); no timepoint yet: left out
            loaded = load_evaluated(self._database, trial=trial)
            self._cache[trial] = [e.timeline for e in loaded]
            # kept for the endpoints, which would otherwise evaluate every patient again
            self._evaluated.update(
                {e.timeline.patient.subject_id: (e.case, e.result) for e in loaded}
            )
        return list(self._cache[trial])

    def summary(self, trial: str | None = None) -> CohortSummary:
        """ORR at C3 and C6 with exact 95 % CIs, BOR counts and per-patient plot data."""
        if trial not in self._summaries:
            from app.timelines import gc_paused

            timelines = self.timelines(trial)
            cases = {k: case for k, (case, _) in self._evaluated.items()}
            with gc_paused():  # thousands of new objects, no garbage: no collections
                self._summaries[trial] = cohort_summary(timelines, cases=cases)
        return self._summaries[trial]

    def endpoint_summary(self, trial: str | None = None) -> EndpointSummary:
        """Conversion and MPR rates (exact 95 % CIs) and the PFS / OS Kaplan–Meier curves.

        The same patients as :meth:`summary` (those with a timepoint), each with its
        conversion, surgery and survival records (docs/ENDPOINTS.md).
        """
        if trial not in self._endpoints:
            rows = load_endpoint_rows(self._database, self.timelines(trial), self._evaluated)
            self._endpoints[trial] = endpoint_summary(rows)
        return self._endpoints[trial]

    def bor_table(self, trial: str | None = None) -> list[BorRow]:
        """One :class:`BorRow` per patient, in the order of :meth:`summary`'s patients."""
        timelines, summary = self.timelines(trial), self.summary(trial)
        return [_bor_row(t, p) for t, p in zip(timelines, summary.patients, strict=True)]

    def export(self, out_dir: str | Path, fmt: str = "png", trial: str | None = None) -> list[Path]:
        """Write the ORR and endpoint tables (CSV) and the plots, Kaplan–Meier included.

        ``orr.csv``, ``best_overall_response.csv``, ``patients.csv``, the waterfall,
        spider and swimmer plots; ``endpoint_rates.csv``, ``km_summary.csv``,
        ``km_pfs.csv``, ``km_os.csv``, ``endpoints.csv`` and the ``km_pfs``, ``km_os``,
        ``km_pfs_os`` plots (those with data).

        Parameters
        ----------
        out_dir
            Folder to write into (created when missing).
        fmt
            ``"png"`` or ``"svg"`` for the plots.
        trial
            The trial; None for all patients.

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        ValueError
            When ``fmt`` is not one of :data:`EXPORT_FORMATS`.
        OSError
            When the folder cannot be created or written.
        """
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        summary = self.summary(trial)
        # app.reports may use Qt to render; the controller itself stays Qt-free.
        from app.reports.km import write_km_plots
        from app.reports.plots import write_cohort_plots

        endpoints = self.endpoint_summary(trial)
        return (
            write_cohort_tables(summary, out)
            + write_cohort_plots(summary, out, fmt=fmt)
            + write_endpoint_tables(endpoints, out)
            + write_km_plots(endpoints, out, fmt=fmt)
        )


def _bor_row(timeline: PatientTimeline, patient: Any) -> BorRow:
    """The table line of one patient from its evaluated result and cohort summary."""
    result = timeline.result
    criteria = str(result.get("criteria") or timeline.patient.criteria)
    detail = result.get("irecist" if criteria == "iRECIST" else "recist") or {}
    raw_date = result.get("progression_date")
    progression = date.fromisoformat(str(raw_date)) if raw_date else None
    scans = sorted((t for t in timeline.timepoints if t.scan_date), key=lambda t: t.order)
    baseline = scans[0].scan_date if scans else None
    day = (progression - baseline).days if progression and baseline else None
    return BorRow(
        subject_id=timeline.patient.subject_id,
        trial=timeline.patient.trial,
        criteria=criteria,
        best_overall_response=patient.best_overall_response,
        confirmed=bool(detail.get("confirmed")),
        confirmation_required=bool(result.get("confirmation_required")),
        progression_date=progression,
        progression_day=day,
        bor_at=dict(patient.bor_at),
    )
