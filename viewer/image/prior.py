"""The comparison pane: an earlier timepoint's series beside the current one.

In the 1x2 layout (and the fourth pane of 2x2) this pane shows the series of
the timepoint the reader compares with (baseline, nadir or the previous
timepoint: :attr:`PriorSliceWidget.compare_box`) at the same size as the
current pane, with its own window/level and slice overlay.  It follows the
current series by patient position: :meth:`PriorSliceWidget.follow` takes the
LPS position of the slice the reader is on and shows the prior slice at the
same z, so scrolling one scrolls the other; the caption follows.  When the
reader selects a lesion, :meth:`PriorSliceWidget.show_prior` shows the slice on
which it was measured then, with that caliper drawn on it; before that,
:meth:`PriorSliceWidget.show_series` draws every caliper of that timepoint on its own image
as the reader scrolls.  The caliper labels are placed as in the current pane
(:func:`viewer.image.labels.label_shifts`): apart, off the orientation letters, inside the view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from recist.model import DrawnGeometry
from viewer.image.labels import label_shifts
from viewer.image.view import SeriesViewerWidget
from viewer.image.volume import instance_set_key, slice_of
from viewer.style import CALIPER

#: What the comparison pane may show, as (key, text in the combo box).
COMPARE_WITH: tuple[tuple[str, str], ...] = (
    ("baseline", "Baseline"),
    ("nadir", "Nadir"),
    ("previous", "Previous timepoint"),
)
_NO_LESION = "Select a lesion to see its previous measurement."
#: A caliper label's anchor before it is placed: its lower-left corner at the caliper's end.
_BASE_ANCHOR = (0.0, 1.0)


class PriorSliceWidget(QWidget):
    """A read-only image view of an earlier timepoint, scrolled with the current one.

    Signals
    -------
    compare_changed(str)
        The reader chose another timepoint to compare with: ``"baseline"``,
        ``"nadir"`` or ``"previous"``.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    compare_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("priorSlice")
        self.compare_box = QComboBox()
        self.compare_box.setObjectName("compareWith")
        self.compare_box.setToolTip("The timepoint shown beside the current one")
        for key, text in COMPARE_WITH:
            self.compare_box.addItem(text, key)
        self.compare_box.currentIndexChanged.connect(
            lambda _i: self.compare_changed.emit(self.compare_with)
        )
        self.caption = QLabel(_NO_LESION)
        self.caption.setObjectName("priorCaption")
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.viewer = SeriesViewerWidget()
        self.viewer.setObjectName("priorViewer")
        self.viewer.set_tool("pointer")  # read-only: nothing is drawn here
        self.viewer.slice_changed.connect(self._on_slice_changed)
        header = QHBoxLayout()
        header.setContentsMargins(2, 0, 2, 0)
        header.addWidget(QLabel("Compare with"))
        header.addWidget(self.compare_box)
        header.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.viewer, 1)
        self._geometry: DrawnGeometry | None = None
        self._key_slice = -1
        self._title = ""
        self._lines: list[pg.PlotDataItem] = []
        self._label = self._new_label()
        #: Calipers of the shown timepoint without a selected lesion: (slice, segments, label).
        self._calipers: list[tuple[int, list[Any], str]] = []
        self._caliper_labels: list[pg.TextItem] = []
        # the labels are placed as in the current pane, once per burst of slice / zoom changes
        self._place_timer = QTimer(self)
        self._place_timer.setSingleShot(True)
        self._place_timer.setInterval(0)
        self._place_timer.timeout.connect(self.place_labels)
        self.viewer.view_box.sigRangeChanged.connect(lambda *_: self._place_timer.start())

    def _new_label(self) -> pg.TextItem:
        label = pg.TextItem(color=CALIPER, anchor=_BASE_ANCHOR, fill=pg.mkBrush(0, 0, 0, 170))
        label.setZValue(10)
        label.hide()
        self.viewer.view_box.addItem(label, ignoreBounds=True)
        return label

    # -- state -------------------------------------------------------------------------
    @property
    def compare_with(self) -> str:
        """``"baseline"``, ``"nadir"`` or ``"previous"``."""
        return str(self.compare_box.currentData())

    def set_compare_with(self, key: str) -> None:
        """Choose what to compare with (emits ``compare_changed`` when it changes)."""
        index = self.compare_box.findData(key)
        if index < 0:
            raise ValueError(f"unknown comparison {key!r}; expected baseline, nadir or previous")
        self.compare_box.setCurrentIndex(index)

    @property
    def volume(self) -> Any:
        """The series shown, or None."""
        return self.viewer.volume

    @property
    def slice_index(self) -> int:
        """The slice shown (-1 without a series)."""
        return self.viewer.slice_index if self.viewer.volume is not None else -1

    @property
    def key_slice(self) -> int:
        """The slice of the prior volume showing the previous measurement's image (-1: none)."""
        return self._key_slice

    @property
    def has_prior(self) -> bool:
        """True while a prior measurement is shown."""
        return self.viewer.volume is not None and self._geometry is not None

    @property
    def title(self) -> str:
        """The caption without the slice it is on (e.g. ``"Baseline 2026-01-05 · T1 34.0 mm"``)."""
        return self._title

    # -- showing -----------------------------------------------------------------------
    def show_series(
        self,
        volume: Any,
        title: str,
        window: tuple[float, float] | None = None,
        calipers: list[tuple[DrawnGeometry, str]] | None = None,
    ) -> None:
        """Show *volume* without a lesion (the reader has not selected one).

        *calipers* are that timepoint's measurements, ``(geometry, "T1 27.6 mm")``: each is
        drawn, labelled, on its own image of *volume* (never on another: one whose image is
        not among the loaded files is not drawn).
        """
        self._geometry, self._key_slice = None, -1
        self._set_volume(volume, window)
        self._title = title
        self._calipers = []
        for geometry, label in calipers or []:
            index = slice_of(volume, geometry)
            if index is not None:
                segments = [s for s in (geometry.long_axis, geometry.short_axis) if s is not None]
                self._calipers.append((index, segments, label))
        self._on_slice_changed(self.viewer.slice_index)

    @property
    def caliper_labels(self) -> list[str]:
        """The labels of the calipers drawn on the slice shown (e.g. ``["T1 27.6 mm"]``)."""
        shown = [self.caliper_label] if self.caliper_label else []
        return shown + [item.toPlainText() for item in self._caliper_labels if item.isVisible()]

    def show_prior(
        self,
        volume: Any,
        geometry: DrawnGeometry,
        caption: str,
        window: tuple[float, float] | None = None,
    ) -> None:
        """Show *geometry*'s slice of *volume* with its caliper.

        Parameters
        ----------
        volume : VolumeLike
            The prior timepoint's series (may be the current one).
        geometry : DrawnGeometry
            Where the previous measurement was drawn.
        caption : str
            Text above the image (the slice is added to it).
        window : tuple of float, optional
            ``(center, width)``; default: the series' own window.
        """
        key_slice = slice_of(volume, geometry)
        if key_slice is None:  # never show another image in its place
            self.clear(
                f"{caption}: image not available (it is not among the loaded files of its series)"
            )
            return
        self._set_volume(volume, window)
        self._geometry, self._key_slice, self._title = geometry, key_slice, caption
        if self.viewer.slice_index == key_slice:
            self._on_slice_changed(key_slice)
        self.viewer.set_slice(key_slice)

    def clear(self, message: str = _NO_LESION) -> None:
        """Show no image, only *message*."""
        self._geometry, self._key_slice, self._title = None, -1, ""
        self._calipers = []
        self._set_lines([])
        self.viewer.clear()
        self.caption.setText(message)

    def follow(self, position_lps_mm: tuple[float, float, float]) -> None:
        """Show the slice nearest the patient position *position_lps_mm* (its z, in LPS)."""
        if self.viewer.volume is not None:
            self.viewer.set_position(position_lps_mm)

    # -- internals ---------------------------------------------------------------------
    def _set_volume(self, volume: Any, window: tuple[float, float] | None) -> None:
        shown = self.viewer.volume
        if shown is not volume and (
            shown is None or instance_set_key(shown) != instance_set_key(volume)
        ):
            self.viewer.set_volume(volume)
        if window is not None:
            self.viewer.set_window(*window)

    def _on_slice_changed(self, index: int) -> None:
        on_key_slice = self._geometry is not None and index == self._key_slice
        segments = []
        if on_key_slice and self._geometry is not None:
            segments = [
                s for s in (self._geometry.long_axis, self._geometry.short_axis) if s is not None
            ]
        self._set_lines(segments)
        if self._geometry is None:  # no lesion selected: the timepoint's calipers on this image
            here = [(segs, label) for i, segs, label in self._calipers if i == index]
            while len(self._caliper_labels) < len(here):
                self._caliper_labels.append(self._new_label())
            for item in self._caliper_labels[len(here) :]:
                item.hide()
            for (segs, text), item in zip(here, self._caliper_labels, strict=False):
                self._add_lines(segs)
                _label_at_right_end(item, segs[0], text)
                item.show()
        self._place_timer.start()
        self._update_caption()

    def _update_caption(self) -> None:
        volume = self.viewer.volume
        if volume is None:
            return
        count = int(np.asarray(volume.voxels).shape[0])
        text = f"slice {self.viewer.slice_index + 1}/{count}"
        if self._geometry is not None and self.viewer.slice_index != self._key_slice:
            text += f" (measured on {self._key_slice + 1})"
        caption = f"{self._title} · {text}" if self._title else text
        self.caption.setText(caption)
        self.caption.setToolTip(caption)  # one line: cut when the pane is narrow

    @property
    def caliper_label(self) -> str:
        """The text beside the prior caliper (e.g. ``"T1 34.0 mm"``), empty when none is drawn."""
        return self._label.toPlainText() if self._label.isVisible() else ""

    def _set_lines(self, segments: list[Any]) -> None:
        for line in self._lines:
            self.viewer.view_box.removeItem(line)
        self._lines = []
        for item in self._caliper_labels:
            item.hide()
        self._label.setVisible(bool(segments))
        if segments:  # "T1 34.0 mm" (the caption's last part) at the right-hand end
            _label_at_right_end(self._label, segments[0], self._title.split(" · ")[-1])
        self._add_lines(segments)
        self._place_timer.start()

    def place_labels(self) -> None:
        """Keep the caliper labels apart, off the orientation letters and inside the view.

        The same placement as the current pane's (:func:`viewer.image.labels.label_shifts`):
        a caliper near an edge would otherwise put its label under "R" or beyond the border.
        """
        labels = [item for item in (self._label, *self._caliper_labels) if item.isVisible()]
        if not labels or self.viewer.volume is None:
            return
        view_box = self.viewer.view_box
        boxes: list[tuple[object, float, float, float, float]] = []
        for owner, label in enumerate(labels):
            rect = label.textItem.boundingRect()
            w, h = max(float(rect.width()), 1.0), max(float(rect.height()), 1.0)
            pos = view_box.mapViewToScene(label.pos())
            x, y = float(pos.x()) - _BASE_ANCHOR[0] * w, float(pos.y()) - _BASE_ANCHOR[1] * h
            boxes.append((owner, x, y, w, h))
        letters, visible = self.viewer.label_keep_out()
        shifts = label_shifts(
            boxes,
            [(r.x(), r.y(), r.width(), r.height()) for r in letters],
            (visible.x(), visible.y(), visible.width(), visible.height()),
        )
        for label, (*_, w, h), (dx, dy) in zip(labels, boxes, shifts, strict=True):
            anchor = (_BASE_ANCHOR[0] - dx / w, _BASE_ANCHOR[1] - dy / h)
            if (float(label.anchor[0]), float(label.anchor[1])) != anchor:
                label.setAnchor(QPointF(*anchor))

    def label_boxes(self) -> list[QRectF]:
        """The shown caliper labels' boxes in scene pixels (for tests)."""
        return [
            item.mapRectToScene(item.boundingRect())
            for item in (self._label, *self._caliper_labels)
            if item.isVisible()
        ]

    def _add_lines(self, segments: list[Any]) -> None:
        for segment in segments:
            xs = [segment.start_px[0], segment.end_px[0]]
            ys = [segment.start_px[1], segment.end_px[1]]
            line = pg.PlotDataItem(
                xs,
                ys,
                pen=pg.mkPen(CALIPER, width=2),
                symbol="+",
                symbolSize=8,
                symbolPen=pg.mkPen(CALIPER),
            )
            self.viewer.view_box.addItem(line)
            self._lines.append(line)


def _label_at_right_end(label: pg.TextItem, segment: Any, text: str) -> None:
    """*text* in *label*, beside the right-hand end of a caliper *segment* (display pixels)."""
    end = max((segment.start_px, segment.end_px), key=lambda p: p[0])
    label.setText(text)
    label.setPos(end[0] + 2, end[1])
