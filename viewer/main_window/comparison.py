"""Comparison reading: the earlier timepoint the reader compares with, beside the current one.

:class:`ComparisonReading` is a collaborator of the main window.  It fills the
comparison pane (:class:`viewer.image.prior.PriorSliceWidget`) with the series
of the baseline, the nadir or the previous timepoint (the reader's choice in
the pane's combo box), before any lesion is selected; when the reader selects
a lesion, with the slice it was measured on then and its caliper.  The pane
follows the current pane by patient position (z in LPS).  Once a lesion is
selected the offset between its two images' positions is kept, so scrolling
keeps both panes on the lesion even when the scans are positioned differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, QTimer

from recist.model import LesionKind, Measurement, Timepoint
from viewer.image.presets import CUSTOM
from viewer.image.prior import PriorSliceWidget
from viewer.image.view import SeriesViewerWidget

#: The reader's last choice in the "Compare with" box (window settings INI key).
COMPARE_SETTING = "view/compare_with"

#: What the pane says at baseline (no earlier timepoint).
NO_EARLIER = "No earlier timepoint to compare with."


class ComparisonReading:
    """Chooses and shows the comparison timepoint; keeps the comparison pane scrolled along.

    Parameters
    ----------
    session : app.session.ReadingSession
        Timepoints, lesions, measurements.
    library : SeriesLibrary
        Finds the comparison timepoint's series on this computer.
    viewer : SeriesViewerWidget
        The current pane.
    prior : PriorSliceWidget
        The comparison pane.
    on_available : callable, optional
        ``on_available(bool)`` after each update: whether there is an earlier timepoint
        (the layouts switch to 1x2 at follow-up unless the reader chose one).
    settings_path : str, optional
        INI file of the window's settings: the reader's choice of baseline, nadir or
        previous is remembered there (:data:`COMPARE_SETTING`).
    """

    def __init__(
        self,
        session: Any,
        library: Any,
        viewer: SeriesViewerWidget,
        prior: PriorSliceWidget,
        on_available: Callable[[bool], None] | None = None,
        settings_path: str | None = None,
    ) -> None:
        self.session, self.library, self.viewer, self.prior = session, library, viewer, prior
        if settings_path:  # the reader's last choice of what to compare with
            settings = QSettings(settings_path, QSettings.Format.IniFormat)
            remembered = str(settings.value(COMPARE_SETTING, "") or "")
            if prior.compare_box.findData(remembered) >= 0:
                prior.set_compare_with(remembered)
            prior.compare_changed.connect(lambda key: _remember(settings, COMPARE_SETTING, key))
        self._on_available = on_available or (lambda _available: None)
        self._lesion_id: int | None = None
        self._missing = False  # the lesion's comparison image is missing: the pane says so
        self._z_offset = 0.0  # comparison z minus current z, kept while a lesion is selected
        self._anchor: tuple[float, float, float] | None = None  # the prior key position
        self._settle = QTimer()
        self._settle.setSingleShot(True)
        self._settle.setInterval(0)
        self._settle.timeout.connect(self._on_settle)
        viewer.slice_changed.connect(lambda _i: self.follow())
        viewer.volume_changed.connect(lambda _v: self.follow())
        prior.compare_changed.connect(lambda _key: self.update(self._lesion_id))
        self._linking = False  # a window change being copied to the other pane
        viewer.window_changed.connect(lambda _c, _w: self._link_window(viewer, prior.viewer))
        prior.viewer.window_changed.connect(lambda _c, _w: self._link_window(prior.viewer, viewer))

    # -- which timepoint ---------------------------------------------------------------
    def earlier_timepoints(self) -> list[Timepoint]:
        """Timepoints before the current one, oldest first."""
        current = self.session.current_timepoint
        if current is None:
            return []
        return [tp for tp in self.session.timepoints() if tp.order < current.order]

    def timepoint(self) -> Timepoint | None:
        """The timepoint compared with (the pane's choice), or None at baseline."""
        earlier = self.earlier_timepoints()
        if not earlier:
            return None
        choice = self.prior.compare_with
        if choice == "previous":
            return earlier[-1]
        if choice == "nadir":
            return self._nadir(earlier)
        return earlier[0]

    def _nadir(self, earlier: list[Timepoint]) -> Timepoint:
        """The earlier timepoint with the smallest sum of target diameters (the first on ties)."""
        targets = [lesion for lesion in self.session.lesions() if lesion.kind is LesionKind.TARGET]
        best: tuple[float, Timepoint] | None = None
        for tp in earlier:
            total, measured = 0.0, False
            for lesion in targets:
                m = self.session.measurement_for(lesion.id, tp.id)
                value = _diameter(m, lesion.nodal) if m is not None else None
                if value is not None:
                    total, measured = total + value, True
            if measured and (best is None or total < best[0]):
                best = (total, tp)
        return best[1] if best is not None else earlier[0]

    # -- showing -----------------------------------------------------------------------
    def update(self, lesion_id: int | None) -> tuple[Any, Any] | None:
        """Show the comparison timepoint (for *lesion_id*, its measurement then).

        Returns
        -------
        tuple or None
            ``(geometry, volume)`` of the lesion's comparison measurement when it
            is shown (the window then moves the current pane to the lesion), else None.
        """
        self._lesion_id = lesion_id
        self._anchor, self._z_offset = None, 0.0
        tp = self.timepoint()
        self._on_available(tp is not None)
        if tp is None:
            self.prior.clear(NO_EARLIER if self.session.current_timepoint is not None else "")
            return None
        if lesion_id is not None:
            shown = self._show_lesion(tp, lesion_id)
            if shown is not None or self._missing:
                return shown
        self._show_series(tp, lesion_id)
        return None

    def _show_lesion(self, tp: Timepoint, lesion_id: int) -> tuple[Any, Any] | None:
        if self.prior.compare_with == "previous":
            found = self.session.previous_measurement(lesion_id)  # last time it was measured
            if found is not None:
                tp = found[0]
            measurement = found[1] if found is not None else None
        else:
            measurement = self.session.measurement_for(lesion_id, tp.id)
        self._missing = False
        if measurement is None or measurement.geometry is None:
            return None
        geometry = measurement.geometry
        volume = self.library.volume(geometry.series_instance_uid, [geometry.sop_instance_uid])
        if volume is None:
            self.prior.clear(f"The {tp.label} series is not on this computer.")
            self._missing = True
            return None
        code = self._code(lesion_id)
        mm = measurement.long_axis_mm or 0.0
        self.prior.show_prior(volume, geometry, f"{tp.label} · {code} {mm:.1f} mm", self._window())
        if self.prior.has_prior:
            a, b = geometry.long_axis.start_lps_mm, geometry.long_axis.end_lps_mm
            self._anchor = (
                (a[0] + b[0]) / 2.0,
                (a[1] + b[1]) / 2.0,
                (a[2] + b[2]) / 2.0,
            )
            self._settle.start()  # once the window has moved the current pane to the lesion
            return geometry, volume
        self._missing = True  # the pane says the image is not available
        return None

    def _show_series(self, tp: Timepoint, lesion_id: int | None) -> None:
        uid = tp.series_instance_uid
        if not uid:
            self.prior.clear(f"{tp.label} has no series attached.")
            return
        measured = [
            m
            for m in self.session.measurements(tp.id)
            if m.geometry is not None and m.geometry.series_instance_uid == uid
        ]
        images = [m.geometry.sop_instance_uid for m in measured if m.geometry is not None]
        volume = self.library.volume(uid, images)
        if volume is None:
            self.prior.clear(f"The {tp.label} series is not on this computer.")
            return
        title = tp.label
        if lesion_id is not None:
            title += f" · {self._code(lesion_id)} not measured"
        calipers = [
            (m.geometry, f"{self._code(m.lesion_id)} {m.long_axis_mm:.1f} mm")
            for m in measured
            if m.geometry is not None and m.long_axis_mm is not None
        ]
        self.prior.show_series(volume, title, self._window(), calipers)
        self.follow()

    def follow(self) -> None:
        """Scroll the comparison pane to the current pane's patient position (plus the offset)."""
        volume = self.viewer.volume
        if volume is None or self.prior.volume is None or self._settle.isActive():
            return
        if self.viewer.orientation != "axial":
            return
        rows, columns = volume.voxels.shape[1:]
        x, y, z = volume.index_to_lps(self.viewer.slice_index, rows / 2, columns / 2)
        self.prior.follow((float(x), float(y), float(z) + self._z_offset))

    def _on_settle(self) -> None:
        """Keep the lesion's two positions together from now on."""
        volume = self.viewer.volume
        if self._anchor is None or volume is None or self.viewer.orientation != "axial":
            return
        rows, columns = volume.voxels.shape[1:]
        z = float(volume.index_to_lps(self.viewer.slice_index, rows / 2, columns / 2)[2])
        self._z_offset = self._anchor[2] - z

    def _link_window(self, source: SeriesViewerWidget, target: SeriesViewerWidget) -> None:
        """Window/level is linked between the panes: a drag in either, or a preset in the
        current pane, applies to the other (a named preset as that series' own window, e.g. its
        DICOM window; a drag as is)."""
        if self._linking or source.volume is None or target.volume is None:
            return
        if (source.window_center, source.window_width) == (
            target.window_center,
            target.window_width,
        ):
            return  # the comparison pane being given the current pane's window
        if source is not self.viewer and source.preset_name != CUSTOM:
            return  # a series opened in the comparison pane takes its window from the current one
        self._linking = True
        try:
            preset = source.preset_name
            if preset == CUSTOM:
                target.set_window(source.window_center, source.window_width)
            else:
                target.apply_preset(preset)
        finally:
            self._linking = False

    def _window(self) -> tuple[float, float]:
        return self.viewer.window_center, self.viewer.window_width

    def _code(self, lesion_id: int) -> str:
        for lesion in self.session.lesions():
            if lesion.id == lesion_id:
                return str(lesion.code)
        return ""


def _remember(settings: QSettings, key: str, value: str) -> None:
    settings.setValue(key, value)
    settings.sync()


def _diameter(measurement: Measurement, nodal: bool) -> float | None:
    """What RECIST sums for a target: a node's short axis, another lesion's long axis."""
    return measurement.short_axis_mm if nodal else measurement.long_axis_mm
