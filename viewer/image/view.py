"""The image view: one series, one plane, calipers on top.

Mouse and keys follow Slicer/OHIF/syngo: the wheel (and PageUp/PageDown, the
arrow keys) scroll slices, Ctrl+wheel zooms, right or middle drag sets
window/level, the left button follows the active tool.  Calipers are drawn on
axial slices; the widget emits their geometry in millimetres and never stores
a measurement itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from recist.model import DrawnGeometry, Segment
from viewer.image.annotations import (
    CORNERS,
    EDGES,
    NOTICE,
    ViewAnnotations,
    cursor_text,
    view_texts,
)
from viewer.image.contours import Contour, ContourOverlay
from viewer.image.fit import body_box
from viewer.image.image_item import SmoothImageItem
from viewer.image.keys import ViewInputFilter, handle_key
from viewer.image.overlay_layer import OverlayLayer, OverlayRoi
from viewer.image.overlays import MeasurementOverlay, Point2, make_geometry
from viewer.image.planes import PLANES, PlaneGeometry, lps_to_voxel
from viewer.image.presets import (
    CUSTOM,
    DICOM,
    default_preset_for,
    dicom_window,
    normalise_preset_name,
    window_for_preset,
)
from viewer.image.scalebar import ScaleBar
from viewer.image.tools import TOOLS, ToolDragger
from viewer.image.viewbox import ImageViewBox
from viewer.image.volume import volume_text

pg.setConfigOptions(imageAxisOrder="row-major")


class SeriesViewerWidget(QtWidgets.QWidget):
    """Shows one series with window/level, reformats and measurement calipers.

    Signals
    -------
    measurement_drawn(DrawnGeometry)
        Once per caliper drawn with the ``line`` or ``bidirectional`` tool.
    measurement_edited(int, DrawnGeometry)
        Once per handle drag of a caliper that really moved it.
    delete_requested(int)
        Delete/Backspace with a caliper selected.
    measurement_selected(object)
        The reader clicked a caliper (its id) or the empty image (None).
    smart_caliper_requested(tuple)
        With the ``smart`` tool, a click in (or a drag across) a lesion on an axial slice:
        the point, patient LPS millimetres.
    slice_changed(int)
        The displayed slice (position along the plane normal) changed.
    window_changed(float, float)
        ``(center, width)`` changed.
    preset_changed(str)
        The window's preset name changed (``"custom"`` once dragged away from a preset).
    volume_changed(object)
        :meth:`set_volume` showed another volume.
    measurement_refused(str)
        A caliper drawn on a coronal/sagittal reformat was refused; the reason.
    position_picked(tuple)
        A click (or pointer drag, crosshair shown) on the image: the point, LPS millimetres.
    """

    measurement_drawn = QtCore.Signal(object)
    measurement_edited = QtCore.Signal(int, object)
    delete_requested = QtCore.Signal(int)
    measurement_selected = QtCore.Signal(object)
    slice_changed = QtCore.Signal(int)
    window_changed = QtCore.Signal(float, float)
    smart_caliper_requested = QtCore.Signal(object)
    preset_changed = QtCore.Signal(str)
    volume_changed = QtCore.Signal(object)
    measurement_refused = QtCore.Signal(str)
    position_picked = QtCore.Signal(object)
    contours_changed = QtCore.Signal()  # set_contours: the 2x2 reformats outline them too

    #: Why a caliper drawn on a reformat is refused.
    REFORMAT_REFUSAL = (
        "Measurements are made on axial slices (RECIST 1.1): draw the caliper in the axial pane "
        "(the protocol setting viewer/allow_reformat_measurements allows reformats)."
    )

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(imageAxisOrder="row-major")
        self._volume: Any = None
        self._geometry: PlaneGeometry | None = None
        self._index = 0
        self._center, self._width = 40.0, 400.0
        self._tool = "pointer"
        self._smart_proposal_id: int | None = None
        self._cursor_text = ""
        self._slice: np.ndarray | None = None
        self._level_offset = 0.0
        self._preset = ""
        self._mouse_scene: QtCore.QPointF | None = None  # for readouts after scrolling
        self.allow_reformat_calipers = False
        """Protocol setting: calipers may be drawn on coronal/sagittal reformats."""
        self.crosshair_enabled = False
        """A pointer drag moves the crosshair (``position_picked``) instead of panning."""

        self._graphics = pg.GraphicsView(background="k")
        self._graphics.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self._dragger = ToolDragger(self)
        self.view_box = ImageViewBox(
            self._on_wheel_scrolled, self._dragger.handle, self._on_image_clicked
        )
        self._graphics.setCentralItem(self.view_box)
        # "body", "image" or None (zoomed/panned by the reader): what a resize re-fits
        self._fit: str | None = "image"
        self._body_box: tuple[np.ndarray | None, tuple[float, float, float, float] | None] = (
            None,
            None,
        )
        self.view_box.sigRangeChangedManually.connect(self._on_view_moved)
        self._image = SmoothImageItem(axisOrder="row-major")
        self._image.setPos(-0.5, -0.5)  # voxel centres at integer display coordinates
        self.view_box.addItem(self._image)
        self._contours = ContourOverlay(self.view_box)
        self._annotations = ViewAnnotations(self._graphics)
        self.scale_bar = ScaleBar(self._graphics)
        self._crosshair = [
            pg.InfiniteLine(angle=a, movable=False, pen=pg.mkPen((80, 200, 255), width=1))
            for a in (90, 0)
        ]
        for line in self._crosshair:
            line.setZValue(5)
            line.hide()
            self.view_box.addItem(line, ignoreBounds=True)
        self.view_box.sigRangeChanged.connect(self._on_range_changed)
        self._spread_timer = QtCore.QTimer(self)  # caliper labels apart, once per burst
        self._spread_timer.setSingleShot(True)
        self._spread_timer.setInterval(0)
        self._spread_timer.timeout.connect(self._spread_labels)
        self._layer = OverlayLayer(
            self, self.measurement_edited.emit, self.measurement_selected.emit, self._on_roi_clicked
        )
        self._input_filter = ViewInputFilter(self, parent=self)
        self._graphics.installEventFilter(self._input_filter)
        self._graphics.viewport().installEventFilter(self._input_filter)
        self._graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

        # a series loading in the background: redraw as its slices arrive
        self._load_timer = QtCore.QTimer(self)
        self._load_timer.setInterval(150)
        self._load_timer.timeout.connect(self._on_load_progressed)
        self._slices_seen = 0

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        self.setFocusProxy(self._graphics)

    # -- read-only state -------------------------------------------------------------
    @property
    def volume(self) -> Any:
        """The displayed volume, or None."""
        return self._volume

    @property
    def slice_index(self) -> int:
        """Position along the current plane's normal (the axial slice for ``axial``)."""
        return self._index

    @property
    def slice_count(self) -> int:
        """Number of positions in the current plane (0 without a volume)."""
        return self._geometry.count if self._geometry else 0

    @property
    def orientation(self) -> str:
        """``"axial"``, ``"coronal"`` or ``"sagittal"``."""
        return self._geometry.plane if self._geometry else "axial"

    @property
    def tool(self) -> str:
        """The active left-button tool."""
        return self._tool

    @property
    def window_center(self) -> float:
        """Window centre (level), in stored units."""
        return self._center

    @property
    def window_width(self) -> float:
        """Window width, in stored units."""
        return self._width

    @property
    def pixel_mm(self) -> tuple[float, float]:
        """Millimetres per display pixel ``(x, y)`` in the current plane."""
        return self._geometry.pixel_mm if self._geometry else (1.0, 1.0)

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the displayed image."""
        return (0, 0) if self._slice is None else self._slice.shape[:2]

    @property
    def displayed_slice(self) -> np.ndarray | None:
        """The 2-D array on screen, in stored units (HU for CT)."""
        return self._slice

    @property
    def image_item(self) -> pg.ImageItem:
        """The pyqtgraph item showing the slice."""
        return self._image

    @property
    def graphics_view(self) -> pg.GraphicsView:
        """The graphics view (its viewport receives mouse events)."""
        return self._graphics

    @property
    def overlay_items(self) -> dict[int, OverlayRoi]:
        """The calipers on screen, by measurement id (current axial slice only)."""
        return dict(self._layer.items)

    @property
    def provisional_item(self) -> OverlayRoi | None:
        """The caliper being drawn, or just drawn and not yet a measurement; else None."""
        return self._layer.provisional

    @property
    def fit_mode(self) -> str | None:
        """``"body"`` or ``"image"`` while fitted that way; None once zoomed or panned."""
        return self._fit

    @property
    def unavailable_measurement_ids(self) -> list[int]:
        """Measurements of the shown series whose image is not loaded: drawn nowhere."""
        return [o.measurement_id for o in self._layer.unavailable]

    @property
    def selected_measurement_id(self) -> int | None:
        """The highlighted measurement (the Delete key's target), or None."""
        return self._layer.selected_id

    @property
    def preset_name(self) -> str:
        """The preset the window came from (``"liver"``, ``"dicom"``...), or ``"custom"``."""
        return self._preset

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel (1.0 = one to one; 0 before the first image)."""
        if self._slice is None:
            return 0.0
        size = self.view_box.viewPixelSize()[0]
        return 1.0 / size if size > 0 else 0.0

    @property
    def crosshair_position(self) -> tuple[float, float] | None:
        """Display ``(x, y)`` of the crosshair, or None while hidden."""
        v, h = self._crosshair
        return (float(v.value()), float(h.value())) if v.isVisible() else None

    def annotation(self, name: str) -> str:
        """Text of an overlay label: a corner (``"top_left"``...) or an edge (``"left"``...)."""
        return self._annotations.text(name)

    # -- public API (docs/INTERFACES.md) ----------------------------------------------
    def set_volume(self, volume: Any) -> None:
        """Show *volume* (a ``storage.dicom.Volume`` or anything shaped like it).

        Opens on the middle axial slice with the modality's default window
        (liver for CT, percentile ``auto`` otherwise), fitted to the body for
        CT (:meth:`fit_to_body`), and clears the overlays.
        """
        self._volume = volume
        self._slice = None
        self._layer.set_overlays([])
        self._contours.set_contours([])
        self._geometry = PlaneGeometry.of(volume, "axial")
        self._index = self._geometry.count // 2
        self._show_plane()
        has_window = dicom_window(volume) is not None
        self.apply_preset(DICOM if has_window else default_preset_for(volume_modality(volume)))
        self._slices_seen = getattr(volume, "slices_loaded", 0)
        if getattr(volume, "is_complete", True):
            self._load_timer.stop()
        else:
            self._load_timer.start()
        self.volume_changed.emit(volume)

    def clear(self) -> None:
        """Show no image (another patient was opened) until the next :meth:`set_volume`."""
        self._load_timer.stop()
        self._volume = None
        self._geometry = None
        self._slice = None
        self._index = 0
        self._cursor_text = ""
        self._mouse_scene = None
        self.scale_bar.set_scale(None)
        self.set_crosshair(None)
        self._image.clear()
        self._layer.set_overlays([])
        self._contours.set_contours([])
        self._contours.show(None, (0, 0))
        for name in (*CORNERS, *EDGES, NOTICE):  # NOTICE: no "image not available" left over
            self._annotations.set_text(name, "")

    def refresh(self) -> None:
        """Redraw the current slice from ``volume.voxels`` (e.g. after more slices loaded)."""
        if self._geometry is not None:
            self._show_slice()
            if self._fit == "body":  # the body may have just arrived on this slice
                self.fit_to_body()

    def set_slice(self, index: int) -> None:
        """Show position *index* (clamped) of the current plane; emits ``slice_changed``."""
        if self._geometry is None:
            return
        index = int(min(max(index, 0), self._geometry.count - 1))
        if index == self._index and self._slice is not None:
            return
        self._index = index
        self._show_slice()
        self.slice_changed.emit(index)

    def set_window(self, center: float, width: float, preset: str = CUSTOM) -> None:
        """Set window centre and width (stored units, HU for CT); width >= 1.

        *preset* names where it comes from; a window set otherwise (a drag) is ``"custom"``.
        """
        if preset != self._preset:
            self._preset = preset
            self.preset_changed.emit(preset)
        self._center, self._width = float(center), max(float(width), 1.0)
        if (
            self._slice is not None
        ):  # before the first image pyqtgraph would defer (and misapply) it
            self._image.setLevels(self._display_levels())
        self._update_annotations()
        self.window_changed.emit(self._center, self._width)

    def apply_preset(self, name: str) -> None:
        """Apply a window preset: ``dicom``, ``liver``, ``soft tissue``, ``lung``, ``bone``,
        ``brain`` or ``auto``.

        ``dicom`` is the series' WindowCenter/WindowWidth (the modality default
        when it has none); ``custom`` leaves the window as it is.

        Raises
        ------
        KeyError
            For an unknown preset name.
        """
        key = normalise_preset_name(name)
        if key == CUSTOM:
            return
        if key == DICOM:
            window = dicom_window(self._volume)
            if window is None:  # no window in the files: the modality's default, named as such
                self.apply_preset(default_preset_for(volume_modality(self._volume)))
            else:
                self.set_window(*window, preset=DICOM)
            return
        data = None
        if key == "auto" and self._volume is not None:
            data = self._slice if self._slice is not None else self._volume.voxels
        if key == "auto" and data is None:
            return
        self.set_window(*window_for_preset(key, data), preset=key)

    def set_orientation(self, plane: str) -> None:
        """Show the ``axial`` (default), ``coronal`` or ``sagittal`` plane.

        Raises
        ------
        ValueError
            For an unknown plane.
        """
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}; expected one of {', '.join(PLANES)}")
        if self._volume is None or plane == self.orientation:
            return
        axial_index = self._index if self.orientation == "axial" else None
        self._geometry = PlaneGeometry.of(self._volume, plane)
        self._index = (
            self._geometry.count // 2 if axial_index is None or plane != "axial" else axial_index
        )
        self._show_plane()
        self.slice_changed.emit(self._index)

    def set_position(self, lps: tuple[float, float, float]) -> None:
        """Show the slice of the current plane through patient position *lps* (millimetres)."""
        if self._geometry is None:
            return
        s, r, c = lps_to_voxel(self._volume, lps)
        index, _, _ = self._geometry.from_index(s, r, c, self._volume.voxels.shape[0])
        self.set_slice(round(index))

    def set_crosshair(self, lps: tuple[float, float, float] | None) -> None:
        """Draw the crosshair through patient position *lps* in this plane (None hides it)."""
        if lps is None or self._geometry is None:
            for line in self._crosshair:
                line.hide()
            return
        s, r, c = lps_to_voxel(self._volume, lps)
        _, x, y = self._geometry.from_index(s, r, c, self._volume.voxels.shape[0])
        for line, value in zip(self._crosshair, (x, y), strict=True):
            line.setValue(value)
            line.show()

    def pick_position(self, x: float, y: float) -> None:
        """Emit ``position_picked`` for display point ``(x, y)`` (clamped to the image)."""
        rows, cols = self.image_shape
        if rows and cols:
            x, y = min(max(x, 0.0), cols - 1.0), min(max(y, 0.0), rows - 1.0)
            self.position_picked.emit(self.display_to_lps(x, y))

    def refuse_drawing(self) -> None:
        """A caliper on a reformat: emit ``measurement_refused`` with the reason."""
        self.measurement_refused.emit(self.REFORMAT_REFUSAL)

    def set_tool(self, name: str) -> None:
        """Select the left-button tool: pointer, line, bidirectional, pan, zoom or window.

        Raises
        ------
        ValueError
            For an unknown tool.
        """
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}")
        self._tool = name
        self._lock_calipers()
        drawing = name in ("line", "bidirectional", "smart")
        self._graphics.viewport().setCursor(
            QtCore.Qt.CursorShape.CrossCursor if drawing else QtCore.Qt.CursorShape.ArrowCursor
        )

    @property
    def smart_proposal_id(self) -> int | None:
        """The measurement the Smart caliper proposed last (see :meth:`set_smart_proposal`)."""
        return self._smart_proposal_id

    def set_smart_proposal(self, measurement_id: int | None) -> None:
        """The Smart caliper's latest proposal: with the ``smart`` tool, the only caliper a drag
        on its handles adjusts.  Any other caliper then takes no drag: a drag across a lesion
        that starts on another lesion's handle measures (before, it moved that caliper)."""
        self._smart_proposal_id = measurement_id
        self._lock_calipers()

    def _lock_calipers(self) -> None:
        self._layer.lock(self._tool == "smart", self._smart_proposal_id)

    def set_reader_places_short_axis(self, predicate: Callable[[], bool]) -> None:
        """Ask *predicate* whether a bidirectional caliper waits for a short axis the reader drags.

        True for a lymph node (its short axis is what RECIST counts): the first
        drag draws the long axis, a second drag the short axis.
        """
        self._dragger.reader_places_short_axis = predicate

    def set_overlays(self, items: Sequence[MeasurementOverlay]) -> None:
        """Replace the measurements drawn; each shows on its own axial slice.

        Also removes the caliper just drawn: it is either among *items* now or
        was refused.
        """
        self._layer.set_overlays(items)
        self._update_notice()
        self._spread_timer.start()  # their labels apart, and off the orientation letters

    def set_contours(self, contours: Sequence[Contour]) -> None:
        """Outline these masks (``viewer.image.contours.Contour``) on the slices crossed."""
        self._contours.set_contours(contours)
        if self._slice is not None:
            self._show_contours()
        self.contours_changed.emit()

    @property
    def contours(self) -> list[Contour]:
        """The masks outlined."""
        return self._contours.contours

    def discard_pending(self) -> None:
        """Remove the caliper just drawn (or being drawn) without emitting anything.

        The main window calls this when the controller refuses a drawn caliper.
        """
        self._dragger.cancel()
        self._layer.show_provisional(None)

    def fit_to_window(self) -> None:
        """Show the whole image, as large as fits."""
        rows, cols = self.image_shape
        if rows and cols:
            self._set_range((-0.5, -0.5, cols - 0.5, rows - 0.5))
        self._fit = "image"

    def fit_to_body(self) -> None:
        """Zoom to the body (CT voxels above -500 HU, small margin) on the shown slice.

        Whole-body PET/CT has a ~500 mm field of view, so the body is small in
        the whole image.  For other modalities, or a slice without body, this
        is :meth:`fit_to_window`.  It is the initial view of a CT.
        """
        if self._body_box[0] is not self._slice:  # resizes re-fit often: compute once a slice
            self._body_box = (
                self._slice,
                body_box(self._slice, getattr(self._volume, "modality", None)),
            )
        box = self._body_box[1]
        if box is None:
            self.fit_to_window()
            return
        self._set_range(box)
        self._fit = "body"

    def toggle_fit(self) -> None:
        """Double-click: the whole image, or the body when the whole image is shown."""
        if self._fit == "image":
            self.fit_to_body()
        else:
            self.fit_to_window()

    def render_png(self, path: str) -> None:
        """Write the view as shown (image, calipers, text) to the PNG file *path*.

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        QtWidgets.QApplication.processEvents()
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write PNG screenshot to {path}")

    # -- helpers the tool dragger uses ------------------------------------------------
    def display_to_index(self, x: float, y: float) -> tuple[float, float, float]:
        """Continuous voxel index ``(slice, row, column)`` of display point ``(x, y)``."""
        assert self._geometry is not None  # a volume is loaded
        return self._geometry.to_index(self._index, x, y, self._volume.voxels.shape[0])

    def display_to_lps(self, x: float, y: float) -> tuple[float, float, float]:
        """Patient LPS millimetres of display point ``(x, y)`` in the current plane."""
        s, r, c = self.display_to_index(x, y)
        lps_x, lps_y, lps_z = self._volume.index_to_lps(s, r, c)
        return float(lps_x), float(lps_y), float(lps_z)

    def show_provisional(self, item: OverlayRoi | None) -> None:
        """Show a caliper being drawn (replacing the previous one); None removes it."""
        self._layer.show_provisional(item)

    #: Why a Smart caliper click on a reformat measures nothing (it moves the crosshair).
    SMART_REFORMAT_REFUSAL = (
        "Smart caliper: click in the lesion on an axial slice (RECIST 1.1 measures axial "
        "images; Alt+1 shows the axial plane)."
    )

    def request_smart(self, x: float, y: float) -> None:
        """Emit ``smart_caliper_requested`` for display point ``(x, y)`` of the axial slice;
        on a reformat, ``measurement_refused`` with why (the click did nothing, silently)."""
        if self._volume is None:
            return
        if self.orientation == "axial":
            self.smart_caliper_requested.emit(self.display_to_lps(x, y))
        else:
            self.measurement_refused.emit(self.SMART_REFORMAT_REFUSAL)

    def finish_drawing(
        self, long_px: Sequence[Point2], short_px: Sequence[Point2] | None = None
    ) -> None:
        """Emit ``measurement_drawn`` for end points drawn on the current slice.

        On a reformat (allowed by the protocol setting only) the end points keep
        their patient positions; the geometry names the axial image nearest the
        caliper's middle.
        """
        if self.orientation == "axial":
            geometry = make_geometry(self._volume, self._index, long_px, short_px)
        else:
            geometry = reformat_geometry(self, long_px, short_px)
        self.measurement_drawn.emit(geometry)

    # -- display -------------------------------------------------------------------------
    def _show_plane(self) -> None:
        assert self._geometry is not None  # a volume is loaded
        self.view_box.setAspectLocked(True, ratio=self._geometry.aspect)
        self._show_slice()
        self.fit_to_body()

    def _show_contours(self) -> None:
        shown = self._slice is not None and self._geometry is not None
        shape = self._slice.shape if self._slice is not None else (0, 0)
        flip = bool(self._geometry.flip_rows) if self._geometry is not None else False
        index = self._index if shown else None
        size = (int(shape[0]), int(shape[1]))
        self._contours.show(index, size, self.orientation, flip, self.pixel_mm)

    def _set_range(self, box: tuple[float, float, float, float]) -> None:
        # the image's own bounds, not childrenBounds(): calipers and their
        # screen-sized labels must not change what "fit" means
        assert self._geometry is not None  # a volume is loaded
        x0, y0, x1, y1 = box
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
        self._annotations.set_orientation(self._geometry.labels())

    def _on_range_changed(self, *_: object) -> None:
        zoom = self.zoom
        self.scale_bar.set_scale(self.pixel_mm[0] / zoom if zoom > 0 else None)
        self._update_annotations()
        self._spread_timer.start()

    def _spread_labels(self) -> None:
        self._layer.spread_labels()

    def label_keep_out(self) -> tuple[list[QtCore.QRectF], QtCore.QRectF]:
        """The orientation letters and the visible area, in scene pixels (caliper labels)."""
        view, viewport = self._graphics, self._graphics.viewport()

        def scene(rect: QtCore.QRect) -> QtCore.QRectF:
            rect = QtCore.QRect(viewport.mapFrom(view, rect.topLeft()), rect.size())
            return QtCore.QRectF(view.mapToScene(rect).boundingRect())

        visible = QtCore.QRectF(view.mapToScene(viewport.rect()).boundingRect())
        return [scene(r) for r in self._annotations.edge_rects()], visible

    def _show_slice(self) -> None:
        assert self._geometry is not None  # a volume is loaded
        self._slice = self._geometry.extract(self._volume.voxels, self._index)
        # int16 is shown as offset uint16: pyqtgraph then windows through one cached
        # lookup table instead of rescaling floats every frame (about twice as fast)
        if self._slice.dtype == np.int16:
            self._level_offset = 32768.0
            shown = self._slice.view(np.uint16) ^ np.uint16(0x8000)
        else:
            self._level_offset = 0.0
            shown = self._slice
        self._image.setImage(shown, autoLevels=False, levels=self._display_levels())
        self._show_contours()
        self._layer.show_provisional(None)
        self._layer.sync()
        self._spread_timer.start()
        if self._mouse_scene is not None:  # the readout follows the slice under the cursor
            self._cursor_text = self._cursor_text_at(self._mouse_scene)
        self._update_annotations()
        self._update_notice()

    def _update_notice(self) -> None:
        """Name the measurements whose image is not among the loaded files."""
        missing = self._layer.unavailable
        text = ""
        if missing:
            names = ", ".join(o.caption or f"measurement {o.measurement_id}" for o in missing)
            count = len(getattr(self._volume, "sop_instance_uids", None) or [])
            text = (
                f"{names}: image not available (not among the {count} images "
                "of this series loaded); not drawn"
            )
        self._annotations.set_text(NOTICE, text)

    def _display_levels(self) -> tuple[float, float]:
        low = self._center - self._width / 2 + self._level_offset
        return low, low + self._width

    def _update_annotations(self) -> None:
        if self._volume is not None:
            for name, text in view_texts(self, self._cursor_text).items():
                self._annotations.set_text(name, text)

    # -- input ---------------------------------------------------------------------------
    def _on_load_progressed(self) -> None:
        volume = self._volume
        complete = volume is None or getattr(volume, "is_complete", True)
        loaded = getattr(volume, "slices_loaded", 0)
        if volume is not None and (complete or loaded != self._slices_seen):
            self._slices_seen = loaded
            self.refresh()
        if complete:
            self._load_timer.stop()

    def _on_view_moved(self, *_: object) -> None:
        self._fit = None

    def _on_wheel_scrolled(self, steps: int) -> None:
        self.set_slice(self._index - steps)

    def _on_image_clicked(self, ev: Any) -> None:  # a pyqtgraph MouseClickEvent
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self._layer.select(None)
            if self._volume is not None and (self._tool != "smart" or self.orientation != "axial"):
                p = self.view_box.mapSceneToView(ev.scenePos())
                self.pick_position(float(p.x()), float(p.y()))
            if self._tool == "smart" and self._volume is not None:
                p = self.view_box.mapSceneToView(ev.scenePos())
                self.request_smart(float(p.x()), float(p.y()))

    def _on_roi_clicked(self, ev: Any) -> None:  # a click on a caliper (pyqtgraph event)
        if self._tool == "smart" and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            p = self.view_box.mapSceneToView(ev.scenePos())
            self.request_smart(float(p.x()), float(p.y()))

    def _cursor_text_at(self, scene_pos: QtCore.QPointF) -> str:
        p = self.view_box.mapSceneToView(scene_pos)
        return cursor_text(self, round(p.x()), round(p.y()))

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if self._volume is None or self._slice is None:
            return
        self._mouse_scene = QtCore.QPointF(scene_pos)
        text = self._cursor_text_at(scene_pos)
        if text != self._cursor_text:
            self._cursor_text = text
            self._update_annotations()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Slice and delete keys when the widget itself has focus."""
        if not handle_key(self, event.key()):
            super().keyPressEvent(event)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Keep the fitted body or image in view on resize, unless the reader zoomed or panned."""
        super().resizeEvent(event)
        self.scale_bar.place()
        if self._geometry is not None and self._fit == "body":
            self.fit_to_body()
        elif self._geometry is not None and self._fit == "image":
            self.fit_to_window()


def volume_modality(volume: Any) -> str | None:
    """The volume's modality (``"CT"``...), or None."""
    return volume_text(volume, "modality") or None


def reformat_geometry(
    view: SeriesViewerWidget, long_px: Sequence[Point2], short_px: Sequence[Point2] | None
) -> DrawnGeometry:
    """The DrawnGeometry of a caliper drawn on a reformat (allowed by the protocol only).

    End points keep their patient (LPS) positions; pixels are their projections
    on the axial image nearest the middle of the long axis, which the geometry names.
    """
    volume = view.volume
    n = int(volume.voxels.shape[0])
    ends = [view.display_to_index(*p) for p in long_px]
    axial = int(min(max(round((ends[0][0] + ends[1][0]) / 2), 0), n - 1))
    base = make_geometry(volume, axial, [(e[2], e[1]) for e in ends])

    def segment(points: Sequence[Point2]) -> Segment:
        a, b = (view.display_to_index(*p) for p in points)
        return Segment(
            start_px=(a[2], a[1]),
            end_px=(b[2], b[1]),
            start_lps_mm=view.display_to_lps(*points[0]),
            end_lps_mm=view.display_to_lps(*points[1]),
        )

    return DrawnGeometry(
        series_instance_uid=base.series_instance_uid,
        sop_instance_uid=base.sop_instance_uid,
        slice_index=axial,
        long_axis=segment(long_px),
        short_axis=segment(short_px) if short_px is not None else None,
        frame_number=base.frame_number,
    )
