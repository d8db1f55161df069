"""Contour outlines on axial slices and on coronal / sagittal reformats (issue 16)."""

from __future__ import annotations

import numpy as np

from viewer.image.contours import Contour, outline_rgba, reformat_outline_rgba

RGBA = (1, 2, 3, 4)


def _cube() -> Contour:
    # slices 2-4, rows 10-14, columns 20-26 of a (8, 32, 32) volume
    return Contour((2, 10, 20), np.ones((3, 5, 7), dtype=bool), RGBA)


def _painted(image: np.ndarray | None) -> set[tuple[int, int]]:
    assert image is not None
    rows, cols = np.nonzero(image[..., 3])
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def test_a_coronal_reformat_outlines_the_section_at_its_row() -> None:
    image = reformat_outline_rgba([_cube()], 1, 12, (8, 32), flip_rows=False)
    inside = {(k, c) for k in range(2, 5) for c in range(20, 27)}
    edge = {(k, c) for k, c in inside if k in (2, 4) or c in (20, 26)}
    assert _painted(image) == edge
    assert image is not None
    assert tuple(image[2, 20]) == RGBA
    assert reformat_outline_rgba([_cube()], 1, 15, (8, 32), flip_rows=False) is None  # row 15


def test_a_flipped_sagittal_reformat_puts_the_last_slice_on_top() -> None:
    image = reformat_outline_rgba([_cube()], 2, 23, (8, 32), flip_rows=True)
    rows = {r for r, _ in _painted(image)}
    assert rows == {8 - 1 - k for k in (2, 3, 4)}  # slices 2-4 shown as display rows 5-3
    assert {c for _, c in _painted(image)} == set(range(10, 15))  # display x: the rows


def test_the_axial_outline_is_unchanged() -> None:
    image = outline_rgba([_cube()], 3, (32, 32))
    assert len(_painted(image)) == 2 * 5 + 2 * 7 - 4


def test_thick_slices_are_outlined_with_thin_lines_on_a_reformat() -> None:
    # 4 image rows per slice: the middle slice's inside rows are not outlined any more
    image = reformat_outline_rgba([_cube()], 1, 12, (8, 32), flip_rows=False, row_factor=4)
    assert image is not None
    assert image.shape[:2] == (32, 32)
    painted = _painted(image)
    assert (8, 20) in painted  # top edge of slice 2 (rows 8-11)
    assert (8, 23) in painted
    assert (13, 23) not in painted  # inside (slice 3, column 23)
    assert (13, 20) in painted  # left edge
    assert (19, 23) in painted  # bottom edge of slice 4 (rows 16-19)
    assert len(painted) == 2 * 12 + 2 * 7 - 4
