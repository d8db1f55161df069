"""The calipers on screen: stored measurements of the current slice and the one being drawn.

Stored measurements are re-created only when their geometry or caption
changes, so a caliper that the reader just edited (and the main window then
sends back with the new geometry) is left alone mid-gesture.  After each
change of slice or zoom, :meth:`OverlayLayer.spread_labels` slides the labels
of different calipers apart (zoomed out, neighbouring lesions' labels would
otherwise print over each other), then off the orientation letters at the view's
edges and inside the view (a caliper near an edge would otherwise put a length
label under "R" or beyond the border).

:meth:`OverlayLayer.lock` locks every caliper but one against drags (the Smart caliper
tool: a drag that starts on another lesion's handle measures, it does not move that caliper).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6 import QtCore

from recist.model import DrawnGeometry
from viewer.image.calipers import BidirectionalCaliperRoi, CaliperRoi, image_bounds
from viewer.image.labels import label_shifts
from viewer.image.overlays import MeasurementOverlay, make_geometry, same_geometry
from viewer.image.volume import slice_of

OverlayRoi = CaliperRoi | BidirectionalCaliperRoi


class OverlayHost(Protocol):
    """What the overlay layer needs from the image view (``SeriesViewerWidget`` is one)."""

    @property
    def view_box(self) -> Any: ...
    @property
    def volume(self) -> Any: ...
    @property
    def slice_index(self) -> int: ...
    @property
    def orientation(self) -> str: ...
    @property
    def pixel_mm(self) -> tuple[float, float]: ...
    @property
    def image_shape(self) -> tuple[int, int]: ...
    def display_to_lps(self, x: float, y: float) -> tuple[float, float, float]: ...
    def label_keep_out(self) -> tuple[list[QtCore.QRectF], QtCore.QRectF]: ...


class OverlayLayer:
    """Keeps pyqtgraph calipers in *widget*'s ViewBox in step with its overlays.

    Parameters
    ----------
    widget : OverlayHost
        The view: provides ``view_box``, ``volume``, ``slice_index``, ``orientation``,
        ``display_to_lps``, ``pixel_mm`` and ``image_shape``.
    on_edited : callable
        ``on_edited(measurement_id, geometry)``, once per edit that moved a caliper.
    on_selected : callable
        ``on_selected(measurement_id_or_None)`` when the reader changes the selection.
    """

    def __init__(
        self,
        widget: OverlayHost,
        on_edited: Callable[[int, DrawnGeometry], None],
        on_selected: Callable[[int | None], None],
        on_clicked: Callable[[Any], None] | None = None,
    ) -> None:
        self._widget = widget
        self._on_edited = on_edited
        self._on_selected = on_selected
        self._on_clicked = on_clicked or (lambda _ev: None)
        self._overlays: list[MeasurementOverlay] = []
        self.items: dict[int, OverlayRoi] = {}
        self.selected_id: int | None = None
        self._provisional: OverlayRoi | None = None
        self._slice_cache: tuple[object, object, dict[int, int | None]] = (None, None, {})
        # label -> (anchor it was given by spread_labels, the caliper's own anchor)
        self._spread: dict[Any, tuple[tuple[float, float], tuple[float, float]]] = {}
        self._locked = False
        self._unlocked_id: int | None = None

    def lock(self, locked: bool, except_id: int | None = None) -> None:
        """Lock every caliper against drags (``locked``), except measurement *except_id*."""
        self._locked, self._unlocked_id = locked, except_id
        for mid, item in self.items.items():
            item.set_locked(self._is_locked(mid))

    def _is_locked(self, measurement_id: int) -> bool:
        return self._locked and measurement_id != self._unlocked_id

    def set_overlays(self, items: Sequence[MeasurementOverlay]) -> None:
        """Replace the measurements; the last one marked selected becomes the selection."""
        self._overlays = list(items)
        selected = [o.measurement_id for o in self._overlays if o.selected]
        self.selected_id = selected[-1] if selected else None
        self.show_provisional(None)
        self.sync()

    @property
    def provisional(self) -> OverlayRoi | None:
        """The caliper being drawn or just drawn, or None."""
        return self._provisional

    def show_provisional(self, item: OverlayRoi | None) -> None:
        """Show a caliper being drawn (replacing the previous one); None removes it."""
        if self._provisional is not None:
            self._widget.view_box.removeItem(self._provisional)
        self._provisional = item
        if item is not None:
            self._widget.view_box.addItem(item)

    @property
    def unavailable(self) -> list[MeasurementOverlay]:
        """Measurements of the shown series whose image is not among the loaded files."""
        w = self._widget
        if w.volume is None:
            return []
        uid = w.volume.series_instance_uid
        slices = self._slices()
        return [
            o
            for o in self._overlays
            if o.geometry.series_instance_uid == uid and slices.get(o.measurement_id) is None
        ]

    def _slices(self) -> dict[int, int | None]:
        """Slice of each overlay's image in the shown volume (looked up once per volume)."""
        volume = self._widget.volume
        if self._slice_cache[0] is not volume or self._slice_cache[1] is not self._overlays:
            found = {o.measurement_id: slice_of(volume, o.geometry) for o in self._overlays}
            self._slice_cache = (volume, self._overlays, found)
        return self._slice_cache[2]

    def sync(self) -> None:
        """Show the calipers whose image is the current axial slice, and only those.

        The image is found by SOP Instance UID (and frame); a measurement whose
        image is not loaded is drawn nowhere (see :attr:`unavailable`).
        """
        w = self._widget
        wanted: dict[int, MeasurementOverlay] = {}
        if w.volume is not None and w.orientation == "axial":
            slices = self._slices()
            wanted = {
                o.measurement_id: o
                for o in self._overlays
                if slices.get(o.measurement_id) == w.slice_index
            }
        for mid in list(self.items):
            if mid not in wanted or not self._item_matches(self.items[mid], wanted[mid]):
                w.view_box.removeItem(self.items.pop(mid))
        for mid, overlay in wanted.items():
            item = self.items.get(mid)
            if item is None:
                item = self._make_item(overlay)
                self.items[mid] = item
                w.view_box.addItem(item)
            item.set_selected(mid == self.selected_id)
            item.set_locked(self._is_locked(mid))

    def spread_labels(self) -> None:
        """Slide the labels of different calipers apart on screen (downwards), as needed."""
        view_box = self._widget.view_box
        entries = []
        for mid, item in self.items.items():
            for label in item.labels:
                current = (float(label.anchor[0]), float(label.anchor[1]))
                applied, base = self._spread.get(label, (None, current))
                if applied != current:  # the caliper re-placed its label since
                    base = current
                rect = label.textItem.boundingRect()
                w, h = max(float(rect.width()), 1.0), max(float(rect.height()), 1.0)
                pos = view_box.mapViewToScene(label.parentItem().mapToParent(label.pos()))
                x, y = float(pos.x()) - base[0] * w, float(pos.y()) - base[1] * h
                entries.append((label, base, (mid, x, y, w, h)))
        letters, visible = self._widget.label_keep_out()
        shifts = label_shifts(
            [e[2] for e in entries],
            [(r.x(), r.y(), r.width(), r.height()) for r in letters],
            (visible.x(), visible.y(), visible.width(), visible.height()),
        )
        self._spread = {}
        for (label, base, (*_, w, h)), (dx, dy) in zip(entries, shifts, strict=True):
            anchor = (base[0] - dx / w, base[1] - dy / h)
            if (float(label.anchor[0]), float(label.anchor[1])) != anchor:
                label.setAnchor(QtCore.QPointF(*anchor))
            self._spread[label] = (anchor, base)

    def label_boxes(self) -> list[tuple[int, QtCore.QRectF]]:
        """Each shown caliper label's box in scene pixels, with its measurement id (for tests)."""
        boxes = []
        for mid, item in self.items.items():
            for label in item.labels:
                boxes.append((mid, label.mapRectToScene(label.boundingRect())))
        return boxes

    def select(self, measurement_id: int | None) -> None:
        """Highlight one caliper (None: none), as the reader chose; reports a change."""
        changed = measurement_id != self.selected_id
        self.selected_id = measurement_id
        for mid, item in self.items.items():
            item.set_selected(mid == measurement_id)
        if changed:
            self._on_selected(measurement_id)

    def geometry_of(self, item: OverlayRoi) -> DrawnGeometry:
        """The DrawnGeometry a caliper on the current slice describes now."""
        w = self._widget
        if isinstance(item, BidirectionalCaliperRoi):
            long_px, short_px = item.axes_points()
            return make_geometry(w.volume, w.slice_index, long_px, short_px)
        return make_geometry(w.volume, w.slice_index, item.end_points())

    def _item_matches(self, item: OverlayRoi, overlay: MeasurementOverlay) -> bool:
        return (
            same_geometry(self.geometry_of(item), overlay.geometry)
            and item.caption == overlay.caption
        )

    def _make_item(self, overlay: MeasurementOverlay) -> OverlayRoi:
        w = self._widget
        g = overlay.geometry
        long_px = (g.long_axis.start_px, g.long_axis.end_px)
        bounds = image_bounds(w.image_shape)  # handles never leave the image
        if g.short_axis is None:
            item: OverlayRoi = CaliperRoi(
                *long_px, to_lps=w.display_to_lps, caption=overlay.caption, bounds=bounds
            )
        else:
            item = BidirectionalCaliperRoi(
                long_px,
                (g.short_axis.start_px, g.short_axis.end_px),
                to_lps=w.display_to_lps,
                pixel_mm=w.pixel_mm,
                caption=overlay.caption,
                bounds=bounds,
            )
        mid = overlay.measurement_id
        item.sigRegionChangeStarted.connect(lambda _roi, mid=mid: self.select(mid))
        item.sigClicked.connect(lambda _roi, ev, mid=mid: self._on_item_clicked(mid, ev))
        item.sigRegionChangeFinished.connect(
            lambda roi, mid=mid: self._on_item_edit_finished(mid, roi)
        )
        return item

    def _on_item_clicked(self, measurement_id: int, ev: Any) -> None:
        """A click on a caliper selects it, then goes to the view (the Smart caliper measures
        the lesion under it: a caliper drawn across a lesion lies where the reader clicks)."""
        self.select(measurement_id)
        self._on_clicked(ev)

    def _on_item_edit_finished(self, measurement_id: int, item: OverlayRoi) -> None:
        for i, overlay in enumerate(self._overlays):
            if overlay.measurement_id != measurement_id:
                continue
            geometry = self.geometry_of(item)
            if not same_geometry(geometry, overlay.geometry):
                self._overlays[i] = MeasurementOverlay(
                    measurement_id, overlay.label, geometry, overlay.selected
                )
                self._on_edited(measurement_id, geometry)
            return
