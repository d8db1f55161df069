"""Caliper length labels stay off the orientation letters and inside the view.

A caliper near an edge of the image put its short-axis label under the orientation letter
there ("R", "A", "L", "P") or beyond the view's border (``viewer.image.labels.keep_out_offsets``,
applied by ``OverlayLayer.spread_labels``).
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from viewer.image.labels import keep_out_offsets
from viewer.image.overlays import MeasurementOverlay, make_geometry

#: A small bidirectional caliper whose short-axis label met each letter before (image column,
#: row of its centre in the 512 x 512 chest CT, fitted in a 640 x 640 view).
NEAR = {"left": (10, 230), "top": (252, 4), "right": (502, 230), "bottom": (252, 462)}


@pytest.mark.qt
@pytest.mark.parametrize("edge", sorted(NEAR))
def test_labels_of_a_caliper_at_an_edge_stay_off_its_letter_and_inside_the_view(
    qtbot, viewer, ct_chest, edge: str
) -> None:
    x, y = NEAR[edge]
    geometry = make_geometry(
        ct_chest, viewer.slice_index, [(x - 15, y), (x + 15, y)], [(x, y - 6), (x, y + 6)]
    )
    viewer.set_overlays([MeasurementOverlay(1, "T1 30.0 mm", geometry)])
    view = viewer.graphics_view
    letter = view.findChild(QtWidgets.QLabel, f"annotation_{edge}")
    assert letter.text()
    visible = QtCore.QRectF(view.viewport().rect()).adjusted(-0.5, -0.5, 0.5, 0.5)
    letters = [
        QtCore.QRectF(view.findChild(QtWidgets.QLabel, f"annotation_{n}").geometry())
        for n in ("left", "top", "right", "bottom")
    ]

    def clear() -> bool:
        boxes = [rect for _mid, rect in viewer._layer.label_boxes()]  # noqa: SLF001
        return len(boxes) == 2 and all(
            visible.contains(b) and not any(b.intersects(r) for r in letters) for b in boxes
        )

    qtbot.waitUntil(clear, timeout=2000)
    # and it stays so after a zoom (the labels are placed again)
    viewer.view_box.scaleBy((0.98, 0.98))
    qtbot.waitUntil(clear, timeout=2000)


def test_keep_out_offsets_moves_only_what_hits_and_the_least_distance() -> None:
    letter = (0.0, 100.0, 12.0, 20.0)
    bounds = (0.0, 0.0, 300.0, 300.0)
    boxes = [
        (-30.0, 104.0, 60.0, 20.0),  # over the letter and beyond the left edge
        (100.0, 100.0, 60.0, 20.0),  # clear: stays
    ]
    (dx0, dy0), (dx1, dy1) = keep_out_offsets(boxes, [letter], bounds, spacing=2.0)
    assert (dx1, dy1) == (0.0, 0.0)
    x, y = boxes[0][0] + dx0, boxes[0][1] + dy0
    assert x >= 0.0  # inside the view
    assert x >= 14.0 or y >= 122.0 or y + 20.0 <= 98.0  # clear of the letter by the spacing
    assert abs(dx0) + abs(dy0) <= 30.0 + 20.0  # to the right of the letter, not far away


def test_keep_out_offsets_prefers_a_place_free_of_other_labels() -> None:
    letter = (100.0, 0.0, 12.0, 20.0)
    # the label over the letter could go left or right of it; another label sits on the right
    boxes = [(95.0, 2.0, 20.0, 16.0), (114.0, 0.0, 40.0, 20.0)]
    (dx, dy), still = keep_out_offsets(boxes, [letter], (0.0, 0.0, 400.0, 400.0), spacing=2.0)
    assert still == (0.0, 0.0)
    assert boxes[0][0] + dx + 20.0 <= 98.0  # went left, not onto the other label
