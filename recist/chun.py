"""CT morphologic response of colorectal liver metastases on bevacizumab (Chun 2009; rules.md §9.3).

Groups: 3 = heterogeneous, thick poorly defined interface; 2 = mixed;
1 = homogeneous hypoattenuating, thin sharp interface.  Response:
optimal (3 or 2 -> 1), incomplete (3 -> 2), none (no change or worse).
The group wording is from secondary sources: verify against [Chun09] before release.
Morphologic response is kept apart from RECIST (cystic change is not PD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from recist.errors import RecistError


class MorphologicResponse(StrEnum):
    """Chun morphologic response category."""

    OPTIMAL = "optimal"
    """Group 3 or 2 became group 1."""
    INCOMPLETE = "incomplete"
    """Group 3 became group 2."""
    NONE = "none"
    """No change, or a worse group."""


class MorphologyError(RecistError, ValueError):
    """A morphologic group is not 1, 2 or 3; the message names the lesion."""


def _check(group: object, what: str) -> int:
    if isinstance(group, bool) or group not in (1, 2, 3):
        raise MorphologyError(f"{what}: morphologic group must be 1, 2 or 3, got {group!r}")
    return int(str(group))


def morphologic_response(
    baseline: int, follow_up: int, *, lesion: str = "lesion"
) -> MorphologicResponse:
    """Chun response of one lesion from its baseline and follow-up groups.

    Parameters
    ----------
    baseline, follow_up : int
        Morphologic group (1, 2 or 3) at baseline and at follow-up.
    lesion : str
        Name used in error messages.

    Returns
    -------
    MorphologicResponse
        optimal (3/2 -> 1), incomplete (3 -> 2) or none.

    Raises
    ------
    MorphologyError
        When a group is not 1, 2 or 3.
    """
    before = _check(baseline, f"{lesion} baseline")
    after = _check(follow_up, f"{lesion} follow-up")
    if after == 1 and before in (2, 3):
        return MorphologicResponse.OPTIMAL
    if before == 3 and after == 2:
        return MorphologicResponse.INCOMPLETE
    return MorphologicResponse.NONE


@dataclass(frozen=True, slots=True)
class MorphologySummary:
    """Patient-level view (O-20): the reader's global group and the conservative alternative."""

    per_lesion: dict[str, MorphologicResponse]
    global_response: MorphologicResponse | None
    most_advanced_response: MorphologicResponse
    flags: tuple[str, ...]


def summarise_morphology(
    groups: Mapping[str, tuple[int, int]],
    *,
    global_groups: tuple[int, int] | None = None,
    modality: str = "CT",
) -> MorphologySummary:
    """Per-lesion responses and patient-level aggregation for one reader.

    Parameters
    ----------
    groups : Mapping[str, tuple[int, int]]
        Lesion id -> (baseline group, follow-up group).
    global_groups : tuple[int, int], optional
        The reader's global liver assessment (baseline, follow-up); the default
        patient-level answer (O-20).
    modality : str
        "CT" (the criteria's modality); anything else is flagged off-label.

    Returns
    -------
    MorphologySummary
        ``most_advanced_response`` uses the worst (highest) group at each
        time: the conservative alternative.

    Raises
    ------
    MorphologyError
        When no lesion is given or a group is not 1-3.
    """
    if not groups:
        raise MorphologyError("no lesion groups given")
    per_lesion = {k: morphologic_response(b, f, lesion=k) for k, (b, f) in groups.items()}
    worst_before = max(b for b, _ in groups.values())
    worst_after = max(f for _, f in groups.values())
    flags = []
    if modality.strip().upper() != "CT":
        flags.append(f"graded on {modality}: the criteria were defined on CT (off-label)")
    overall = None
    if global_groups is not None:
        overall = morphologic_response(*global_groups, lesion="global liver assessment")
    return MorphologySummary(
        per_lesion=per_lesion,
        global_response=overall,
        most_advanced_response=morphologic_response(
            worst_before, worst_after, lesion="worst group"
        ),
        flags=tuple(flags),
    )


def consensus(responses: Mapping[str, MorphologicResponse]) -> MorphologicResponse | None:
    """Majority response of several readers for one lesion; None when there is no majority."""
    counts: dict[MorphologicResponse, int] = {}
    for r in responses.values():
        counts[r] = counts.get(r, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    winners = [r for r, n in counts.items() if n == best]
    return winners[0] if len(winners) == 1 and 2 * best > len(responses) else None
