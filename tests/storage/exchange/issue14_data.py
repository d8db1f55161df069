"""A rich timeline on the real chest CT for the issue 14 exchange tests.

Three timepoints (baseline, C3, C6) of subject CRLM-014 whose acquisition facts
are those of the CT (series, study, modality, slice thickness, DICOM patient);
calipers drawn on real slices with their true slice index; a liver target with
both axes and a location, a nodal target (short axis is the diameter), an
unlisted organ, a target too small to measure then merged, a non-target that
disappears and then progresses unequivocally, and an equivocal new lesion.
C6 is PD because of the non-target and the new lesion.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

import recist
from recist.model import Role
from storage.db import Database, open_database
from storage.exchange.sr_codes import pixel_to_lps
from tests.storage.exchange.factories import CT_FOLDER, PASSWORD

SUBJECT = "CRLM-014"
TRIAL = "CRLM-01"
SITE = "Site 3"


def ct_series() -> list[Dataset]:
    """The chest CT headers in the loader's order (along the slice normal, lowest first)."""
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in CT_FOLDER.glob("*.dcm")]
    return sorted(headers, key=lambda ds: float(ds.ImagePositionPatient[2]))


def _axis(ds: Dataset, start: tuple[float, float], end: tuple[float, float]) -> dict[str, Any]:
    return {
        "start_px": list(start),
        "end_px": list(end),
        "start_lps_mm": list(pixel_to_lps(ds, *start)),
        "end_lps_mm": list(pixel_to_lps(ds, *end)),
    }


def _image(series: list[Dataset], index: int, long: tuple, short: tuple | None = None) -> dict:
    ds = series[index]
    image: dict[str, Any] = {
        "series_instance_uid": str(ds.SeriesInstanceUID),
        "sop_instance_uid": str(ds.SOPInstanceUID),
        "slice_index": index,
        "long_axis": _axis(ds, *long),
    }
    if short:
        image["short_axis"] = _axis(ds, *short)
    return image


def _length(image: dict, axis: str) -> float:
    import math

    a = image[axis]
    return round(math.dist(a["start_lps_mm"], a["end_lps_mm"]), 3)


def case_dict() -> dict[str, Any]:
    """The case (rules.md §10 format with Caliper's image extension)."""
    series = ct_series()
    t1 = [
        _image(series, 12, ((200.0, 210.0), (260.0, 240.0)), ((225.0, 240.0), (240.0, 208.0))),
        _image(series, 13, ((205.0, 212.0), (250.0, 232.0))),
        _image(series, 14, ((206.0, 214.0), (248.0, 232.0))),
    ]
    t2 = _image(series, 15, ((300.0, 300.0), (340.0, 330.0)), ((312.0, 330.0), (328.0, 304.0)))
    thickness = float(series[0].SliceThickness)
    tp_common = {"modality": "CT", "slice_thickness_mm": thickness}
    return {
        "id": SUBJECT,
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "timepoints": [
            {
                "label": "baseline",
                "date": "2024-01-08",
                **tp_common,
                "targets": [
                    {
                        "id": "T1",
                        "organ": "liver",
                        "location": "segment VII",
                        "diameter_mm": _length(t1[0], "long_axis"),
                        "short_axis_mm": _length(t1[0], "short_axis"),
                        "image": t1[0],
                    },
                    {
                        "id": "T2",
                        "organ": "lymph node",
                        "nodal": True,
                        "location": "portocaval",
                        "diameter_mm": _length(t2, "short_axis"),
                        "long_axis_mm": _length(t2, "long_axis"),
                        "image": t2,
                    },
                    {"id": "T3", "organ": "gallbladder fossa", "diameter_mm": 12.0},
                    {"id": "T4", "organ": "liver", "location": "segment II", "diameter_mm": 15.0},
                ],
                "non_targets": [{"id": "NT1", "organ": "peritoneum", "status": "present"}],
                "new_lesions": [],
            },
            {
                "label": "C3",
                "date": "2024-03-11",
                "cycle": 3,
                **tp_common,
                "targets": [
                    {
                        "id": "T1",
                        "organ": "liver",
                        "location": "segment VII",
                        "diameter_mm": _length(t1[1], "long_axis"),
                        "image": t1[1],
                    },
                    {
                        "id": "T2",
                        "organ": "lymph node",
                        "nodal": True,
                        "location": "portocaval",
                        "diameter_mm": 9.0,
                    },
                    {"id": "T3", "organ": "gallbladder fossa", "diameter_mm": "TSTM"},
                    {"id": "T4", "organ": "liver", "location": "segment II", "diameter_mm": 10.0},
                ],
                "non_targets": [{"id": "NT1", "organ": "peritoneum", "status": "absent"}],
                "new_lesions": [],
            },
            {
                "label": "C6",
                "date": "2024-05-13",
                "cycle": 6,
                **tp_common,
                "targets": [
                    {
                        "id": "T1",
                        "organ": "liver",
                        "location": "segment VII",
                        "diameter_mm": _length(t1[2], "long_axis"),
                        "image": t1[2],
                    },
                    {
                        "id": "T2",
                        "organ": "lymph node",
                        "nodal": True,
                        "location": "portocaval",
                        "diameter_mm": None,
                    },
                    {
                        "id": "T3",
                        "organ": "gallbladder fossa",
                        "diameter_mm": 0,
                        "coalesced_into": "T1",
                    },
                    {"id": "T4", "organ": "liver", "location": "segment II", "diameter_mm": 8.0},
                ],
                "non_targets": [
                    {"id": "NT1", "organ": "peritoneum", "status": "unequivocal_progression"}
                ],
                "new_lesions": [
                    {
                        "id": "N1",
                        "organ": "lung",
                        "location": "right lower lobe",
                        "status": "present",
                        "diameter_mm": 7.5,
                        "equivocal": True,
                    },
                    {"id": "N2", "organ": "bone", "status": "present"},
                ],
            },
        ],
    }


def make_rich_database(folder: Path, signer: bool = True) -> tuple[Database, str]:
    """A SQLite database in ``folder`` holding :func:`case_dict`, readers jdoe and system."""
    url = f"sqlite:///{folder / 'site1.db'}"
    db = open_database(url)
    system = db.readers.ensure_system()
    if signer:
        db.readers.create("jdoe", "Jane Doe", Role.INVESTIGATOR, PASSWORD, by=system)
    store = db.store(db.readers.get("jdoe") if signer else system)
    series = ct_series()
    facts = {
        "study_instance_uid": str(series[0].StudyInstanceUID),
        "series_instance_uid": str(series[0].SeriesInstanceUID),
        "dicom_patient_id": str(series[0].PatientID),
    }
    patient, tps, lesions, ms = recist.case_to_records(recist.case_from_dict(case_dict()))
    tps = [replace(tp, **facts) for tp in tps]
    store.import_records(replace(patient, trial=TRIAL, site=SITE), tps, lesions, ms)
    return db, url


def without_images(case: dict[str, Any]) -> dict[str, Any]:
    """A copy of a case dict without the drawn-image extension (for comparisons)."""
    out = copy.deepcopy(case)
    for tp in out["timepoints"]:
        for key in ("targets", "non_targets", "new_lesions"):
            for entry in tp.get(key, []):
                entry.pop("image", None)
    return out
