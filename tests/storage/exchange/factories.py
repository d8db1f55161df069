"""Test data shared by the exchange, report, cohort and CLI tests: real cases in a real database."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pydicom

import recist
from recist.model import DrawnGeometry, Reader, Role, Segment
from storage.db import Database, open_database
from storage.exchange.sr_codes import pixel_to_lps
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA.parent  # ../shared beside the checkout ($CALIPER_SHARED_DATA/..)
CASES = json.loads((SHARED / "recist" / "cases-public.json").read_text())
CT_FOLDER = SHARED_DATA / "ct-chest-30"
PASSWORD = "correct horse battery"


def case(prefix: str) -> dict:
    """The public case whose id starts with ``prefix``."""
    return next(c for c in CASES if c["id"].startswith(prefix))


def ct_files(count: int = 6) -> list[Path]:
    """Real chest CT slices from the middle of the series."""
    return sorted(CT_FOLDER.glob("*.dcm"))[10 : 10 + count]


def make_database(
    tmp_path: Path, prefixes: list[str], trial: str = "CRLM-01"
) -> tuple[Database, Reader, str]:
    """A SQLite database holding the named public cases (subject id = case prefix).

    The long axis of T1 of the first case is drawn on a real CT slice at every
    timepoint (slice = timepoint order), so SR export and key images have images.

    Returns
    -------
    tuple
        ``(database, investigator, url)``.
    """
    url = f"sqlite:///{tmp_path / 'caliper.db'}"
    db = open_database(url)
    system = db.readers.ensure_system()
    investigator = db.readers.create("jdoe", "Jane Doe", Role.INVESTIGATOR, PASSWORD, by=system)
    store = db.store(investigator)
    for prefix in prefixes:
        data = {k: v for k, v in case(prefix).items() if k != "expected"}
        the_case = replace(recist.case_from_dict(data), id=prefix)
        patient, tps, lesions, ms = recist.case_to_records(the_case)
        store.import_records(replace(patient, trial=trial, site="Site 3"), tps, lesions, ms)
    _draw_t1(store, prefixes[0])
    return db, investigator, url


def _draw_t1(store: object, subject: str) -> None:
    files = ct_files()
    chart = store.chart(subject)  # type: ignore[attr-defined]
    t1 = next(les for les in chart.lesions if les.code == "T1")
    orders = {tp.id: tp.order for tp in chart.timepoints}
    for m in chart.measurements:
        if m.lesion_id != t1.id or m.long_axis_mm is None:
            continue
        ds = pydicom.dcmread(files[orders[m.timepoint_id]], stop_before_pixels=True)
        start = (250.0, 250.0)
        end = (250.0 + m.long_axis_mm / float(ds.PixelSpacing[1]), 250.0)
        segment = Segment(start, end, pixel_to_lps(ds, *start), pixel_to_lps(ds, *end))
        geometry = DrawnGeometry(
            str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), orders[m.timepoint_id], segment
        )
        store.update_measurement(replace(m, geometry=geometry))  # type: ignore[attr-defined]
