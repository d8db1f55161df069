"""Validation warnings of rules.md §11 that look at the data rather than the responses.

They never raise: a questionable baseline is still evaluated, with a warning
the reader can act on.
"""

from __future__ import annotations

from collections import Counter

from recist.arith import LESION_MEASURABLE_UM, NODE_MEASURABLE_UM, NODE_NORMAL_UM, fmt_mm
from recist.case import Case, Settings
from recist.prepare import organ_key
from recist.result import RuleWarning

W = RuleWarning


def baseline_warnings(case: Case, settings: Settings) -> list[RuleWarning]:
    """Measurability and target-selection checks on the baseline (§1-2; §11 items 2-6).

    Parameters
    ----------
    case : Case
        The case; its first timepoint is the baseline.
    settings : Settings
        Target limits.

    Returns
    -------
    list[RuleWarning]
        W02-W06 warnings.
    """
    base = case.timepoints[0]
    thickness = base.slice_thickness_um
    limit = max(LESION_MEASURABLE_UM, 2 * thickness) if thickness else LESION_MEASURABLE_UM
    out: list[RuleWarning] = []
    for t in base.targets:
        out.extend(_target_checks(t.id, t.nodal, t.diameter_um, t.tstm, limit, thickness))
    for n in base.non_targets:
        if n.nodal and n.short_axis_um is None:
            out.append(
                W("W04_NODE_WITHOUT_SHORT_AXIS", f"non-target node {n.id} has no short axis", n.id)
            )
        elif n.nodal and n.short_axis_um is not None and n.short_axis_um >= NODE_MEASURABLE_UM:
            out.append(
                W(
                    "W06_ORGAN_WITHOUT_TARGET",
                    f"non-target node {n.id} has short axis {fmt_mm(n.short_axis_um)} mm (≥ 15 mm, "
                    "measurable): targets should represent every involved organ",
                    n.id,
                )
            )
    out.extend(_selection_checks(case, settings))
    return out


def _target_checks(
    lesion: str, nodal: bool, value: int | None, tstm: bool, limit: int, thickness: int | None
) -> list[RuleWarning]:
    if value is None and not tstm:
        code = "W04_NODE_WITHOUT_SHORT_AXIS" if nodal else "W02_TARGET_NOT_MEASURABLE"
        return [W(code, f"target {lesion} has no baseline measurement", lesion)]
    if tstm:
        return [
            W(
                "W02_TARGET_NOT_MEASURABLE",
                f"target {lesion} is TSTM at baseline: not measurable",
                lesion,
            )
        ]
    assert value is not None
    if nodal:
        out = []
        if value < NODE_MEASURABLE_UM:
            kind = (
                "a normal node"
                if value < NODE_NORMAL_UM
                else "pathological but not measurable (non-target)"
            )
            out.append(
                W(
                    "W03_NODE_TARGET_BELOW_15MM",
                    f"nodal target {lesion} short axis {fmt_mm(value)} mm < 15 mm: {kind}",
                    lesion,
                )
            )
        if thickness and value < 2 * thickness:
            out.append(
                W(
                    "W02_TARGET_NOT_MEASURABLE",
                    f"nodal target {lesion} short axis {fmt_mm(value)} mm < 2 × slice thickness "
                    f"{fmt_mm(thickness)} mm (O-1)",
                    lesion,
                )
            )
        return out
    if value < limit:
        return [
            W(
                "W02_TARGET_NOT_MEASURABLE",
                f"target {lesion} {fmt_mm(value)} mm < {fmt_mm(limit)} mm "
                "(max of 10 mm and 2 × slice thickness): not measurable",
                lesion,
            )
        ]
    return []


def _selection_checks(case: Case, settings: Settings) -> list[RuleWarning]:
    base = case.timepoints[0]
    out: list[RuleWarning] = []
    if len(base.targets) > settings.max_targets:
        out.append(
            W(
                "W05_TARGET_LIMITS",
                f"{len(base.targets)} targets: RECIST 1.1 allows at most {settings.max_targets}",
            )
        )
    node_organs = {t.organ.strip().lower() for t in base.targets if t.nodal}
    if len(node_organs) > 1:
        out.append(
            W(
                "W05_TARGET_LIMITS",
                f"nodal targets are recorded under {len(node_organs)} organs "
                f"({', '.join(sorted(node_organs))}): "
                "all lymph nodes together count as one organ",
            )
        )
    if len(base.targets) <= settings.max_targets_per_organ:
        return out
    organs = Counter(organ_key(t.organ, t.nodal) for t in base.targets)
    for organ, count in sorted(organs.items()):
        if count > settings.max_targets_per_organ:
            out.append(
                W(
                    "W05_TARGET_LIMITS",
                    f"{count} targets in {organ}: "
                    f"at most {settings.max_targets_per_organ} per organ "
                    "(a protocol override is a deviation from RECIST 1.1, O-3)",
                )
            )
    return out


def timeline_warnings(case: Case, settings: Settings) -> list[RuleWarning]:
    """Dates, first dose and technique checks across timepoints (§11 items 1, 7, 14, 20)."""
    out: list[RuleWarning] = []
    tps = case.timepoints
    base = tps[0]
    if case.first_dose_date and base.date:
        gap = (case.first_dose_date - base.date).days
        if gap > settings.max_baseline_days_before_dose:
            out.append(
                W(
                    "W01_BASELINE_TOO_EARLY",
                    f"baseline scan {base.date} is {gap} days before the first dose "
                    f"(more than {settings.max_baseline_days_before_dose})",
                )
            )
    if len({tp.label for tp in tps}) != len(tps):
        labels = Counter(tp.label for tp in tps)
        for label, count in labels.items():
            if count > 1:
                out.append(
                    W("W20_TIMEPOINT_ORDER", f"timepoint label {label!r} is used {count} times")
                )
    for prev, tp in zip(tps, tps[1:], strict=False):
        if prev.date and tp.date and tp.date <= prev.date:
            what = "the same date as" if tp.date == prev.date else "earlier than"
            out.append(
                W(
                    "W20_TIMEPOINT_ORDER",
                    f"{tp.label} ({tp.date}) is {what} {prev.label} ({prev.date})",
                )
            )
        if tp.date is None:
            out.append(
                W("W20_TIMEPOINT_ORDER", f"{tp.label} has no date: time rules cannot use it")
            )
    return out


def technique_warnings(case: Case) -> dict[int, list[RuleWarning]]:
    """Modality, contrast phase or slice thickness changed (§11 items 7 and 14), by timepoint."""
    out: dict[int, list[RuleWarning]] = {}
    tps = case.timepoints
    if len({(tp.modality, tp.contrast_phase, tp.slice_thickness_um) for tp in tps}) == 1:
        return out
    for i in range(1, len(tps)):
        prev, tp = tps[i - 1], tps[i]
        changes = []
        for name, a, b in (
            ("modality", prev.modality, tp.modality),
            ("contrast phase", prev.contrast_phase, tp.contrast_phase),
            ("slice thickness", prev.slice_thickness_um, tp.slice_thickness_um),
        ):
            if a is not None and b is not None and a != b:
                shown = (
                    (fmt_mm(a), fmt_mm(b)) if isinstance(a, int) and isinstance(b, int) else (a, b)
                )
                changes.append(f"{name} {shown[0]} -> {shown[1]}")
        if changes:
            notes = [W("W07_TECHNIQUE_CHANGED", f"{'; '.join(changes)} since {prev.label}")]
            if tp.new_lesions and any("modality" in c for c in changes):
                notes.append(
                    W(
                        "W14_NEW_LESION_AFTER_MODALITY_CHANGE",
                        "new lesion found after a modality change: make sure it is not explained "
                        "by the change in technique",
                    )
                )
            out[i] = notes
    return out
