"""Offscreen rendering of a volume to PNG, for ``caliper view --screenshot`` and key images."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from PySide6 import QtWidgets

from viewer.image.overlays import MeasurementOverlay

#: Default screenshot size in pixels.
DEFAULT_SIZE = (768, 768)


def ensure_application() -> QtWidgets.QApplication:
    """Return the running QApplication, creating one if needed.

    Without a display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux) the
    ``offscreen`` platform is selected, so this works on servers and in CI.
    """
    app = QtWidgets.QApplication.instance()
    if isinstance(app, QtWidgets.QApplication):
        return app
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QtWidgets.QApplication(sys.argv[:1])


def render_volume_png(
    volume: Any,
    slice_index: int | None,
    preset: str | None,
    out_path: str,
    overlays: Sequence[MeasurementOverlay] = (),
    *,
    orientation: str = "axial",
    size: tuple[int, int] = DEFAULT_SIZE,
) -> None:
    """Render one slice of *volume* with its annotations and calipers to a PNG file.

    Parameters
    ----------
    volume : VolumeLike
        The series to show (``storage.dicom.Volume`` or anything shaped like it).
    slice_index : int or None
        Position along the plane normal; None shows the middle slice.
    preset : str or None
        Window preset name (``liver``, ``soft tissue``, ``lung``, ``bone``, ``auto``);
        None keeps the modality default.
    out_path : str
        The PNG file to write.
    overlays : sequence of MeasurementOverlay
        Calipers to draw (each on its own axial slice).
    orientation : str
        ``axial``, ``coronal`` or ``sagittal``.
    size : tuple of int
        Width and height of the image in pixels.

    Raises
    ------
    KeyError
        For an unknown preset.
    ValueError
        For an unknown orientation.
    OSError
        If the PNG cannot be written.
    """
    from viewer.image.view import SeriesViewerWidget

    app = ensure_application()
    widget = SeriesViewerWidget()
    try:
        widget.resize(*size)
        widget.set_volume(volume)
        if orientation != "axial":
            widget.set_orientation(orientation)
        if slice_index is not None:
            widget.set_slice(slice_index)
        if preset is not None:
            widget.apply_preset(preset)
        widget.set_overlays(list(overlays))
        widget.show()
        app.processEvents()
        widget.fit_to_body()  # the body for CT, the whole image otherwise
        app.processEvents()
        widget.render_png(out_path)
    finally:
        widget.close()
        widget.deleteLater()
