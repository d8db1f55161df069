"""Real CT volumes for the viewer tests, read with pydicom (the viewer never imports storage).

Also the main-window fixtures ``database`` and ``window`` of ``test_workflow.py``: imported here,
every viewer test module can request them by name instead of importing them (an imported
fixture that a test then takes as an argument reads as a redefinition, F811).  A module that
defines a fixture of the same name keeps its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from tests.viewer.test_workflow import database, window  # noqa: F401 - shared fixtures


@dataclass
class SimpleVolume:
    """The ``storage.dicom.Volume`` attributes the viewer uses, filled from DICOM files."""

    voxels: np.ndarray
    spacing_mm: tuple[float, float, float]
    origin_lps_mm: tuple[float, float, float]
    direction: tuple[tuple[float, ...], ...]
    sop_instance_uids: list[str]
    series_instance_uid: str
    study_instance_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""
    modality: str = "CT"
    series_description: str = ""
    slice_thickness_mm: float | None = None
    window_center: float | None = None
    window_width: float | None = None
    warnings: list[str] = field(default_factory=list)
    slices_loaded: int = 0
    is_complete: bool = True

    def index_to_lps(self, slice: float, row: float, column: float) -> tuple[float, float, float]:  # noqa: A002
        d = np.asarray(self.direction)
        offset = d @ np.array(
            [column * self.spacing_mm[2], row * self.spacing_mm[1], slice * self.spacing_mm[0]]
        )
        return tuple(float(v) for v in np.asarray(self.origin_lps_mm) + offset)

    def lps_to_index(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        d = np.asarray(self.direction)
        c, r, s = np.linalg.solve(d, np.array([x, y, z]) - np.asarray(self.origin_lps_mm))
        return s / self.spacing_mm[0], r / self.spacing_mm[1], c / self.spacing_mm[2]

    def wait(self) -> None:
        return None


def read_volume(folder: Path, *, pixel_spacing: tuple[float, float] | None = None) -> SimpleVolume:
    """Read a single-series folder of axial slices, sorted along the slice normal."""
    datasets = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    datasets = [ds for ds in datasets if "PixelData" in ds and ds.get("SamplesPerPixel", 1) == 1]
    iop = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    row_cos, col_cos = iop[:3], iop[3:]
    normal = np.cross(row_cos, col_cos)
    datasets.sort(
        key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, dtype=float)))
    )
    positions = [np.array(ds.ImagePositionPatient, dtype=float) for ds in datasets]
    slice_vec = positions[1] - positions[0] if len(positions) > 1 else normal
    slice_mm = float(np.linalg.norm(slice_vec))
    ds0 = datasets[0]
    voxels = np.stack(
        [
            ds.pixel_array.astype(np.float32) * float(ds.get("RescaleSlope", 1))
            + float(ds.get("RescaleIntercept", 0))
            for ds in datasets
        ]
    ).astype(np.int16 if ds0.Modality == "CT" else np.float32)
    row_mm, col_mm = pixel_spacing or tuple(float(v) for v in ds0.PixelSpacing)
    direction = tuple(
        tuple(float(v) for v in row)
        for row in np.column_stack([row_cos, col_cos, slice_vec / slice_mm])
    )
    return SimpleVolume(
        voxels=voxels,
        spacing_mm=(slice_mm, row_mm, col_mm),
        origin_lps_mm=tuple(float(v) for v in positions[0]),
        direction=direction,
        sop_instance_uids=[str(ds.SOPInstanceUID) for ds in datasets],
        series_instance_uid=str(ds0.SeriesInstanceUID),
        study_instance_uid=str(ds0.StudyInstanceUID),
        patient_id=str(ds0.get("PatientID", "")),
        patient_name=str(ds0.get("PatientName", "")),
        study_date=str(ds0.get("StudyDate", "")),
        modality=str(ds0.Modality),
        series_description=str(ds0.get("SeriesDescription", "")),
        slice_thickness_mm=float(ds0.get("SliceThickness", 0) or 0) or None,
        slices_loaded=len(datasets),
    )


@pytest.fixture(scope="session")
def ct_chest(shared_data: Path) -> SimpleVolume:
    """The 30-slice chest CT (512x512, 0.646 mm pixels, 8 mm slices), sorted feet to head."""
    return read_volume(shared_data / "ct-chest-30")


@pytest.fixture(scope="session")
def ct_chest_anisotropic(ct_chest: SimpleVolume) -> SimpleVolume:
    """The same voxels with non-square pixels (rows 0.9 mm, columns 0.6 mm)."""
    v = ct_chest
    return SimpleVolume(
        voxels=v.voxels,
        spacing_mm=(v.spacing_mm[0], 0.9, 0.6),
        origin_lps_mm=v.origin_lps_mm,
        direction=v.direction,
        sop_instance_uids=v.sop_instance_uids,
        series_instance_uid=v.series_instance_uid,
        patient_name=v.patient_name,
        patient_id=v.patient_id,
        modality=v.modality,
    )


@pytest.fixture(scope="session")
def ct_wholebody(shared_data: Path) -> SimpleVolume:
    """The whole-body CT of a PET/CT (269 slices, 512x512, 500 mm field of view)."""
    return read_volume(shared_data / "ct-wholebody-269")


@pytest.fixture
def every_mouse_move_counts() -> Iterator[None]:
    """pyqtgraph drops moves closer than 1/mouseRateLimit s; simulated drags outpace hands."""
    import pyqtgraph as pg

    before = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=before)


@pytest.fixture
def viewer(qtbot, ct_chest: SimpleVolume) -> Any:
    """The image view on the chest CT, 640 x 640, fitted (tests address points near the edges)."""
    from viewer.image.view import SeriesViewerWidget

    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 640)
    widget.set_volume(ct_chest)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit_to_window()
    return widget
