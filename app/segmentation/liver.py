"""Liver volumetry: a seeded liver segmentation, virtual resection and the future liver remnant.

Liver segmentation (``LIVER_ALGORITHM`` / ``LIVER_ALGORITHM_VERSION`` 1.2, parameters
:class:`LiverParameters`; docs/smart-caliper.md, "Liver segmentation 1.2"): on a copy
resampled to ``working_mm`` in-plane and to slabs of about ``working_slice_mm`` (only the
slices within ``reach_mm`` of the click), the image is smoothed.  The result must not depend
on where in the liver the reader clicks, so:

- the liver's intensity is not the click's neighbourhood but the peak of the histogram of
  the region the window (± ``window_hu``) grows to, re-estimated until it settles (a click
  in a metastasis or a vessel starts from the soft-tissue peak and the liver beside it);
- the window's region is opened by ``open_radius_mm`` (thin bridges to bowel, pancreas,
  kidney cut) and split into basins by a watershed of its depth: thick parts whose saddle is
  within ``merge_depth_mm`` of the shallower one's depth share a basin (the left lobe joined
  through segment IV does; the heart over the dome or the spleen, joined by a patch much
  thinner than themselves, does not);
- the liver's body is the basin with the largest part deeper than ``core_radius_mm``, on the
  patient's right when the orientation is known (``index_to_lps``), whatever part the click
  was in; the liver is that basin within ``core_margin_mm`` of the body's deep part, closed
  by ``close_radius_mm`` with the holes of each axial slice filled (vessels and tumours are
  part of the liver volume);
- a click the liver does not reach (the spleen, the heart) and a region lying on the
  patient's left of the body's midline are refused with the reason.

Version 1.1 (the window around the click's median, the core nearest the click) stays
callable with ``LiverParameters.v1_1()`` for the benchmark (``benchmarks/bench_liver.py``).

Virtual resection: the resected part is either a painted mask or the side of a cut plane.
The future liver remnant (FLR) is the liver outside the resection and outside tumour, as a
percentage of (total liver − tumour), as used for the conversion decision (> 40 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import SimpleITK as sitk

from app.segmentation.errors import SegmentationCancelled, SegmentationError
from app.segmentation.lesion import (
    AIR_HU,
    Cancelled,
    Progress,
    RegionResult,
    check_seed,
    component_at,
    fill_holes_per_slice,
    nearest_voxel,
    open_by_reconstruction,
    spacing3,
)

LIVER_ALGORITHM = "caliper-liver-window-region"
LIVER_ALGORITHM_VERSION = "1.2"
#: ``(slice, row, column)`` index -> patient LPS millimetres (``Volume.index_to_lps``).
IndexToLps = Callable[[float, float, float], tuple[float, float, float]]
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
    core_radius_mm: float = 12.0
    core_margin_mm: float = 15.0
    #: "1.2" (default) or "1.1" (the previous algorithm, kept for the benchmark).
    version: str = "1.2"
    #: Rounds of re-estimating the liver's intensity from the region found (1.2).
    intensity_rounds: int = 4
    #: The liver's intensity is the peak of the region within this box around the click (1.2).
    intensity_radius_mm: float = 50.0
    #: The first guess of the liver's intensity looks this far around the click (1.2).
    seed_box_mm: float = 25.0
    #: Slices farther than this from the click are left out (no liver is that high) (1.2).
    reach_mm: float = 220.0
    #: Thin slices are averaged to slabs of about this thickness (1.2).
    working_slice_mm: float = 4.0
    #: Two thick parts share a basin when the saddle between them is this close to the
    #: depth of the shallower one (1.2).
    merge_depth_mm: float = 10.0

    @classmethod
    def v1_1(cls) -> LiverParameters:
        """The parameters of version 1.1 (kept to compare with it in the benchmark)."""
        return cls(core_radius_mm=16.0, core_margin_mm=10.0, version="1.1")

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
    index_to_lps: IndexToLps | None = None,
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
    k0, k1, zstep = 0, voxels.shape[0], 1
    if p.version != "1.1":  # the slices that can hold the liver, on a grid of >= 4 mm
        reach = int(p.reach_mm / float(spacing_mm[0]))
        k0, k1 = max(0, seed[0] - reach), min(voxels.shape[0], seed[0] + reach + 1)
        zstep = max(1, int(round(p.working_slice_mm / float(spacing_mm[0]))))
    small = _slab_means(voxels[k0:k1, ::factor, ::factor], zstep)
    sp = (
        float(spacing_mm[0]) * zstep,
        float(spacing_mm[1]) * factor,
        float(spacing_mm[2]) * factor,
    )
    local = (
        min((seed[0] - k0) // zstep, small.shape[0] - 1),
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
    if p.version == "1.1":
        inside = _window(smoothed, centre, p)
        inside[local] = True
        step(0.4)
        region = open_by_reconstruction(inside, local, sp, p.open_radius_mm)
        region &= _core_zone(inside, local, sp, p)
    else:
        centre = _liver_intensity(smoothed, local, sp, p, centre)
        step(0.4)
        region = _liver_region(smoothed, local, sp, p, centre, factor, index_to_lps)
    step(0.6)
    radius = [max(1, int(round(p.close_radius_mm / s))) for s in (sp[2], sp[1], sp[0])]
    closed = sitk.BinaryMorphologicalClosing(
        sitk.GetImageFromArray(region.astype(np.uint8)), radius, sitk.sitkBall
    )
    anchor = local if region[local] or not region.any() else nearest_voxel(region, local, sp)
    region = fill_holes_per_slice(
        component_at(sitk.GetArrayFromImage(closed).astype(bool), anchor or local)
    )
    step(0.85)
    planes = np.repeat(np.repeat(region, factor, axis=1), factor, axis=2)
    full = np.zeros(voxels.shape, dtype=bool)
    nearest = np.minimum((np.arange(k0, k1) - k0) // zstep, region.shape[0] - 1)
    full[k0:k1] = planes[nearest][:, : voxels.shape[1], : voxels.shape[2]]
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


def _slab_means(voxels: np.ndarray, step: int) -> np.ndarray:
    """Means of every ``step`` consecutive slices (the last slab may be shorter), float32."""
    if step == 1:
        return np.asarray(voxels, dtype=np.float32)
    n = voxels.shape[0]
    out = np.empty(((n + step - 1) // step, *voxels.shape[1:]), dtype=np.float32)
    for i in range(out.shape[0]):
        out[i] = voxels[i * step : (i + 1) * step].mean(axis=0)
    return out


def _window(smoothed: np.ndarray, centre: float, p: LiverParameters) -> np.ndarray:
    """Voxels within ``window_hu`` of ``centre`` (clipped to the liver HU range)."""
    lo = max(centre - p.window_hu, p.hu_range[0])
    hi = min(centre + p.window_hu, p.hu_range[1])
    return np.asarray((smoothed >= lo) & (smoothed <= hi))


def _mode(values: np.ndarray, centre: float, half_width: float) -> float:
    """The most frequent value of ``values`` near ``centre`` (1 HU bins, 9 HU box-smoothed),
    refined as the median of the values within 15 HU of that peak (not tied to a bin edge)."""
    edges = np.arange(centre - half_width, centre + half_width + 1.0, 1.0)
    hist, _ = np.histogram(values, bins=edges)
    smooth = np.convolve(hist.astype(np.float64), np.ones(9) / 9.0, mode="same")
    peak = float(edges[int(np.argmax(smooth))] + 0.5)
    near = values[np.abs(values - peak) <= 15.0]
    return float(np.median(near)) if near.size else peak


def _liver_intensity(
    smoothed: np.ndarray,
    local: tuple[int, int, int],
    sp: tuple[float, float, float],
    p: LiverParameters,
    centre: float,
) -> float:
    """The liver's intensity: the peak of the values of the region the window grows to,
    re-estimated until it settles (1.2).

    The seed's neighbourhood is only the first guess: a click beside a vessel, a lesion or
    in a less enhanced part moves its median by 10-15 HU, and the window's edge decides
    whether segment IV and the left lobe stay connected.  The peak of the whole region's
    histogram is the parenchyma's value wherever the click was.  The first guess is the peak
    of the soft tissue within ``seed_box_mm`` of the click when the click's own value lies
    off it by more than half the window (a click in a hypodense metastasis or a vessel).
    """
    voxel_ml = float(np.prod(sp)) / 1000.0
    box = _box(smoothed.shape, local, sp, p.seed_box_mm)
    values = smoothed[box]
    lo, hi = p.hu_range
    values = values[(values >= lo) & (values <= hi)]
    if values.size:
        around = _mode(values, (lo + hi) / 2.0, (hi - lo) / 2.0)
        if abs(around - centre) > p.window_hu / 2.0:
            centre = around
    for _ in range(p.intensity_rounds):
        inside = _window(smoothed, centre, p)
        inside[local] = True
        region = open_by_reconstruction(inside, local, sp, p.open_radius_mm)
        if region.sum() * voxel_ml < MIN_LIVER_ML / 4:
            break  # too small to say more than the seed's neighbourhood
        near = _box(region.shape, local, sp, p.intensity_radius_mm)
        values = smoothed[near][region[near]]
        if values.size == 0:
            break
        new = _mode(values, centre, p.window_hu)
        new = min(max(new, p.hu_range[0]), p.hu_range[1])
        if abs(new - centre) < 0.5:
            return new
        centre = new
    return centre


def _box(
    shape: tuple[int, ...], centre: tuple[int, int, int], sp: tuple[float, float, float], mm: float
) -> tuple[slice, slice, slice]:
    """The index box of +-``mm`` around ``centre``."""
    r = [max(1, int(round(mm / s))) for s in sp]
    return (
        slice(max(centre[0] - r[0], 0), centre[0] + r[0] + 1),
        slice(max(centre[1] - r[1], 0), centre[1] + r[1] + 1),
        slice(max(centre[2] - r[2], 0), centre[2] + r[2] + 1),
    )


def _liver_region(
    smoothed: np.ndarray,
    local: tuple[int, int, int],
    sp: tuple[float, float, float],
    p: LiverParameters,
    centre: float,
    factor: int,
    index_to_lps: IndexToLps | None,
) -> np.ndarray:
    """The liver's voxels in the working grid (1.2), refusing a click outside it.

    The window's component holding the seed is opened by ``open_radius_mm`` (every thick
    enough part, not only the one around the seed); its body is the largest component of
    that region eroded by ``core_radius_mm`` (on the patient's right when the orientation is
    known): the liver's bulk, whichever part of the liver the click was in.  The liver is
    the opened region within ``core_margin_mm`` of the body reconstructed from it, joined to
    the body.  A click outside it (the spleen joined by a bridge, the heart) is refused.
    """
    inside = _window(smoothed, centre, p)
    start = local
    if not inside[local]:  # a click in a metastasis or a vessel: the liver tissue beside it
        box = _box(inside.shape, local, sp, p.seed_box_mm)
        offset = (box[0].start, box[1].start, box[2].start)
        found_near = nearest_voxel(
            inside[box], (local[0] - offset[0], local[1] - offset[1], local[2] - offset[2]), sp
        )
        if found_near is not None:
            start = (
                found_near[0] + offset[0],
                found_near[1] + offset[1],
                found_near[2] + offset[2],
            )
    inside[local] = True
    component = component_at(inside, start)
    opened = _opening(component, sp, p.open_radius_mm)
    if not opened.any():
        opened = component
    side = None
    if index_to_lps is not None:  # the body's midline: centre of what is not air
        midline_x = _lps_x(smoothed > AIR_HU, (1, factor, factor), index_to_lps)
        side = (index_to_lps, midline_x)
    found = _liver_body(opened, sp, p, factor, side)
    if found is None:  # thinner than the core everywhere (a few slices): no limit
        region = component_at(opened, local) if opened[local] else component_at(inside, local)
    else:
        body, basin = found
        reach = _distance_mm(body, sp) <= p.core_radius_mm + p.core_margin_mm
        k, r, c = np.argwhere(body)[0]
        region = component_at(basin & reach, (int(k), int(r), int(c)))
    near = _dilate(fill_holes_per_slice(region), sp, p.open_radius_mm)
    if not near[local]:
        raise SegmentationError(
            "the point is not in the liver: the liver found from it "
            f"({region.sum() * float(np.prod(sp)) / 1000.0:.0f} mL) does not reach it "
            "(spleen, heart or bowel?): click inside the liver parenchyma"
        )
    if side is not None:
        _refuse_left_sided(region, side[1], factor, side[0])
    return region


def _distance_mm(mask: np.ndarray, sp: tuple[float, float, float]) -> np.ndarray:
    """Distance in millimetres from every voxel to ``mask`` (negative inside)."""
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    img.SetSpacing((sp[2], sp[1], sp[0]))
    dist = sitk.SignedMaurerDistanceMap(
        img, insideIsPositive=False, squaredDistance=False, useImageSpacing=True
    )
    return np.asarray(sitk.GetArrayFromImage(dist))


def _opening(mask: np.ndarray, sp: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    """Binary opening by a ball of ``radius_mm`` (every component, not only the seed's)."""
    radius = [max(1, int(round(radius_mm / s))) for s in (sp[2], sp[1], sp[0])]
    opened = sitk.BinaryMorphologicalOpening(
        sitk.GetImageFromArray(mask.astype(np.uint8)), radius, sitk.sitkBall
    )
    return np.asarray(sitk.GetArrayFromImage(opened).astype(bool))


def _dilate(mask: np.ndarray, sp: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    radius = [max(1, int(round(radius_mm / s))) for s in (sp[2], sp[1], sp[0])]
    grown = sitk.BinaryDilate(sitk.GetImageFromArray(mask.astype(np.uint8)), radius, sitk.sitkBall)
    return np.asarray(sitk.GetArrayFromImage(grown).astype(bool))


def _reconstruct(
    core: np.ndarray, mask: np.ndarray, sp: tuple[float, float, float], radius_mm: float
) -> np.ndarray:
    """The part of ``mask`` the eroded ``core`` grows back to (an opening by reconstruction)."""
    return np.asarray(_dilate(core, sp, radius_mm) & mask)


def _liver_body(
    mask: np.ndarray,
    sp: tuple[float, float, float],
    p: LiverParameters,
    factor: int,
    side: tuple[IndexToLps, float] | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The liver's body (its part deeper than ``core_radius_mm`` inside ``mask``) and its
    basin, whichever part of the liver the click was in.

    ``mask`` is split into basins by a watershed of its depth (distance to its outside):
    two thick parts share a basin when the saddle between them is nearly as deep as the
    shallower of the two (within ``merge_depth_mm``): the left lobe, joined to the right lobe
    through segment IV, does; the heart over the diaphragm or the spleen behind the left
    lobe, joined by a patch much thinner than themselves, does not.  The body is the basin
    with the largest deep part (on the patient's right when the orientation is known).
    None when no part is thick enough.
    """
    if p.core_radius_mm <= 0:
        return None
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    img.SetSpacing((sp[2], sp[1], sp[0]))
    depth = sitk.GetArrayFromImage(
        sitk.SignedMaurerDistanceMap(
            img, insideIsPositive=True, squaredDistance=False, useImageSpacing=True
        )
    ).astype(np.float32)
    relief = np.where(mask, -depth, np.float32(1e4)).astype(np.float32)
    basins = sitk.GetArrayFromImage(
        sitk.MorphologicalWatershed(
            sitk.GetImageFromArray(relief),
            level=p.merge_depth_mm,
            markWatershedLine=False,
            fullyConnected=False,
        )
    )
    deep = mask & (depth > p.core_radius_mm)
    sizes = np.bincount(basins[deep].ravel(), minlength=int(basins.max()) + 1)
    voxel_ml = float(np.prod(sp)) / 1000.0
    for label in np.argsort(sizes)[::-1]:
        # the core of a 200 mL liver is a few mL; a smaller one is noise or a vessel
        if sizes[label] * voxel_ml < 2.0:
            break
        core = deep & (basins == label)
        if side is None or _lps_x(core, (1, factor, factor), side[0]) < side[1]:
            return core, mask & (basins == label)
    return None


def _lps_x(mask: np.ndarray, scale: tuple[int, int, int], index_to_lps: IndexToLps) -> float:
    """Patient x (LPS: + is the patient's left) of the centre of ``mask`` on a grid
    ``scale`` times coarser than the volume's."""
    centre = np.argwhere(mask).mean(axis=0) * np.asarray(scale, dtype=float)
    return float(index_to_lps(float(centre[0]), float(centre[1]), float(centre[2]))[0])


def _refuse_left_sided(
    region: np.ndarray, midline_x: float, factor: int, index_to_lps: IndexToLps
) -> None:
    """A region whose centre lies on the patient's left of the body's midline is no liver."""
    x = _lps_x(region, (1, factor, factor), index_to_lps)
    if x > midline_x:
        raise SegmentationError(
            f"the region around the point lies on the patient's left ({x - midline_x:.0f} mm "
            "left of the body's midline): it is not the liver (spleen or stomach?); click "
            "inside the liver, on the patient's right"
        )


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


#: What the tumour volume was counted from (``Volumetry.tumour_basis``).
TUMOUR_FROM_LESION_VOLUMES = "lesion volumes"
"""The lesions' own volumes, as stored with their measurements (partial-volume corrected)."""
TUMOUR_FROM_VOXELS = "contour voxels"
"""The voxels of the tumour contours inside the liver, counted as the liver is."""
TUMOUR_FROM_BOTH = "lesion volumes and contour voxels"
"""Some lesions by their own volume, those without one by their contour's voxels."""


@dataclass(frozen=True, slots=True)
class TumourVolume:
    """The tumour's volume on each side of the resection (millilitres), and its basis.

    Built by :func:`app.segmentation.resection.lesion_tumour_volume` from the lesions' own
    volumes; ``basis`` is one of ``TUMOUR_FROM_*``.
    """

    resected_ml: float
    remnant_ml: float
    basis: str = TUMOUR_FROM_LESION_VOLUMES


@dataclass(frozen=True, slots=True)
class Volumetry:
    """Liver volumes of a virtual resection (millilitres) and the future liver remnant.

    Attributes
    ----------
    total_liver_ml : float
        The liver, tumours inside it included (voxels of the liver mask).
    tumour_ml : float
        Tumour inside the liver: ``tumour_resected_ml + tumour_remnant_ml``.
    resected_ml : float
        Liver (tumour included) inside the resection (voxels of the liver mask).
    remnant_ml : float
        Liver outside the resection, less the tumour left there (``tumour_remnant_ml``).
    flr_percent : float
        ``remnant_ml / (total_liver_ml - tumour_ml) * 100``.
    tumour_resected_ml, tumour_remnant_ml : float
        The tumour inside and outside the resection.
    tumour_basis : str
        What the tumour volume was counted from (``TUMOUR_FROM_*``): the lesions' own volumes
        (partial-volume corrected, as stored with their measurements) or the voxels of their
        contours.
    """

    total_liver_ml: float
    tumour_ml: float
    resected_ml: float
    remnant_ml: float
    flr_percent: float
    tumour_resected_ml: float = 0.0
    tumour_remnant_ml: float = 0.0
    tumour_basis: str = TUMOUR_FROM_VOXELS

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready values, volumes and % rounded to 0.1."""
        return {k: v if isinstance(v, str) else round(float(v), 1) for k, v in asdict(self).items()}


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
    *,
    tumour_volume: TumourVolume | None = None,
) -> Volumetry:
    """Volumes of a virtual resection on full-volume masks of one grid.

    Total liver and resected liver are voxel counts of their masks (tumour included).  The
    tumour is ``tumour_volume`` when given (the lesions' own volumes, split by the resection;
    each side at most the liver voxels on that side), else the ``tumours`` voxels inside the
    liver.  Remnant = liver outside the resection − the tumour there; FLR % of (total −
    tumour).

    Parameters
    ----------
    liver, resected : numpy.ndarray
        Boolean masks of the volume's shape: the liver, and what will be removed (painted or
        :func:`plane_side`).
    tumours : numpy.ndarray, optional
        Tumour voxels (only those inside the liver count); not used with ``tumour_volume``.
    tumour_volume : TumourVolume, optional
        The tumour's own volume in the resection and in the remnant.
    """
    if liver.shape != resected.shape or (tumours is not None and tumours.shape != liver.shape):
        raise SegmentationError("liver, resection and tumour masks must have the same shape")
    ml = float(np.prod(spacing_mm)) / 1000.0
    liver = liver.astype(bool)
    cut = liver & resected.astype(bool)
    n_liver, n_cut = int(liver.sum()), int(cut.sum())
    total, liver_resected = n_liver * ml, n_cut * ml
    liver_remnant = (n_liver - n_cut) * ml
    if tumour_volume is not None:
        # a lesion's own volume counts its blurred rim by fraction: it may exceed its voxels,
        # never the liver on its side
        tumour_resected = min(max(float(tumour_volume.resected_ml), 0.0), liver_resected)
        tumour_remnant = min(max(float(tumour_volume.remnant_ml), 0.0), liver_remnant)
        basis = tumour_volume.basis
    elif tumours is not None:
        tumour = liver & tumours.astype(bool)
        n_tumour, n_tumour_cut = int(tumour.sum()), int((tumour & cut).sum())
        tumour_resected, tumour_remnant = n_tumour_cut * ml, (n_tumour - n_tumour_cut) * ml
        basis = TUMOUR_FROM_VOXELS
    else:
        tumour_resected = tumour_remnant = 0.0
        basis = TUMOUR_FROM_VOXELS
    tumour_ml = tumour_resected + tumour_remnant
    remnant = liver_remnant - tumour_remnant
    return Volumetry(
        total_liver_ml=float(total),
        tumour_ml=float(tumour_ml),
        resected_ml=float(liver_resected),
        remnant_ml=float(remnant),
        flr_percent=future_liver_remnant_percent(float(total), float(tumour_ml), float(remnant)),
        tumour_resected_ml=float(tumour_resected),
        tumour_remnant_ml=float(tumour_remnant),
        tumour_basis=basis,
    )
