"""Turn a :class:`~recist.case.Case` into aligned integer arrays the tracks can loop over fast.

This is where "TSTM = 5 mm", "missing = not evaluable (never 0)", equivocal
new lesions seen with hindsight (§4.4, O-8) and new nodes (O-9) are resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from recist.arith import NODE_MEASURABLE_UM, NODE_NORMAL_UM, fmt_mm
from recist.case import Case, CaseTimepoint, LesionStatus, NewLesionEntry, Settings
from recist.result import RuleWarning

_PRESENT_NEW = (
    LesionStatus.PRESENT,
    LesionStatus.UNEQUIVOCAL_PROGRESSION,
    LesionStatus.FURTHER_INCREASE,
)
_LATERALITY = ("left ", "right ", "bilateral ", "l ", "r ")


_new_prepared = tuple.__new__  # skips NamedTuple.__new__: this runs once per timepoint


def organ_key(organ: str, nodal: bool) -> str:
    """The organ a lesion counts against (O-2: no laterality; all nodes are one organ)."""
    if nodal:
        return "lymph node"
    key = organ.strip().lower()
    for word in _LATERALITY:
        if key.startswith(word):
            key = key[len(word) :]
    for suffix in (" left", " right", " (left)", " (right)"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


@dataclass(slots=True)
class NewLesion:
    """A new lesion that counts at a timepoint (unequivocal, or confirmed later)."""

    id: str
    organ_key: str
    nodal: bool
    size_um: int | None
    tstm: bool
    status: LesionStatus


class PreparedTimepoint(NamedTuple):
    """One timepoint as integers aligned with the baseline lesions."""

    position: int
    label: str
    date: date | None
    day: int | None
    values: list[int | None]
    sum_lb: int | None
    complete: bool
    nt_status: list[LesionStatus]
    nt_short_axis: list[int | None]
    new: dict[str, NewLesion]
    warnings: list[RuleWarning]


@dataclass(slots=True)
class Prepared:
    """A case ready for the tracks."""

    target_ids: tuple[str, ...]
    target_nodal: list[bool]
    nt_ids: tuple[str, ...]
    nt_nodal: list[bool]
    baseline_sum: int | None
    reference_date: date | None
    timepoints: list[PreparedTimepoint]


def _new_size(entry: NewLesionEntry, tstm_um: int) -> int | None:
    return tstm_um if entry.tstm else entry.size_um


def _new_unequivocal(entry: NewLesionEntry, settings: Settings, tstm_um: int) -> bool | None:
    """True/False for a present new lesion; None when it is no lesion (a normal node)."""
    if entry.nodal:
        size = _new_size(entry, tstm_um)
        if size is not None and size < NODE_NORMAL_UM:
            return None
        if size is not None and size < NODE_MEASURABLE_UM and settings.new_node_10_15_equivocal:
            return False
    return not entry.equivocal


def _new_lesions(
    case: Case, settings: Settings, tstm_um: int
) -> tuple[list[dict[str, NewLesion]], list[list[RuleWarning]]]:
    """Which new lesions count at each timepoint, with hindsight (§4.4, O-8, O-9)."""
    tps = case.timepoints
    unequivocal_at: dict[str, int] = {}
    flags: list[list[tuple[NewLesionEntry, bool | None]]] = []
    for i, tp in enumerate(tps):
        row = []
        for entry in tp.new_lesions:
            present = entry.status in _PRESENT_NEW and entry.size_um != 0
            flag = _new_unequivocal(entry, settings, tstm_um) if present else None
            if flag:
                unequivocal_at.setdefault(entry.id, i)
            row.append((entry, flag if present else None))
        flags.append(row)
    counted: list[dict[str, NewLesion]] = []
    notes: list[list[RuleWarning]] = []
    for i, row in enumerate(flags):
        here: dict[str, NewLesion] = {}
        tp_notes: list[RuleWarning] = []
        for entry, flag in row:
            if flag is None:
                if entry.nodal and entry.status in _PRESENT_NEW and entry.size_um:
                    tp_notes.append(
                        RuleWarning(
                            "W13_NEW_NODE_10_15MM",
                            f"new node {entry.id} has short axis {fmt_mm(entry.size_um)} mm "
                            "< 10 mm: a normal node, not a new lesion",
                            entry.id,
                        )
                    )
                continue
            first = unequivocal_at.get(entry.id)
            confirmed = first is not None and (first <= i or settings.hindsight)
            if not flag:
                tp_notes.append(_equivocal_note(entry, confirmed, first, i, tps, tstm_um))
            if flag or confirmed:
                here[entry.id] = NewLesion(
                    entry.id,
                    organ_key(entry.organ, entry.nodal),
                    entry.nodal,
                    _new_size(entry, tstm_um),
                    entry.tstm,
                    entry.status,
                )
        counted.append(here)
        notes.append(tp_notes)
    return counted, notes


def _equivocal_note(
    entry: NewLesionEntry,
    confirmed: bool,
    first: int | None,
    here: int,
    tps: tuple[CaseTimepoint, ...],
    tstm_um: int,
) -> RuleWarning:
    size = _new_size(entry, tstm_um)
    if entry.nodal and size is not None and size < NODE_MEASURABLE_UM:
        what = f"new node {entry.id} with short axis {fmt_mm(size)} mm (10-15 mm) is equivocal"
        code = "W13_NEW_NODE_10_15MM"
    else:
        what = f"new lesion {entry.id} is equivocal"
        code = "W12_EQUIVOCAL_NEW_LESION_OPEN"
    if confirmed and first is not None and first < here:
        return RuleWarning(
            "W12_EQUIVOCAL_NEW_LESION_OPEN",
            f"{what} here but was already unequivocal at {tps[first].label}: "
            "it still counts as new",
            entry.id,
        )
    if confirmed and first is not None:
        return RuleWarning(
            "W21_HINDSIGHT_REVISION",
            f"{what} here but was confirmed at {tps[first].label}: with hindsight it counts "
            "as new from this timepoint (PD dated to the first scan that showed it)",
            entry.id,
        )
    return RuleWarning(code, f"{what}: not PD yet, reassess at the next timepoint", entry.id)


def prepare(case: Case, settings: Settings, reference_date: date | None) -> Prepared:
    """Align every timepoint with the baseline lesions, as integer micrometres.

    Parameters
    ----------
    case : Case
        The case.
    settings : Settings
        Gives the TSTM value and the new-lesion options.
    reference_date : date or None
        Day 0 for ``PreparedTimepoint.day`` (first dose, else baseline).

    Returns
    -------
    Prepared
        Baseline lesion order, baseline SOD and one :class:`PreparedTimepoint` each.
    """
    tstm_um = settings.tstm_um
    tps = case.timepoints
    base = tps[0]
    target_ids = base.target_ids
    target_nodal = [t.nodal for t in base.targets]
    nt_ids = base.non_target_ids
    nt_nodal = [n.nodal for n in base.non_targets]
    n_targets, _n_nt = len(target_ids), len(nt_ids)
    if any(tp.new_lesions for tp in tps):
        new_counted, new_notes = _new_lesions(case, settings, tstm_um)
    else:
        new_counted, new_notes = [{} for _ in tps], [[] for _ in tps]
    out: list[PreparedTimepoint] = []
    for i, tp in enumerate(tps):
        targets = tp.targets
        # fast path: the timepoint lists exactly the baseline targets, in baseline order
        if tp.target_ids == target_ids:
            values = [tstm_um if t.tstm else t.diameter_um for t in targets]
        else:
            by_id = {t.id: t for t in targets}
            values = []
            for tid in target_ids:
                entry = by_id.get(tid)
                values.append(
                    None if entry is None else tstm_um if entry.tstm else entry.diameter_um
                )
        if None in values:
            available_values = [v for v in values if v is not None]
            available = len(available_values)
            total = sum(available_values)
        else:
            available = n_targets
            # mypy cannot narrow list items after `None in values`; a cast would cost
            # ~0.1 us per timepoint in this loop
            total = sum(values)  # type: ignore[arg-type]  # no None: tested above
        nts = tp.non_targets
        if tp.non_target_ids == nt_ids:
            nt_status = [n.status for n in nts]
            nt_sa = [n.short_axis_um for n in nts]
        else:
            nt_by_id = {n.id: n for n in nts}
            nt_status = []
            nt_sa = []
            for nid in nt_ids:
                nt = nt_by_id.get(nid)
                nt_status.append(nt.status if nt is not None else LesionStatus.NOT_EVALUATED)
                nt_sa.append(nt.short_axis_um if nt is not None else None)
        when = tp.date
        out.append(
            _new_prepared(
                PreparedTimepoint,
                (
                    i,
                    tp.label,
                    when,
                    (when - reference_date).days
                    if when is not None and reference_date is not None
                    else None,
                    values,
                    total if available else None,
                    available == n_targets,
                    nt_status,
                    nt_sa,
                    new_counted[i],
                    new_notes[i],
                ),
            )
        )
    return Prepared(
        target_ids=target_ids,
        target_nodal=target_nodal,
        nt_ids=nt_ids,
        nt_nodal=nt_nodal,
        baseline_sum=out[0].sum_lb if target_ids else None,
        reference_date=reference_date,
        timepoints=out,
    )
