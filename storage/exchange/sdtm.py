"""CDISC SDTM tumour domains TU, TR and RS (rules.md §13), written as CSV.

Follows the SDTMIG (3.4 by default, 3.3 on request) and the CDISC RECIST 1.1
supplement:

* **TU** — one TUMIDENT record per lesion at the timepoint it was identified
  (TUORRES ``TARGET`` / ``NON-TARGET`` / ``NEW``), TULNKID ``T01``, ``NT01``,
  ``NEW01``; TULOC the organ's CDISC LOC term (the free-text location goes to
  SUPPTU, QNAM ``TULOCDTL``); TUREFID the SOP Instance UID of the image the
  lesion was identified on.
* **TR** — per lesion and timepoint: LDIAM (long axis) or, for a lymph node,
  LPERP (its short axis: the supplement's test, where rules.md says SAXIS),
  TUMSTATE for non-target and new lesions (``EQUIVOCAL`` for an equivocal new
  lesion, ``ABSENT`` for a resolved one), and one SUMDIAM per timepoint
  (derived, TRDRVFL ``Y``; a sum that misses a not-evaluable target is only a
  lower bound, so it is NOT DONE with the available sum in TRREASND).  A target
  too small to measure has TRORRES ``TOO SMALL TO MEASURE`` and TRSTRESN 5; a
  lesion that coalesced into another measures 0 mm.  The baseline records carry
  TRLOBXFL (3.4) or TRBLFL (3.3).
* **RS** — TRGRESP, NTRGRESP, NEWLPROG and OVRLRESP per timepoint and one
  BESTRESP per subject with RSCAT ``RECIST 1.1``; with iRECIST the overall and
  best overall responses again with RSCAT ``iRECIST``.  Computed by the engine,
  so RSDRVFL ``Y``.

* **SUPPTR** — a diameter (LDIAM/LPERP) that an algorithm proposed (issue 16's Smart
  caliper) is qualified, by TRSEQ, with MEASMETH ``SEMI-AUTOMATIC``, MEASALG the algorithm
  and its version, MEASEDIT ``Y``/``N`` whether the reader changed the proposal and MEASEDTL
  what (:data:`~storage.exchange.sdtm_terms.TR_QUALIFIERS`); a record without them was
  measured by hand.  The PDF report and the timeline say the same (their method columns).
  Such a measurement's stored contour also gives a TR **VOLUME** record (mL), qualified the
  same way (edited there means: the reader edited the contour).

VISIT/VISITNUM come from the trial's visit schedule
(:mod:`storage.exchange.sdtm_visits`).  --EVAL is ``INVESTIGATOR`` for an
investigator's reading and ``INDEPENDENT ASSESSOR`` for a radiologist's, whose
--EVALID is ``RADIOLOGIST n`` (numbered per export, never a login name).

Split lesions get a TUSPLIT record and one TUMIDENT per fragment (``T01.1``,
...) whose diameters are the TR rows; a lesion that coalesced into another gets
a TUMERGE record whose TUGRPID names the lesion it joined.  The conformance
rules these datasets meet are checked by :mod:`storage.exchange.sdtm_check`;
``sdtm_define`` describes them in Define-XML 2.1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from recist.model import (
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Method,
    Role,
    Timepoint,
)
from storage.exchange.sdtm_rs import Context, rs_rows
from storage.exchange.sdtm_terms import (
    BASELINE_FLAG,
    EQUIVOCAL,
    METHOD,
    QUALIFIER_ORIGIN,
    RS_COLUMNS,
    SEMI_AUTOMATIC,
    SUPP_COLUMNS,
    TOO_SMALL,
    TR_QUALIFIERS,
    TR_TESTS,
    TSTM_MM,
    TU_COLUMNS,
    TU_PREFIX,
    TU_RESULT,
    TU_TESTS,
    TUMSTATE,
    VOLUME_UNIT,
    lesion_link_id,
    tr_columns,
    tu_location,
)
from storage.exchange.sdtm_visits import VisitSchedule, assign_visits, default_schedule
from storage.exchange.timeline import MeasurementProvenance, PatientTimeline

__all__ = ["SdtmDatasets", "build_sdtm", "lesion_link_id", "rows_to_csv"]


@dataclass(frozen=True)
class SdtmDatasets:
    """The domains as lists of rows (column name -> text), and their variables."""

    tu: list[dict[str, str]]
    tr: list[dict[str, str]]
    rs: list[dict[str, str]]
    supptu: list[dict[str, str]] = field(default_factory=list)
    version: str = "3.4"
    supptr: list[dict[str, str]] = field(default_factory=list)

    def columns(self) -> dict[str, tuple[str, ...]]:
        """The variables of each dataset, in order."""
        return {
            "tu": TU_COLUMNS,
            "tr": tr_columns(self.version),
            "rs": RS_COLUMNS,
            "supptu": SUPP_COLUMNS,
            "supptr": SUPP_COLUMNS,
        }

    def datasets(self) -> dict[str, list[dict[str, str]]]:
        """Rows per dataset (``supptu`` and ``supptr`` only when they have records)."""
        out = {"tu": self.tu, "tr": self.tr, "rs": self.rs}
        if self.supptu:
            out["supptu"] = self.supptu
        if self.supptr:
            out["supptr"] = self.supptr
        return out

    def to_csv(self) -> dict[str, str]:
        """CSV text per dataset, keyed ``"tu"``, ``"tr"``, ``"rs"`` (and the SUPP-- ones)."""
        cols = self.columns()
        return {name: rows_to_csv(rows, cols[name]) for name, rows in self.datasets().items()}


def rows_to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """CSV text with a header of ``columns``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build_sdtm(
    timelines: list[PatientTimeline],
    studyid: str | None = None,
    *,
    version: str = "3.4",
    schedule: VisitSchedule | None = None,
) -> SdtmDatasets:
    """Build TU, TR, RS (and SUPPTU, SUPPTR) for one or more patients.

    Parameters
    ----------
    timelines
        Each patient's records and ``result_to_dict`` result; their ``provenance`` (read with
        ``app.timelines.with_provenance``) gives SUPPTR its algorithm and edits.
    studyid
        STUDYID; defaults to each patient's trial.
    version
        ``"3.4"`` (TRLOBXFL) or ``"3.3"`` (TRBLFL).
    schedule
        The trial's planned visits (default: :func:`default_schedule`).

    Returns
    -------
    SdtmDatasets
        Rows in subject, visit, lesion order with --SEQ numbered per subject.
    """
    if version not in BASELINE_FLAG:
        raise ValueError(f"version must be one of {sorted(BASELINE_FLAG)}, got {version!r}")
    schedule = schedule or default_schedule()
    radiologists = _radiologists(timelines)
    tu: list[dict[str, Any]] = []
    tr: list[dict[str, Any]] = []
    rs: list[dict[str, Any]] = []
    supp: list[dict[str, Any]] = []
    supptr: list[dict[str, Any]] = []
    for timeline in timelines:
        study = studyid or timeline.patient.trial or "STUDY"
        ident = {"STUDYID": study, "USUBJID": f"{study}-{timeline.patient.subject_id}"}
        ctx = Context(
            timeline,
            ident,
            assign_visits(timeline.patient, timeline.timepoints, schedule),
            radiologists,
            BASELINE_FLAG[version],
        )
        tu_rows, supp_rows = _tu_rows(ctx)
        tu += _number("TU", tu_rows)
        supp += _supp(ident, tu_rows, supp_rows)
        tr_rows, methods = _tr_rows(ctx)
        tr += _number("TR", tr_rows)
        supptr += _supp_tr(ident, tr_rows, methods)
        rs += _number("RS", rs_rows(ctx))
    data = SdtmDatasets(tu=tu, tr=tr, rs=rs, supptu=supp, version=version, supptr=supptr)
    for name, rows in data.datasets().items():  # every variable in every row ("" if empty)
        columns = data.columns()[name]
        for row in rows:
            for column in columns:
                row.setdefault(column, "")
    return data


def _radiologists(timelines: list[PatientTimeline]) -> dict[int, int]:
    """Reader id -> n of ``RADIOLOGIST n`` for every non-investigator reader who measured."""
    ids = sorted(
        {
            m.reader_id
            for t in timelines
            for m in t.measurements
            if m.reader_id is not None
            and m.reader_id in t.readers
            and t.readers[m.reader_id].role is not Role.INVESTIGATOR
        }
    )
    return {reader_id: n for n, reader_id in enumerate(ids, start=1)}


def _number(domain: str, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    for seq, row in enumerate(rows, start=1):
        row["DOMAIN"] = domain
        row[f"{domain}SEQ"] = seq
    return [{k: "" if v is None else _text(v) for k, v in row.items()} for row in rows]


def _supp(
    ident: Mapping[str, str], tu_rows: list[dict[str, Any]], details: list[tuple[int, str]]
) -> list[dict[str, str]]:
    """SUPPTU records: the free-text location of a lesion, tied to its TUMIDENT by TUSEQ."""
    return [
        {
            **ident,
            "RDOMAIN": "TU",
            "IDVAR": "TUSEQ",
            "IDVARVAL": str(tu_rows[index]["TUSEQ"]),
            "QNAM": "TULOCDTL",
            "QLABEL": "Location Detail",
            "QVAL": text[:200],
            "QORIG": "CRF",
            "QEVAL": "",
        }
        for index, text in details
    ]


def _supp_tr(
    ident: Mapping[str, str],
    tr_rows: list[dict[str, Any]],
    methods: list[tuple[int, MeasurementProvenance]],
) -> list[dict[str, str]]:
    """SUPPTR records: how a semi-automatic diameter was made, tied to it by TRSEQ."""
    out = []
    for index, provenance in methods:
        edited = provenance.edited
        values = {
            "MEASMETH": SEMI_AUTOMATIC,
            "MEASALG": f"{provenance.algorithm} {provenance.algorithm_version}".strip(),
            "MEASEDIT": "" if edited is None else ("Y" if edited else "N"),
            "MEASEDTL": provenance.edits if edited else "",
        }
        out += [
            {
                **ident,
                "RDOMAIN": "TR",
                "IDVAR": "TRSEQ",
                "IDVARVAL": str(tr_rows[index]["TRSEQ"]),
                "QNAM": qnam,
                "QLABEL": TR_QUALIFIERS[qnam],
                "QVAL": value[:200],
                "QORIG": QUALIFIER_ORIGIN[qnam],
                "QEVAL": "",
            }
            for qnam, value in values.items()
            if value  # no record for a value that is not known
        ]
    return out


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def _lesion_key(lesion: Lesion) -> tuple[int, int, str]:
    """Targets, non-targets, new; then by number (T2 before T10)."""
    digits = "".join(ch for ch in lesion.code if ch.isdigit())
    return (list(TU_PREFIX).index(lesion.kind), int(digits) if digits else 0, lesion.code)


def _link_of(timeline: PatientTimeline, code: str | None) -> str:
    """TULNKID of the lesion with this code (the code itself if unknown)."""
    lesion = next((les for les in timeline.lesions if les.code == code), None)
    return lesion_link_id(lesion.kind, lesion.code) if lesion else str(code or "")


def _tu_rows(ctx: Context) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """TU records, and (index of the TUMIDENT record, location text) for SUPPTU."""
    timeline = ctx.timeline
    rows: list[dict[str, Any]] = []
    details: list[tuple[int, str]] = []
    tps = sorted(timeline.timepoints, key=lambda t: t.order)
    for lesion in sorted(timeline.lesions, key=_lesion_key):
        seen = [(tp, m) for tp in tps if (m := timeline.measurement(lesion.id, tp.id)) is not None]
        if not seen:
            continue
        link = lesion_link_id(lesion.kind, lesion.code)
        result = TU_RESULT[lesion.kind]
        tp, first = seen[0]
        ident_row = _tu(ctx, tp, first, link, "TUMIDENT", result, lesion)
        ident_row["TUREFID"] = first.geometry.sop_instance_uid if first.geometry else ""
        if lesion.location:
            details.append((len(rows), lesion.location))
        rows.append(ident_row)
        split = next(((t, m) for t, m in seen if m.status is MeasurementStatus.SPLIT), None)
        if split is not None:
            t, m = split
            rows.append(_tu(ctx, t, m, link, "TUSPLIT", result, lesion))
            rows += [
                _tu(ctx, t, m, f"{link}.{n}", "TUMIDENT", result, lesion)
                for n in range(1, len(m.fragments_mm) + 1)
            ]
        merged = next(((t, m) for t, m in seen if m.status is MeasurementStatus.MERGED), None)
        if merged is not None:
            t, m = merged
            row = _tu(ctx, t, m, link, "TUMERGE", result, lesion)
            row["TUGRPID"] = _link_of(timeline, m.coalesced_into)
            rows.append(row)
    return rows, details


def _tu(
    ctx: Context,
    tp: Timepoint,
    m: Measurement,
    link: str,
    test: str,
    result: str,
    lesion: Lesion,
) -> dict[str, Any]:
    """One TU record."""
    visit, visitnum = ctx.visits[tp.id]
    evaluator, evalid = ctx.evaluator(m)
    return {
        **ctx.ident,
        "TUGRPID": "",
        "TUREFID": "",
        "TULNKID": link,
        "TUTESTCD": test,
        "TUTEST": TU_TESTS[test],
        "TUORRES": result,
        "TUSTRESC": result,
        "TULOC": tu_location(lesion.organ),
        "TUMETHOD": METHOD.get(tp.modality or "CT", "CT SCAN"),
        "TUEVAL": evaluator,
        "TUEVALID": evalid,
        "VISITNUM": visitnum,
        "VISIT": visit,
        "TUDTC": tp.scan_date.isoformat() if tp.scan_date else "",
    }


def _tr_rows(ctx: Context) -> tuple[list[dict[str, Any]], list[tuple[int, MeasurementProvenance]]]:
    """TR records, and (index of a semi-automatic diameter's record, how it was made)."""
    timeline = ctx.timeline
    rows: list[dict[str, Any]] = []
    methods: list[tuple[int, MeasurementProvenance]] = []
    lesions = sorted(timeline.lesions, key=_lesion_key)
    for tp in sorted(timeline.timepoints, key=lambda t: t.order):
        visit, visitnum = ctx.visits[tp.id]
        common = {
            **ctx.ident,
            "TRLNKGRP": ctx.link_group(tp),
            "VISITNUM": visitnum,
            "VISIT": visit,
            "TRDTC": tp.scan_date.isoformat() if tp.scan_date else "",
            "TRMETHOD": METHOD.get(tp.modality or "CT", "CT SCAN"),
            ctx.baseline_flag: "Y" if tp.is_baseline else "",
        }
        evaluator = ("INVESTIGATOR", "")
        for lesion in lesions:
            m = timeline.measurement(lesion.id, tp.id)
            if m is None:
                continue
            evaluator = ctx.evaluator(m)
            base = {
                **common,
                "TRLNKID": lesion_link_id(lesion.kind, lesion.code),
                "TREVAL": evaluator[0],
                "TREVALID": evaluator[1],
            }
            start = len(rows)
            rows += _lesion_results(lesion.kind, lesion.nodal, m, base)
            if m.method is Method.SEMI_AUTO:
                provenance = timeline.provenance_of(m)
                methods += [
                    (i, provenance)
                    for i in range(start, len(rows))
                    if rows[i]["TRTESTCD"] in _DIAMETERS
                    and rows[i].get("TRORRES") not in ("", None)
                ]
                volume = _volume_row(m, provenance, base)
                if volume is not None:
                    # the volume is the contour's: only a contour edit changed it
                    methods.append((len(rows), replace(provenance, caliper_change="")))
                    rows.append(volume)
        if any(les.kind is LesionKind.TARGET for les in lesions):
            rows.append(_sum_row(common, evaluator, timeline.result_for(tp.label)))
    return rows, methods


#: The TR tests of a lesion's own diameter (the ones SUPPTR qualifies, with VOLUME).
_DIAMETERS = ("LDIAM", "LPERP")


def _volume_row(
    m: Measurement, provenance: MeasurementProvenance, base: Mapping[str, Any]
) -> dict[str, Any] | None:
    """VOLUME of a semi-automatic measurement's stored contour (mL), None without one."""
    if provenance.volume_ml is None or m.status is not MeasurementStatus.MEASURED:
        return None
    volume = round(float(provenance.volume_ml), 2)
    return {
        **base,
        **_test("VOLUME"),
        "TRORRES": volume,
        "TRORRESU": VOLUME_UNIT,
        "TRSTRESC": volume,
        "TRSTRESN": volume,
        "TRSTRESU": VOLUME_UNIT,
    }


def _sum_row(
    common: Mapping[str, Any], evaluator: tuple[str, str], result: Mapping[str, Any]
) -> dict[str, Any]:
    """SUMDIAM: derived; a lower bound (a target not evaluable) is NOT DONE."""
    row = {
        **common,
        "TRLNKID": "",
        "TREVAL": evaluator[0],
        "TREVALID": evaluator[1],
        "TRDRVFL": "Y",
        **_test("SUMDIAM"),
    }
    sum_mm = result.get("sum_mm")
    if sum_mm is not None and result.get("complete", True) is False:
        return {
            **row,
            "TRSTAT": "NOT DONE",
            "TRREASND": f"NOT ALL TARGETS EVALUABLE (SUM OF AVAILABLE {_text(float(sum_mm))} MM)",
        }
    return {**row, **_numeric(sum_mm)}


def _test(code: str) -> dict[str, str]:
    return {"TRTESTCD": code, "TRTEST": TR_TESTS[code]}


def _numeric(value: Any) -> dict[str, Any]:
    """TRORRES/TRSTRESC/TRSTRESN in mm, or TRSTAT NOT DONE when missing."""
    if value is None:
        return {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}
    number = round(float(value), 3)
    return {
        "TRORRES": number,
        "TRORRESU": "mm",
        "TRSTRESC": number,
        "TRSTRESN": number,
        "TRSTRESU": "mm",
    }


def _state(m: Measurement, kind: LesionKind) -> str | None:
    if kind is LesionKind.NEW and m.equivocal and m.status is not MeasurementStatus.ABSENT:
        return EQUIVOCAL
    return TUMSTATE.get(m.status)


def _lesion_results(
    kind: LesionKind, nodal: bool, m: Measurement, base: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """TR rows of one lesion at one timepoint."""
    status = m.status
    if kind is not LesionKind.TARGET:
        state = _state(m, kind)
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
        if nodal and m.short_axis_mm is not None:
            rows.append({**base, **_test("LPERP"), **_numeric(m.short_axis_mm)})
        elif m.long_axis_mm is not None:
            rows.append({**base, **_test("LDIAM"), **_numeric(m.long_axis_mm)})
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
    if status in (MeasurementStatus.ABSENT, MeasurementStatus.MERGED):
        return [{**base, **_test(code), **_numeric(0.0)}]
    if status is MeasurementStatus.SPLIT:
        return [
            {**base, **_test(code), "TRLNKID": f"{base['TRLNKID']}.{n}", **_numeric(size)}
            for n, size in enumerate(m.fragments_mm, start=1)
        ]
    value = m.short_axis_mm if nodal else m.long_axis_mm
    return [{**base, **_test(code), **_numeric(value)}] if value is not None else []
