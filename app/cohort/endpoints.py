"""The trial's endpoints over a cohort: conversion and MPR rates, PFS and OS Kaplan–Meier.

Qt-free.  Each patient is read through the store (its timeline, as
``caliper export cohort`` reads it, plus its conversion, surgery and survival
records) and derived by :func:`recist.endpoints.derive_endpoints`.

Rates (exact Clopper–Pearson 95 % CIs, :func:`app.cohort.metrics.clopper_pearson`),
intention to treat: every patient of the cohort is in the denominator.

* **conversion rate** — patients whose conversion criteria are met; a patient
  with no record, or with criteria undetermined, counts as not converted (the
  number undetermined is reported beside the rate);
* **MPR rate** — patients with a major pathological response over all patients,
  and, as a secondary figure, over the patients who had a resection with pathology.

Kaplan–Meier curves of PFS and OS (:mod:`app.cohort.km`) in months
(days / 30.4375, days = end − start + 1), with medians and 95 % CIs and the
number at risk every 3 months up to the 18-month cut-off.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import recist
from app.cohort.km import KmCurve, kaplan_meier
from app.cohort.metrics import clopper_pearson
from recist.endpoints import PatientEndpoints, derive_endpoints
from storage.db import Database
from storage.db.endpoints import EndpointRecords
from storage.exchange.timeline import PatientTimeline

__all__ = [
    "AT_RISK_MONTHS",
    "EndpointSummary",
    "PatientEndpointRow",
    "RateEstimate",
    "endpoint_summary",
    "load_endpoint_rows",
    "patient_endpoints",
    "write_endpoint_tables",
]

#: Months at which the number at risk is tabulated.
AT_RISK_MONTHS = (0, 3, 6, 9, 12, 15, 18)
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class PatientEndpointRow:
    """One patient's endpoints with the records they come from."""

    timeline: PatientTimeline
    records: EndpointRecords
    endpoints: PatientEndpoints

    @property
    def subject_id(self) -> str:
        """The patient's subject id."""
        return self.timeline.patient.subject_id


@dataclass(frozen=True)
class RateEstimate:
    """A proportion with its exact CI."""

    name: str
    label: str
    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float
    note: str = ""


@dataclass(frozen=True)
class EndpointSummary:
    """Everything the cohort window, the cohort export and the cohort PDF show about endpoints."""

    patients: tuple[PatientEndpointRow, ...]
    rates: tuple[RateEstimate, ...]
    km: dict[str, KmCurve] = field(default_factory=dict)


def patient_endpoints(
    timeline: PatientTimeline,
    records: EndpointRecords,
    evaluated: tuple[recist.Case, recist.CaseResult] | None = None,
) -> PatientEndpoints:
    """Derive one patient's endpoints from its timeline and records.

    ``evaluated``: the timeline's case and result when already computed (not redone).
    """
    if evaluated is None:
        case = recist.case_from_records(
            timeline.patient, timeline.timepoints, timeline.lesions, timeline.measurements
        )
        evaluated = (case, recist.evaluate(case))
    case, result = evaluated
    return derive_endpoints(
        case,
        result,
        conversion=records.conversion,
        surgery=records.surgery,
        survival=records.survival,
    )


def load_endpoint_rows(
    database: Database,
    timelines: Sequence[PatientTimeline],
    evaluated: Mapping[str, tuple[recist.Case, recist.CaseResult]] | None = None,
) -> list[PatientEndpointRow]:
    """The endpoint rows of already loaded timelines (the records of all of them in one read).

    ``evaluated``: case and result by subject id, when the timelines were evaluated already.
    """
    ids = []
    for timeline in timelines:
        if timeline.patient.id is None:  # read from the store, so never: a timeline built by hand
            raise ValueError(f"patient {timeline.patient.subject_id!r} has no database id")
        ids.append(timeline.patient.id)
    found = database.read_only_store().endpoint_records_of(ids)
    rows = []
    for timeline, patient_id in zip(timelines, ids, strict=True):
        records = found[patient_id]
        known = (evaluated or {}).get(timeline.patient.subject_id)
        rows.append(
            PatientEndpointRow(timeline, records, patient_endpoints(timeline, records, known))
        )
    return rows


def _rate(name: str, label: str, k: int, n: int, note: str = "") -> RateEstimate:
    low, high = clopper_pearson(k, n)
    return RateEstimate(name, label, k, n, k / n if n else 0.0, low, high, note)


def endpoint_summary(rows: Sequence[PatientEndpointRow]) -> EndpointSummary:
    """Conversion and MPR rates and the PFS / OS curves of the cohort (module docstring)."""
    n = len(rows)
    converted = sum(1 for r in rows if r.endpoints.conversion.met is True)
    undetermined = sum(1 for r in rows if r.endpoints.conversion.met is None)
    mpr = sum(1 for r in rows if r.endpoints.mpr.mpr is True)
    resected = sum(1 for r in rows if r.endpoints.mpr.mpr is not None)
    rates = (
        _rate(
            "conversion",
            "Conversion rate",
            converted,
            n,
            f"{undetermined} undetermined (counted as not converted)" if undetermined else "",
        ),
        _rate("mpr", "MPR rate (all patients)", mpr, n),
        _rate("mpr_resected", "MPR rate (resected with pathology)", mpr, resected),
    )
    km: dict[str, KmCurve] = {}
    for param in ("PFS", "OS"):
        values = [getattr(r.endpoints, param.lower()) for r in rows]
        tte = [v for v in values if v is not None]
        if tte:
            km[param] = kaplan_meier([v.days / DAYS_PER_MONTH for v in tte], [v.event for v in tte])
    return EndpointSummary(tuple(rows), rates, km)


def _months(value: float | None) -> str:
    return "NR" if value is None else f"{value:.2f}"


def write_endpoint_tables(summary: EndpointSummary, out: Path) -> list[Path]:
    """Write the endpoint tables into *out* and return their paths.

    ``endpoint_rates.csv``, ``km_summary.csv``, ``km_pfs.csv``, ``km_os.csv``, ``endpoints.csv``.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    path = out / "endpoint_rates.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "endpoint",
                "patients_with",
                "patients",
                "rate_pct",
                "ci95_low_pct",
                "ci95_high_pct",
                "note",
            ]
        )
        for r in summary.rates:
            w.writerow(
                [
                    r.name,
                    r.k,
                    r.n,
                    f"{100 * r.rate:.1f}",
                    f"{100 * r.ci_low:.1f}",
                    f"{100 * r.ci_high:.1f}",
                    r.note,
                ]
            )
    written.append(path)
    path = out / "km_summary.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "param",
                "patients",
                "events",
                "median_months",
                "ci95_low_months",
                "ci95_high_months",
                *[f"at_risk_{m}m" for m in AT_RISK_MONTHS],
            ]
        )
        for param, curve in summary.km.items():
            w.writerow(
                [
                    param,
                    curve.n,
                    curve.events,
                    _months(curve.median),
                    _months(curve.median_lower),
                    _months(curve.median_upper),
                    *[curve.at_risk(m) for m in AT_RISK_MONTHS],
                ]
            )
    written.append(path)
    for param, curve in summary.km.items():
        path = out / f"km_{param.lower()}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(
                ["months", "at_risk", "events", "censored", "survival", "ci95_low", "ci95_high"]
            )
            for s in curve.steps:
                w.writerow(
                    [
                        f"{s.time:.4f}",
                        s.at_risk,
                        s.events,
                        s.censored,
                        f"{float(s.survival):.6f}",
                        f"{s.lower:.6f}",
                        f"{s.upper:.6f}",
                    ]
                )
        written.append(path)
    path = out / "endpoints.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "subject_id",
                "best_overall_response",
                "best_liver_response",
                "conversion",
                "conversion_reason",
                "mpr",
                "mpr_reason",
                "pfs_days",
                "pfs_event",
                "pfs_cnsr",
                "pfs_description",
                "os_days",
                "os_event",
                "os_cnsr",
                "os_description",
            ]
        )
        for row in summary.patients:
            e = row.endpoints
            best = e.liver.best() if e.liver.applicable else None
            pfs, os_ = e.pfs, e.os
            w.writerow(
                [
                    row.subject_id,
                    e.best_overall_response or "",
                    best.response if best else "",
                    e.conversion.status_text,
                    e.conversion.reason,
                    {True: "Y", False: "N", None: ""}[e.mpr.mpr],
                    e.mpr.reason,
                    pfs.days if pfs else "",
                    int(pfs.event) if pfs else "",
                    pfs.cnsr if pfs else "",
                    pfs.description if pfs else "",
                    os_.days if os_ else "",
                    int(os_.event) if os_ else "",
                    os_.cnsr if os_ else "",
                    os_.description if os_ else "",
                ]
            )
    written.append(path)
    return written
