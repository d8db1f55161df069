"""RS: RECIST 1.1 (and iRECIST) responses per visit and best overall response; the
per-subject context (visits, evaluators) that TU/TR/RS share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recist.model import Criteria, Measurement, Role, Timepoint
from storage.exchange.sdtm_terms import RS_TESTS, SDTM_RESPONSE
from storage.exchange.timeline import PatientTimeline


@dataclass(frozen=True)
class Context:
    """One subject's export context.

    Parameters
    ----------
    timeline
        The subject's records and result.
    ident
        ``STUDYID`` and ``USUBJID``.
    visits
        (VISIT, VISITNUM) per timepoint id, from the trial's schedule.
    radiologists
        Reader id -> n of ``RADIOLOGIST n`` (non-investigator readers of the export).
    baseline_flag
        ``TRLOBXFL`` (SDTMIG 3.4) or ``TRBLFL`` (3.3).
    """

    timeline: PatientTimeline
    ident: Mapping[str, str]
    visits: Mapping[int | None, tuple[str, float]]
    radiologists: Mapping[int, int]
    baseline_flag: str

    def evaluator(self, m: Measurement | None) -> tuple[str, str]:
        """(--EVAL, --EVALID) of a measurement's reader (SDTMIG oncology examples)."""
        reader = self.timeline.readers.get(m.reader_id) if m is not None and m.reader_id else None
        if reader is None or reader.role is Role.INVESTIGATOR or reader.id is None:
            return "INVESTIGATOR", ""
        return "INDEPENDENT ASSESSOR", f"RADIOLOGIST {self.radiologists.get(reader.id, 1)}"

    def link_group(self, tp: Timepoint) -> str:
        """TRLNKGRP/RSLNKGRP of a timepoint: ``V`` + its VISITNUM."""
        number = self.visits[tp.id][1]
        return f"V{number:g}"


def _response(value: Any) -> str:
    """ONCRSR term of a response code (``None`` -> empty)."""
    if value is None:
        return ""
    return SDTM_RESPONSE.get(str(value), str(value))


def rs_rows(ctx: Context) -> list[dict[str, Any]]:
    """RS records of one subject: per follow-up visit, then the best overall responses."""
    timeline = ctx.timeline
    rows: list[dict[str, Any]] = []
    evaluator = ("INVESTIGATOR", "")
    irecist = timeline.patient.criteria is Criteria.IRECIST
    for tp in sorted(timeline.timepoints, key=lambda t: t.order):
        if tp.is_baseline:
            continue  # no response at baseline
        res = timeline.result_for(tp.label)
        if not res:
            continue
        visit, visitnum = ctx.visits[tp.id]
        evaluator = ctx.evaluator(
            next(
                (m for m in timeline.measurements if m.timepoint_id == tp.id and m.reader_id), None
            )
        )
        common = {
            **ctx.ident,
            "RSLNKGRP": ctx.link_group(tp),
            "RSEVAL": evaluator[0],
            "RSEVALID": evaluator[1],
            "RSDRVFL": "Y",
            "VISITNUM": visitnum,
            "VISIT": visit,
            "RSDTC": tp.scan_date.isoformat() if tp.scan_date else "",
        }
        overall = res.get("overall")
        irecist_code = isinstance(overall, str) and overall.startswith(("i", "non-i"))
        recist_overall = res.get("recist_overall") or (None if irecist_code else overall)
        new = res.get("new_lesions")
        values = [
            ("TRGRESP", res.get("target"), "RECIST 1.1"),
            ("NTRGRESP", res.get("non_target"), "RECIST 1.1"),
            ("NEWLPROG", None if new is None else ("Y" if new else "N"), "RECIST 1.1"),
            ("OVRLRESP", recist_overall, "RECIST 1.1"),
        ]
        if irecist:  # both tracks run; report what was asked
            values.append(
                (
                    "OVRLRESP",
                    res.get("irecist_overall") or (overall if irecist_code else None),
                    "iRECIST",
                )
            )
        rows += [_row(common, code, value, cat) for code, value, cat in values if value]
    rows += _best(ctx, evaluator, irecist)
    return rows


def _row(common: Mapping[str, Any], code: str, value: Any, category: str) -> dict[str, Any]:
    return {
        **common,
        "RSTESTCD": code,
        "RSTEST": RS_TESTS[code],
        "RSCAT": category,
        "RSORRES": _response(value),
        "RSSTRESC": _response(value),
    }


def _best(ctx: Context, evaluator: tuple[str, str], irecist: bool) -> list[dict[str, Any]]:
    """BESTRESP per criterion: one record per subject, no visit (SDTMIG RS example)."""
    result = ctx.timeline.result
    if len(ctx.timeline.timepoints) < 2:
        return []
    common = {
        **ctx.ident,
        "RSLNKGRP": "",
        "RSEVAL": evaluator[0],
        "RSEVALID": evaluator[1],
        "RSDRVFL": "Y",
        "VISITNUM": None,
        "VISIT": "",
        "RSDTC": "",
    }
    overall_bor = result.get("best_overall_response")
    i_code = isinstance(overall_bor, str) and overall_bor.startswith(("i", "non-i"))
    tracks = [
        (
            "RECIST 1.1",
            (result.get("recist") or {}).get("best_overall_response")
            or (None if i_code else overall_bor),
        )
    ]
    if irecist:
        tracks.append(
            (
                "iRECIST",
                (result.get("irecist") or {}).get("best_overall_response")
                or (overall_bor if i_code else None),
            )
        )
    return [_row(common, "BESTRESP", bor, cat) for cat, bor in tracks if bor]
