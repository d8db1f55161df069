"""RS: RECIST 1.1 (and iRECIST) responses per visit, and helpers shared by TU/TR."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recist.model import Criteria, Measurement, Role
from storage.exchange.sdtm_terms import RS_TESTS, SDTM_RESPONSE
from storage.exchange.timeline import PatientTimeline


def evaluator_of(timeline: PatientTimeline, m: Measurement | None) -> tuple[str, str]:
    """(--EVAL, --EVALID) of a measurement's reader."""
    reader = timeline.readers.get(m.reader_id) if m is not None and m.reader_id else None
    if reader is None:
        return "INVESTIGATOR", ""
    role = "INVESTIGATOR" if reader.role is Role.INVESTIGATOR else "RADIOLOGIST"
    return role, reader.username.upper()


def visit_of(tp_index: int, tp: Any) -> dict[str, Any]:
    return {
        "VISITNUM": tp_index + 1,
        "VISIT": tp.label.upper(),
        "DTC": tp.scan_date.isoformat() if tp.scan_date else "",
    }


def _response(value: Any) -> str:
    """ONCRSR term of a response code (``None`` -> empty)."""
    if value is None:
        return ""
    return SDTM_RESPONSE.get(str(value), str(value))


def rs_rows(timeline: PatientTimeline, ident: Mapping[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for index, tp in enumerate(sorted(timeline.timepoints, key=lambda t: t.order)):
        if tp.order == 0:
            continue  # no response at baseline
        res = timeline.result_for(tp.label)
        if not res:
            continue
        visit = visit_of(index, tp)
        evaluator = evaluator_of(
            timeline,
            next(
                (m for m in timeline.measurements if m.timepoint_id == tp.id and m.reader_id), None
            ),
        )
        common = {
            **ident,
            "RSLNKGRP": f"V{index + 1}",
            "RSEVAL": evaluator[0],
            "RSEVALID": evaluator[1],
            "VISITNUM": visit["VISITNUM"],
            "VISIT": visit["VISIT"],
            "RSDTC": visit["DTC"],
        }
        overall = res.get("overall")
        irecist_code = isinstance(overall, str) and overall.startswith(("i", "non-i"))
        recist_overall = res.get("recist_overall", None if irecist_code else overall)
        irecist_overall = None
        if timeline.patient.criteria is Criteria.IRECIST:  # both tracks run; report what was asked
            irecist_overall = res.get("irecist_overall") or (overall if irecist_code else None)
        new = res.get("new_lesions")
        values = [
            ("TRGRESP", res.get("target")),
            ("NTRGRESP", res.get("non_target")),
            ("NEWLPROG", None if new is None else ("Y" if new else "N")),
            ("OVRLRESP", recist_overall),
        ]
        for code, value in values:
            if value is None:
                continue
            rows.append(
                {
                    **common,
                    "RSTESTCD": code,
                    "RSTEST": RS_TESTS[code],
                    "RSCAT": "RECIST 1.1",
                    "RSORRES": _response(value),
                    "RSSTRESC": _response(value),
                }
            )
        if irecist_overall:
            rows.append(
                {
                    **common,
                    "RSTESTCD": "OVRLRESP",
                    "RSTEST": RS_TESTS["OVRLRESP"],
                    "RSCAT": "iRECIST",
                    "RSORRES": _response(irecist_overall),
                    "RSSTRESC": _response(irecist_overall),
                }
            )
    return rows
