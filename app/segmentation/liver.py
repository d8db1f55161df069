"""Liver volumetry: a seeded liver segmentation, virtual resection and the future liver remnant.

Liver segmentation (``LIVER_ALGORITHM`` / ``LIVER_ALGORITHM_VERSION``, parameters
:class:`LiverParameters`): on a copy resampled to ``working_mm`` in-plane (for speed), the
image is smoothed; the liver's intensity is the median around the seed and its window is that
median ± ``window_hu`` (clipped to the liver HU range ``hu_range``).  The region is the
voxels in the window connected to the seed after an opening by reconstruction of
``open_radius_mm`` (which cuts the thin bridges to the spleen, heart, kidney and bowel that
share the liver's density) and kept within ``core_margin_mm`` of the liver's core (the
region opened by ``core_radius_mm``: the broad contact over the diaphragm between the dome
and the heart, of the same density on a non-contrast CT, is cut there), closed by
``close_radius_mm``, with the holes of each axial slice
filled (vessels and tumours are part of the liver volume).  The mask is then brought back to
the full grid.

Virtual resection: the resected part is either a painted mask or the side of a cut plane.
The future liver remnant (FLR) is the liver outside the resection and outside tumour, as a
percentage of (total liver − tumour), as used for the conversion decision (> 40 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import SimpleITK as sitk

from app.segmentation.errors import SegmentationCancelled, SegmentationError
from app.segmentation.lesion import (
    Cancelled,
    Progress,
    RegionResult,
    check_seed,
    component_at,
    fill_holes_per_slice,
    open_by_reconstruction,
    spacing3,
)

LIVER_ALGORITHM = "caliper-liver-window-region"
LIVER_ALGORITHM_VERSION = "1.1"
#: A liver below this many millilitres is not a liver (the seed was not in it).
MIN_LIVER_ML = 200.0
#: A region above this many millilitres has leaked out of the liver.
MAX_LIVER_ML = 4500.0


@dataclass(frozen=True, slots=True)
class LiverParameters:
    """Parameters of the liver segmentation (stored with each result)."""

    working_mm: float = 2.0
    smoothing_mm: float = 2.0
    seed_radius_mm: float = 8.0
    window_hu: float = 35.0
    hu_range: tuple[float, float] = (-20.0, 220.0)
    open_radius_mm: float = 6.0
    close_radius_mm: float = 4.0
    core_radius_mm: float = 16.0
    core_margin_mm: float = 10.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready parameters."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _smooth(img: sitk.Image, sigma_mm: list[float]) -> sitk.Image:
    """Gaussian smoothing; an axis with too few voxels for the recursive filter is left alone."""
    if all(n >= 4 for n in img.GetSize()):
        smoothed: sitk.Image = sitk.SmoothingRecursiveGaussian(img, sigma_mm)
    else:
        smoothed = sitk.DiscreteGaussian(img, [s * s for s in sigma_mm], useImageSpacing=True)
    return smoothed


def segment_liver(
    voxels: np.ndarray,
    spacing_mm: tuple[float, float, float],
    seed: tuple[int, int, int],
    parameters: LiverParameters | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RegionResult:
    """Segment the liver from a seed inside it (see the module docstring).

    Raises
    ------
    SegmentationError
        Seed outside the image, in air or not in soft tissue; a region too small to be a liver
        or so large that it leaked.
    """
    p = parameters or LiverParameters()
    report = progress or (lambda _f: None)
    stop = cancelled or (lambda: False)

    def step(fraction: float) -> None:
        if stop():
            raise SegmentationCancelled("liver segmentation cancelled")
        report(fraction)

    check_seed(voxels, seed)
    factor = max(1, int(round(p.working_mm / min(spacing_mm[1], spacing_mm[2]))))
    small = voxels[:, ::factor, ::factor].astype(np.float32)
    sp = (float(spacing_mm[0]), float(spacing_mm[1]) * factor, float(spacing_mm[2]) * factor)
    local = (
        seed[0],
        min(seed[1] // factor, small.shape[1] - 1),
        min(seed[2] // factor, small.shape[2] - 1),
    )
    img = sitk.GetImageFromArray(small)
    img.SetSpacing((sp[2], sp[1], sp[0]))
    sigma = [p.smoothing_mm, p.smoothing_mm, p.smoothing_mm if small.shape[0] >= 4 else 0.0]
    smoothed = sitk.GetArrayFromImage(_smooth(img, sigma))
    step(0.2)
    r = [max(1, int(round(p.seed_radius_mm / s))) for s in sp]
    near = smoothed[
        max(local[0] - r[0] // 2, 0) : local[0] + r[0] // 2 + 1,
        max(local[1] - r[1], 0) : local[1] + r[1] + 1,
        max(local[2] - r[2], 0) : local[2] + r[2] + 1,
    ]
    centre = float(np.median(near))
    if not p.hu_range[0] <= centre <= p.hu_range[1]:
        raise SegmentationError(
            f"the point is not in liver tissue ({centre:.0f} HU; the liver window is "
            f"{p.hu_range[0]:.0f} to {p.hu_range[1]:.0f} HU): click inside the liver"
        )
    lo = max(centre - p.window_hu, p.hu_range[0])
    hi = min(centre + p.window_hu, p.hu_range[1])
    inside = (smoothed >= lo) & (smoothed <= hi)
    inside[local] = True
    step(0.4)
    region = open_by_reconstruction(inside, local, sp, p.open_radius_mm)
    region &= _core_zone(inside, local, sp, p)
    step(0.6)
    radius = [max(1, int(round(p.close_radius_mm / s))) for s in (sp[2], sp[1], sp[0])]
    closed = sitk.BinaryMorphologicalClosing(
        sitk.GetImageFromArray(region.astype(np.uint8)), radius, sitk.sitkBall
    )
    region = fill_holes_per_slice(component_at(sitk.GetArrayFromImage(closed).astype(bool), local))
    step(0.85)
    full = np.repeat(np.repeat(region, factor, axis=1), factor, axis=2)
    full = full[:, : voxels.shape[1], : voxels.shape[2]]
    result = RegionResult(full, (0, 0, 0), spacing3(spacing_mm), centre, float("nan"))
    covers_liver = voxels.shape[0] * float(spacing_mm[0]) >= 100.0  # else a few slices only
    if covers_liver and result.volume_ml < MIN_LIVER_ML:
        raise SegmentationError(
            f"the region around the point is {result.volume_ml:.0f} mL, too small for a liver "
            f"(< {MIN_LIVER_ML:.0f} mL): click inside the liver parenchyma"
        )
    if result.volume_ml > MAX_LIVER_ML:
        raise SegmentationError(
            f"the region around the point is {result.volume_ml:.0f} mL: it leaked beyond the "
            f"liver (> {MAX_LIVER_ML:.0f} mL); draw the liver by hand or click elsewhere"
        )
    report(1.0)
    return result


def _core_zone(
    inside: np.ndarray,
    local: tuple[int, int, int],
    sp: tuple[float, float, float],
    p: LiverParameters,
) -> np.ndarray:
    """Where the liver may be: within ``core_margin_mm`` of its core.

    The core is the window's region opened by ``core_radius_mm`` (on a grid twice as coarse,
    for speed): a bridge as wide as the diaphragm between the liver dome and the heart (same
    density on a non-contrast CT) or to the spleen is cut by it, the liver's body is not.  The
    finer region (``open_radius_mm``) keeps the liver's thinner edges, but only near the core.
    """
    if p.core_radius_mm <= 0:
        return np.ones_like(inside, dtype=bool)
    coarse = inside[::2, ::2, ::2]
    seed = (local[0] // 2, local[1] // 2, local[2] // 2)
    coarse_sp = (sp[0] * 2, sp[1] * 2, sp[2] * 2)
    core = open_by_reconstruction(coarse, seed, coarse_sp, p.core_radius_mm)
    if core.sum() * float(np.prod(coarse_sp)) / 1000.0 < MIN_LIVER_ML / 2:
        return np.ones_like(inside, dtype=bool)  # the liver is thinner than the core: no limit
    radius = [
        max(1, int(round(p.core_margin_mm / s))) for s in (coarse_sp[2], coarse_sp[1], coarse_sp[0])
    ]
    zone = sitk.GetArrayFromImage(
        sitk.BinaryDilate(sitk.GetImageFromArray(core.astype(np.uint8)), radius, sitk.sitkBall)
    ).astype(bool)
    full = np.repeat(np.repeat(np.repeat(zone, 2, axis=0), 2, axis=1), 2, axis=2)
    return np.asarray(full[: inside.shape[0], : inside.shape[1], : inside.shape[2]])


def plane_side(
    shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    point: tuple[float, float, float],
    normal: tuple[float, float, float],
) -> np.ndarray:
    """Voxels on the side of a cut plane that ``normal`` points to (index space, mm-scaled).

    ``point`` is a ``(slice, row, column)`` index on the plane; ``normal`` a direction in the
    same axis order (in millimetres).
    """
    n = np.asarray(normal, dtype=float)
    if not np.any(n):
        raise SegmentationError("the cut plane needs a non-zero normal")
    k, r, c = np.ogrid[: shape[0], : shape[1], : shape[2]]
    d = (
        (k - point[0]) * spacing_mm[0] * n[0]
        + (r - point[1]) * spacing_mm[1] * n[1]
        + (c - point[2]) * spacing_mm[2] * n[2]
    )
    return np.asarray(d > 0)


@dataclass(frozen=True, slots=True)
class Volumetry:
    """Liver volumes of a virtual resection (millilitres) and the future liver remnant.

    Attributes
    ----------
    total_liver_ml : float
        The liver, tumours inside it included.
    tumour_ml : float
        Tumour inside the liver.
    resected_ml : float
        Liver (tumour included) inside the resection.
    remnant_ml : float
        Liver outside the resection and outside tumour.
    flr_percent : float
        ``remnant_ml / (total_liver_ml - tumour_ml) * 100``.
    """

    total_liver_ml: float
    tumour_ml: float
    resected_ml: float
    remnant_ml: float
    flr_percent: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready values, rounded to 0.1."""
        return {k: round(float(v), 1) for k, v in asdict(self).items()}


def future_liver_remnant_percent(
    total_liver_ml: float, tumour_ml: float, remnant_ml: float
) -> float:
    """FLR % = remnant / (total liver − tumour) × 100.

    Raises
    ------
    SegmentationError
        If the functional liver volume (total − tumour) is not positive or the remnant exceeds it.
    """
    functional = total_liver_ml - tumour_ml
    if functional <= 0:
        raise SegmentationError(
            f"total liver ({total_liver_ml:.1f} mL) minus tumour ({tumour_ml:.1f} mL) is not "
            "positive: the future liver remnant is undefined"
        )
    if remnant_ml < 0 or remnant_ml > functional + 1e-6:
        raise SegmentationError(
            f"remnant {remnant_ml:.1f} mL must be between 0 and the functional liver "
            f"{functional:.1f} mL"
        )
    return remnant_ml / functional * 100.0


def volumetry(
    liver: np.ndarray,
    spacing_mm: tuple[float, float, float],
    resected: np.ndarray,
    tumours: np.ndarray | None = None,
) -> Volumetry:
    """Volumes of a virtual resection on full-volume masks of one grid.

    Parameters
    ----------
    liver, resected : numpy.ndarray
        Boolean masks of the volume's shape: the liver, and what will be removed (painted or
        :func:`plane_side`).
    tumours : numpy.ndarray, optional
        Tumour voxels (only those inside the liver count).
    """
    if liver.shape != resected.shape or (tumours is not None and tumours.shape != liver.shape):
        raise SegmentationError("liver, resection and tumour masks must have the same shape")
    ml = float(np.prod(spacing_mm)) / 1000.0
    liver = liver.astype(bool)
    tumour = liver & tumours.astype(bool) if tumours is not None else np.zeros_like(liver)
    cut = liver & resected.astype(bool)
    total = liver.sum() * ml
    tumour_ml = tumour.sum() * ml
    remnant = (liver & ~cut & ~tumour).sum() * ml
    return Volumetry(
        total_liver_ml=float(total),
        tumour_ml=float(tumour_ml),
        resected_ml=float(cut.sum() * ml),
        remnant_ml=float(remnant),
        flr_percent=future_liver_remnant_percent(float(total), float(tumour_ml), float(remnant)),
    )
