"""Small builders for case dictionaries used by the rule tables."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

BASE_DATE = date(2026, 1, 5)


def tp(
    label: str,
    day: int,
    targets: dict[str, Any] | None = None,
    non_targets: dict[str, Any] | None = None,
    new: list[dict[str, Any]] | None = None,
    *,
    nodal: tuple[str, ...] = (),
    organs: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One timepoint; targets as {id: diameter}, non-targets as {id: status or (status, sa)}."""
    organs = organs or {}
    out: dict[str, Any] = {
        "label": label,
        "date": (BASE_DATE + timedelta(days=day)).isoformat(),
        "slice_thickness_mm": 5,
        "targets": [
            {
                "id": k,
                "organ": organs.get(k, "lymph node" if k in nodal else f"organ-{k}"),
                "nodal": k in nodal,
                "diameter_mm": v,
            }
            for k, v in (targets or {}).items()
        ],
        "non_targets": [],
        "new_lesions": new or [],
        **extra,
    }
    for k, v in (non_targets or {}).items():
        status, sa = (v, None) if isinstance(v, str) else v
        entry: dict[str, Any] = {"id": k, "organ": organs.get(k, "peritoneum"), "status": status}
        if sa is not None:
            entry.update(nodal=True, short_axis_mm=sa, organ="lymph node")
        out["non_targets"].append(entry)
    return out


def new(
    lesion: str, size: Any, *, equivocal: bool = False, organ: str = "lung", **kw: Any
) -> dict[str, Any]:
    """A new-lesion entry."""
    return {"id": lesion, "organ": organ, "equivocal": equivocal, "diameter_mm": size, **kw}


def case(
    *timepoints: dict[str, Any],
    criteria: str = "RECIST1.1",
    confirm: bool = False,
    min_sd_days: int = 42,
    **extra: Any,
) -> dict[str, Any]:
    """A case dictionary."""
    return {
        "id": "TEST",
        "criteria": criteria,
        "confirmation_required": confirm,
        "min_sd_days": min_sd_days,
        "timepoints": list(timepoints),
        **extra,
    }


def sums_case(sums: list[Any], days: list[int] | None = None, **kw: Any) -> dict[str, Any]:
    """A one-target case whose target has the given diameters (first = baseline)."""
    days = days or [0] + [63 * i for i in range(1, len(sums))]
    return case(
        *[tp(f"TP{i}", d, {"T1": s}) for i, (s, d) in enumerate(zip(sums, days, strict=True))], **kw
    )
