"""Window/level presets (centre and width in stored units, HU for CT).

``liver`` (W150/L30) is the default for CT: the first trial reads colorectal
liver metastases.  ``auto`` takes the 1st-99th percentile of the data, which
suits MR, whose intensities have no absolute scale.  ``dicom`` is the
series' own WindowCenter/WindowWidth: preset 1 (key 1) and what a series opens
with when it has one (a head CT then opens in its brain window, not the liver's).
``custom`` names a window dragged away from every preset; it is never applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class WindowPreset:
    """A named window: ``center`` and ``width`` in stored units (HU for CT)."""

    name: str
    center: float
    width: float


#: The fixed presets, by name (as ``SeriesViewerWidget.apply_preset`` accepts them).
PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset("liver", 30.0, 150.0),
        WindowPreset("soft tissue", 40.0, 400.0),
        WindowPreset("lung", -600.0, 1500.0),
        WindowPreset("bone", 500.0, 2000.0),
        WindowPreset("brain", 40.0, 80.0),
    )
}

#: The series' own DICOM window (WindowCenter/WindowWidth): preset 1.
DICOM = "dicom"
#: What the preset box shows once the window was dragged away from a preset.
CUSTOM = "custom"

#: Every name ``SeriesViewerWidget.apply_preset`` accepts, in number-key order (1, 2, ...).
PRESET_NAMES: tuple[str, ...] = (DICOM, *PRESETS, "auto")

_ALIASES = {"soft_tissue": "soft tissue", "softtissue": "soft tissue", "abdomen": "liver"}


def normalise_preset_name(name: str) -> str:
    """Return the canonical preset name for *name* (case and ``_`` tolerant).

    Raises
    ------
    KeyError
        If *name* is not a known preset; the message lists the valid names.
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in PRESET_NAMES and key != CUSTOM:
        raise KeyError(f"unknown window preset {name!r}; expected one of {', '.join(PRESET_NAMES)}")
    return key


def auto_window(
    voxels: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0
) -> tuple[float, float]:
    """Window covering the *low_pct*-*high_pct* percentiles of *voxels*.

    A strided sample of at most ~1M voxels keeps this fast on whole volumes.

    Parameters
    ----------
    voxels : numpy.ndarray
        Image or volume data.
    low_pct, high_pct : float
        Percentiles mapped to black and white.

    Returns
    -------
    tuple of float
        ``(center, width)``; width is at least 1.
    """
    flat = np.asarray(voxels).reshape(-1)
    step = max(1, flat.size // 1_000_000)
    sample = flat[::step]
    if sample.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(sample, [low_pct, high_pct])
    width = max(float(hi - lo), 1.0)
    return float(lo) + width / 2.0, width


def window_for_preset(name: str, voxels: np.ndarray | None = None) -> tuple[float, float]:
    """Return ``(center, width)`` for the preset *name*.

    Parameters
    ----------
    name : str
        One of :data:`PRESET_NAMES`.
    voxels : numpy.ndarray, optional
        Needed for ``"auto"``.

    Returns
    -------
    tuple of float
        ``(center, width)``.

    Raises
    ------
    KeyError
        For an unknown preset name.
    ValueError
        For ``"auto"`` without data.
    """
    key = normalise_preset_name(name)
    if key in (DICOM, CUSTOM):
        raise ValueError(f"the {key!r} window depends on the series; see dicom_window()")
    if key == "auto":
        if voxels is None:
            raise ValueError("the 'auto' window needs the image data")
        return auto_window(voxels)
    preset = PRESETS[key]
    return preset.center, preset.width


def default_preset_for(modality: str | None) -> str:
    """The preset a series opens with: ``liver`` for CT, ``auto`` otherwise."""
    return "liver" if (modality or "").upper() == "CT" else "auto"


def dicom_window(volume: object) -> tuple[float, float] | None:
    """The series' WindowCenter/WindowWidth ``(center, width)``, or None when it has none."""
    center = getattr(volume, "window_center", None)
    width = getattr(volume, "window_width", None)
    try:
        c, w = float(center), float(width)  # type: ignore[arg-type]  # None/odd values: caught
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(c) and np.isfinite(w)) or w < 1.0:
        return None
    return c, w
