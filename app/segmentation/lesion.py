"""A lesion in 3-D from one seed: half-contrast region growing around the click.

The algorithm (``ALGORITHM`` / ``ALGORITHM_VERSION``; its parameters are
:class:`LesionParameters`, stored with every result):

1. Crop a box around the seed (``box_radii_mm``: a larger one only while the lesion fills the
   smaller; the computation never sees the rest of the volume) and smooth it with a Gaussian
   of ``smoothing_mm``.  Boxes from ``coarse_from_mm`` (lesions over ~50 mm) are averaged
   2x2 in-plane first (1.6-2 mm voxels on a 512 CT: four times fewer voxels, under a
   second up to 80 mm; the mask comes back as 2x2 blocks).  1.5: a region of that grid
   whose sections are all under ``fine_below_mm`` in equivalent radius (a small lesion
   whose smaller boxes leaked on noise) is measured again on the full grid.
   The seed value ``mu_0`` is the median around the click on its slice.
2. Leak scan: thresholds ``mu_0 ± h`` (``level_step_hu`` up to ``max_level_hu``, by bisection,
   since the region only grows with ``h``) towards a brighter and towards a darker
   surrounding; the smallest ``h`` at which the seed's region reaches the side of the box
   measures the contrast, and the direction that holds longer says whether the lesion is
   darker or brighter.  On the lesion's own side values stop at ``far_hu`` from it and never
   reach fat or bone (``soft_tissue_hu``); tissue beyond, grown by ``barrier_mm``, is barred
   (the partial-volume rim at an organ's edge would connect everything).  A leak under
   ``min_contrast_hu`` is no edge (the lesion's own texture spans that much: the region
   reached the box's side inside a lesion larger than the box); the next box is tried, then
   the cut mode below, and only then such a weak leak in the smallest box is accepted.
3. Boundary half-way between the lesion and its surroundings: ``mu_b`` is the median of the
   smoothed image in a shell ``shell_mm`` outside the region (organ only, the barred tissue
   left out), ``mu_l`` the median of the region's interior, the threshold ``(mu_l + mu_b) / 2``
   (never past the leak level), repeated ``iterations`` times.  The half-way value is where a
   blurred step edge crosses its true position, so the boundary is unbiased by partial volume
   and by the scanner's blur; a fixed threshold is not.
4. Clean-up: bridges thinner than ``2 * open_radius_mm`` are cut in-plane (opening by
   reconstruction: erode, keep the seed's component, dilate back inside the region), then
   holes are filled on every axial slice.  1.4: every axial section is kept within the
   lesion's middle sections grown by ``section_margin`` (:func:`_clip_sections`; a lobe of
   similar tissue beyond the organ's surface joined on a few slices decided the long axis).
   1.6: a hypodense lesion is kept within its organ's convex outline on each slice, grown
   by ``envelope_mm`` (:func:`_organ_envelope`): under the liver's capsule the region took in
   the muscle of the diaphragm or abdominal wall, of the same density, as a knob.  What
   reaches more than ``bulge_mm`` beyond the outline is a bulge of the lesion and stays.
5. Volume: partial-volume corrected (:func:`partial_volume_ml`), the fractions measured
   against the lesion's value beyond the blur's reach (:func:`_lesion_value`; 1.3: for a
   lesion with no voxel that deep, the mean of its unsmoothed voxels inside the outline).
   Where the boundary was capped at the leak level, the fractions are counted on the
   half-way region instead when it holds (1.3, :func:`_volume_region`; 1.7: also when it
   holds once the necks by which it leaked into a neighbour are cut).

Large lesions against an organ's edge: when every box leaks at once (the partial-volume
layer along the liver's surface holds the lesion's values on thick slices), the scan is
repeated with paths narrower than ``2 * leak_cut_mm`` cut in-plane (a grey-value dilation of
the image before each region growing, the same cut in the final opening and a barrier grown
as far); a result whose axial sections are not compact (area under ``min_solidity`` of their
convex hull: it followed the edge) is first opened by ``protrusion_fraction`` of its
largest section's radius (1.3: a lobe of the tissue beyond the surface joined by a narrower
neck is cut off) and refused only if still not compact.

Refusals (:class:`SegmentationError`), never a silly number: seed outside the image or in air,
no edge (contrast below ``min_contrast_hu``), a region reaching the side of the search box (it
leaked, or the lesion is larger than the box allows).

:func:`threshold_baseline` is the plain threshold the benchmark compares against.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import SimpleITK as sitk

from app.segmentation.errors import SegmentationCancelled, SegmentationError

ALGORITHM = "caliper-half-contrast-region"
ALGORITHM_VERSION = "1.7"
#: Hounsfield units below which a seed is taken to be in air (or outside the body).
AIR_HU = -400.0

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class LesionParameters:
    """Parameters of the lesion segmentation (stored with each result)."""

    box_radii_mm: tuple[float, ...] = (20.0, 35.0, 60.0)
    smoothing_mm: float = 1.5
    seed_radius_mm: float = 2.5
    level_step_hu: float = 4.0
    max_level_hu: float = 200.0
    shell_mm: tuple[float, float] = (2.5, 6.0)
    iterations: int = 2
    open_radius_mm: float = 1.5
    barrier_mm: float = 2.0
    far_hu: float = 100.0
    soft_tissue_hu: tuple[float, float] = (-50.0, 300.0)
    min_contrast_hu: float = 10.0
    coarse_from_mm: float = 50.0
    leak_cut_mm: float = 3.0
    min_solidity: float = 0.8
    blur_depth_mm: tuple[float, float] = (5.0, 3.0)
    protrusion_fraction: float = 0.25
    section_margin: tuple[float, float] = (3.0, 0.1)
    section_clip_from_mm: float = 10.0
    fine_below_mm: float = 10.0
    large_open_mm: float = 2.5
    envelope_mm: float = 1.0
    bulge_mm: float = 6.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready parameters."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class RegionResult:
    """A segmented region inside a box of the volume.

    Attributes
    ----------
    mask : numpy.ndarray
        Boolean ``(slices, rows, columns)`` of the box.
    offset : tuple of int
        Index of the box's first voxel in the volume.
    spacing_mm : tuple of float
        Voxel spacing ``(slice, row, column)``.
    lesion_hu, background_hu : float
        Intensities the boundary was placed between.
    """

    mask: np.ndarray
    offset: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    lesion_hu: float
    background_hu: float
    partial_volume_ml: float | None = None

    @property
    def voxel_count(self) -> int:
        """Voxels inside the region."""
        return int(self.mask.sum())

    @property
    def mask_volume_ml(self) -> float:
        """Voxels of the mask times the voxel volume, in millilitres."""
        return self.voxel_count * float(np.prod(self.spacing_mm)) / 1000.0

    @property
    def volume_ml(self) -> float:
        """Volume in millilitres: partial-volume corrected when known, else the mask's."""
        if self.partial_volume_ml is not None:
            return self.partial_volume_ml
        return self.mask_volume_ml


def spacing3(spacing_mm: tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """``(slice, row, column)`` spacing as three floats."""
    return (float(spacing_mm[0]), float(spacing_mm[1]), float(spacing_mm[2]))


def check_seed(voxels: np.ndarray, seed: tuple[int, int, int]) -> None:
    """Refuse a seed outside the volume or in air, with a message the reader can act on."""
    if any(not 0 <= s < n for s, n in zip(seed, voxels.shape, strict=True)):
        raise SegmentationError(
            f"the point (slice {seed[0]}, row {seed[1]}, column {seed[2]}) is outside the image "
            f"({voxels.shape[0]} slices of {voxels.shape[1]}x{voxels.shape[2]})"
        )
    k, r, c = seed
    near = voxels[k, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
    if float(np.median(near)) < AIR_HU:
        raise SegmentationError(
            f"the point is in air ({float(np.median(near)):.0f} HU), outside the body: "
            "click inside the lesion"
        )


def crop_box(
    shape: tuple[int, ...],
    seed: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    radius_mm: float,
) -> tuple[tuple[slice, slice, slice], tuple[int, int, int]]:
    """The box of ``radius_mm`` around ``seed`` clipped to the volume, and its first index."""
    box = []
    for s, n, sp in zip(seed, shape, spacing_mm, strict=True):
        half = max(1, int(math.ceil(radius_mm / float(sp))))
        box.append(slice(max(0, s - half), min(n, s + half + 1)))
    return (box[0], box[1], box[2]), (box[0].start, box[1].start, box[2].start)


def _image(array: np.ndarray, spacing_mm: tuple[float, float, float]) -> sitk.Image:
    img = sitk.GetImageFromArray(np.ascontiguousarray(array))
    img.SetSpacing((float(spacing_mm[2]), float(spacing_mm[1]), float(spacing_mm[0])))
    return img


def _ball(spacing_mm: tuple[float, float, float], radius_mm: float) -> list[int]:
    """Kernel radius in voxels (x, y, z) for a ball of ``radius_mm``."""
    return [
        max(0, int(round(radius_mm / float(s))))
        for s in (spacing_mm[2], spacing_mm[1], spacing_mm[0])
    ]


def component_at(mask: np.ndarray, seed: tuple[int, int, int]) -> np.ndarray:
    """The face-connected (6-neighbour) component of ``mask`` holding ``seed`` (or empty)."""
    if not mask[seed]:
        return np.zeros_like(mask, dtype=bool)
    labels = sitk.ConnectedComponent(sitk.GetImageFromArray(mask.astype(np.uint8)), False)
    arr = sitk.GetArrayViewFromImage(labels)
    return np.asarray(arr == arr[seed])


def open_by_reconstruction(
    mask: np.ndarray,
    seed: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    radius_mm: float,
    *,
    in_plane: bool = False,
) -> np.ndarray:
    """Cut bridges thinner than ``2 * radius_mm`` off the seed's component of ``mask``.

    ``in_plane`` opens each axial slice only (thick slices would otherwise lose a lesion's
    first and last slice).
    """
    radius = _ball(spacing_mm, radius_mm)
    if in_plane:
        radius[2] = 0
    if not any(radius):
        return component_at(mask, seed)
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    eroded = sitk.GetArrayFromImage(sitk.BinaryErode(img, radius, sitk.sitkBall)).astype(bool)
    marker: tuple[int, int, int] | None = seed
    if not eroded[seed]:
        marker = nearest_voxel(eroded & component_at(mask, seed), seed, spacing_mm)
    if marker is None:  # the whole region is thinner than the opening: keep it unopened
        return component_at(mask, seed)
    core = component_at(eroded, marker)
    grown = sitk.BinaryDilate(sitk.GetImageFromArray(core.astype(np.uint8)), radius, sitk.sitkBall)
    opened = sitk.GetArrayFromImage(grown).astype(bool) & mask
    return component_at(opened, seed if opened[seed] else marker)


def nearest_voxel(
    mask: np.ndarray, seed: tuple[int, int, int], spacing_mm: tuple[float, float, float]
) -> tuple[int, int, int] | None:
    """The voxel of ``mask`` nearest to ``seed`` in millimetres (None if the mask is empty)."""
    points = np.argwhere(mask)
    if len(points) == 0:
        return None
    d2 = (((points - np.asarray(seed)) * np.asarray(spacing_mm)) ** 2).sum(axis=1)
    k, r, c = points[int(np.argmin(d2))]
    return (int(k), int(r), int(c))


def fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    """Fill holes on every slice (vessels and necrosis in a lesion, lesions in an organ).

    The slices are stacked into one 2-D image with a background row between them and
    filled at once (a hole of a slice is enclosed within it, so the separating rows, which
    reach the image's side, never open it; one filter call instead of one per slice).  A
    3-D hole is a hole of each of its slices, so no separate 3-D filling is needed.
    """
    k, r, c = mask.shape
    tiled = np.zeros((k, r + 1, c), dtype=np.uint8)
    tiled[:, :r] = mask
    filled = sitk.BinaryFillhole(
        sitk.GetImageFromArray(tiled.reshape(k * (r + 1), c)),
        fullyConnected=False,
        foregroundValue=1,
    )
    out = sitk.GetArrayFromImage(filled).reshape(k, r + 1, c)[:, :r]
    return np.asarray(out.astype(bool))


def _shell(
    mask: np.ndarray, spacing_mm: tuple[float, float, float], shell_mm: tuple[float, float]
) -> np.ndarray:
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    inner = sitk.BinaryDilate(img, _ball(spacing_mm, shell_mm[0]), sitk.sitkBall)
    outer = sitk.BinaryDilate(img, _ball(spacing_mm, shell_mm[1]), sitk.sitkBall)
    return np.asarray(
        sitk.GetArrayFromImage(outer).astype(bool) & ~sitk.GetArrayFromImage(inner).astype(bool)
    )


def _interior(mask: np.ndarray, spacing_mm: tuple[float, float, float], mm: float) -> np.ndarray:
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    core = sitk.GetArrayFromImage(sitk.BinaryErode(img, _ball(spacing_mm, mm), sitk.sitkBall))
    core = core.astype(bool)
    return core if core.sum() >= 8 else mask


def _touches_side(
    mask: np.ndarray,
    box_shape: tuple[int, ...],
    full_shape: tuple[int, ...],
    offset: tuple[int, int, int],
) -> bool:
    """True when the region reaches a side of the box that is not the volume's own edge."""
    for axis in (1, 2):  # in-plane sides: lesions may end at the first/last slice legitimately
        lo_cut = offset[axis] > 0
        hi_cut = offset[axis] + box_shape[axis] < full_shape[axis]
        first = np.take(mask, 0, axis=axis).any()
        last = np.take(mask, box_shape[axis] - 1, axis=axis).any()
        if (lo_cut and first) or (hi_cut and last):
            return True
    return False


def segment_lesion(
    voxels: np.ndarray,
    spacing_mm: tuple[float, float, float],
    seed: tuple[int, int, int],
    parameters: LesionParameters | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RegionResult:
    """Segment the lesion around ``seed`` (see the module docstring for the algorithm).

    Parameters
    ----------
    voxels : numpy.ndarray
        The volume ``(slices, rows, columns)`` in HU.
    spacing_mm : tuple of float
        ``(slice, row, column)`` spacing.
    seed : tuple of int
        ``(slice, row, column)`` index of the click.
    parameters : LesionParameters, optional
        Defaults to ``LesionParameters()``.
    progress : callable, optional
        Called with the fraction done (0-1).
    cancelled : callable, optional
        Polled between steps; when it returns True, :class:`SegmentationCancelled` is raised.

    Raises
    ------
    SegmentationError
        Seed outside the image or in air, no edge, or a leak.
    """
    p = parameters or LesionParameters()
    report = progress or (lambda _f: None)
    stop = cancelled or (lambda: False)

    def step(fraction: float) -> None:
        if stop():
            raise SegmentationCancelled("segmentation cancelled")
        report(fraction)

    check_seed(voxels, seed)
    found = None
    for n, radius in enumerate(p.box_radii_mm):
        if radius >= p.coarse_from_mm > 0 and min(spacing_mm[1], spacing_mm[2]) < 1.5:
            # a lesion larger than the smaller boxes: on a grid twice as coarse in-plane (the
            # 0.8-1 mm pixels of a 512 CT become 1.6-2 mm; 4x fewer voxels, under a second)
            coarse = _segment_coarse(voxels, spacing_mm, seed, radius, p, step)
            if coarse is not None and not _fits(coarse, p.fine_below_mm):
                report(1.0)
                return coarse
            if coarse is None:
                continue
            # 1.5: a small lesion whose smaller boxes leaked on noise (a 7 mm lesion on the
            # 2x2 grid is 3-4 voxels across: -30 % of its volume); the full grid measures it
            fine = replace(p, coarse_from_mm=0.0, box_radii_mm=p.box_radii_mm[:n] or (radius,))
            try:
                return segment_lesion(
                    voxels, spacing_mm, seed, fine, progress=progress, cancelled=cancelled
                )
            except SegmentationCancelled:
                raise
            except SegmentationError:
                report(1.0)
                return coarse
        found = _leak_level(voxels, spacing_mm, seed, radius, p)
        step(0.1 + 0.4 * (n + 1) / len(p.box_radii_mm))
        if found is not None:
            break
    cut_mm: float | None = None
    if found is None and p.leak_cut_mm > 0 and p.coarse_from_mm <= 0:
        # a large lesion against the organ's edge: the partial-volume layer along the edge
        # holds the lesion's values and joins it to the box's side at once.  Scan again with
        # paths narrower than 2 * leak_cut_mm cut in-plane (the lesion is much wider)
        cut_mm = p.leak_cut_mm
        found = _leak_level(voxels, spacing_mm, seed, max(p.box_radii_mm), p, cut_mm)
    if found is None:
        # last resort, as before 1.2: a leak under min_contrast_hu in the smallest box that
        # holds (a lesion much thinner than the slice shows a fraction of its contrast)
        cut_mm = None
        for radius in p.box_radii_mm:
            if radius >= p.coarse_from_mm > 0 and min(spacing_mm[1], spacing_mm[2]) < 1.5:
                break
            found = _leak_level(voxels, spacing_mm, seed, radius, p, strict=False)
            if found is not None:
                break
    if found is None:
        raise SegmentationError(
            f"no lesion edge found within {max(p.box_radii_mm):.0f} mm of the point (the "
            "region around it leaks at once, or the lesion is larger than that): measure it "
            "by hand"
        )
    smoothed, offset, local, mu_0, sign, h_leak = found
    # the threshold may never go past the level at which the region leaked during the scan
    limit = mu_0 + sign * (h_leak - p.level_step_hu)
    threshold = mu_0 + sign * h_leak / 2.0
    region = _band_region(
        smoothed, local, threshold, sign, _far(mu_0, sign, p), spacing_mm, p, cut_mm
    )
    mu_l, mu_b = mu_0, mu_0 + sign * h_leak
    half = threshold  # the last half-way level, before the cap at the leak level
    for i in range(p.iterations):
        sub, _ = _crop_to(region, spacing_mm, p.shell_mm[1] + 2.0)
        shell = _shell(region[sub], spacing_mm, p.shell_mm)
        # the surroundings are the organ around the lesion: not the tissue beyond the far
        # bound (fat or air next to the organ) nor the partial-volume rim at its edge
        shell &= ~_barrier(smoothed[sub], sign, _far(mu_0, sign, p), spacing_mm, p, cut_mm)
        if not shell.any():
            break
        mu_b = float(np.median(smoothed[sub][shell]))
        mu_l = float(np.median(smoothed[sub][_interior(region[sub], spacing_mm, 1.5)]))
        if sign * (mu_b - mu_l) < p.min_contrast_hu:
            raise SegmentationError(
                f"no edge around the point: the lesion ({mu_l:.0f} HU) and its surroundings "
                f"({mu_b:.0f} HU) differ by less than {p.min_contrast_hu:.0f} HU"
            )
        half = (mu_l + mu_b) / 2.0
        threshold = min(half, limit) if sign > 0 else max(half, limit)
        candidate = _band_region(
            smoothed, local, threshold, sign, _far(mu_l, sign, p), spacing_mm, p, cut_mm
        )
        if _touches_side(candidate, candidate.shape, voxels.shape, offset):
            break
        region = candidate
        step(0.5 + 0.5 * (i + 1) / p.iterations)
    if _touches_side(region, region.shape, voxels.shape, offset):
        raise SegmentationError(
            f"the region around the point leaked beyond {max(p.box_radii_mm):.0f} mm from it "
            "(into neighbouring tissue, or the lesion is larger than the search box): "
            "measure it by hand"
        )
    if cut_mm is not None and _solidity(region) < p.min_solidity:
        # a large lesion at the organ's surface whose region also took in a lobe of the
        # tissue beyond it, joined by a neck narrower than the lesion: cut such necks
        region = _cut_protrusions(region, local, spacing_mm, p)
        if _solidity(region) < p.min_solidity:
            raise SegmentationError(
                "the region around the point is not compact (it follows the organ's edge): "
                "measure it by hand"
            )
    # 1.4: a section reaching beyond the lesion's middle sections (a lobe of the tissue
    # beyond the organ's surface kept on a few slices) is cut back to them
    region = _clip_sections(region, spacing_mm, p)
    envelope = None
    if sign > 0 and p.envelope_mm > 0:
        envelope = _organ_envelope(smoothed, region, threshold, spacing_mm, p)
        if envelope[local]:
            region = _within(region, envelope, local, spacing_mm)
        else:
            envelope = None  # a click outside the organ's outline: nothing to keep it to
    if p.large_open_mm > 0 and _middle_sections(region, spacing_mm)[1] >= p.section_clip_from_mm:
        region = open_by_reconstruction(region, local, spacing_mm, p.large_open_mm, in_plane=True)
    report(1.0)
    raw = voxels[tuple(slice(o, o + n) for o, n in zip(offset, region.shape, strict=True))]
    mu_pv = _lesion_value(smoothed, region, spacing_mm, mu_l, sign, p.blur_depth_mm, raw)
    whole, mu_pv_b = _volume_region(
        smoothed, region, local, (half, threshold), sign, (mu_l, mu_b), spacing_mm, p, cut_mm
    )
    if _touches_side(whole, whole.shape, voxels.shape, offset):
        whole, mu_pv_b = region, mu_b
    if envelope is not None:
        whole = _within(whole, envelope, local, spacing_mm) | region
    return RegionResult(
        region,
        offset,
        spacing3(spacing_mm),
        mu_l,
        mu_b,
        partial_volume_ml(smoothed, whole, spacing_mm, mu_pv, mu_pv_b),
    )


def _volume_region(
    smoothed: np.ndarray,
    region: np.ndarray,
    local: tuple[int, int, int],
    levels: tuple[float, float],
    sign: float,
    values: tuple[float, float],
    spacing_mm: tuple[float, float, float],
    p: LesionParameters,
    cut_mm: float | None,
) -> tuple[np.ndarray, float]:
    """The region whose partial-volume fractions make the volume, and its background (1.3).

    ``levels`` is (half-way level, threshold used), ``values`` (lesion, background).  Where
    the boundary was capped at the leak level (the threshold nearer the lesion than the
    half-way level: something beyond the lesion joins it there), the contour stops short of
    the edge, and at a level this close to the lesion's own value it is ragged (the lesion's
    noise and texture cross it), with bays deeper than the two-voxel rim the fractions are
    counted in; the shell around it reaches into the bays, and its background is biased
    towards the lesion.  A 50 mm sphere lost 20 % of its volume so.  The region at the
    half-way level (joined to the capped one) is then used for the volume when its sections
    are compact (1.7: or once necks narrower than ``2 * protrusion_fraction`` of the capped
    region's largest section radius are cut: a 40 mm sphere against the bowel lost 21 %),
    with the background of its own shell; the contour and the diameters keep
    the capped region (a small protrusion changes a diameter much more than a volume).  The
    caller drops it when it reaches the box's side.
    """
    half, threshold = levels
    mu_l, mu_b = values
    if half == threshold:
        return region, mu_b
    far = _far(mu_l, sign, p)
    whole = _band_region(smoothed, local, half, sign, far, spacing_mm, p, cut_mm) | region
    if _solidity(whole) < p.min_solidity:
        # 1.7: it leaked at the half-way level, where the lesion touches a neighbour of
        # similar density (bowel against the liver): cut necks narrower than the lesion,
        # scaled by the capped region (the leaked one is larger)
        whole = _cut_protrusions(whole, local, spacing_mm, p, scale=region) | region
        if _solidity(whole) < p.min_solidity:
            return region, mu_b
    sub, _ = _crop_to(whole, spacing_mm, p.shell_mm[1] + 2.0)
    shell = _shell(whole[sub], spacing_mm, p.shell_mm)
    shell &= ~_barrier(smoothed[sub], sign, far, spacing_mm, p, cut_mm)
    if shell.any():
        mu_b = float(np.median(smoothed[sub][shell]))
    return whole, mu_b


def _clip_sections(
    region: np.ndarray, spacing_mm: tuple[float, float, float], p: LesionParameters
) -> np.ndarray:
    """Keep every axial section within the lesion's middle sections, grown by a margin (1.4).

    The middle sections are those of the slice at the region's centre (area-weighted) and
    its two neighbours, united; the margin is ``section_margin`` = (mm, fraction of their
    equivalent radius), the larger.  A convex or lobulated lesion's other sections lie within
    them (tilted ones shift by less than the margin); what reaches beyond is tissue of
    similar density joined to the lesion on a few slices, not in its middle (a lobe beyond the
    organ's surface with a neck as wide as itself, which no opening cuts), and on thick
    slices it decides the longest diameter.  Lesions whose middle section's radius is under
    ``section_clip_from_mm`` are left as they are.
    """
    middle, radius = _middle_sections(region, spacing_mm)
    if radius < p.section_clip_from_mm:
        return region
    grow = _ball(spacing_mm, max(p.section_margin[0], p.section_margin[1] * radius))
    grow[2] = 0
    reach = sitk.BinaryDilate(sitk.GetImageFromArray(middle[None]), grow, sitk.sitkBall)
    return np.asarray(region & sitk.GetArrayFromImage(reach).astype(bool))


def _middle_sections(
    region: np.ndarray, spacing_mm: tuple[float, float, float]
) -> tuple[np.ndarray, float]:
    """The union of the sections at the region's centre slice (area-weighted) and its two
    neighbours, and its equivalent radius in mm (0 for an empty region)."""
    areas = region.reshape(region.shape[0], -1).sum(axis=1)
    total = float(areas.sum())
    if total == 0:
        return np.zeros(region.shape[1:], dtype=np.uint8), 0.0
    k = int(round(float((areas * np.arange(len(areas))).sum()) / total))
    middle = np.asarray(region[max(k - 1, 0) : k + 2].any(axis=0), dtype=np.uint8)
    return middle, math.sqrt(float(middle.sum()) * spacing_mm[1] * spacing_mm[2] / math.pi)


def _cut_protrusions(
    region: np.ndarray,
    local: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    p: LesionParameters,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Open ``region`` in-plane by ``protrusion_fraction`` of its largest section's radius.

    Opening by reconstruction keeps the seed's part and cuts what is joined to it by a neck
    narrower than twice that radius (a lobe of the tissue beyond the organ's surface); the
    lesion's own lobes, as wide as a good part of its radius, stay.  ``scale``: the region
    whose largest section gives the radius instead (the lesion, when ``region`` leaked).
    """
    radius = _largest_section_radius(region if scale is None else scale, spacing_mm)
    sub, _ = _crop_to(region, spacing_mm, 1.0)
    seed = (local[0] - sub[0].start, local[1] - sub[1].start, local[2] - sub[2].start)
    out = np.zeros_like(region)
    out[sub] = open_by_reconstruction(
        region[sub], seed, spacing_mm, p.protrusion_fraction * radius, in_plane=True
    )
    return out


def _lesion_value(
    smoothed: np.ndarray,
    region: np.ndarray,
    spacing_mm: tuple[float, float, float],
    mu_l: float,
    sign: float,
    depth_mm: tuple[float, float],
    raw: np.ndarray | None = None,
) -> float:
    """The lesion's own value, for the partial-volume fractions of :func:`partial_volume_ml`.

    It can only be read where the blur does not reach from the outline: ``depth_mm`` =
    (through-plane, in-plane) inside it (half a thick slice's profile plus the smoothing).  A
    lesion with no voxel that deep (under ~10 mm on 5 mm slices) never shows its full
    contrast: the median of its region is that of partial-volume voxels, and fractions
    measured against it overestimate the volume (10 mm lesions came out 1.5-2.5x too large).
    Its most extreme decile is then the closest estimate (still a lower bound of the
    contrast).  Deeper lesions: the median of that deep interior (``mu_l`` if it is empty).
    """
    if not region.any():
        return mu_l
    sub, _ = _crop_to(region, spacing_mm, 0.0)
    m = region[sub]
    radius = [
        max(1, int(round(depth_mm[1] / float(spacing_mm[2])))),
        max(1, int(round(depth_mm[1] / float(spacing_mm[1])))),
        max(1, int(round(depth_mm[0] / float(spacing_mm[0])))),
    ]
    padded = np.pad(m, 1)  # the crop's edge is outside the region
    deep = sitk.GetArrayFromImage(
        sitk.BinaryErode(sitk.GetImageFromArray(padded.astype(np.uint8)), radius, sitk.sitkBall)
    ).astype(bool)[1:-1, 1:-1, 1:-1]
    values = smoothed[sub]
    if deep.sum() >= 8:
        return float(np.median(values[deep]))
    if raw is not None:
        # 1.3: the mean of the unsmoothed image over the region less its in-plane outline
        core = m & ~_outline_in_plane(m)
        core = core if core.sum() >= 4 else m
        mean = float(np.mean(raw[sub][core]))
        return min(mean, mu_l) if sign > 0 else max(mean, mu_l)
    extreme = float(np.percentile(values[m], 10.0 if sign > 0 else 90.0))
    return min(extreme, mu_l) if sign > 0 else max(extreme, mu_l)


def _outline_in_plane(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with an in-plane (4-)neighbour outside it."""
    padded = np.pad(mask, ((0, 0), (1, 1), (1, 1)))
    inner = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    return np.asarray(mask & ~inner)


def _largest_section_radius(mask: np.ndarray, spacing_mm: tuple[float, float, float]) -> float:
    """The equivalent radius (mm) of the largest axial section of ``mask``."""
    areas = mask.reshape(mask.shape[0], -1).sum(axis=1)
    return math.sqrt(float(areas.max()) * spacing_mm[1] * spacing_mm[2] / math.pi)


def _fits(result: RegionResult, radius_mm: float) -> bool:
    """Whether every axial section of ``result`` has an equivalent radius under ``radius_mm``."""
    return _largest_section_radius(result.mask, result.spacing_mm) < radius_mm


def _segment_coarse(
    voxels: np.ndarray,
    spacing_mm: tuple[float, float, float],
    seed: tuple[int, int, int],
    radius_mm: float,
    p: LesionParameters,
    step: Callable[[float], None],
) -> RegionResult | None:
    """:func:`segment_lesion` in the box of ``radius_mm`` averaged 2x2 in-plane; None if refused.

    The box is cut a little larger than ``radius_mm`` so that a region reaching the search
    box's side still counts as a leak; the mask comes back on the full grid (each coarse
    voxel as its 2x2 voxels).
    """
    margin = 3.0 * max(spacing_mm[1], spacing_mm[2])
    box, offset = crop_box(voxels.shape, seed, spacing_mm, radius_mm + margin)
    roi = voxels[box]
    rows, cols = (roi.shape[1] // 2) * 2, (roi.shape[2] // 2) * 2
    roi = roi[:, :rows, :cols].astype(np.float32)
    coarse = roi.reshape(roi.shape[0], rows // 2, 2, cols // 2, 2).mean(axis=(2, 4))
    c_spacing = (float(spacing_mm[0]), float(spacing_mm[1]) * 2, float(spacing_mm[2]) * 2)
    c_seed = (
        seed[0] - offset[0],
        min((seed[1] - offset[1]) // 2, coarse.shape[1] - 1),
        min((seed[2] - offset[2]) // 2, coarse.shape[2] - 1),
    )
    # the cut box's sides count as the image's edge only where they are the image's edge
    padded, pad_lo = _pad_unless_edge(coarse, box, voxels.shape)
    c_seed = (c_seed[0] + pad_lo[0], c_seed[1] + pad_lo[1], c_seed[2] + pad_lo[2])
    sub = LesionParameters(**{**asdict(p), "box_radii_mm": (radius_mm,), "coarse_from_mm": 0.0})
    try:
        res = segment_lesion(padded, c_spacing, c_seed, sub)
    except SegmentationError:
        return None
    step(0.9)
    k0 = res.offset[0] - pad_lo[0] + offset[0]
    r0 = (res.offset[1] - pad_lo[1]) * 2 + offset[1]
    c0 = (res.offset[2] - pad_lo[2]) * 2 + offset[2]
    fine = np.repeat(np.repeat(res.mask, 2, axis=1), 2, axis=2)
    return RegionResult(
        fine,
        (k0, r0, c0),
        spacing3(spacing_mm),
        res.lesion_hu,
        res.background_hu,
        res.partial_volume_ml,
    )


def _pad_unless_edge(
    coarse: np.ndarray, box: tuple[slice, slice, slice], shape: tuple[int, ...]
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Pad the box by one voxel of air on each side that is not the image's own edge.

    Air is outside every lesion's values, so the padding never joins a region; it only moves
    the array's edge one voxel out so that a region reaching the box's side is a leak.
    """
    pads = []
    for axis, sl in enumerate(box):
        lo = 1 if sl.start > 0 and axis > 0 else 0
        hi = 1 if sl.stop < shape[axis] and axis > 0 else 0
        pads.append((lo, hi))
    out = np.pad(coarse, pads, mode="constant", constant_values=-1000.0)
    return out, (pads[0][0], pads[1][0], pads[2][0])


def _solidity(mask: np.ndarray) -> float:
    """The least area over convex-hull area of the mask's axial sections (1: all convex).

    Sections under a quarter of the largest are left out (a lesion's first and last slices).
    """
    areas = mask.reshape(mask.shape[0], -1).sum(axis=1)
    least = 1.0
    for k in np.nonzero(areas >= max(10, 0.25 * areas.max()))[0]:
        least = min(least, _section_solidity(mask[k]))
    return least


def _section_solidity(section: np.ndarray) -> float:
    """A 2-D mask's area over its convex hull's (pixels as unit squares; 1 if empty)."""
    pts = _row_ends(section)
    if len(pts) == 0:
        return 1.0
    offsets = ((-0.5, -0.5), (-0.5, 0.5), (0.5, -0.5), (0.5, 0.5))
    hull = _hull_area(np.concatenate([pts + np.asarray(d) for d in offsets]))
    return float(section.sum()) / hull if hull > 0 else 1.0


def _row_ends(section: np.ndarray) -> np.ndarray:
    """``(row, column)`` of each row's first and last voxel of a 2-D mask, as floats (a
    section's convex hull is theirs); empty for an empty mask."""
    rows = np.nonzero(section.any(axis=1))[0]
    first = section[rows].argmax(axis=1)
    last = section.shape[1] - 1 - section[rows, ::-1].argmax(axis=1)
    ends = [np.stack([rows, first], axis=1), np.stack([rows, last], axis=1)]
    return np.concatenate(ends).astype(float)


def _hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of 2-D points (monotone chain, shoelace)."""
    hull = _hull(points)
    if len(hull) < 3:
        return 0.0
    x = np.array([h[0] for h in hull])
    y = np.array([h[1] for h in hull])
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _hull(points: np.ndarray) -> list[tuple[float, ...]]:
    """The convex hull of 2-D points, counter-clockwise (monotone chain)."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, ...], a: tuple[float, ...], b: tuple[float, ...]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, ...]] = []
    for q in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
            lower.pop()
        lower.append(q)
    upper: list[tuple[float, ...]] = []
    for q in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
            upper.pop()
        upper.append(q)
    return lower[:-1] + upper[:-1]


def _within(
    region: np.ndarray,
    envelope: np.ndarray,
    local: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
) -> np.ndarray:
    """The part of ``region`` inside ``envelope`` joined to the click (or to the voxel nearest
    it: the opening may have left the click itself out); ``region`` if nothing is inside."""
    cut = region & envelope
    anchor = nearest_voxel(cut, local, spacing_mm)
    return region if anchor is None else component_at(cut, anchor)


def _section_hull(section: np.ndarray) -> np.ndarray:
    """The filled convex hull of a 2-D mask's pixels."""
    hull = _hull(_row_ends(section))
    if len(hull) < 3:
        return section.astype(bool)
    rr, cc = np.mgrid[0 : section.shape[0], 0 : section.shape[1]]
    inside = np.ones(section.shape, dtype=bool)
    for (r0, c0), (r1, c1) in zip(hull, hull[1:] + hull[:1], strict=True):
        inside &= (r1 - r0) * (cc - c0) - (c1 - c0) * (rr - r0) >= -0.5 * math.hypot(
            r1 - r0, c1 - c0
        )
    return inside


def _organ_envelope(
    smoothed: np.ndarray,
    region: np.ndarray,
    threshold: float,
    spacing_mm: tuple[float, float, float],
    p: LesionParameters,
) -> np.ndarray:
    """Where a hypodense lesion may lie: within the convex hull of its organ, per section (1.6).

    The organ is the tissue on the background's side of ``threshold`` (parenchyma and its
    vessels) joined to the region's rim, within 12 mm of the region; its convex hull on
    each axial slice, grown in-plane by ``envelope_mm``, is the envelope.  A hypodense
    lesion under the liver's capsule touches the muscle of the diaphragm or the abdominal
    wall, of the same density, which the region then takes in as a knob or a band along
    the surface; that muscle lies outside the hull.  Slices with less organ than lesion
    (a lesion beyond the organ's tip) are not cut, and a part of the region reaching more
    than ``bulge_mm`` beyond the hull in-plane is kept (:func:`_bulges`: a lesion bulging out
    of the organ; the muscle sheet is thinner).  A shallower bulge is cut with the knob
    (``benchmarks/bench_exophytic.py``).
    """
    sub, _ = _crop_to(region, spacing_mm, 12.0)
    organ = smoothed[sub] >= threshold
    rim = sitk.BinaryDilate(
        sitk.GetImageFromArray(region[sub].astype(np.uint8)), [2, 2, 1], sitk.sitkBox
    )
    labels = sitk.GetArrayFromImage(
        sitk.ConnectedComponent(sitk.GetImageFromArray(organ.astype(np.uint8)))
    )
    touching = np.unique(labels[sitk.GetArrayFromImage(rim).astype(bool) & organ])
    organ = np.isin(labels, touching[touching > 0])
    hulls = np.ones(organ.shape, dtype=np.uint8)
    sections = region[sub].reshape(organ.shape[0], -1).sum(axis=1)
    for k in range(organ.shape[0]):
        # a slice with less organ than lesion (beyond the organ's tip) is not cut
        if organ[k].sum() >= max(4, sections[k]):
            hulls[k] = _section_hull(organ[k])
    grow = _ball(spacing_mm, p.envelope_mm)
    grow[2] = 0
    grown = sitk.GetArrayFromImage(
        sitk.BinaryDilate(sitk.GetImageFromArray(hulls), grow, sitk.sitkBall)
    ).astype(bool)
    if p.bulge_mm > 0:
        grown |= _bulges(region[sub] & ~grown, grown, spacing_mm, p.bulge_mm)
    out = np.ones(region.shape, dtype=bool)
    out[sub] = grown
    return out


def _bulges(
    beyond: np.ndarray,
    envelope: np.ndarray,
    spacing_mm: tuple[float, float, float],
    bulge_mm: float,
) -> np.ndarray:
    """The parts of ``beyond`` (a region beyond ``envelope``) that reach more than
    ``bulge_mm`` beyond it in-plane: a lesion bulging out of its organ (exophytic) is kept;
    a knob of the muscle sheet along the organ's surface is not that thick."""
    if not beyond.any():
        return beyond
    img = sitk.GetImageFromArray(envelope.astype(np.uint8))
    img.SetSpacing((spacing_mm[2], spacing_mm[1], 1e6))  # in-plane distances only
    reach = sitk.GetArrayFromImage(
        sitk.SignedMaurerDistanceMap(img, insideIsPositive=False, squaredDistance=False)
    )
    labels = sitk.GetArrayFromImage(
        sitk.ConnectedComponent(sitk.GetImageFromArray(beyond.astype(np.uint8)))
    )
    deep = np.unique(labels[beyond & (reach > bulge_mm)])
    return np.isin(labels, deep[deep > 0])


def partial_volume_ml(
    smoothed: np.ndarray,
    mask: np.ndarray,
    spacing_mm: tuple[float, float, float],
    lesion_hu: float,
    background_hu: float,
) -> float | None:
    """The lesion's volume counting the boundary voxels by the fraction of lesion they hold.

    Voxels deep inside the mask count 1; those within two voxels of its outline (either side)
    count ``(I - background) / (lesion - background)`` clipped to 0-1 (0 beyond 1.5: another
    tissue further from the background than the lesion, such as fat).  Thick slices blur the
    first and last slice of a lesion in z; these fractions add that volume back (each point
    in z is seen by slices whose thickness adds up to the spacing times their overlap, so the
    sum stays unbiased).  None when the contrast is unknown.
    """
    contrast = lesion_hu - background_hu
    if not math.isfinite(contrast) or abs(contrast) < 1e-6 or not mask.any():
        return None
    sub, _ = _crop_to(mask, spacing_mm, 3.0 * max(spacing_mm))
    m = mask[sub]
    img = sitk.GetImageFromArray(m.astype(np.uint8))
    rim = [2, 2, 1]
    outer = sitk.GetArrayFromImage(sitk.BinaryDilate(img, rim, sitk.sitkBox)).astype(bool)
    inner = sitk.GetArrayFromImage(sitk.BinaryErode(img, rim, sitk.sitkBox)).astype(bool)
    band = outer & ~inner
    frac = (smoothed[sub][band] - background_hu) / contrast
    # far beyond the lesion's own value is other tissue (fat next to the organ), not lesion
    frac[frac > 1.5] = 0.0
    frac = np.clip(frac, 0.0, 1.0)
    return (float(inner.sum()) + float(frac.sum())) * float(np.prod(spacing_mm)) / 1000.0


def _leak_level(
    voxels: np.ndarray,
    spacing_mm: tuple[float, float, float],
    seed: tuple[int, int, int],
    radius_mm: float,
    p: LesionParameters,
    cut_mm: float | None = None,
    *,
    strict: bool = True,
) -> tuple[np.ndarray, tuple[int, int, int], tuple[int, int, int], float, float, float] | None:
    """Scan thresholds away from the seed value until the seed's region leaks out of the box.

    Both directions are scanned (a darker or a brighter surrounding); the lesion's contrast
    is the direction that holds longest.  Returns the smoothed box, its offset, the seed in
    it, the seed value, the sign of (background - lesion) and the leak level, or None when
    both directions leak at the first level (the lesion is larger than the box, or no edge).
    """
    box, offset = crop_box(voxels.shape, seed, spacing_mm, radius_mm)
    roi = voxels[box].astype(np.float32)
    local = (seed[0] - offset[0], seed[1] - offset[1], seed[2] - offset[2])
    img = _image(roi, spacing_mm)
    smoothed_img = (
        sitk.SmoothingRecursiveGaussian(img, p.smoothing_mm) if min(roi.shape) >= 4 else img
    )
    smoothed = sitk.GetArrayFromImage(smoothed_img)
    near_box, _ = crop_box(roi.shape, local, spacing_mm, p.seed_radius_mm)
    near_box = (slice(local[0], local[0] + 1), near_box[1], near_box[2])  # the clicked slice
    mu_0 = float(np.median(smoothed[near_box]))
    seed_xyz = [(local[2], local[1], local[0])]
    levels = np.arange(p.level_step_hu, p.max_level_hu + 1e-9, p.level_step_hu)
    best: tuple[float, float] | None = None
    for sign in (1.0, -1.0):
        far = _far(mu_0, sign, p)
        barred = _barrier(smoothed, sign, far, spacing_mm, p, cut_mm)
        scan = smoothed.copy()
        scan[barred] = far - sign * 1000.0  # outside every interval below
        if cut_mm:
            # the erosion of {far < v < t} by a disc is {max over the disc < t} (sign > 0):
            # a grey dilation, barred voxels set beyond every threshold first
            scan[barred] = mu_0 + sign * 1e4
            disc = _ball(spacing_mm, cut_mm)
            disc[2] = 0
            grey_in = sitk.GetImageFromArray(scan)
            if sign > 0:
                grey = sitk.GrayscaleDilate(grey_in, disc, sitk.sitkBall)
            else:
                grey = sitk.GrayscaleErode(grey_in, disc, sitk.sitkBall)
            scan = sitk.GetArrayFromImage(grey)
            far = mu_0 - sign * 1e4
        scan[local] = mu_0
        scan_img = sitk.GetImageFromArray(scan)

        def leaks(
            h: float, scan_img: sitk.Image = scan_img, far: float = far, sign: float = sign
        ) -> bool:
            lo, hi = sorted((mu_0 + sign * h, far))
            grown = sitk.ConnectedThreshold(
                scan_img, seedList=seed_xyz, lower=float(lo), upper=float(hi), replaceValue=1
            )
            region = sitk.GetArrayViewFromImage(grown)
            return _touches_side(region, roi.shape, voxels.shape, offset)

        # the region grows with the level, so the first leaking level is found by bisection
        # (leaking at once: the lesion fills the box or has no edge; never leaking even at
        # max_level_hu: the box is the whole image, no edge was found)
        # a leak below min_contrast_hu is no edge either: the lesion's own texture and noise
        # span that much, so its region reached the box's side inside the lesion (a lesion
        # larger than the box), and a threshold capped under it would cut the lesion short
        first = int(np.searchsorted(levels, p.min_contrast_hu)) - 1 if strict else 0
        first = min(max(first, 0), len(levels) - 1)
        leak: float | None
        if leaks(float(levels[first])) or not leaks(float(levels[-1])):
            leak = None
        else:
            lo_i, hi_i = first, len(levels) - 1  # levels[lo_i] holds, levels[hi_i] leaks
            while hi_i - lo_i > 1:
                mid = (lo_i + hi_i) // 2
                if leaks(float(levels[mid])):
                    hi_i = mid
                else:
                    lo_i = mid
            leak = float(levels[hi_i])
        if leak is not None and (best is None or leak > best[1]):
            best = (sign, leak)
    if best is None:
        return None
    return smoothed, offset, local, mu_0, best[0], best[1]


def _band_region(
    smoothed: np.ndarray,
    local: tuple[int, int, int],
    threshold: float,
    sign: float,
    far: float,
    spacing_mm: tuple[float, float, float],
    p: LesionParameters,
    cut_mm: float | None = None,
) -> np.ndarray:
    """The lesion side of ``threshold`` (not beyond ``far``) connected to the seed, cleaned.

    ``sign`` is that of (background - lesion).  Voxels within ``barrier_mm`` of tissue beyond
    ``far`` (fat next to a hypodense lesion's organ, bone next to a hyperdense one) are left
    out: they are the partial-volume rim of the organ, not lesion.
    """
    if sign > 0:
        inside = (smoothed < threshold) & (smoothed > far)
    else:
        inside = (smoothed > threshold) & (smoothed < far)
    inside &= ~_barrier(smoothed, sign, far, spacing_mm, p, cut_mm)
    inside[local] = True
    region = component_at(inside, local)
    radius = max(p.open_radius_mm, cut_mm or 0.0)
    sub, _ = _crop_to(region, spacing_mm, radius + 1.0)
    out = np.zeros_like(region)
    seed_sub = (local[0] - sub[0].start, local[1] - sub[1].start, local[2] - sub[2].start)
    opened = open_by_reconstruction(region[sub], seed_sub, spacing_mm, radius, in_plane=True)
    out[sub] = fill_holes_per_slice(opened)
    return out


def _far(mu: float, sign: float, p: LesionParameters) -> float:
    """The far bound of a lesion's values: ``far_hu`` from it, and never into fat or bone."""
    if sign > 0:
        return max(mu - p.far_hu, p.soft_tissue_hu[0])
    return min(mu + p.far_hu, p.soft_tissue_hu[1])


def _barrier(
    smoothed: np.ndarray,
    sign: float,
    far: float,
    spacing_mm: tuple[float, float, float],
    p: LesionParameters,
    cut_mm: float | None = None,
) -> np.ndarray:
    """Voxels beyond ``far`` on the lesion's side, grown by ``barrier_mm`` in-plane.

    In the cut mode (``cut_mm``) by the larger of the two.
    """
    beyond = smoothed <= far if sign > 0 else smoothed >= far
    grow = max(p.barrier_mm, cut_mm or 0.0)
    if grow <= 0 or not beyond.any():
        return beyond
    near = sitk.BinaryDilate(
        sitk.GetImageFromArray(beyond.astype(np.uint8)),
        _ball(spacing_mm, grow),
        sitk.sitkBall,
    )
    return np.asarray(sitk.GetArrayFromImage(near).astype(bool))


def _crop_to(
    mask: np.ndarray, spacing_mm: tuple[float, float, float], margin_mm: float
) -> tuple[tuple[slice, slice, slice], tuple[int, int, int]]:
    """The bounding box of ``mask`` grown by ``margin_mm`` (clipped), and its first index."""
    idx = np.nonzero(mask)
    box = []
    for axis in range(3):
        m = int(np.ceil(margin_mm / float(spacing_mm[axis])))
        lo = max(int(idx[axis].min()) - m, 0) if len(idx[axis]) else 0
        hi = min(int(idx[axis].max()) + m + 1, mask.shape[axis]) if len(idx[axis]) else 1
        box.append(slice(lo, hi))
    return (box[0], box[1], box[2]), (box[0].start, box[1].start, box[2].start)


def threshold_baseline(
    voxels: np.ndarray,
    spacing_mm: tuple[float, float, float],
    seed: tuple[int, int, int],
    *,
    half_width_hu: float = 30.0,
    roi_radius_mm: float = 60.0,
) -> RegionResult:
    """The plain threshold the benchmark compares with.

    Voxels within ``half_width_hu`` of the median of the seed's 3x3 neighbourhood, connected
    to the seed, holes filled slice by slice: what a reader gets from a region-grow tool with
    a fixed window.
    """
    check_seed(voxels, seed)
    box, offset = crop_box(voxels.shape, seed, spacing_mm, roi_radius_mm)
    roi = voxels[box].astype(np.float32)
    local = (seed[0] - offset[0], seed[1] - offset[1], seed[2] - offset[2])
    k, r, c = local
    centre = float(np.median(roi[k, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]))
    inside = np.abs(roi - centre) <= half_width_hu
    inside[local] = True
    region = fill_holes_per_slice(component_at(inside, local))
    return RegionResult(region, offset, spacing3(spacing_mm), centre, float("nan"))
