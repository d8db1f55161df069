"""CDISC ADaM datasets of the conversion trial: ADSL (minimal), ADRS and ADTTE.

Built from the same records as the SDTM export (:func:`storage.exchange.sdtm.build_sdtm`)
and traceable to it: every ADRS record and every ADTTE date that comes from a
tumour assessment names its SDTM source (``SRCDOM`` ``RS``, ``SRCVAR``,
``SRCSEQ`` = the ``RSSEQ`` of that visit's overall response); dates from the
subject level name ``ADSL`` and the variable.

* **ADSL** — one record per subject: first dose (``TRTSDT``), death, last known
  alive, end of study and reason, new anticancer therapy, and the endpoint flags
  (``CONVFL`` conversion criteria met, ``MPRFL``, ``PCRFL``; ``Y``/``N``, empty
  when undetermined).
* **ADRS** — as pharmaverse admiralonco derives them: ``OVR`` (overall response
  by visit, RECIST 1.1, investigator), ``BOR`` (best overall response without
  confirmation), ``CBOR`` (confirmed best overall response, 28 days, Table 3 of
  RECIST 1.1); and the protocol-defined liver response ``LIVRESP`` (by visit) and
  ``LIVBOR`` (best before the first liver PD) — an organ response, not RECIST.
  ``AVAL`` codes responses as admiralonco's ``aval_resp()``: CR 1, PR 2, SD 3,
  NON-CR/NON-PD 4, PD 5, NE 6, missing 7 (NED 8 here).
* **ADTTE** — ``PFS``, ``OS`` and ``DOR`` (responders): ``STARTDT``, ``ADT``,
  ``AVAL`` in days (``ADT − STARTDT + 1``), ``CNSR`` (0 event; codes of
  :data:`recist.endpoints.CNSR_DESCRIPTIONS`), ``EVNTDESC``, ``CNSDTDSC``.

Dates are ISO text in the CSV files and SAS dates (days since 1960-01-01) in
the XPORT files (:mod:`storage.exchange.adam_xpt`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, Protocol

import recist
from recist.case import Settings
from recist.endpoints import (
    ConversionRecord,
    PatientEndpoints,
    SurgeryRecord,
    SurvivalRecord,
    TimeToEvent,
    derive_endpoints,
)
from storage.exchange.sdtm import SdtmDatasets
from storage.exchange.timeline import PatientTimeline

__all__ = [
    "ADRS_COLUMNS",
    "ADSL_COLUMNS",
    "ADTTE_COLUMNS",
    "AdamDatasets",
    "LABELS",
    "build_adam",
]

ADSL_COLUMNS = (
    "STUDYID",
    "USUBJID",
    "SUBJID",
    "SITEID",
    "ITTFL",
    "TRTSDT",
    "DTHFL",
    "DTHDT",
    "LSTALVDT",
    "EOSDT",
    "DCSREAS",
    "NACTDT",
    "CONVFL",
    "MPRFL",
    "PCRFL",
)
ADRS_COLUMNS = (
    "STUDYID",
    "USUBJID",
    "PARAMCD",
    "PARAM",
    "PARCAT1",
    "AVALC",
    "AVAL",
    "ADT",
    "ADY",
    "AVISIT",
    "AVISITN",
    "ANL01FL",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)
ADTTE_COLUMNS = (
    "STUDYID",
    "USUBJID",
    "PARAMCD",
    "PARAM",
    "STARTDT",
    "ADT",
    "AVAL",
    "AVALU",
    "CNSR",
    "EVNTDESC",
    "CNSDTDSC",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)
#: Variables with dates (ISO in CSV, SAS dates in XPT) and other numeric variables.
DATE_VARIABLES = frozenset({"TRTSDT", "DTHDT", "LSTALVDT", "EOSDT", "NACTDT", "ADT", "STARTDT"})
NUMERIC_VARIABLES = frozenset({"AVAL", "ADY", "AVISITN", "SRCSEQ", "CNSR"})

LABELS: dict[str, str] = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "SITEID": "Study Site Identifier",
    "ITTFL": "Intent-To-Treat Population Flag",
    "TRTSDT": "Date of First Exposure to Treatment",
    "DTHFL": "Subject Death Flag",
    "DTHDT": "Date of Death",
    "LSTALVDT": "Date Last Known Alive",
    "EOSDT": "End of Study Date",
    "DCSREAS": "Reason for Discontinuation from Study",
    "NACTDT": "Date of New Anti-Cancer Therapy",
    "CONVFL": "Conversion Criteria Met Flag",
    "MPRFL": "Major Pathological Response Flag",
    "PCRFL": "Pathological Complete Response Flag",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "PARCAT1": "Parameter Category 1",
    "AVALC": "Analysis Value (C)",
    "AVAL": "Analysis Value",
    "ADT": "Analysis Date",
    "ADY": "Analysis Relative Day",
    "AVISIT": "Analysis Visit",
    "AVISITN": "Analysis Visit (N)",
    "ANL01FL": "Analysis Flag 01",
    "SRCDOM": "Source Data",
    "SRCVAR": "Source Variable",
    "SRCSEQ": "Source Sequence Number",
    "STARTDT": "Time-to-Event Origin Date for Subject",
    "AVALU": "Analysis Value Unit",
    "CNSR": "Censor",
    "EVNTDESC": "Event or Censoring Description",
    "CNSDTDSC": "Censor Date Description",
}

#: admiralonco ``aval_resp()`` coding.
AVAL_RESPONSE = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6, "NED": 8}
_PARAMS = {
    "OVR": "Overall Response by Investigator",
    "BOR": "Best Overall Response by Investigator",
    "CBOR": "Best Confirmed Overall Response by Investigator",
    "LIVRESP": "Liver Metastases Response by Investigator",
    "LIVBOR": "Best Liver Metastases Response by Investigator",
    "PFS": "Progression-Free Survival",
    "OS": "Overall Survival",
    "DOR": "Duration of Response",
}
_RECIST = "RECIST 1.1"
_LIVER = "LIVER METASTASES (PROTOCOL-DEFINED, NOT RECIST)"


class EndpointRecords(Protocol):
    """A patient's endpoint records (``storage.db.endpoints.EndpointRecords`` has these)."""

    @property
    def conversion(self) -> ConversionRecord | None: ...
    @property
    def surgery(self) -> SurgeryRecord | None: ...
    @property
    def survival(self) -> SurvivalRecord | None: ...


@dataclass(frozen=True)
class AdamDatasets:
    """The three datasets as rows (variable -> value; dates as :class:`datetime.date`)."""

    adsl: list[dict[str, Any]]
    adrs: list[dict[str, Any]]
    adtte: list[dict[str, Any]]

    def to_csv(self) -> dict[str, str]:
        """CSV text per dataset (dates ISO 8601, missing values empty)."""
        out = {}
        for name, rows, columns in (
            ("adsl", self.adsl, ADSL_COLUMNS),
            ("adrs", self.adrs, ADRS_COLUMNS),
            ("adtte", self.adtte, ADTTE_COLUMNS),
        ):
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_value(row.get(c)) for c in columns])
            out[name] = buffer.getvalue()
        return out


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _response_text(value: Any) -> str:
    if value is None:
        return ""
    return {"non-CR/non-PD": "NON-CR/NON-PD"}.get(str(value), str(value))


def _flag(value: bool | None) -> str:
    return {True: "Y", False: "N", None: ""}[value]


def _rs_sequences(sdtm: SdtmDatasets) -> dict[tuple[str, str], int]:
    """(USUBJID, VISIT) -> RSSEQ of the RECIST 1.1 overall response record."""
    seqs = {}
    for row in sdtm.rs:
        if row.get("RSTESTCD") == "OVRLRESP" and row.get("RSCAT") == _RECIST:
            seqs[(row["USUBJID"], row["VISIT"])] = int(row["RSSEQ"])
    return seqs


def _bor(case: recist.Case, confirm: bool) -> tuple[str, date | None, str | None]:
    """(BOR, date of the timepoint that gives it, its label) without/with confirmation."""
    result = recist.evaluate(case, Settings(confirmation_required=confirm, with_irecist=False))
    bor = str(result.best_overall_response.value)
    for tp in result.timepoints[1:]:
        overall = tp.recist_overall if tp.recist_overall is not None else tp.overall
        if overall is not None and str(overall.value) == bor and not tp.post_progression:
            return bor, tp.date, tp.label
    return bor, None, None


def build_adam(
    patients: Sequence[tuple[PatientTimeline, EndpointRecords]],
    sdtm: SdtmDatasets,
    studyid: str | None = None,
) -> tuple[AdamDatasets, dict[str, PatientEndpoints]]:
    """Build ADSL, ADRS and ADTTE (module docstring) for the given patients.

    Parameters
    ----------
    patients
        Each patient's evaluated timeline and endpoint records.
    sdtm
        The SDTM datasets built from the same timelines (for ``SRCSEQ``).
    studyid
        As for SDTM: default each patient's trial.

    Returns
    -------
    AdamDatasets, and the derived endpoints by subject id.
    """
    rs_seq = _rs_sequences(sdtm)
    adsl: list[dict[str, Any]] = []
    adrs: list[dict[str, Any]] = []
    adtte: list[dict[str, Any]] = []
    derived: dict[str, PatientEndpoints] = {}
    for timeline, records in patients:
        patient = timeline.patient
        study = studyid or patient.trial or "STUDY"
        usubjid = f"{study}-{patient.subject_id}"
        ident = {"STUDYID": study, "USUBJID": usubjid}
        case = recist.case_from_records(
            patient, timeline.timepoints, timeline.lesions, timeline.measurements
        )
        result = recist.evaluate(case)
        ends = derive_endpoints(
            case,
            result,
            conversion=records.conversion,
            surgery=records.surgery,
            survival=records.survival,
        )
        derived[patient.subject_id] = ends
        survival = records.survival
        start = ends.treatment_start
        adsl.append(
            {
                **ident,
                "SUBJID": patient.subject_id,
                "SITEID": patient.site,
                "ITTFL": "Y",
                "TRTSDT": start,
                "DTHFL": "Y" if survival and survival.death_date else "",
                "DTHDT": survival.death_date if survival else None,
                "LSTALVDT": _last_alive(survival, timeline),
                "EOSDT": survival.off_study_date if survival else None,
                "DCSREAS": (survival.off_study_reason.upper() if survival else ""),
                "NACTDT": survival.new_therapy_date if survival else None,
                "CONVFL": _flag(ends.conversion.met),
                "MPRFL": _flag(ends.mpr.mpr),
                "PCRFL": _flag(ends.mpr.pcr),
            }
        )
        visits = {
            tp.label: (i + 1, tp)
            for i, tp in enumerate(sorted(timeline.timepoints, key=lambda t: t.order))
        }

        day = partial(_study_day, start=start)
        rs_source = partial(_rs_source, rs_seq, usubjid)

        for tp in result.timepoints[1:]:
            overall = tp.recist_overall if tp.recist_overall is not None else tp.overall
            text = _response_text(overall.value if overall else None)
            adrs.append(
                {
                    **ident,
                    "PARAMCD": "OVR",
                    "PARAM": _PARAMS["OVR"],
                    "PARCAT1": _RECIST,
                    "AVALC": text,
                    "AVAL": AVAL_RESPONSE.get(text, 7),
                    "ADT": tp.date,
                    "ADY": day(tp.date),
                    "AVISIT": tp.label.upper(),
                    "AVISITN": visits[tp.label][0] if tp.label in visits else None,
                    "ANL01FL": "" if tp.post_progression else "Y",
                    **rs_source(tp.label),
                }
            )
        for code, confirm in (("BOR", False), ("CBOR", True)):
            bor, bor_date, label = _bor(case, confirm)
            text = _response_text(bor)
            adrs.append(
                {
                    **ident,
                    "PARAMCD": code,
                    "PARAM": _PARAMS[code],
                    "PARCAT1": _RECIST,
                    "AVALC": text,
                    "AVAL": AVAL_RESPONSE.get(text, 7),
                    "ADT": bor_date,
                    "ADY": day(bor_date),
                    "AVISIT": "",
                    "AVISITN": None,
                    "ANL01FL": "Y",
                    **rs_source(label),
                }
            )
        if ends.liver.applicable:
            for ltp in ends.liver.timepoints:
                text = _response_text(ltp.response.value if ltp.response else None)
                adrs.append(
                    {
                        **ident,
                        "PARAMCD": "LIVRESP",
                        "PARAM": _PARAMS["LIVRESP"],
                        "PARCAT1": _LIVER,
                        "AVALC": text,
                        "AVAL": AVAL_RESPONSE.get(text, 7),
                        "ADT": ltp.date,
                        "ADY": day(ltp.date),
                        "AVISIT": ltp.label.upper(),
                        "AVISITN": visits[ltp.label][0] if ltp.label in visits else None,
                        "ANL01FL": "" if ltp.post_progression else "Y",
                        "SRCDOM": "TR",
                        "SRCVAR": "TRSTRESN",
                        "SRCSEQ": None,
                    }
                )
            best = ends.liver.best()
            text = _response_text(best.response.value if best and best.response else "NE")
            adrs.append(
                {
                    **ident,
                    "PARAMCD": "LIVBOR",
                    "PARAM": _PARAMS["LIVBOR"],
                    "PARCAT1": _LIVER,
                    "AVALC": text,
                    "AVAL": AVAL_RESPONSE.get(text, 7),
                    "ADT": best.date if best else None,
                    "ADY": day(best.date if best else None),
                    "AVISIT": "",
                    "AVISITN": None,
                    "ANL01FL": "Y",
                    "SRCDOM": "ADRS",
                    "SRCVAR": "AVALC",
                    "SRCSEQ": None,
                }
            )
        for tte in (ends.pfs, ends.os, ends.dor):
            if tte is not None:
                adtte.append({**ident, **_tte_row(tte, rs_source)})
    return AdamDatasets(adsl, adrs, adtte), derived


def _study_day(d: date | None, start: date | None) -> int | None:
    """ADY: days from *start* (day 1; no day 0), None when either date is missing."""
    if d is None or start is None:
        return None
    return (d - start).days + (1 if d >= start else 0)


def _rs_source(
    rs_seq: Mapping[tuple[str, str], int], usubjid: str, label: str | None
) -> dict[str, Any]:
    """The SDTM RS record an assessment came from (SRCDOM/SRCVAR/SRCSEQ), blank if none."""
    seq = rs_seq.get((usubjid, label.upper())) if label else None
    if seq is None:
        return {"SRCDOM": "", "SRCVAR": "", "SRCSEQ": None}
    return {"SRCDOM": "RS", "SRCVAR": "RSSTRESC", "SRCSEQ": seq}


def _last_alive(survival: Any, timeline: PatientTimeline) -> date | None:
    dates = [tp.scan_date for tp in timeline.timepoints if tp.scan_date]
    if survival is not None:
        dates += [
            d
            for d in (survival.last_known_alive, survival.treatment_start, survival.death_date)
            if d
        ]
    return max(dates) if dates else None


def _tte_row(tte: TimeToEvent, rs_source: Any) -> dict[str, Any]:
    source: Mapping[str, Any]
    if tte.source.startswith("assessment "):
        source = rs_source(tte.source.removeprefix("assessment "))
    else:
        var = {
            "death": "DTHDT",
            "last known alive": "LSTALVDT",
            "treatment start": "TRTSDT",
            "last assessment": "LSTALVDT",
        }.get(tte.source)
        source = {"SRCDOM": "ADSL" if var else "", "SRCVAR": var or "", "SRCSEQ": None}
    return {
        "PARAMCD": tte.param,
        "PARAM": _PARAMS[tte.param],
        "STARTDT": tte.start,
        "ADT": tte.end,
        "AVAL": tte.days,
        "AVALU": "DAYS",
        "CNSR": tte.cnsr,
        "EVNTDESC": tte.description.upper(),
        "CNSDTDSC": "" if tte.event else tte.description.upper(),
        **source,
    }
