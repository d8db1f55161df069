"""The panes of the image area: 1x1, 1x2 and 2x2 layouts, linked planes, cine.

:class:`ViewerLayout` arranges the current series' view (the main pane), a
coronal and a sagittal reformat of the same series, and the comparison pane
(:class:`viewer.image.prior.PriorSliceWidget`):

``1x1``  the main pane alone (any plane);
``1x2``  current | comparison, side by side at the same size;
``2x2``  axial, coronal / sagittal, comparison; without an earlier timepoint
         (baseline) the axial pane takes the left column and the
         reformats are stacked on the right.

The two reformat panes are built the first time they are needed (a 2x2 layout, or
:attr:`ViewerLayout.coronal` read): ``caliper`` shows its window in 1x1 without them.

The reformats outline the main pane's contours (lesion, liver) on their planes too.
In 2x2 the three planes share one point (the crosshair, drawn in each): a
click or a pointer drag in one plane moves it, and the other two planes show
the slices through it; scrolling one plane moves the crosshair in the others.
:class:`Cine` steps the main pane through its slices at a frame rate.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from viewer.image.planes import lps_to_voxel
from viewer.image.prior import PriorSliceWidget
from viewer.image.view import SeriesViewerWidget

#: The layouts, in menu order.
LAYOUTS: tuple[str, ...] = ("1x1", "1x2", "2x2")
#: Menu text of each layout.
LAYOUT_TITLES: dict[str, str] = {
    "1x1": "1×1 — one pane",
    "1x2": "1×2 — current | comparison",
    "2x2": "2×2 — axial, coronal, sagittal, comparison",
}
#: Voxel index component (slice, row, column) along each plane's normal.
_NORMAL_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}


class ViewerLayout(QtWidgets.QWidget):
    """The image area: the main pane, two reformats and the comparison pane in a grid.

    Signals
    -------
    layout_changed(str)
        ``"1x1"``, ``"1x2"`` or ``"2x2"``.
    crosshair_moved(tuple)
        The shared point of the planes moved (LPS millimetres); 2x2 only.
    measurement_refused(str)
        A plane refused a caliper (``SeriesViewerWidget.measurement_refused``), with why.

    Parameters
    ----------
    main : SeriesViewerWidget
        The current series' view (calipers are drawn there).
    prior : PriorSliceWidget
        The comparison pane.
    main_pane : QWidget, optional
        What holds *main* in the grid (e.g. *main* under a warnings bar); default *main*.
    """

    layout_changed = QtCore.Signal(str)
    crosshair_moved = QtCore.Signal(object)
    measurement_refused = QtCore.Signal(str)

    def __init__(
        self,
        main: SeriesViewerWidget,
        prior: PriorSliceWidget,
        main_pane: QtWidgets.QWidget | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewerLayout")
        self.main, self.prior = main, prior
        self._reformats: tuple[SeriesViewerWidget, SeriesViewerWidget] | None = None
        self._main_pane = main_pane or main
        self._grid = QtWidgets.QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._mode = ""
        self._comparison = True  # an earlier timepoint exists: the comparison pane is useful
        self._cursor: tuple[float, float, float] | None = None  # voxel index of the crosshair
        self._syncing = False
        main.slice_changed.connect(lambda _i: self._on_slice_changed(main))
        main.position_picked.connect(self._on_position_picked)
        main.measurement_refused.connect(self.measurement_refused)
        main.volume_changed.connect(self._on_volume_changed)
        main.window_changed.connect(self._on_main_window)
        self.cine = Cine(main, self)
        self.set_layout("1x1")

    # -- state -------------------------------------------------------------------------
    @property
    def layout_name(self) -> str:
        """``"1x1"``, ``"1x2"`` or ``"2x2"``."""
        return self._mode

    @property
    def planes(self) -> tuple[SeriesViewerWidget, SeriesViewerWidget, SeriesViewerWidget]:
        """The main pane and the two reformats (shown in 2x2)."""
        coronal, sagittal = self._reformat_views()
        return self.main, coronal, sagittal

    @property
    def coronal(self) -> SeriesViewerWidget:
        """The coronal reformat pane (2x2)."""
        return self._reformat_views()[0]

    @property
    def sagittal(self) -> SeriesViewerWidget:
        """The sagittal reformat pane (2x2)."""
        return self._reformat_views()[1]

    def _built_planes(self) -> tuple[SeriesViewerWidget, ...]:
        """The main pane and the reformats if they are built yet (without building them)."""
        return (self.main, *(self._reformats or ()))

    def _reformat_views(self) -> tuple[SeriesViewerWidget, SeriesViewerWidget]:
        """The coronal and sagittal panes, built now with the main pane's tool and settings."""
        if self._reformats is None:
            views = SeriesViewerWidget(self), SeriesViewerWidget(self)
            for view, name in zip(views, ("coronalViewer", "sagittalViewer"), strict=True):
                view.setObjectName(name)
                view.hide()  # until a 2x2 layout places it
                view.set_tool(self.main.tool)
                view.allow_reformat_calipers = self.main.allow_reformat_calipers
                view.crosshair_enabled = self._mode == "2x2"
                view.slice_changed.connect(lambda _i, v=view: self._on_slice_changed(v))
                view.position_picked.connect(self._on_position_picked)
                view.window_changed.connect(
                    lambda c, w, v=view: self._on_reformat_window(v, float(c), float(w))
                )
                view.measurement_refused.connect(self.measurement_refused)
                self.main.contours_changed.connect(
                    lambda v=view: v.isVisible() and v.set_contours(self.main.contours)
                )
            self._reformats = views
        return self._reformats

    def set_reformat_calipers(self, allowed: bool) -> None:
        """Allow (or not) calipers on coronal/sagittal images, in every plane."""
        for view in self._built_planes():
            view.allow_reformat_calipers = allowed

    @property
    def visible_panes(self) -> list[QtWidgets.QWidget]:
        """The panes of the current layout, in reading order."""
        return [widget for widget, _cell in self._cells()]

    @property
    def comparison_available(self) -> bool:
        """Whether there is an earlier timepoint to compare with."""
        return self._comparison

    def set_comparison_available(self, available: bool) -> None:
        """Without an earlier timepoint, 2x2 gives the comparison pane's room to the axial pane."""
        if available != self._comparison:
            self._comparison = available
            if self._mode == "2x2":
                self._arrange()

    def _cells(self) -> list[tuple[QtWidgets.QWidget, tuple[int, int, int, int]]]:
        """Each visible pane with its (row, column, row span, column span)."""
        main = self._main_pane
        if self._mode == "1x1":
            return [(main, (0, 0, 1, 1))]
        if self._mode == "1x2":
            return [(main, (0, 0, 1, 1)), (self.prior, (0, 1, 1, 1))]
        if not self._comparison:
            return [
                (main, (0, 0, 2, 1)),
                (self.coronal, (0, 1, 1, 1)),
                (self.sagittal, (1, 1, 1, 1)),
            ]
        return [
            (main, (0, 0, 1, 1)),
            (self.coronal, (0, 1, 1, 1)),
            (self.sagittal, (1, 0, 1, 1)),
            (self.prior, (1, 1, 1, 1)),
        ]

    def _arrange(self) -> None:
        panes = (self._main_pane, *(self._reformats or ()), self.prior)
        for widget in panes:
            self._grid.removeWidget(widget)
        cells = self._cells()
        for widget, (row, column, rows, columns) in cells:
            self._grid.addWidget(widget, row, column, rows, columns)
            widget.show()
        for widget in {*panes, *(self._reformats or ())} - {w for w, _ in cells}:
            widget.hide()
        last_row = max(r + rs - 1 for _, (r, _c, rs, _cs) in cells)
        last_column = max(c + cs - 1 for _, (_r, c, _rs, cs) in cells)
        for i in range(2):  # equal columns and rows: the panes are the same size
            self._grid.setColumnStretch(i, 1 if i <= last_column else 0)
            self._grid.setRowStretch(i, 1 if i <= last_row else 0)

    @property
    def crosshair_lps(self) -> tuple[float, float, float] | None:
        """The planes' shared point in LPS millimetres (2x2 with a series), else None."""
        volume = self.main.volume
        if self._cursor is None or volume is None:
            return None
        x, y, z = volume.index_to_lps(*self._cursor)
        return float(x), float(y), float(z)

    # -- layouts -----------------------------------------------------------------------
    def set_layout(self, name: str) -> None:
        """Show the panes of layout *name* (``1x1``, ``1x2`` or ``2x2``).

        Raises
        ------
        ValueError
            For an unknown layout.
        """
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}")
        if name == self._mode:
            return
        self._mode = name
        self._arrange()
        linked = name == "2x2"
        for view in self._built_planes():
            view.crosshair_enabled = linked
        if linked:
            if self.main.orientation != "axial":
                self.main.set_orientation("axial")
            self._show_reformats()
        else:
            self._cursor = None
            for view in self._built_planes():
                view.set_crosshair(None)
        self.layout_changed.emit(name)

    def set_tool(self, name: str) -> None:
        """Give the main pane and the reformats the left-button tool *name*."""
        for view in self._built_planes():
            view.set_tool(name)

    def set_plane(self, plane: str) -> None:
        """Show *plane* in the main pane (1x1 and 1x2; 2x2 keeps it axial)."""
        if self._mode == "2x2" and plane != "axial":
            pane = self.coronal if plane == "coronal" else self.sagittal
            pane.setFocus()
            return
        self.main.set_orientation(plane)

    # -- linking -----------------------------------------------------------------------
    def _show_reformats(self) -> None:
        volume = self.main.volume
        if volume is None:
            return
        self._syncing = True
        try:
            for view, plane in ((self.coronal, "coronal"), (self.sagittal, "sagittal")):
                view.set_tool(self.main.tool)
                view.allow_reformat_calipers = self.main.allow_reformat_calipers
                if view.volume is not volume:
                    view.set_volume(volume)
                view.set_orientation(plane)
                view.set_contours(self.main.contours)  # the main pane's outlines, as reformats
                view.set_window(
                    self.main.window_center, self.main.window_width, self.main.preset_name
                )
        finally:
            self._syncing = False
        shape = volume.voxels.shape
        if self._cursor is None:
            self._cursor = (
                float(self.main.slice_index),
                (shape[1] - 1) / 2.0,
                (shape[2] - 1) / 2.0,
            )
        self._apply_cursor(None)

    def _apply_cursor(self, source: SeriesViewerWidget | None) -> None:
        """Show the slices through the crosshair in every plane but *source*; draw it in all."""
        lps = self.crosshair_lps
        if lps is None:
            return
        self._syncing = True
        try:
            for view in self.planes:
                if view is not source and view.volume is not None:
                    index = self._cursor[_NORMAL_AXIS[view.orientation]]  # type: ignore[index]  # set with lps
                    view.set_slice(round(index))
                view.set_crosshair(lps)
        finally:
            self._syncing = False
        self.crosshair_moved.emit(lps)

    def _on_slice_changed(self, view: SeriesViewerWidget) -> None:
        if self._syncing or self._mode != "2x2" or self._cursor is None:
            return
        cursor = list(self._cursor)
        cursor[_NORMAL_AXIS[view.orientation]] = float(view.slice_index)
        self._cursor = (cursor[0], cursor[1], cursor[2])
        self._apply_cursor(view)

    def _on_position_picked(self, lps: Any) -> None:
        volume = self.main.volume
        if self._mode != "2x2" or volume is None:
            return
        self._cursor = lps_to_voxel(volume, tuple(lps))
        self._apply_cursor(None)

    def _on_volume_changed(self, volume: Any) -> None:
        self._cursor = None
        for view in self._reformats or ():
            view.clear()
        if self._mode == "2x2" and volume is not None:
            self._show_reformats()

    def _on_main_window(self, center: float, width: float) -> None:
        """The planes of one series share the window (a drag in one changes all)."""
        if self._mode == "2x2" and not self._syncing:
            self._syncing = True
            try:
                for view in self._reformats or ():
                    view.set_window(center, width, self.main.preset_name)
            finally:
                self._syncing = False

    def _on_reformat_window(self, source: SeriesViewerWidget, center: float, width: float) -> None:
        if self._mode == "2x2" and not self._syncing:
            self._syncing = True
            try:
                for view in self.planes:
                    if view is not source:
                        view.set_window(center, width, source.preset_name)
            finally:
                self._syncing = False


class Cine(QtCore.QObject):
    """Plays *view*'s slices at :attr:`fps` frames per second, wrapping at the end.

    Signals
    -------
    running_changed(bool)
        Started or stopped.
    """

    running_changed = QtCore.Signal(bool)

    #: Frame rates the control offers (frames per second).
    MIN_FPS, MAX_FPS, DEFAULT_FPS = 1, 60, 10

    def __init__(self, view: SeriesViewerWidget, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._fps = self.DEFAULT_FPS
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.step)
        self._timer.setInterval(round(1000 / self._fps))

    @property
    def running(self) -> bool:
        """True while playing."""
        return self._timer.isActive()

    @property
    def fps(self) -> int:
        """Frames per second."""
        return self._fps

    def set_fps(self, fps: int) -> None:
        """Set the frame rate (clamped to 1..60 frames per second)."""
        self._fps = int(min(max(fps, self.MIN_FPS), self.MAX_FPS))
        self._timer.setInterval(round(1000 / self._fps))

    def set_running(self, running: bool) -> None:
        """Start (with a series shown) or stop playing."""
        running = running and self._view.volume is not None
        if running != self.running:
            self._timer.start() if running else self._timer.stop()
            self.running_changed.emit(running)

    def toggle(self) -> None:
        """Start or stop."""
        self.set_running(not self.running)

    def step(self) -> None:
        """Show the next slice (the first after the last)."""
        count = self._view.slice_count
        if count == 0:
            self.set_running(False)
            return
        self._view.set_slice((self._view.slice_index + 1) % count)
