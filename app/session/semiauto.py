"""Semi-automatic measurements and liver volumetry in the reading session (issue 16).

What ``app.segmentation`` proposed and the reader accepted becomes, in one store transaction,
a ``Method.SEMI_AUTO`` measurement (the caliper the reader accepted or adjusted) and its
contour with the volume, HU statistics and the algorithm's name, version and parameters
(``storage.db.segmentations``; audited).  A liver volumetry is a ``liver`` contour of the
current timepoint whose values hold the virtual resection and the future liver remnant.

Proposals are duck-typed (``app.segmentation.LesionMeasurement`` / ``LiverSegmentation`` /
``Volumetry``) so that opening a session does not load SimpleITK.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from storage.db.segmentations import MaskBox, StoredSegmentation


class RegionLike(Protocol):
    """The mask of a proposal: a box of the series' voxel grid."""

    mask: Any
    offset: tuple[int, int, int]


class ContourProposal(Protocol):
    """What the segmentation proposed (``LesionMeasurement`` or ``LiverSegmentation``)."""

    region: RegionLike
    volume_ml: float
    algorithm: str
    algorithm_version: str
    parameters: dict[str, object]


def contour_record(
    proposal: ContourProposal,
    *,
    kind: str,
    timepoint_id: int,
    measurement_id: int | None,
    series_instance_uid: str,
    values: dict[str, Any] | None = None,
) -> StoredSegmentation:
    """The record the store keeps of a proposal."""
    offset = proposal.region.offset
    mean = getattr(proposal, "mean_hu", None)
    sd = getattr(proposal, "sd_hu", None)
    return StoredSegmentation(
        id=None,
        timepoint_id=timepoint_id,
        measurement_id=measurement_id,
        kind=kind,
        series_instance_uid=series_instance_uid,
        algorithm=proposal.algorithm,
        algorithm_version=proposal.algorithm_version,
        parameters=dict(proposal.parameters),
        volume_ml=round(float(proposal.volume_ml), 3),
        mask=MaskBox((int(offset[0]), int(offset[1]), int(offset[2])), proposal.region.mask),
        mean_hu=None if mean is None else round(float(mean), 1),
        sd_hu=None if sd is None else round(float(sd), 1),
        values=dict(values or {}),
    )


def flr_decimal(values: dict[str, Any]) -> Decimal | None:
    """The future liver remnant % of stored volumetry values, to 0.1 %, or None."""
    flr = values.get("flr_percent")
    if flr is None:
        return None
    return Decimal(str(flr)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def read_seg_contours(
    path: str, sop_instance_uids: list[str]
) -> list[tuple[str, tuple[int, int, int], Any]]:
    """The segments of a DICOM SEG file over a series: ``(label, offset, mask)`` each.

    ``sop_instance_uids`` are the series' slices in volume order (the viewer's volume).

    Raises
    ------
    SessionError
        Not a readable SEG, or none of its frames is on this series (the message says which).
    """
    from app.session.errors import SessionError
    from storage.exchange.seg import SegError, read_seg

    try:
        found = read_seg(path, sop_instance_uids)
    except SegError as exc:
        raise SessionError(f"Could not import the segmentation: {exc}") from exc
    return [(c.label, c.offset, c.mask) for c in found]
