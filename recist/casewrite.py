"""Writing a :class:`~recist.case.Case` back to the JSON case format of rules.md §10."""

from __future__ import annotations

from typing import Any

from recist.case import (
    UM_PER_MM,
    Case,
    CaseTimepoint,
    LesionStatus,
    NewLesionEntry,
    NonTargetEntry,
    TargetEntry,
)
from recist.caseimage import image_to_dict

TSTM = "TSTM"


def _mm(value: int | None) -> float | None:
    return None if value is None else value / UM_PER_MM


def _target_dict(entry: TargetEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "organ": entry.organ,
        "nodal": entry.nodal,
        "diameter_mm": TSTM if entry.tstm else _mm(entry.diameter_um),
    }
    if entry.fragments_um:
        out["fragments_mm"] = [_mm(v) for v in entry.fragments_um]
    if entry.coalesced_into:
        out["coalesced_into"] = entry.coalesced_into
    if entry.location:
        out["location"] = entry.location
    if entry.short_axis_um is not None:
        out["short_axis_mm"] = _mm(entry.short_axis_um)
    if entry.long_axis_um is not None:
        out["long_axis_mm"] = _mm(entry.long_axis_um)
    if entry.image is not None:
        out["image"] = image_to_dict(entry.image)
    return out


def _non_target_dict(entry: NonTargetEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.id, "organ": entry.organ, "status": entry.status.value}
    if entry.nodal:
        out["nodal"] = True
    if entry.short_axis_um is not None:
        out["short_axis_mm"] = _mm(entry.short_axis_um)
    if entry.long_axis_um is not None:
        out["long_axis_mm"] = _mm(entry.long_axis_um)
    if entry.location:
        out["location"] = entry.location
    if entry.image is not None:
        out["image"] = image_to_dict(entry.image)
    return out


def _new_lesion_dict(entry: NewLesionEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "organ": entry.organ,
        "equivocal": entry.equivocal,
        "diameter_mm": TSTM if entry.tstm else _mm(entry.diameter_um),
    }
    if entry.nodal:
        out["nodal"] = True
    if entry.status is not LesionStatus.PRESENT:
        out["status"] = entry.status.value
    if entry.short_axis_um is not None:
        out["short_axis_mm"] = _mm(entry.short_axis_um)
    if entry.location:
        out["location"] = entry.location
    if entry.image is not None:
        out["image"] = image_to_dict(entry.image)
    return out


def _timepoint_dict(tp: CaseTimepoint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": tp.label,
        "date": tp.date.isoformat() if tp.date else None,
    }
    if tp.slice_thickness_um is not None:
        out["slice_thickness_mm"] = _mm(tp.slice_thickness_um)
    for key in ("modality", "contrast_phase", "cycle"):
        if getattr(tp, key) is not None:
            out[key] = getattr(tp, key)
    out["targets"] = [_target_dict(e) for e in tp.targets]
    out["non_targets"] = [_non_target_dict(e) for e in tp.non_targets]
    out["new_lesions"] = [_new_lesion_dict(e) for e in tp.new_lesions]
    return out


def case_to_dict(case: Case) -> dict[str, Any]:
    """Write a :class:`Case` in the JSON case format (the inverse of :func:`case_from_dict`).

    Parameters
    ----------
    case : Case
        The case to write.

    Returns
    -------
    dict
        JSON-ready data; ``case_from_dict(case_to_dict(c)) == c``.
    """
    out: dict[str, Any] = {
        "id": case.id,
        "criteria": case.criteria.value,
        "confirmation_required": case.confirmation_required,
        "min_sd_days": case.min_sd_days,
    }
    if case.first_dose_date is not None:
        out["first_dose_date"] = case.first_dose_date.isoformat()
    out["timepoints"] = [_timepoint_dict(tp) for tp in case.timepoints]
    return out
