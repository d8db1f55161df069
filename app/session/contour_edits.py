"""A lesion contour edited with the brush: one undoable command (issue 16).

A brush stroke on a Smart caliper contour stores the edited mask as a new segmentation row
linked to the measurement and unlinks the row it replaces (both writes audited; the old
contour stays in the database as history, unlinked, as after an undo).  Undo links the old
contour back and unlinks the edited one; redo does the opposite.  The caliper recomputed from
the edited mask is an ordinary :class:`~app.session.commands.UpdateMeasurement` in the same
:class:`~app.session.undo.CompositeCommand`, so one Ctrl+Z reverts the stroke, its contour
and its diameters together.

:class:`PaintedResectionMixin` (of ``ReadingSession``) stores the resection painted with the
brush in the liver volumetry panel, so the FLR can be computed again from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from app.session.commands import Ref, SessionEditor
from app.session.undo import Command
from recist.model import Measurement
from storage.db.segmentations import MaskBox, StoredSegmentation


@dataclass(frozen=True)
class ReplaceContour(Command[SessionEditor]):
    """Link the edited contour to the measurement ``ref`` instead of the contours it had.

    Attributes
    ----------
    ref, lesion_ref
        The measurement and its lesion.
    old_ids
        The segmentation rows linked to the measurement before the edit.
    record
        The edited contour (stored on the first apply; relinked on redo).
    before, after
        The measurement before and after the edit (what the change signal carries).
    """

    ref: Ref
    lesion_ref: Ref
    old_ids: tuple[int, ...]
    record: StoredSegmentation
    before: Measurement
    after: Measurement
    reason: str | None = None
    label: str = "Edit contour"
    _stored: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def stored_id(self) -> int | None:
        """The edited contour's segmentation id once stored."""
        return self._stored.get("id")

    def _signal(self, ctx: SessionEditor, measurement: Measurement) -> None:
        value = replace(
            measurement,
            id=ctx.measurement_ids.resolve(self.ref),
            lesion_id=ctx.lesion_ids.resolve(self.lesion_ref),
        )
        ctx._emit(ctx.signals.measurement_changed, value)  # noqa: SLF001 - the editor's own emit

    def apply(self, ctx: SessionEditor) -> StoredSegmentation | None:
        """Unlink the old contours, store (or relink) the edited one."""
        segmentations = ctx.store.segmentations
        measurement_id = ctx.measurement_ids.resolve(self.ref)
        reason = self.reason if self.reason is not None else ctx.fallback_reason
        for old in self.old_ids:
            segmentations.link(old, None, reason)
        stored: StoredSegmentation | None
        if self.stored_id is None:
            stored = segmentations.add(replace(self.record, measurement_id=measurement_id), reason)
            assert stored is not None
            assert stored.id is not None
            self._stored["id"] = stored.id
        else:
            stored = segmentations.link(self.stored_id, measurement_id, reason)
        self._signal(ctx, self.after)
        return stored

    def revert(self, ctx: SessionEditor) -> None:
        """Unlink the edited contour and link the old ones again."""
        segmentations = ctx.store.segmentations
        measurement_id = ctx.measurement_ids.resolve(self.ref)
        reason = self.reason if self.reason is not None else ctx.fallback_reason
        if self.stored_id is not None:
            segmentations.link(self.stored_id, None, reason)
        for old in self.old_ids:
            segmentations.link(old, measurement_id, reason)
        self._signal(ctx, self.before)


@dataclass(frozen=True)
class UnlinkContours(Command[SessionEditor]):
    """Unlink the contours of the measurement ``ref`` (a status dropped its lines).

    A contour belongs to drawn lines: a lesion recorded as disappeared, too small, split or
    merged has none, and its contour stayed linked (outlined on the image, counted as
    tumour by the liver volumetry).  Undo links the same rows again; both audited.
    """

    ref: Ref
    ids: tuple[int, ...]
    reason: str | None = None
    label: str = "Unlink contour"

    def apply(self, ctx: SessionEditor) -> None:
        """Unlink the rows."""
        reason = self.reason if self.reason is not None else ctx.fallback_reason
        for segmentation_id in self.ids:
            ctx.store.segmentations.link(segmentation_id, None, reason)

    def revert(self, ctx: SessionEditor) -> None:
        """Link them to the measurement again."""
        measurement_id = ctx.measurement_ids.resolve(self.ref)
        reason = self.reason if self.reason is not None else ctx.fallback_reason
        for segmentation_id in self.ids:
            ctx.store.segmentations.link(segmentation_id, measurement_id, reason)

    def is_noop(self) -> bool:
        """True without contours."""
        return not self.ids


#: Algorithm name and version of a painted resection (the reader's brush strokes).
PAINTED_RESECTION_ALGORITHM, PAINTED_RESECTION_VERSION = "painted resection", "1"


class PaintedResectionMixin:
    """The mask of a virtual resection painted with the brush, stored with its liver.

    "Send to conversion record" stores the liver (``record_liver_volumetry``) and, for a
    painted resection, :meth:`record_painted_resection`: the painted mask as a ``resection``
    segmentation row naming its liver and the lesion contours counted as tumour, and the
    liver's values (volumes, FLR %) with ``resection_segmentation_id`` — one transaction,
    both writes audited.  From the stored liver, resection and tumour masks the FLR is
    computed again (``app.segmentation.volumetry``); :meth:`painted_resection` reads it back.
    """

    _store: Any

    if TYPE_CHECKING:

        def liver_volumetry(self) -> StoredSegmentation | None: ...

    def record_painted_resection(
        self,
        liver_segmentation_id: int,
        offset: tuple[int, int, int],
        mask: np.ndarray,
        volumetry: dict[str, Any],
        *,
        tumour_segmentation_ids: Sequence[int] = (),
        parameters: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> StoredSegmentation:
        """Store the painted resection of a stored liver and its figures (audited).

        ``offset`` and ``mask``: the painted region (a box of the series' grid; what lies
        outside the liver is not resected).  ``volumetry``: ``Volumetry.to_dict()`` and
        ``resection_method``.  Returns the liver row with its new values.
        """
        from app.session.errors import SessionError, translated

        segmentations = self._store.segmentations
        with translated("Could not store the painted resection"):
            liver: StoredSegmentation = segmentations.get(liver_segmentation_id)
        if liver.kind != "liver":
            raise SessionError(
                f"Could not store the painted resection: segmentation {liver_segmentation_id} "
                f"is a {liver.kind} contour, not a liver."
            )
        with (
            translated("Could not store the painted resection"),
            self._store.batch("store a painted resection"),
        ):
            stored = segmentations.add(
                StoredSegmentation(
                    id=None,
                    timepoint_id=liver.timepoint_id,
                    measurement_id=None,
                    kind="resection",
                    series_instance_uid=liver.series_instance_uid,
                    algorithm=PAINTED_RESECTION_ALGORITHM,
                    algorithm_version=PAINTED_RESECTION_VERSION,
                    parameters=dict(parameters or {}),
                    volume_ml=round(float(volumetry.get("resected_ml", 0.0)), 3),
                    mask=MaskBox(
                        (int(offset[0]), int(offset[1]), int(offset[2])),
                        np.asarray(mask, dtype=bool),
                    ),
                    values={
                        "liver_segmentation_id": liver_segmentation_id,
                        "tumour_segmentation_ids": [int(i) for i in tumour_segmentation_ids],
                    },
                ),
                reason,
            )
            values = {**volumetry, "resection_segmentation_id": stored.id}
            updated: StoredSegmentation = segmentations.set_values(
                liver_segmentation_id, values, reason
            )
        return updated

    def painted_resection(self, liver: StoredSegmentation) -> StoredSegmentation | None:
        """The painted resection stored with ``liver`` (a stored liver row), or None."""
        from app.session.errors import translated

        found = liver.values.get("resection_segmentation_id")
        if liver.values.get("resection_method") != "painted" or not isinstance(found, int):
            return None
        with translated("Could not read the painted resection"):
            stored: StoredSegmentation = self._store.segmentations.get(found)
        return stored
