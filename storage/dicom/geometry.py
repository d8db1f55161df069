"""Arrange the images of a series into a volume: order, spacing, origin, direction.

Slices are ordered by their position along the image normal (never by
instance number); duplicates, missing slices, uneven spacing and gantry tilt
are detected and described in warnings.  The exact position of every slice
is kept, so mapping between indices and patient coordinates stays exact
even when the spacing is uneven or the slices are sheared by a tilt.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from storage.dicom.records import FileHeader, FrameHeader, Vec3

#: Positions closer than this along the normal are the same slice (mm).
SAME_POSITION_MM = 0.01
#: Smaller angles between slice axis and normal are not reported as tilt.
TILT_TOLERANCE_DEG = 0.1
#: Slice spacings may differ this much (fraction of the median) and still be even.
EVEN_TOLERANCE = 0.01
#: How many positions a warning lists at most.
MAX_LISTED = 8

Image = tuple[FileHeader, FrameHeader]


@dataclass
class Layout:
    """The images of a series in volume order, and the volume's geometry."""

    images: list[Image]
    rows: int
    columns: int
    spacing_mm: tuple[float, float, float]
    origin_lps_mm: Vec3
    direction: tuple[tuple[float, float, float], ...]
    slice_positions: list[Vec3]
    warnings: list[str] = field(default_factory=list)


def _orientation_key(frame: FrameHeader) -> tuple[float, ...] | None:
    return None if frame.orientation is None else tuple(round(v, 3) for v in frame.orientation)


def _consistent(images: list[Image], warnings: list[str]) -> list[Image]:
    """Keep the largest group of images sharing size, orientation and spacing."""

    def key(img: Image) -> tuple[object, ...]:
        head, frame = img
        spacing = (
            None if frame.pixel_spacing is None else tuple(round(v, 4) for v in frame.pixel_spacing)
        )
        return head.rows, head.columns, _orientation_key(frame), spacing

    counts = Counter(key(img) for img in images)
    if len(counts) == 1:
        return images
    best = counts.most_common(1)[0][0]
    kept = [img for img in images if key(img) == best]
    left = sorted({img[0].path for img in images if key(img) != best})
    warnings.append(
        f"{len(images) - len(kept)} image(s) differ from the rest of the series in size, "
        f"orientation or pixel spacing and were left out: {_listing(left)}"
    )
    return kept


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _acquisition_order(img: Image) -> tuple[int, str, int]:
    head, frame = img
    return (
        head.instance_number if head.instance_number is not None else 2**31,
        head.path,
        frame.index,
    )


def _drop_duplicates(
    images: list[Image], dists: list[float], warnings: list[str]
) -> tuple[list[Image], list[float]]:
    """Keep one image per position: the first in acquisition order."""
    clusters: list[list[int]] = []
    for i, d in enumerate(dists):
        if clusters and abs(d - dists[clusters[-1][0]]) < SAME_POSITION_MM:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    if all(len(c) == 1 for c in clusters):
        return images, dists
    keep = [min(c, key=lambda i: _acquisition_order(images[i])) for c in clusters]
    sizes = {len(c) for c in clusters}
    dropped = len(images) - len(keep)
    if len(sizes) == 1:
        warnings.append(
            f"the series holds {sizes.pop()} images at each of its {len(clusters)} positions "
            f"(echoes, phases, time points or image types); loaded the first of each and left "
            f"out {dropped}"
        )
    else:
        listed = []
        for c in clusters:
            kept = min(c, key=lambda i: _acquisition_order(images[i]))
            for i in c:
                if i != kept:
                    same = images[i][0].sop_instance_uid == images[kept][0].sop_instance_uid
                    what = "a copy of" if same else "the same position as"
                    listed.append(
                        f"{images[i][0].path} ({what} {images[kept][0].path}, {dists[i]:.2f} mm)"
                    )
        warnings.append(
            f"{dropped} image(s) duplicate a slice position and were left out: {_listing(listed)}"
        )
    return [images[i] for i in keep], [dists[i] for i in keep]


def _spacing_warnings(
    dists: np.ndarray, steps: np.ndarray, nominal: float, warnings: list[str]
) -> None:
    """Describe missing slices and uneven spacing, naming the positions."""
    # A gap is a missing slice when it is close to a whole multiple (>= 2) of
    # the spacing; anything else is a change of spacing (uneven, reported below).
    gaps = [
        i
        for i, s in enumerate(steps)
        if round(s / nominal) >= 2 and abs(s - round(s / nominal) * nominal) < 0.2 * nominal
    ]
    if gaps:
        listed = [
            f"between {dists[i]:.2f} and {dists[i + 1]:.2f} mm (slices {i} and {i + 1}, "
            f"gap {steps[i]:.2f} mm)"
            for i in gaps
        ]
        warnings.append(
            f"missing slice(s): {len(gaps)} gap(s) wider than the {nominal:.2f} mm spacing, "
            f"positions along the slice normal {_listing(listed)}"
        )
    regular = np.delete(steps, gaps)
    spread = float(regular.max() - regular.min()) if regular.size else 0.0
    if spread > max(SAME_POSITION_MM, EVEN_TOLERANCE * nominal):
        listed = [f"{d:.2f}" for d in dists]
        warnings.append(
            f"uneven slice spacing from {steps.min():.2f} to {steps.max():.2f} mm (median "
            f"{nominal:.2f} mm); every slice keeps its exact position; positions along the "
            f"normal (mm): {_listing(listed)}"
        )


def arrange(images: list[Image]) -> Layout:
    """Order the images of one series and derive the volume geometry.

    Parameters
    ----------
    images : list of (FileHeader, FrameHeader)
        Every 2-D image of the series.

    Returns
    -------
    Layout
        The kept images in slice order with spacing, origin, direction,
        per-slice positions and warnings.
    """
    warnings: list[str] = []
    images = _consistent(images, warnings)
    head, frame = images[0]
    orientation = frame.orientation
    if orientation is None:
        warnings.append("no ImageOrientationPatient; the images are assumed to be axial")
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    row_cos = _unit(np.array(orientation[:3]))
    col_cos = _unit(np.array(orientation[3:]))
    normal = _unit(np.cross(row_cos, col_cos))
    pixel_spacing = frame.pixel_spacing
    if pixel_spacing is None:
        warnings.append("no PixelSpacing; 1 mm pixels are assumed, distances are not reliable")
        pixel_spacing = (1.0, 1.0)
    if any(img[1].position is None for img in images):
        images, positions, step, axis = _without_positions(images, normal, warnings)
    else:
        images, positions, step, axis = _with_positions(images, normal, warnings)
    direction = tuple((float(row_cos[i]), float(col_cos[i]), float(axis[i])) for i in range(3))
    return Layout(
        images=images,
        rows=head.rows,
        columns=head.columns,
        spacing_mm=(float(step), float(pixel_spacing[0]), float(pixel_spacing[1])),
        origin_lps_mm=positions[0],
        direction=direction,
        slice_positions=positions,
        warnings=warnings,
    )


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    if norm < 1e-6:
        raise ValueError("degenerate ImageOrientationPatient (zero-length direction)")
    return v / norm


def _nominal_step(images: list[Image]) -> float:
    head, frame = images[0]
    return head.spacing_between_slices or frame.slice_thickness or 1.0


def _without_positions(
    images: list[Image], normal: np.ndarray, warnings: list[str]
) -> tuple[list[Image], list[Vec3], float, np.ndarray]:
    images = sorted(images, key=_acquisition_order)
    step = _nominal_step(images)
    start = images[0][1].position or (0.0, 0.0, 0.0)
    if len(images) == 1:
        warnings.append(
            "no ImagePositionPatient (a projection image?): patient coordinates "
            "are counted from the first pixel; distances within the image hold"
        )
    else:
        warnings.append(
            "no ImagePositionPatient: slices are ordered by instance number and spaced by "
            f"{step:.2f} mm; positions in the patient are not reliable"
        )
    positions = [
        tuple(float(v) for v in np.array(start) + i * step * normal) for i in range(len(images))
    ]
    return images, positions, step, normal  # type: ignore[return-value]  # positions checked set above


def _with_positions(
    images: list[Image], normal: np.ndarray, warnings: list[str]
) -> tuple[list[Image], list[Vec3], float, np.ndarray]:
    dist_of = [float(np.dot(img[1].position, normal)) for img in images]  # type: ignore[arg-type]  # positions checked set above
    order = sorted(range(len(images)), key=lambda i: (dist_of[i], _acquisition_order(images[i])))
    images = [images[i] for i in order]
    dists = [dist_of[i] for i in order]
    images, dists = _drop_duplicates(images, dists, warnings)
    positions: list[Vec3] = [
        tuple(float(v) for v in img[1].position)  # type: ignore[union-attr,misc]  # set, checked above
        for img in images
    ]
    if len(images) == 1:
        return images, positions, _nominal_step(images), normal
    first, last = np.array(positions[0]), np.array(positions[-1])
    axis = _unit(last - first)
    cos_tilt = float(np.clip(np.dot(axis, normal), -1.0, 1.0))
    tilt = math.degrees(math.acos(cos_tilt))
    if tilt <= TILT_TOLERANCE_DEG:
        axis, cos_tilt = normal, 1.0
    else:
        warnings.append(
            f"gantry tilt of {tilt:.1f} degrees: the acquired geometry is kept (the slice axis "
            "is not perpendicular to the image planes; every voxel's patient position is "
            "exact, reformatted views are sheared, not resampled)"
        )
    dist_arr = np.array(dists)
    steps = np.diff(dist_arr) / cos_tilt
    nominal = float(np.median(steps))
    _spacing_warnings(dist_arr, steps, nominal, warnings)
    return images, positions, nominal, axis
