"""Issue 11 point 1: calipers are drawn on their image (SOP Instance UID + frame), not by index.

The demo's 30 baseline slices are 30 of the 51 images of the series in
``crlm-ct-1006`` (same Series Instance UID): opening that folder must show
the whole series with every caliper on the slice holding its image, also after
a restart; an image that is not among the loaded files is "not available" and
its caliper is drawn nowhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from app.main import DEMO_FOLDER, DEMO_SUBJECT_ID, SeriesLibrary, build_main_window, open_demo
from app.reports.keyimage import KeyImageError, render_slice
from recist.model import DrawnGeometry, Role, Segment
from storage.db import open_database
from storage.dicom import load_series
from tests.viewer.conftest import read_volume
from viewer.image.overlays import MeasurementOverlay, make_geometry
from viewer.image.prior import PriorSliceWidget
from viewer.image.render import render_volume_png
from viewer.image.volume import instance_set_key, slice_of

pytestmark = pytest.mark.qt


@pytest.fixture
def database(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def reader(database):
    return database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")


def _window(qtbot, database, reader, index_file: Path):
    win = build_main_window(database, reader, SeriesLibrary(index_file))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win


def _to_baseline(qtbot, window) -> None:
    """Make the demo's baseline (the real series, not the simulated C3) the current timepoint."""
    session = window.session
    baseline = session.timepoints()[0]
    session.select_timepoint(baseline.id)
    qtbot.waitUntil(
        lambda: window.viewer.volume.series_instance_uid == baseline.series_instance_uid,
        timeout=60000,
    )


def _drawn(window) -> list:
    return [m for m in window.session.measurements() if m.geometry is not None]


def _assert_on_their_images(window, measurements) -> None:
    viewer = window.viewer
    volume = viewer.volume
    count = volume.voxels.shape[0]
    for m in measurements:
        index = list(volume.sop_instance_uids).index(m.geometry.sop_instance_uid)
        viewer.set_slice(index)
        assert m.id in viewer.overlay_items, f"measurement {m.id} not drawn on its image"
        assert viewer.annotation("bottom_left").startswith(f"Axial {index + 1}/{count}")
    images = {
        list(volume.sop_instance_uids).index(m.geometry.sop_instance_uid) for m in measurements
    }
    for m in measurements:  # the stored slice index of the 30-slice excerpt: 11 lower in 51
        if m.geometry.slice_index not in images:
            viewer.set_slice(m.geometry.slice_index)
            assert viewer.overlay_items == {}


def test_point1_demo_calipers_follow_their_images_into_the_whole_series(
    qtbot, database, reader, tmp_path, shared_data
) -> None:
    index_file = tmp_path / "series_locations.json"
    window = _window(qtbot, database, reader, index_file)
    open_demo(window.session, window.library)
    _to_baseline(qtbot, window)
    assert window.viewer.volume.voxels.shape[0] == 30
    measurements = _drawn(window)
    assert measurements

    window.open_folder(str(shared_data / "crlm-ct-1006"))
    qtbot.waitUntil(lambda: window.viewer.volume.voxels.shape[0] == 51, timeout=120000)
    whole = window.viewer.volume
    assert all(
        list(whole.sop_instance_uids).index(m.geometry.sop_instance_uid) != m.geometry.slice_index
        for m in measurements
    )
    _assert_on_their_images(window, measurements)
    assert window.viewer.unavailable_measurement_ids == []

    # a restart: the remembered folder holds the whole series; the calipers stay on their images
    window.close()
    again = _window(qtbot, database, reader, index_file)
    again.session.open_patient(DEMO_SUBJECT_ID)
    _to_baseline(qtbot, again)
    assert again.viewer.volume.voxels.shape[0] == 51
    _assert_on_their_images(again, _drawn(again))


def test_point1_a_missing_image_is_not_available_and_drawn_nowhere(
    qtbot, database, reader, tmp_path
) -> None:
    window = _window(qtbot, database, reader, tmp_path / "series_locations.json")
    open_demo(window.session, window.library)
    _to_baseline(qtbot, window)
    codes = {lesion.id: lesion.code for lesion in window.session.lesions()}
    measurements = _drawn(window)
    t1 = next(m for m in measurements if codes[m.lesion_id] == "T1")
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in DEMO_FOLDER.glob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if str(ds.SOPInstanceUID) != t1.geometry.sop_instance_uid:
            shutil.copy(path, partial / path.name)

    window.open_folder(str(partial))
    qtbot.waitUntil(lambda: window.viewer.volume.voxels.shape[0] == 29, timeout=60000)
    viewer = window.viewer
    missing = [
        m for m in measurements if m.geometry.sop_instance_uid == t1.geometry.sop_instance_uid
    ]
    for index in range(29):
        viewer.set_slice(index)
        assert not {m.id for m in missing} & set(viewer.overlay_items)
    assert sorted(viewer.unavailable_measurement_ids) == sorted(m.id for m in missing)
    notice = viewer.annotation("notice")
    assert "T1" in notice
    assert "image not available" in notice
    assert "T1" in window.statusBar().currentMessage()
    assert "image not available" in window.statusBar().currentMessage()
    others = [m for m in measurements if m not in missing]
    _assert_on_their_images(window, others)  # the others are still on their images


def test_point1_library_keeps_instance_sets_of_one_series_apart(tmp_path, shared_data) -> None:
    whole_folder = shared_data / "crlm-ct-1006"
    other = tmp_path / "other"  # 20 other instances of the demo's series
    other.mkdir()
    for path in sorted(whole_folder.glob("*.dcm"))[:20]:
        (other / path.name).symlink_to(path)
    index = tmp_path / "series_locations.json"
    library = SeriesLibrary(index)
    demo = library.open_folder(DEMO_FOLDER)
    excerpt = library.open_folder(other)
    uid = demo.series_instance_uid
    assert excerpt.series_instance_uid == uid
    assert instance_set_key(excerpt) != instance_set_key(demo)
    image = demo.sop_instance_uids[5]
    assert library.volume(uid) is excerpt  # the most recently opened
    assert library.volume(uid, [image]) is demo  # the one holding the measured image

    later = SeriesLibrary(index)  # a restart: both folders remembered, nothing cached
    found = later.volume(uid, [image])
    assert image in found.sop_instance_uids
    assert found.voxels.shape[0] == 30


@pytest.fixture(scope="module")
def demo_and_whole(shared_data):
    return read_volume(DEMO_FOLDER), read_volume(shared_data / "crlm-ct-1006")


def test_point1_prior_view_and_screenshots_find_the_image_by_sop_uid(
    qtbot, demo_and_whole, tmp_path
) -> None:
    demo, whole = demo_and_whole
    geometry = make_geometry(demo, 5, ((104.0, 251.5), (133.5, 261.5)))
    target = whole.sop_instance_uids.index(geometry.sop_instance_uid)
    assert slice_of(whole, geometry) == target != geometry.slice_index

    prior = PriorSliceWidget()
    qtbot.addWidget(prior)
    prior.show_prior(whole, geometry, "baseline · T1 38.5 mm")
    assert prior.slice_index == target
    assert prior.has_prior

    without = read_volume(DEMO_FOLDER)
    without.sop_instance_uids = [
        u if u != geometry.sop_instance_uid else "2.25.1" for u in demo.sop_instance_uids
    ]
    prior.show_prior(without, geometry, "baseline · T1 38.5 mm")
    assert not prior.has_prior
    assert "image not available" in prior.caption.text()

    overlay = MeasurementOverlay(1, "T1 38.5 mm", geometry)
    shots = {}
    for name, index, overlays in (
        ("on", target, [overlay]),
        ("bare", target, []),
        ("old_index", geometry.slice_index, [overlay]),
        ("old_bare", geometry.slice_index, []),
    ):
        path = tmp_path / f"{name}.png"
        render_volume_png(whole, index, "liver", str(path), overlays, size=(384, 384))
        shots[name] = path.read_bytes()
    assert shots["on"] != shots["bare"]  # drawn on the slice holding its image
    assert shots["old_index"] == shots["old_bare"]  # and not on the stored slice index


def test_point1_multi_frame_images_are_found_by_frame(shared_data) -> None:
    folder = shared_data / "enhanced-mr" / "Philips"
    volume = load_series(folder)
    assert len(set(volume.sop_instance_uids)) == 1
    assert volume.voxels.shape[0] > 1
    index = volume.voxels.shape[0] // 2
    geometry = make_geometry(volume, index, ((10.0, 10.0), (40.0, 30.0)))
    assert geometry.frame_number == volume.frame_numbers[index]
    assert slice_of(volume, geometry) == index
    reordered = DrawnGeometry(
        geometry.series_instance_uid,
        geometry.sop_instance_uid,
        0,
        geometry.long_axis,
        frame_number=geometry.frame_number,
    )
    assert slice_of(volume, reordered) == index  # the stored slice index plays no part
    no_frame = DrawnGeometry(
        geometry.series_instance_uid, geometry.sop_instance_uid, index, geometry.long_axis
    )
    assert slice_of(volume, no_frame) is None  # which frame is unknown: none is guessed

    # PDF key images use the same lookup: the right frame of the multi-frame file
    path = next(folder.glob("*.dcm"))
    seg = Segment((10.0, 10.0), (40.0, 30.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    images = []
    for frame in (2, 40):
        g = DrawnGeometry(
            geometry.series_instance_uid, geometry.sop_instance_uid, 0, seg, frame_number=frame
        )
        shot = render_slice(path, g, "T1")
        images.append(np.frombuffer(shot.constBits(), np.uint8, count=shot.sizeInBytes()).copy())
    assert not np.array_equal(images[0], images[1])
    with pytest.raises(KeyImageError, match="frame 99"):
        render_slice(
            path,
            DrawnGeometry(
                geometry.series_instance_uid, geometry.sop_instance_uid, 0, seg, frame_number=99
            ),
            "T1",
        )
