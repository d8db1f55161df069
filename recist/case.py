"""The case: one patient's timeline in the rules engine's own terms (rules.md §10).

Lengths are held as integer micrometres (``*_um``) so that every threshold is
exact integer arithmetic; ``*_mm`` properties give :class:`~decimal.Decimal`
millimetres.  A case is built by :func:`recist.case_from_dict` or
:func:`recist.case_from_records` and is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from recist.model import Criteria, DrawnGeometry

UM_PER_MM = 1000


def um_to_mm(value: int | None) -> Decimal | None:
    """Convert integer micrometres to exact decimal millimetres (None stays None)."""
    if value is None:
        return None
    return Decimal(value).scaleb(-3).normalize() if value % 1000 else Decimal(value // 1000)


class LesionStatus(StrEnum):
    """Status of a non-target or new lesion at a timepoint (case format ``status``)."""

    PRESENT = "present"
    """Seen, not progressed."""
    ABSENT = "absent"
    """Disappeared (nodes: returned to normal)."""
    NOT_EVALUATED = "not_evaluated"
    """Not imaged or not assessable."""
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    """Unequivocal progression (RECIST 1.1 non-target PD)."""
    FURTHER_INCREASE = "further_increase"
    """iRECIST extension (O-16): further increase since the last assessment after iUPD."""


@dataclass(frozen=True, slots=True)
class TargetEntry:
    """A target lesion at one timepoint.

    ``diameter_um`` is the long axis (short axis for nodes) in micrometres;
    ``None`` with ``tstm`` False means not evaluable (NE), never 0.  The other
    axis drawn with it is kept for the record, not used by the rules:
    ``short_axis_um`` of a non-nodal target, ``long_axis_um`` of a nodal one
    (the axis that is the diameter is never repeated).  ``image`` is where the
    caliper was drawn (None when it was not drawn on an image).
    """

    id: str
    organ: str
    nodal: bool = False
    diameter_um: int | None = None
    tstm: bool = False
    fragments_um: tuple[int, ...] = ()
    coalesced_into: str | None = None
    location: str = ""
    short_axis_um: int | None = None
    long_axis_um: int | None = None
    image: DrawnGeometry | None = None

    @property
    def diameter_mm(self) -> Decimal | None:
        """The diameter in millimetres (None when TSTM or not evaluable)."""
        return um_to_mm(self.diameter_um)


@dataclass(frozen=True, slots=True)
class NonTargetEntry:
    """A non-target lesion at one timepoint, followed qualitatively.

    Lengths and ``image`` (where a caliper was drawn) are kept for the record;
    the rules use only ``status``.
    """

    id: str
    organ: str
    status: LesionStatus
    nodal: bool = False
    short_axis_um: int | None = None
    location: str = ""
    long_axis_um: int | None = None
    image: DrawnGeometry | None = None


@dataclass(frozen=True, slots=True)
class NewLesionEntry:
    """A lesion that was not there at baseline, at one timepoint."""

    id: str
    organ: str
    nodal: bool = False
    equivocal: bool = False
    diameter_um: int | None = None
    tstm: bool = False
    status: LesionStatus = LesionStatus.PRESENT
    short_axis_um: int | None = None
    location: str = ""
    image: DrawnGeometry | None = None

    @property
    def size_um(self) -> int | None:
        """The size that counts: short axis for nodes when given, else the diameter."""
        if self.nodal and self.short_axis_um is not None:
            return self.short_axis_um
        return self.diameter_um


@dataclass(frozen=True, slots=True)
class CaseTimepoint:
    """One assessment of the case; the first timepoint of a case is the baseline."""

    label: str
    date: date | None
    targets: tuple[TargetEntry, ...] = ()
    non_targets: tuple[NonTargetEntry, ...] = ()
    new_lesions: tuple[NewLesionEntry, ...] = ()
    slice_thickness_um: int | None = None
    modality: str | None = None
    contrast_phase: str | None = None
    cycle: int | None = None
    target_ids: tuple[str, ...] = field(init=False, repr=False, compare=False)
    non_target_ids: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # derived once here so that evaluation can match lesions by one tuple comparison
        object.__setattr__(self, "target_ids", tuple(t.id for t in self.targets))
        object.__setattr__(self, "non_target_ids", tuple(n.id for n in self.non_targets))


@dataclass(frozen=True, slots=True)
class Case:
    """A patient timeline: the input of :func:`recist.evaluate`."""

    id: str
    timepoints: tuple[CaseTimepoint, ...]
    criteria: Criteria = Criteria.RECIST11
    confirmation_required: bool = False
    min_sd_days: int = 42
    first_dose_date: date | None = None

    @property
    def baseline(self) -> CaseTimepoint:
        """The baseline timepoint (the first one)."""
        return self.timepoints[0]


@dataclass(frozen=True, slots=True)
class Settings:
    """How to evaluate a case: protocol choices and the open points of rules.md §12.

    ``None`` in ``criteria``, ``confirmation_required`` and ``min_sd_days`` means
    "take it from the case".  Every other default is the tool default of rules.md.

    Attributes
    ----------
    criteria, confirmation_required, min_sd_days
        Protocol overrides of the case's own values.
    confirm_min_days : int
        Days between a CR/PR and the scan that confirms it (§6.2, O-11; inclusive).
    max_ne_between : int
        NE timepoints allowed between a response and its confirmation (O-11).
    accept_sd_between : bool
        Whether one SD between a PR and its confirmation is allowed (O-11; default
        no; at most one, as admiralonco's ``accept_sd = TRUE``).
    sd_from_first_dose : bool
        Count ``min_sd_days`` from the first dose when the case gives it (O-12).
    tstm_mm : Decimal
        Value used for "too small to measure" (§3).
    max_baseline_days_before_dose : int
        Warn when baseline is older than this at first dose (§1.1).
    max_targets, max_targets_per_organ : int
        Target selection limits (§2; O-3 deviations are warned about).
    new_node_10_15_equivocal : bool
        New nodes with 10 mm <= SA < 15 mm are equivocal (O-9).
    hindsight : bool
        Equivocal new lesions confirmed later make their first TP PD (O-8).
    irecist_strict_table2 : bool
        O-13: True keeps a new-lesion iUPD as iUPD while new lesions persist
        (Seymour Table 2); False (default) resets to iSD/iPR on improvement.
    irecist_min_confirm_days, irecist_max_confirm_days : int
        O-14: scans earlier than the minimum after iUPD are not used to confirm;
        later than the maximum are used but flagged.
    ets_window_days : tuple[int, int]
        Day window (inclusive) of the early-tumour-shrinkage assessment (O-19).
    with_irecist : bool
        Run iRECIST in parallel for RECIST 1.1 cases (rules.md §8: default on;
        ``irecist_overall`` and ``CaseResult.irecist``).  iRECIST cases always
        run the RECIST 1.1 track as well.
    """

    criteria: Criteria | None = None
    confirmation_required: bool | None = None
    min_sd_days: int | None = None
    confirm_min_days: int = 28
    max_ne_between: int = 1
    accept_sd_between: bool = False
    sd_from_first_dose: bool = True
    tstm_mm: Decimal = Decimal(5)
    max_baseline_days_before_dose: int = 28
    max_targets: int = 5
    max_targets_per_organ: int = 2
    new_node_10_15_equivocal: bool = True
    hindsight: bool = True
    irecist_strict_table2: bool = False
    irecist_min_confirm_days: int = 28
    irecist_max_confirm_days: int = 56
    ets_window_days: tuple[int, int] = (35, 70)
    with_irecist: bool = True

    @property
    def tstm_um(self) -> int:
        """The TSTM value in micrometres."""
        return int(self.tstm_mm * UM_PER_MM)
