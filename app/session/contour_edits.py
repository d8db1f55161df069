"""A lesion contour edited with the brush: one undoable command (issue 16).

A brush stroke on a Smart caliper contour stores the edited mask as a new segmentation row
linked to the measurement and unlinks the row it replaces (both writes audited; the old
contour stays in the database as history, unlinked, as after an undo).  Undo links the old
contour back and unlinks the edited one; redo does the opposite.  The caliper recomputed from
the edited mask is an ordinary :class:`~app.session.commands.UpdateMeasurement` in the same
:class:`~app.session.undo.CompositeCommand`, so one Ctrl+Z reverts the stroke, its contour
and its diameters together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.session.commands import Ref, SessionEditor
from app.session.undo import Command
from recist.model import Measurement
from storage.db.segmentations import StoredSegmentation


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
