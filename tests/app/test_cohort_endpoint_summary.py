"""CohortController.endpoint_summary and the cohort export of the endpoints (synthetic trial)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cohort.controller import CohortController
from app.cohort.endpoints import endpoint_summary, load_endpoint_rows
from app.timelines import load_all
from storage.db import Database, open_database

REPO = Path(__file__).resolve().parents[2]


def build_trial(folder: Path) -> str:
    """The seeded 40-patient trial of ``scripts/synthetic_trial.py`` in a SQLite file; its URL."""
    spec = importlib.util.spec_from_file_location(
        "synthetic_trial", REPO / "scripts" / "synthetic_trial.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic_trial"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    url = f"sqlite:///{folder / 'trial.sqlite3'}"
    db = open_database(url)
    try:
        module.build_synthetic_trial(db)
    finally:
        db.close()
    return url


@pytest.fixture(scope="module")
def trial_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_trial(tmp_path_factory.mktemp("trial"))


@pytest.fixture
def database(trial_url: str) -> Iterator[Database]:
    db = open_database(trial_url)
    yield db
    db.close()


def test_endpoint_summary_is_what_export_endpoints_computes(database: Database) -> None:
    controller = CohortController(database)
    ours = controller.endpoint_summary("CRLM-CONV")
    cli = endpoint_summary(load_endpoint_rows(database, load_all(database)))
    assert [(r.name, r.k, r.n, r.ci_low, r.ci_high) for r in ours.rates] == [
        (r.name, r.k, r.n, r.ci_low, r.ci_high) for r in cli.rates
    ]
    assert set(ours.km) == {"PFS", "OS"}
    for param in ("PFS", "OS"):
        assert ours.km[param] == cli.km[param]
    assert ours.rates[0].n == 40
    assert controller.endpoint_summary("CRLM-CONV") is ours  # cached until reload
    controller.reload()
    assert controller.endpoint_summary("CRLM-CONV") is not ours
    assert controller.endpoint_summary("no such trial").rates[0].n == 0


def test_cohort_export_writes_the_endpoint_tables_and_km_plots(
    database: Database, tmp_path: Path
) -> None:
    controller = CohortController(database)
    files = {p.name for p in controller.export(tmp_path, "svg", "CRLM-CONV")}
    assert {
        "orr.csv",
        "waterfall.svg",
        "endpoint_rates.csv",
        "km_summary.csv",
        "km_pfs.csv",
        "km_os.csv",
        "endpoints.csv",
        "km_pfs.svg",
        "km_os.svg",
        "km_pfs_os.svg",
    } <= files
    summary = controller.endpoint_summary("CRLM-CONV")
    with (tmp_path / "km_summary.csv").open(encoding="utf-8") as fh:
        rows = {r["param"]: r for r in csv.DictReader(fh)}
    pfs = summary.km["PFS"]
    assert int(rows["PFS"]["events"]) == pfs.events
    assert int(rows["PFS"]["at_risk_6m"]) == pfs.at_risk(6)
    assert "<svg" in (tmp_path / "km_pfs_os.svg").read_text(encoding="utf-8")[:500]
