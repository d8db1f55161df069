"""app.segmentation: lesion from a click, RECIST diameters, liver volumetry and FLR (issue 16).

Synthetic phantoms of known size (a liver-like block with noise and a blurred lesion) check
the numbers; the real CRLM CT checks that a visible metastasis is measured; refusals and
cancellation are checked too.  Accuracy over many lesions is benchmarks/bench_segmentation.py.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from app.segmentation import (
    LesionParameters,
    SegmentationCancelled,
    SegmentationError,
    future_liver_remnant_percent,
    measure_lesion,
    plane_side,
    recist_diameters,
    seed_index,
    segment_lesion,
    segment_liver,
    threshold_baseline,
    volumetry,
)
from app.segmentation.lesion import _organ_envelope

SPACING = (2.5, 0.8, 0.8)
CASE = "wholebody-ellipsoid-10-hypo.npz"  # see tests/data/segmentation/README.md


def phantom(
    diameter_mm: float = 24.0,
    contrast_hu: float = -50.0,
    noise_hu: float = 20.0,
    seed: int = 1,
    axes: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A 40x160x160 'liver' at 60 HU in air, with a blurred ellipsoidal lesion at its centre."""
    rng = np.random.default_rng(seed)
    shape = (40, 160, 160)
    k, r, c = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    centre = (20.0, 80.0, 80.0)
    a, b, cc = axes or (diameter_mm, diameter_mm, diameter_mm)  # (z, y, x) diameters
    frac = np.zeros(shape, dtype=np.float32)
    for dz in (-0.25, 0.0, 0.25):  # partial volume over the slice
        inside = (
            ((k + dz - centre[0]) * SPACING[0] / (a / 2)) ** 2
            + ((r - centre[1]) * SPACING[1] / (b / 2)) ** 2
            + ((c - centre[2]) * SPACING[2] / (cc / 2)) ** 2
        ) <= 1.0
        frac += inside
    frac /= 3.0
    img = sitk.GetImageFromArray(frac)
    img.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))
    frac = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(img, [0.6, 0.6, 0.01]))
    volume = 60.0 + contrast_hu * frac + rng.normal(0.0, noise_hu, shape)
    volume[:, :, :6] = -1000.0  # air at one side
    return np.round(volume).astype(np.int16), (20, 80, 80)


def test_diameters_of_a_disc_and_an_ellipse() -> None:
    rows, cols = np.mgrid[:80, :80]
    disc = ((rows - 40.3) * 0.8) ** 2 + ((cols - 39.6) * 0.8) ** 2 <= 12.5**2
    d = recist_diameters(disc[None], (5.0, 0.8, 0.8))
    assert d.long_axis_mm == pytest.approx(25.0, abs=0.8)
    assert d.short_axis_mm == pytest.approx(25.0, abs=0.8)
    ellipse = ((rows - 40) * 0.8 / 15.0) ** 2 + ((cols - 40) * 0.8 / 7.5) ** 2 <= 1.0
    d = recist_diameters(np.stack([np.zeros_like(ellipse), ellipse]), (5.0, 0.8, 0.8))
    assert d.slice_index == 1
    assert d.long_axis_mm == pytest.approx(30.0, abs=0.8)
    assert d.short_axis_mm == pytest.approx(15.0, abs=0.8)
    (r0, c0), (r1, c1) = d.long_px
    assert abs(r1 - r0) > 5 * abs(c1 - c0)  # the long axis runs along the rows


def test_empty_mask_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        recist_diameters(np.zeros((2, 5, 5), dtype=bool), (1.0, 1.0, 1.0))


@pytest.mark.parametrize(("contrast", "diameter"), [(-50.0, 24.0), (50.0, 24.0), (-60.0, 40.0)])
def test_lesion_size_and_volume_from_one_click(contrast: float, diameter: float) -> None:
    voxels, centre = phantom(diameter, contrast)
    click = (centre[0], centre[1] + 3, centre[2] - 2)  # not exactly the centre
    result = segment_lesion(voxels, SPACING, click)
    d = recist_diameters(result.mask, SPACING)
    assert d.long_axis_mm == pytest.approx(diameter, rel=0.10)
    assert d.short_axis_mm == pytest.approx(diameter, rel=0.12)
    truth_ml = math.pi / 6 * diameter**3 / 1000
    assert result.volume_ml == pytest.approx(truth_ml, rel=0.15)
    assert math.copysign(1, result.background_hu - result.lesion_hu) == -math.copysign(1, contrast)


def test_ellipsoid_long_axis_on_the_right_slice_and_perpendicular() -> None:
    voxels, centre = phantom(axes=(20.0, 36.0, 18.0), contrast_hu=-55.0)
    result = segment_lesion(voxels, SPACING, centre)
    d = recist_diameters(result.mask, SPACING)
    assert abs(d.slice_index + result.offset[0] - centre[0]) <= 1
    assert d.long_axis_mm == pytest.approx(36.0, rel=0.10)
    assert d.short_axis_mm == pytest.approx(18.0, rel=0.15)


def test_a_lobe_of_similar_tissue_on_a_few_off_centre_slices_is_cut_back() -> None:
    """1.4: tissue of the lesion's density joined to it on two slices away from its middle
    (a lobe beyond the organ's surface with a wide neck) does not decide the long axis."""
    voxels, centre = phantom(24.0, -50.0, noise_hu=10.0)
    rows, cols = np.mgrid[:160, :160]
    lobe = (np.abs(rows - 80) <= 7) & (cols >= 88) & (cols <= 103)  # 6.4-18.4 mm from the centre
    for k in (17, 18):  # 5-7.5 mm above the middle, where the section's radius is 9-11 mm
        voxels[k][lobe] = np.minimum(voxels[k][lobe], 10 + (voxels[k][lobe] - 60) // 4)
    result = segment_lesion(voxels, SPACING, centre)
    d = recist_diameters(result.mask, SPACING)
    # the sections stop within the 3 mm margin around the middle sections
    assert d.long_axis_mm <= 24.0 + 3.5
    unclipped = segment_lesion(
        voxels, SPACING, centre, LesionParameters(section_clip_from_mm=1e9)
    )  # as 1.3 did: the lobe's 6 mm count
    assert recist_diameters(unclipped.mask, SPACING).long_axis_mm >= 29.5


def test_the_plain_threshold_leaks_where_the_half_contrast_region_does_not() -> None:
    voxels, centre = phantom(24.0, -30.0, noise_hu=25.0)
    ours = segment_lesion(voxels, SPACING, centre)
    plain = threshold_baseline(voxels, SPACING, centre)
    assert ours.volume_ml == pytest.approx(math.pi / 6 * 24.0**3 / 1000, rel=0.2)
    assert plain.mask_volume_ml > 3 * ours.volume_ml


def test_refusals_say_why() -> None:
    voxels, centre = phantom()
    with pytest.raises(SegmentationError, match="in air"):
        segment_lesion(voxels, SPACING, (20, 80, 2))
    with pytest.raises(SegmentationError, match="outside the image"):
        segment_lesion(voxels, SPACING, (99, 80, 80))
    flat = np.full((30, 120, 120), 60, dtype=np.int16)
    with pytest.raises(SegmentationError, match="edge"):
        segment_lesion(flat, SPACING, (15, 60, 60))


def test_cancel_stops_and_progress_reaches_one() -> None:
    voxels, centre = phantom()
    seen: list[float] = []
    segment_lesion(voxels, SPACING, centre, progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    with pytest.raises(SegmentationCancelled):
        segment_lesion(voxels, SPACING, centre, cancelled=lambda: True)


class _Volume:
    """The attributes of storage.dicom.Volume that measure_lesion reads."""

    def __init__(self, voxels: np.ndarray) -> None:
        self.voxels = voxels
        self.spacing_mm = SPACING
        self.series_instance_uid = "1.2.3"
        self.sop_instance_uids = [f"1.2.3.{k}" for k in range(voxels.shape[0])]

    def index_to_lps(self, k: float, r: float, c: float) -> tuple[float, float, float]:
        return (c * SPACING[2], r * SPACING[1], k * SPACING[0])

    def lps_to_index(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        return (z / SPACING[0], y / SPACING[1], x / SPACING[2])


def test_measure_lesion_proposes_a_bidirectional_caliper() -> None:
    voxels, centre = phantom(30.0, -50.0)
    volume = _Volume(voxels)
    seed = seed_index(volume, volume.index_to_lps(*centre))
    assert seed == centre
    m = measure_lesion(volume, seed, LesionParameters())
    geometry = m.geometry(volume)
    assert geometry.short_axis is not None
    assert geometry.long_axis.length_mm == pytest.approx(m.long_axis_mm, abs=0.1)
    assert geometry.short_axis.length_mm == pytest.approx(m.short_axis_mm, abs=0.1)
    assert geometry.sop_instance_uid == f"1.2.3.{m.slice_index}"
    record = m.to_dict(volume)
    assert record["algorithm"]
    assert record["parameters"]["smoothing_mm"] == 1.5
    assert m.mean_hu == pytest.approx(10.0, abs=12.0)
    with pytest.raises(SegmentationError, match="outside the image"):
        seed_index(volume, (-500.0, 0.0, 0.0))


def test_flr_percent_of_a_virtual_resection() -> None:
    liver = np.zeros((10, 20, 20), dtype=bool)
    liver[:, :, :] = True  # 4000 voxels of 1 mm^3 = 4 mL
    tumour = np.zeros_like(liver)
    tumour[0:2, 0:10, 0:10] = True  # 200 voxels, in the resected half
    cut = plane_side(liver.shape, (1.0, 1.0, 1.0), (0.0, 0.0, 9.5), (0.0, 0.0, -1.0))
    assert cut.sum() == 2000  # columns 0-9
    v = volumetry(liver, (1.0, 1.0, 1.0), cut, tumour)
    assert v.total_liver_ml == pytest.approx(4.0)
    assert v.tumour_ml == pytest.approx(0.2)
    assert v.resected_ml == pytest.approx(2.0)
    assert v.remnant_ml == pytest.approx(2.0)
    assert v.flr_percent == pytest.approx(2.0 / 3.8 * 100)
    assert future_liver_remnant_percent(1500.0, 100.0, 560.0) == pytest.approx(40.0)
    with pytest.raises(SegmentationError, match="not positive"):
        future_liver_remnant_percent(100.0, 100.0, 0.0)


def test_liver_does_not_leak_into_the_heart_over_the_diaphragm() -> None:
    """A heart of the liver's density on the dome, joined over a 24 mm wide patch: cut off."""
    spacing = (2.5, 2.0, 2.0)
    k, r, c = np.mgrid[0:80, 0:110, 0:110]
    z, y, x = k * spacing[0], r * spacing[1], c * spacing[2]
    liver = ((z - 60) / 45) ** 2 + ((y - 110) / 70) ** 2 + ((x - 110) / 80) ** 2 <= 1
    heart = ((z - 140) / 40) ** 2 + ((y - 110) / 40) ** 2 + ((x - 110) / 40) ** 2 <= 1
    neck = ((y - 110) ** 2 + (x - 110) ** 2 <= 12**2) & (z > 95) & (z < 110)
    rng = np.random.default_rng(3)
    voxels = np.where(liver | heart | neck, 60.0, -100.0) + rng.normal(0, 8, liver.shape)
    res = segment_liver(voxels.astype(np.float32), spacing, (24, 55, 55))
    heart_only = heart & ~liver
    assert (res.mask & heart_only).sum() < 0.2 * heart_only.sum()  # 0.9 before the core zone
    assert abs(res.mask.sum() / liver.sum() - 1) < 0.15


def test_a_lesion_larger_than_the_small_boxes_is_segmented_on_a_coarser_grid() -> None:
    """70 mm in a 0.8 mm grid: found in the 60 mm box, on 1.6 mm voxels (2x2 blocks back)."""
    rng = np.random.default_rng(5)
    shape = (50, 240, 240)
    k, r, c = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    inside = (
        ((k - 25) * SPACING[0]) ** 2 + ((r - 120) * SPACING[1]) ** 2 + ((c - 120) * SPACING[2]) ** 2
    ) <= 35.0**2
    volume = np.where(inside, 10.0, 60.0) + rng.normal(0.0, 15.0, shape)
    res = segment_lesion(volume.astype(np.int16), SPACING, (25, 126, 118))
    d = recist_diameters(res.mask, SPACING)
    assert abs(d.long_axis_mm - 70.0) <= 3.5
    assert abs(res.volume_ml / (4 / 3 * math.pi * 35.0**3 / 1000) - 1) < 0.1
    # the coarse grid: every 2x2 in-plane block of the mask is all in or all out
    m = res.mask[:, : res.mask.shape[1] // 2 * 2, : res.mask.shape[2] // 2 * 2]
    blocks = m.reshape(m.shape[0], m.shape[1] // 2, 2, m.shape[2] // 2, 2)
    assert np.all(blocks.all(axis=(2, 4)) == blocks.any(axis=(2, 4)))


def _thin_lesion(contrast_hu: float, seed: int) -> tuple[np.ndarray, tuple[int, int, int], float]:
    """A 10 x 8 x 6 mm (y, x, z) ellipsoid on 5 mm slices every 2.5 mm, and its volume (mL)."""
    rng = np.random.default_rng(seed)
    shape = (30, 100, 100)
    k, r, c = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    frac = np.zeros(shape, dtype=np.float32)
    offsets = np.linspace(-1.0, 1.0, 9)  # a 5 mm slice profile: +-1 slice of 2.5 mm
    for dz in offsets:
        frac += (
            ((k + dz - 15.3) * SPACING[0] / 3.0) ** 2
            + ((r - 50.0) * SPACING[1] / 5.0) ** 2
            + ((c - 50.0) * SPACING[2] / 4.0) ** 2
        ) <= 1.0
    frac /= len(offsets)
    img = sitk.GetImageFromArray(frac)
    img.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))
    frac = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(img, [0.6, 0.6, 0.01]))
    volume = 60.0 + contrast_hu * frac + rng.normal(0.0, 20.0, shape)
    return np.round(volume).astype(np.int16), (15, 50, 50), math.pi / 6 * 10 * 8 * 6 / 1000


def test_a_lesion_thinner_than_the_slice_is_not_counted_against_its_rim_value() -> None:
    # no voxel of it shows the full contrast: fractions measured against the median of its
    # (partial-volume) voxels made its volume 1.65-2x the truth (version 1.1)
    ratios = []
    for contrast in (-50.0, 50.0):
        for seed in (1, 2, 3):
            voxels, click, truth_ml = _thin_lesion(contrast, seed)
            ratios.append(segment_lesion(voxels, SPACING, click).volume_ml / truth_ml)
    assert 0.8 < float(np.mean(ratios)) < 1.6


def _small_ellipsoid(
    contrast_hu: float, seed: int, axes_mm: tuple[float, float, float]
) -> tuple[np.ndarray, tuple[int, int, int], float]:
    """A small ellipsoid (z, y, x diameters) on 5 mm slices every 2.5 mm, and its volume (mL).

    As the benchmark's 10 mm ellipsoids: longer through-plane than in-plane, so the slices
    through its middle show the whole contrast but the smoothing's in-plane blur does not
    leave a voxel deep enough to read it.
    """
    rng = np.random.default_rng(seed)
    shape = (30, 80, 80)
    k, r, c = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    a, b, cc = axes_mm
    frac = np.zeros(shape, dtype=np.float32)
    offsets = np.linspace(-1.0, 1.0, 9)  # a 5 mm slice profile: +-1 slice of 2.5 mm
    for dz in offsets:
        frac += (
            ((k + dz - 15.3) * SPACING[0] / (a / 2)) ** 2
            + ((r - 40.2) * SPACING[1] / (b / 2)) ** 2
            + ((c - 39.7) * SPACING[2] / (cc / 2)) ** 2
        ) <= 1.0
    frac /= len(offsets)
    img = sitk.GetImageFromArray(frac)
    img.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))
    frac = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(img, [0.6, 0.6, 0.01]))
    volume = 60.0 + contrast_hu * frac + rng.normal(0.0, 20.0, shape)
    return np.round(volume).astype(np.int16), (15, 40, 40), math.pi / 6 * a * b * cc / 1000


@pytest.mark.parametrize("axes", [(10.0, 7.0, 6.0), (10.0, 8.0, 7.0)])
def test_a_small_ellipsoid_on_thick_slices_has_its_volume_within_15_percent(
    axes: tuple[float, float, float],
) -> None:
    # version 1.2 read such a lesion's value from its most extreme smoothed decile, which
    # the 1.5 mm smoothing lowers on a 6-8 mm section: 1.27x and 1.14x the volume on
    # average; 1.3 reads it from the unsmoothed voxels inside the outline
    ratios = []
    for contrast in (-50.0, 50.0):
        for seed in (1, 2, 3):
            voxels, click, truth_ml = _small_ellipsoid(contrast, seed, axes)
            ratios.append(segment_lesion(voxels, SPACING, click).volume_ml / truth_ml)
    assert abs(float(np.mean(ratios)) - 1.0) < 0.1


def _ball_stack(
    shape: tuple[int, int, int], centre: tuple[float, float, float], r_mm: float
) -> np.ndarray:
    k, r, c = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    return (
        ((k - centre[0]) * SPACING[0]) ** 2
        + ((r - centre[1]) * SPACING[1]) ** 2
        + ((c - centre[2]) * SPACING[2]) ** 2
    ) <= r_mm**2


def test_a_lobe_beyond_the_surface_joined_by_a_neck_is_cut_and_the_lesion_kept() -> None:
    # 1.2 refused such a cut-mode region (not compact); 1.3 cuts what hangs on by a neck
    from app.segmentation.lesion import _cut_protrusions, _solidity

    shape = (24, 120, 160)
    lesion = _ball_stack(shape, (12, 60, 60), 24.0)
    lobe = _ball_stack(shape, (12, 60, 115), 12.0)
    neck = np.zeros(shape, dtype=bool)
    neck[8:17, 57:64, 60:110] = True  # 5.6 mm wide
    region = lesion | lobe | neck
    assert _solidity(region) < LesionParameters().min_solidity
    out = _cut_protrusions(region, (12, 60, 60), SPACING, LesionParameters())
    assert not (out & lobe & ~lesion).any()
    assert (out & lesion).sum() >= 0.97 * lesion.sum()
    assert _solidity(out) >= LesionParameters().min_solidity


def test_the_volume_of_a_capped_ragged_contour_is_counted_on_the_half_way_region() -> None:
    from app.segmentation.lesion import _volume_region, partial_volume_ml

    shape = (30, 100, 100)
    sphere = _ball_stack(shape, (15, 50, 50), 20.0)
    img = sitk.GetImageFromArray(np.where(sphere, 0.0, 60.0).astype(np.float32))
    img.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))
    smoothed = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(img, 1.5))
    # the contour capped near the lesion's value, with deep bays: every other 3 rows of
    # the right half cut away outside its central 8 mm
    stripes = (np.arange(shape[1]) % 6 < 3)[None, :, None] & (np.arange(shape[2]) > 50)[
        None, None, :
    ]
    bays = stripes & ~_ball_stack(shape, (15, 50, 50), 8.0)
    ragged = sphere & ~bays
    truth_ml = 4 / 3 * math.pi * 20.0**3 / 1000
    spacing = SPACING
    shell_bg = 30.0  # the shell of the ragged contour reached into its bays
    assert partial_volume_ml(smoothed, ragged, spacing, 0.0, shell_bg) < 0.9 * truth_ml
    whole, background = _volume_region(
        smoothed,
        ragged,
        (15, 50, 50),
        (30.0, 6.0),
        1.0,
        (0.0, shell_bg),
        spacing,
        LesionParameters(),
        None,
    )
    assert background == pytest.approx(60.0, abs=3.0)
    assert partial_volume_ml(smoothed, whole, spacing, 0.0, background) == pytest.approx(
        truth_ml, rel=0.05
    )


def _pasted_case(
    shared_data: Path, name: str, series: str
) -> tuple[np.ndarray, tuple[float, ...], tuple[int, ...], np.lib.npyio.NpzFile]:
    """The series with a stored benchmark case's box pasted in (tests/data/segmentation)."""
    from storage.dicom import load_series

    case = np.load(Path(__file__).parents[1] / "data" / "segmentation" / name)
    volume = load_series(shared_data / series)
    voxels = volume.voxels.copy()
    box = tuple(
        slice(int(o), int(o) + n) for o, n in zip(case["offset"], case["work"].shape, strict=True)
    )
    voxels[box] = case["work"]
    spacing = tuple(float(s) for s in volume.spacing_mm)
    return voxels, spacing, tuple(int(v) for v in case["seed"]), case


def test_a_small_lesion_whose_small_boxes_leak_is_measured_on_the_full_grid(
    shared_data: Path,
) -> None:
    """1.5: a 9 mm lesion of the benchmark (seed 18) whose 20 and 35 mm boxes leak on the
    low-dose CT's noise was measured on the 60 mm box's 2x2 grid in 1.4: 3-4 coarse voxels
    across, -31 % of its volume.  Small results of that grid are measured again in full."""
    voxels, spacing, seed, case = _pasted_case(shared_data, CASE, "ct-wholebody-269")
    res = segment_lesion(voxels, spacing, seed)  # type: ignore[arg-type]
    truth = float(case["truth_volume_ml"])
    assert abs(res.volume_ml / truth - 1) <= 0.15, (res.volume_ml, truth)
    # the full grid: not every 2x2 in-plane block is all in or all out
    m = res.mask[:, : res.mask.shape[1] // 2 * 2, : res.mask.shape[2] // 2 * 2]
    blocks = m.reshape(m.shape[0], m.shape[1] // 2, 2, m.shape[2] // 2, 2)
    assert not np.all(blocks.all(axis=(2, 4)) == blocks.any(axis=(2, 4)))


def test_a_lesion_against_the_bowel_keeps_its_volume(shared_data: Path) -> None:
    """1.7: a hypodense 40 mm sphere against the bowel at the liver's medial edge (benchmark,
    seed 19, additive model): its region leaks into the bowel at 12 HU from the click, so the
    contour is capped there, and the half-way region that makes the volume leaks too.  1.6
    then counted the capped region's fractions: -21 % of the volume.  Cutting the bowel off
    the half-way region by its neck (``protrusion_fraction`` of the lesion's radius) keeps it."""
    voxels, spacing, seed, case = _pasted_case(
        shared_data, "wholebody-sphere-40-hypo-bowel.npz", "ct-wholebody-269"
    )
    truth = float(case["truth_volume_ml"])

    def error(parameters: LesionParameters) -> float:
        res = segment_lesion(voxels, spacing, seed, parameters)  # type: ignore[arg-type]
        return res.volume_ml / truth - 1

    assert abs(error(LesionParameters())) <= 0.10
    # no neck cut (as in 1.6): the volume of the capped region is back
    assert error(replace(LesionParameters(), protrusion_fraction=0.0)) < -0.15


def test_a_lesion_under_the_capsule_leaves_the_abdominal_wall_out(shared_data: Path) -> None:
    """1.6: a hypodense 40 mm sphere under the liver's capsule of the portal-venous CRLM CT
    (benchmark, seed 16): in 1.5 the region took in a knob of the abdominal wall's muscle, of
    the same density, and the long axis was 47.1 mm (+17 %).  The organ's envelope cuts it."""
    voxels, spacing, seed, case = _pasted_case(
        shared_data, "crlm-sphere-40-hypo-subcapsular.npz", "crlm-ct-1006"
    )
    truth_long = float(case["truth_long_mm"])

    def long_axis(parameters: LesionParameters) -> float:
        res = segment_lesion(voxels, spacing, seed, parameters)  # type: ignore[arg-type]
        return recist_diameters(res.mask, spacing).long_axis_mm  # type: ignore[arg-type]

    assert abs(long_axis(LesionParameters()) / truth_long - 1) <= 0.10
    # without the envelope (1.5) the knob is back: the test measures what it claims
    assert long_axis(replace(LesionParameters(), envelope_mm=0.0)) / truth_long - 1 > 0.10


def test_the_envelope_leaves_a_lesion_beyond_the_organs_tip_alone() -> None:
    """A slice with less organ than lesion (a lesion hanging below the liver's tip) is not
    cut by the envelope; a band of tissue beside the organ on a slice full of organ is."""
    spacing = (5.0, 0.8, 0.8)
    smoothed = np.full((3, 60, 60), -100.0)  # fat
    smoothed[:, 10:50, 10:40] = 110.0  # organ: a block, all three slices
    smoothed[0, 10:50, 10:38] = -100.0  # ... of which only a sliver on slice 0
    region = np.zeros(smoothed.shape, dtype=bool)
    region[0, 20:40, 20:36] = True  # slice 0: the lesion beyond the tip
    region[1, 20:40, 20:36] = True  # slice 1: the lesion inside ...
    region[1, 20:40, 36:46] = True  # ... and a band beside the organ
    smoothed[region] = 60.0
    envelope = _organ_envelope(smoothed, region, 85.0, spacing, LesionParameters())
    assert envelope[0][region[0]].all()
    assert envelope[1, 20:40, 20:36].all()
    assert not envelope[1, 20:40, 43:46].any()


def test_the_envelope_keeps_a_lesion_bulging_out_and_cuts_a_thin_knob() -> None:
    """Beyond the organ's outline a part reaching more than ``bulge_mm`` (6 mm) out is the
    lesion bulging into fat (exophytic) and stays; a knob 3 mm thick (the muscle sheet along
    the surface) is cut.  ``benchmarks/bench_exophytic.py``: 40 mm spheres half in fat kept
    their short axis in 5 of 12 cases with this, 1 of 12 without."""
    spacing = (5.0, 0.8, 0.8)
    smoothed = np.full((3, 80, 80), -100.0)  # fat
    smoothed[:, 10:70, 10:50] = 110.0  # organ, its surface at column 50
    region = np.zeros(smoothed.shape, dtype=bool)
    region[1, 20:35, 30:50] = True  # a lesion under the surface ...
    region[1, 20:35, 50:64] = True  # ... bulging 11 mm out of it
    region[1, 45:60, 30:50] = True  # another under the surface ...
    region[1, 45:60, 50:54] = True  # ... with a 3 mm knob beyond it
    smoothed[region] = 60.0
    envelope = _organ_envelope(smoothed, region, 85.0, spacing, LesionParameters())
    assert envelope[1, 20:35, 50:64].all()
    assert not envelope[1, 45:60, 53:54].any()
    no_bulges = replace(LesionParameters(), bulge_mm=0.0)
    assert not _organ_envelope(smoothed, region, 85.0, spacing, no_bulges)[1, 20:35, 60:64].any()


def test_the_demo_t2_gives_one_caliper_wherever_it_is_clicked() -> None:
    """The demo's baseline T2 (about 11 mm; the metastasis M2 of crlm-ct-1006): in 1.4 three
    clicks a voxel apart gave 14.3, 15.4 and 15.4 mm on the 60 mm box's 2x2 grid (a blocky
    square, found by driving the demo); 1.5 measures it on the full grid."""
    from storage.dicom import load_series

    volume = load_series(Path(__file__).parents[2] / "resources" / "demo" / "baseline")
    spacing = tuple(float(s) for s in volume.spacing_mm)
    longs = []
    for seed in ((24, 277, 158), (24, 276, 157), (24, 278, 159)):
        res = segment_lesion(volume.voxels, spacing, seed)  # type: ignore[arg-type]
        longs.append(recist_diameters(res.mask, spacing).long_axis_mm)  # type: ignore[arg-type]
    assert max(longs) - min(longs) <= 1.0, longs
    assert all(10.0 <= x <= 13.5 for x in longs), longs  # manual caliper 13.5 x 11.0 mm
