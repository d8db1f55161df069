"""The cohort controller on a real SQLite database holding public cases in two trials."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

import recist
from app.cohort.controller import BorRow, CohortController
from app.cohort.metrics import clopper_pearson
from recist.model import Patient, Role, Timepoint
from storage.db import Database, open_database
from tests.storage.exchange.factories import case

#: Public cases by trial (subject id = case prefix).
TRIALS = {
    "CRLM-01": ["R01", "R03", "R05", "R09", "R11", "R13", "R37", "R45"],
    "MEL-02": ["I02", "I10", "R47"],
}


def make_cohort_database(tmp_path: Path, trials: dict[str, list[str]] = TRIALS) -> Database:
    """A SQLite database with the named public cases imported, each under its trial."""
    db = open_database(f"sqlite:///{tmp_path / 'cohort.db'}")
    system = db.readers.ensure_system()
    investigator = db.readers.create(
        "jdoe", "Jane Doe", Role.INVESTIGATOR, "pass word 1234", by=system
    )
    store = db.store(investigator)
    for trial, prefixes in trials.items():
        for prefix in prefixes:
            data = {k: v for k, v in case(prefix).items() if k != "expected"}
            patient, tps, lesions, ms = recist.case_to_records(
                replace(recist.case_from_dict(data), id=prefix)
            )
            store.import_records(replace(patient, trial=trial), tps, lesions, ms)
    return db


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = make_cohort_database(tmp_path)
    yield db
    db.close()


def test_trials_are_the_distinct_trial_names(database: Database) -> None:
    assert CohortController(database).trials() == ["CRLM-01", "MEL-02"]


def test_summary_of_one_trial_has_orr_at_c3_and_c6_with_exact_cis(database: Database) -> None:
    summary = CohortController(database).summary("CRLM-01")
    assert {p.subject_id for p in summary.patients} == set(TRIALS["CRLM-01"])
    c3, c6 = summary.orr
    # C3: PR R01, PR R13; R11/R37 not yet confirmed -> SD; C6: R11 CR confirmed, R13 CR
    assert (c3.cutoff, c3.responders, c3.patients) == ("C3", 2, 8)
    assert (c6.cutoff, c6.responders, c6.patients) == ("C6", 3, 8)
    assert (c3.ci_low, c3.ci_high) == pytest.approx(clopper_pearson(2, 8))
    assert (c6.ci_low, c6.ci_high) == pytest.approx(clopper_pearson(3, 8))
    assert summary.bor_counts == {"CR": 2, "PR": 2, "SD": 2, "PD": 2}


def test_all_patients_when_no_trial_is_named(database: Database) -> None:
    summary = CohortController(database).summary()
    assert len(summary.patients) == sum(len(v) for v in TRIALS.values())
    assert summary.orr[0].patients == 11


def test_bor_table_has_confirmation_and_progression_date(database: Database) -> None:
    rows = {r.subject_id: r for r in CohortController(database).bor_table("CRLM-01")}
    assert rows["R11"] == BorRow(
        subject_id="R11",
        trial="CRLM-01",
        criteria="RECIST1.1",
        best_overall_response="CR",
        confirmed=True,
        confirmation_required=True,
        progression_date=None,
        progression_day=None,
        bor_at={3: "SD", 6: "CR"},
    )
    assert rows["R01"].confirmation_required is False
    for subject in ("R05", "R09", "R45"):
        expected = case(subject)["expected"]["progression_date"]
        assert rows[subject].progression_date == date.fromisoformat(expected)
    assert rows["R09"].progression_day == 63  # 2026-01-05 -> 2026-03-09


def test_iRECIST_rows_take_the_irecist_result(database: Database) -> None:  # noqa: N802
    rows = {r.subject_id: r for r in CohortController(database).bor_table("MEL-02")}
    assert rows["I02"].criteria == "iRECIST"
    assert rows["I02"].best_overall_response == "iCPD"
    assert rows["I10"].best_overall_response == "iPR"


def test_reload_sees_patients_added_since(database: Database) -> None:
    controller = CohortController(database)
    assert len(controller.summary("CRLM-01").patients) == 8
    store = database.store(database.readers.get("jdoe"))
    new = store.add_patient(Patient(None, "N01", trial="CRLM-01"))
    store.add_timepoint(Timepoint(None, new.id, 0, "baseline", date(2026, 1, 5)))
    store.add_patient(Patient(None, "N02", trial="CRLM-01"))  # no timepoint: left out
    assert len(controller.summary("CRLM-01").patients) == 8  # cached until reload
    controller.reload()
    assert {p.subject_id for p in controller.summary("CRLM-01").patients} >= {"N01"}
    assert "N02" not in {p.subject_id for p in controller.summary("CRLM-01").patients}


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_export_writes_tables_and_plots(database: Database, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "export" / "crlm"
    files = CohortController(database).export(out, fmt, "CRLM-01")
    names = sorted(f.name for f in files)
    assert names == sorted(
        ["orr.csv", "best_overall_response.csv", "patients.csv"]
        + [f"{n}.{fmt}" for n in ("waterfall", "spider", "swimmer")]
        # the endpoints (issue 15); these cases have no survival data, so no KM curve
        + ["endpoint_rates.csv", "km_summary.csv", "endpoints.csv"]
    )
    rows = list(csv.DictReader((out / "orr.csv").open()))
    assert [(r["cutoff"], r["responders"], r["patients"]) for r in rows] == [
        ("C3", "2", "8"),
        ("C6", "3", "8"),
    ]
    plot = (out / f"waterfall.{fmt}").read_bytes()
    assert plot.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in plot


def test_export_refuses_an_unknown_format(database: Database, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt must be one of png, svg"):
        CohortController(database).export(tmp_path, "pdf")
