"""CDISC SDTM tumour domains TU, TR and RS (rules.md §13), written as CSV.

* **TU** — one TUMIDENT record per lesion at the timepoint it was identified
  (TUORRES ``TARGET`` / ``NON-TARGET`` / ``NEW``), TULNKID ``T01``, ``NT01``, ``NEW01``.
* **TR** — per lesion and timepoint: LDIAM (long axis), LPERP (short axis of nodes),
  TUMSTATE for non-target and new lesions, and one SUMDIAM per timepoint.  A
  target too small to measure has TRORRES ``TOO SMALL TO MEASURE`` and TRSTRESN 5.
  TRLNKID joins TR to TU; TRLNKGRP joins TR to RS.
* **RS** — TRGRESP, NTRGRESP, NEWLPROG and OVRLRESP per timepoint with RSCAT
  ``RECIST 1.1``; iRECIST overall responses are separate records with RSCAT ``iRECIST``.

Split lesions get a TUSPLIT record and one TUMIDENT per fragment (``T01.1``, ...)
whose diameters are the TR rows; a lesion that coalesced into another gets a
TUMERGE record with TUREFID naming the lesion it joined, and TR "NOT DONE".

SAS XPORT is not written.  On PyPI, ``xport`` (3.6.1) has not been released since
2022; ``pyreadstat`` is maintained and writes XPORT (``write_xport``) but needs
pandas, which Caliper does not depend on.  CSV is the exchange format; adding
``pyreadstat`` as an optional extra would give ``.xpt`` in a few lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recist.model import (
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Timepoint,
)
from storage.exchange.sdtm_rs import evaluator_of, rs_rows, visit_of
from storage.exchange.sdtm_terms import (
    METHOD,
    RS_COLUMNS,
    TOO_SMALL,
    TR_COLUMNS,
    TR_TESTS,
    TSTM_MM,
    TU_COLUMNS,
    TU_PREFIX,
    TU_RESULT,
    TU_TESTS,
    TUMSTATE,
    lesion_link_id,
    tu_location,
)
from storage.exchange.timeline import PatientTimeline

__all__ = ["SdtmDatasets", "build_sdtm", "lesion_link_id", "rows_to_csv"]


@dataclass(frozen=True)
class SdtmDatasets:
    """The three domains as lists of rows (column name -> text)."""

    tu: list[dict[str, str]]
    tr: list[dict[str, str]]
    rs: list[dict[str, str]]

    def to_csv(self) -> dict[str, str]:
        """CSV text per domain, keyed ``"tu"``, ``"tr"``, ``"rs"``."""
        return {
            name: rows_to_csv(rows, cols)
            for name, rows, cols in (
                ("tu", self.tu, TU_COLUMNS),
                ("tr", self.tr, TR_COLUMNS),
                ("rs", self.rs, RS_COLUMNS),
            )
        }


def rows_to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """CSV text with a header of ``columns``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build_sdtm(timelines: list[PatientTimeline], studyid: str | None = None) -> SdtmDatasets:
    """Build TU, TR and RS for one or more patients.

    Parameters
    ----------
    timelines
        Each patient's records and ``result_to_dict`` result.
    studyid
        STUDYID; defaults to each patient's ``trial``.

    Returns
    -------
    SdtmDatasets
        Rows in subject, visit, lesion order with --SEQ numbered per subject.
    """
    tu: list[dict[str, str]] = []
    tr: list[dict[str, str]] = []
    rs: list[dict[str, str]] = []
    for timeline in timelines:
        study = studyid or timeline.patient.trial or "STUDY"
        ident = {"STUDYID": study, "USUBJID": f"{study}-{timeline.patient.subject_id}"}
        tu += _number("TU", _tu_rows(timeline, ident))
        tr += _number("TR", _tr_rows(timeline, ident))
        rs += _number("RS", rs_rows(timeline, ident))
    return SdtmDatasets(tu=tu, tr=tr, rs=rs)


def _number(domain: str, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    for seq, row in enumerate(rows, start=1):
        row["DOMAIN"] = domain
        row[f"{domain}SEQ"] = seq
    return [{k: "" if v is None else _text(v) for k, v in row.items()} for row in rows]


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value != int(value) else str(int(value))
    return str(value)


def _lesion_key(lesion: Lesion) -> tuple[int, int, str]:
    """Targets, non-targets, new; then by number (T2 before T10)."""
    digits = "".join(ch for ch in lesion.code if ch.isdigit())
    return (list(TU_PREFIX).index(lesion.kind), int(digits) if digits else 0, lesion.code)


def _link_of(timeline: PatientTimeline, code: str | None) -> str:
    """TULNKID of the lesion with this code (the code itself if unknown)."""
    lesion = next((les for les in timeline.lesions if les.code == code), None)
    return lesion_link_id(lesion.kind, lesion.code) if lesion else str(code or "")


def _tu_rows(timeline: PatientTimeline, ident: Mapping[str, str]) -> list[dict[str, Any]]:
    rows = []
    tps = sorted(timeline.timepoints, key=lambda t: t.order)
    for lesion in sorted(timeline.lesions, key=_lesion_key):
        seen = [
            (i, tp, m)
            for i, tp in enumerate(tps)
            if (m := timeline.measurement(lesion.id, tp.id)) is not None
        ]
        if not seen:
            continue
        link = lesion_link_id(lesion.kind, lesion.code)
        location = tu_location(lesion.organ, lesion.location)
        index, tp, first = seen[0]
        rows.append(
            _tu(
                ident,
                timeline,
                index,
                tp,
                first,
                link,
                "TUMIDENT",
                TU_RESULT[lesion.kind],
                location,
            )
        )
        split = next(((i, t, m) for i, t, m in seen if m.status is MeasurementStatus.SPLIT), None)
        if split is not None:
            i, t, m = split
            rows.append(
                _tu(ident, timeline, i, t, m, link, "TUSPLIT", TU_RESULT[lesion.kind], location)
            )
            rows += [
                _tu(
                    ident,
                    timeline,
                    i,
                    t,
                    m,
                    f"{link}.{n}",
                    "TUMIDENT",
                    TU_RESULT[lesion.kind],
                    location,
                )
                for n in range(1, len(m.fragments_mm) + 1)
            ]
        merged = next(((i, t, m) for i, t, m in seen if m.status is MeasurementStatus.MERGED), None)
        if merged is not None:
            i, t, m = merged
            row = _tu(ident, timeline, i, t, m, link, "TUMERGE", TU_RESULT[lesion.kind], location)
            row["TUREFID"] = _link_of(timeline, m.coalesced_into)
            rows.append(row)
    return rows


def _tu(
    ident: Mapping[str, str],
    timeline: PatientTimeline,
    index: int,
    tp: Timepoint,
    m: Measurement,
    link: str,
    test: str,
    result: str,
    location: str,
) -> dict[str, Any]:
    """One TU record."""
    visit = visit_of(index, tp)
    evaluator, evalid = evaluator_of(timeline, m)
    return {
        **ident,
        "TULNKID": link,
        "TUTESTCD": test,
        "TUTEST": TU_TESTS[test],
        "TUORRES": result,
        "TUSTRESC": result,
        "TUREFID": "",
        "TULOC": location,
        "TUMETHOD": METHOD.get(tp.modality or "CT", "CT SCAN"),
        "TUEVAL": evaluator,
        "TUEVALID": evalid,
        "VISITNUM": visit["VISITNUM"],
        "VISIT": visit["VISIT"],
        "TUDTC": visit["DTC"],
    }


def _tr_rows(timeline: PatientTimeline, ident: Mapping[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    lesions = sorted(timeline.lesions, key=_lesion_key)
    for index, tp in enumerate(sorted(timeline.timepoints, key=lambda t: t.order)):
        visit = visit_of(index, tp)
        group = f"V{index + 1}"
        common = {
            **ident,
            "TRLNKGRP": group,
            "VISITNUM": visit["VISITNUM"],
            "VISIT": visit["VISIT"],
            "TRDTC": visit["DTC"],
            "TRMETHOD": METHOD.get(tp.modality or "CT", "CT SCAN"),
        }
        evaluator = ("INVESTIGATOR", "")
        for lesion in lesions:
            m = timeline.measurement(lesion.id, tp.id)
            if m is None:
                continue
            evaluator = evaluator_of(timeline, m)
            base = {
                **common,
                "TRLNKID": lesion_link_id(lesion.kind, lesion.code),
                "TREVAL": evaluator[0],
                "TREVALID": evaluator[1],
            }
            rows += _lesion_results(
                lesion.kind, lesion.nodal, m, base, _link_of(timeline, m.coalesced_into)
            )
        sum_mm = timeline.result_for(tp.label).get("sum_mm")
        if any(les.kind is LesionKind.TARGET for les in lesions):
            rows.append(
                {
                    **common,
                    "TRLNKID": "",
                    "TREVAL": evaluator[0],
                    "TREVALID": evaluator[1],
                    **_test("SUMDIAM"),
                    **_numeric(sum_mm),
                }
            )
    return rows


def _test(code: str) -> dict[str, str]:
    return {"TRTESTCD": code, "TRTEST": TR_TESTS[code]}


def _numeric(value: Any) -> dict[str, Any]:
    """TRORRES/TRSTRESC/TRSTRESN in mm, or TRSTAT NOT DONE when missing."""
    if value is None:
        return {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}
    number = round(float(value), 1)
    return {
        "TRORRES": number,
        "TRORRESU": "mm",
        "TRSTRESC": number,
        "TRSTRESN": number,
        "TRSTRESU": "mm",
    }


def _lesion_results(
    kind: LesionKind, nodal: bool, m: Measurement, base: Mapping[str, Any], merged_into: str
) -> list[dict[str, Any]]:
    """TR rows of one lesion at one timepoint."""
    status = m.status
    if kind is not LesionKind.TARGET:
        state = TUMSTATE.get(status)
        rows = [
            {
                **base,
                **_test("TUMSTATE"),
                **(
                    {"TRORRES": state, "TRSTRESC": state}
                    if state
                    else {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}
                ),
            }
        ]
        if m.long_axis_mm is not None:
            rows.append({**base, **_test("LDIAM"), **_numeric(m.long_axis_mm)})
        if nodal and m.short_axis_mm is not None:
            rows.append({**base, **_test("LPERP"), **_numeric(m.short_axis_mm)})
        return rows
    code = "LPERP" if nodal else "LDIAM"
    if status is MeasurementStatus.TOO_SMALL:
        return [
            {
                **base,
                **_test(code),
                "TRORRES": TOO_SMALL,
                "TRSTRESC": str(TSTM_MM),
                "TRSTRESN": TSTM_MM,
                "TRSTRESU": "mm",
            }
        ]
    if status is MeasurementStatus.NOT_EVALUABLE:
        return [{**base, **_test(code), "TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}]
    if status is MeasurementStatus.ABSENT:
        return [{**base, **_test(code), **_numeric(0.0)}]
    if status is MeasurementStatus.MERGED:
        return [
            {**base, **_test(code), "TRSTAT": "NOT DONE", "TRREASND": f"MERGED WITH {merged_into}"}
        ]
    if status is MeasurementStatus.SPLIT:
        return [
            {**base, **_test(code), "TRLNKID": f"{base['TRLNKID']}.{n}", **_numeric(size)}
            for n, size in enumerate(m.fragments_mm, start=1)
        ]
    rows = []
    if m.long_axis_mm is not None:
        rows.append({**base, **_test("LDIAM"), **_numeric(m.long_axis_mm)})
    if nodal and m.short_axis_mm is not None:
        rows.append({**base, **_test("LPERP"), **_numeric(m.short_axis_mm)})
    return rows
