"""The bundled demo study: a real CT with liver metastases, measured, and a SIMULATED follow-up.

The baseline is TCIA Colorectal-Liver-Metastases subject CRLM-CT-1006 (CC BY 4.0,
``resources/demo/SOURCE.md``), its 30 slices from the liver's lower tip to the dome,
byte-identical.  The follow-up in ``resources/demo/followup`` is a derived series
made by ``scripts/make_demo_followup.py`` (ImageType DERIVED, "SIMULATED" in its
description, its own UIDs): there is no second scan of this patient.  The calipers
below were placed on the metastases by reading the images (resources/demo/README.md
gives how), the follow-up ones on the simulated series.  Timepoint dates are the
series' scan dates (Acquisition, else Series, else Study Date).

Qt-free: ``app.main`` calls :func:`open_demo` with the window's session and library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from recist.model import LesionKind, MeasurementStatus

__all__ = [
    "DEMO_ATTRIBUTION_FILE",
    "DEMO_FOLDER",
    "DEMO_FOLLOWUP_FOLDER",
    "DEMO_LESIONS",
    "DEMO_SUBJECT_ID",
    "DemoLesion",
    "open_demo",
    "slice_at",
]

DEMO_SUBJECT_ID = "DEMO-001"
DEMO_ROOT = Path(__file__).resolve().parents[1] / "resources" / "demo"
DEMO_FOLDER = DEMO_ROOT / "baseline"
DEMO_FOLLOWUP_FOLDER = DEMO_ROOT / "followup"

#: The attribution CC BY 4.0 asks for (resources/demo/ATTRIBUTION.txt); the About box shows it.
DEMO_ATTRIBUTION_FILE = DEMO_ROOT / "ATTRIBUTION.txt"

_Point = tuple[float, float]
_Line = tuple[_Point, _Point]


@dataclass(frozen=True)
class DemoLesion:
    """One recorded lesion of the demo: where it is and its long axis at each timepoint."""

    code: str
    kind: LesionKind
    organ: str
    location: str
    z_mm: float  # ImagePositionPatient z of the image measured on (same in both series)
    baseline: _Line  # long axis end points (column, row) on the baseline image
    follow_up: _Line | None  # on the simulated follow-up image; None: not measured (present)


#: Measured on the images (see resources/demo/README.md); k = index from the most caudal
#: slice of the original 51-slice series, z = -376.44 + 5 k mm.
DEMO_LESIONS: tuple[DemoLesion, ...] = (
    DemoLesion(  # k=16, lobulated (two confluent lobes), 27.6 mm -> 12.7 mm
        "T1",
        LesionKind.TARGET,
        "liver",
        "segment VI",
        -296.44,
        ((104.0, 251.5), (136.5, 262.5)),
        ((110.0, 253.0), (125.0, 258.0)),
    ),
    DemoLesion(  # k=35, round, subcapsular, 11.1 mm -> 6.0 mm
        "T2",
        LesionKind.TARGET,
        "liver",
        "segment VII",
        -201.44,
        ((151.5, 281.0), (162.0, 272.0)),
        ((154.0, 278.5), (159.5, 273.5)),
    ),
    DemoLesion(  # k=38, a third liver metastasis, 10.0 mm (RECIST: at most 2 targets per organ)
        "NT1",
        LesionKind.NON_TARGET,
        "liver",
        "segment VII/VIII, dome",
        -186.44,
        ((147.0, 241.0), (144.0, 253.0)),
        None,
    ),
)


def slice_at(volume: Any, z_mm: float) -> int:
    """The index of *volume*'s slice nearest to patient z *z_mm*."""
    zs = [float(p[2]) for p in volume.slice_positions_lps_mm]
    return min(range(len(zs)), key=lambda i: abs(zs[i] - z_mm))


def open_demo(session: Any, library: Any, make_geometry: Callable[..., Any]) -> None:
    """Open the demo patient, creating it (baseline + simulated C3) if needed.

    *make_geometry* is :func:`viewer.image.overlays.make_geometry` (``app.main`` passes it:
    this module imports no viewer).
    """
    baseline = library.open_folder(str(DEMO_FOLDER))
    follow_up = library.open_folder(str(DEMO_FOLLOWUP_FOLDER))
    if DEMO_SUBJECT_ID not in {p.subject_id for p in session.patients()}:
        _seed_demo(session, baseline, follow_up, make_geometry)
    session.open_patient(DEMO_SUBJECT_ID)


def _series(volume: Any) -> dict[str, Any]:
    return {
        "study_instance_uid": volume.study_instance_uid,
        "series_instance_uid": volume.series_instance_uid,
        "modality": volume.modality,
        "slice_thickness_mm": volume.slice_thickness_mm,
        "dicom_patient_id": volume.patient_id,
    }


def _seed_demo(
    session: Any, baseline: Any, follow_up: Any, make_geometry: Callable[..., Any]
) -> None:
    base_date: date = baseline.scan_date or date(1994, 4, 17)
    session.add_patient(
        DEMO_SUBJECT_ID,
        "Caliper demo: real CT with liver metastases; follow-up SIMULATED",
        site="demo",
        first_dose_date=base_date + timedelta(days=3),
        confirmation_required=False,
    )
    session.open_patient(DEMO_SUBJECT_ID)
    timepoints = (
        ("baseline", baseline, None),
        ("C3", follow_up, 3),
    )
    for index, (label, volume, cycle) in enumerate(timepoints):
        scan_date = volume.scan_date or base_date + timedelta(days=63)
        session.add_timepoint(label, scan_date, cycle, **_series(volume))
        for demo in DEMO_LESIONS:
            lesion = next((x for x in session.lesions() if x.code == demo.code), None)
            points = demo.baseline if index == 0 else demo.follow_up
            if points is None:  # not measured at C3: present (the lesion exists since baseline)
                if lesion is not None:
                    session.set_status(lesion.id, MeasurementStatus.PRESENT)
                continue
            # the long axis only: RECIST measures non-nodal lesions by their longest diameter
            geometry = make_geometry(volume, slice_at(volume, demo.z_mm), points)
            session.record_measurement(
                geometry,
                lesion_id=lesion.id if lesion else None,
                kind=demo.kind,
                organ=demo.organ,
                location=demo.location,
                nodal=False,
            )
            # a non-target keeps its caliper (as one a reader draws): "present" alone would
            # drop the line, and N could not go to its image
    session.commands.clear()  # the demo's own set-up is not the reader's to undo
