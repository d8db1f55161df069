"""The Smart caliper refuses a speck rather than propose it (issue 16: "never a silly number").

Real CT: the demo follow-up (``resources/demo/followup``). A click in the fat beside the
pancreas (slice 5, row 221, column 282; seen under Xvfb) gave a region of 4 voxels, "1.8 x
1.8 mm, 0.5 mL", stored as a new lesion (so PD); the voxel beside it one voxel, 0.8 x 0.8 mm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.segmentation import SegmentationError, measure_lesion
from app.segmentation.measure import MIN_LONG_AXIS_MM
from storage.dicom import load_series

DEMO_FOLLOWUP = Path(__file__).resolve().parents[2] / "resources" / "demo" / "followup"


@pytest.fixture(scope="module")
def followup():  # type: ignore[no-untyped-def]
    return load_series(DEMO_FOLLOWUP)


@pytest.mark.parametrize("seed", [(5, 221, 282), (5, 222, 283)])
def test_a_click_whose_region_is_a_speck_is_refused(followup, seed) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SegmentationError, match=r"only \d\.\d mm across"):
        measure_lesion(followup, seed)


def test_a_click_beside_it_still_measures_what_it_finds(followup) -> None:  # type: ignore[no-untyped-def]
    found = measure_lesion(followup, (5, 222, 282))
    assert found.long_axis_mm >= MIN_LONG_AXIS_MM


class _StillLoading:
    is_complete = False

    def wait(self, timeout: float | None = None) -> None:
        raise TimeoutError("still loading")


def test_waiting_for_a_loading_series_stops_when_cancelled() -> None:
    from app.segmentation import SegmentationCancelled
    from app.segmentation.measure import wait_until_loaded

    polls: list[int] = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(SegmentationCancelled, match="loading"):
        wait_until_loaded(_StillLoading(), cancelled)
    assert len(polls) == 3
    wait_until_loaded(object())  # a volume without wait(): complete
