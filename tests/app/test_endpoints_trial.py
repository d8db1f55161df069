"""The synthetic 40-patient trial: SDTM + ADaM export, KM against lifelines, rates (issue 15).

The trial is written by ``scripts/synthetic_trial.py`` (seeded) into a fresh
SQLite database once per module; the KM medians and CIs Caliper computes
(:mod:`app.cohort.km`, exact arithmetic) are compared with lifelines'
``KaplanMeierFitter`` run directly on the same numbers.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import random
import sys
from pathlib import Path

import pyreadstat
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from app.cli import main
from app.cohort.endpoints import endpoint_summary, load_endpoint_rows
from app.cohort.km import kaplan_meier
from app.timelines import load_all
from storage.db import open_database

REPO = Path(__file__).resolve().parents[2]


def _load_script() -> object:
    spec = importlib.util.spec_from_file_location(
        "synthetic_trial", REPO / "scripts" / "synthetic_trial.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic_trial"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trial_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("trial")
    url = f"sqlite:///{folder / 'trial.sqlite3'}"
    db = open_database(url)
    try:
        subjects = _load_script().build_synthetic_trial(db)  # type: ignore[attr-defined]
    finally:
        db.close()
    assert len(subjects) == 40
    return url


def _lifelines(times: list[float], events: list[bool]) -> tuple[float, float, float]:
    kmf = KaplanMeierFitter().fit(times, events)
    ci = median_survival_times(kmf.confidence_interval_)
    return kmf.median_survival_time_, float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def _same(ours: float | None, theirs: float) -> bool:
    return (ours is None and math.isinf(theirs)) or (
        ours is not None and math.isclose(ours, theirs, rel_tol=0, abs_tol=1e-9)
    )


@pytest.mark.parametrize("seed", range(6))
def test_km_median_and_ci_match_lifelines_on_random_data(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(8, 60)
    times = [float(rng.randint(1, 40)) for _ in range(n)]  # ties on purpose
    events = [rng.random() < 0.7 for _ in range(n)]
    curve = kaplan_meier(times, events)
    median, low, high = _lifelines(times, events)
    assert _same(curve.median, median)
    assert _same(curve.median_lower, low)
    assert _same(curve.median_upper, high)
    kmf = KaplanMeierFitter().fit(times, events)
    for step in curve.steps:
        assert math.isclose(float(step.survival), kmf.survival_function_.loc[step.time].iloc[0])
        lower, upper = kmf.confidence_interval_.loc[step.time]
        assert math.isclose(step.lower, lower, abs_tol=1e-12)
        assert math.isclose(step.upper, upper, abs_tol=1e-12)


def test_trial_km_matches_lifelines_and_rates_are_exact(trial_db: str) -> None:
    db = open_database(trial_db)
    try:
        rows = load_endpoint_rows(db, load_all(db))
    finally:
        db.close()
    summary = endpoint_summary(rows)
    assert len(summary.patients) == 40
    for param in ("PFS", "OS"):
        ttes = [getattr(r.endpoints, param.lower()) for r in rows]
        times = [t.days / 30.4375 for t in ttes]
        events = [t.event for t in ttes]
        curve = summary.km[param]
        median, low, high = _lifelines(times, events)
        assert _same(curve.median, median), param
        assert _same(curve.median_lower, low), param
        assert _same(curve.median_upper, high), param
        kmf = KaplanMeierFitter().fit(times, events)
        for months in (0, 3, 6, 12):
            assert curve.at_risk(months) == sum(1 for t in times if t >= months)
            assert math.isclose(float(curve.survival_at(months)), kmf.predict(months))
    # the trial has what the issue asks for: deaths, censorings, missed scans, new therapies
    pfs_codes = {r.endpoints.pfs.cnsr for r in rows}
    assert {0, 1, 3, 4} <= pfs_codes
    assert sum(r.endpoints.os.event for r in rows) >= 5
    conversion = next(r for r in summary.rates if r.name == "conversion")
    assert conversion.k == sum(1 for r in rows if r.endpoints.conversion.met is True)
    assert conversion.n == 40
    assert 0 < conversion.ci_low < conversion.rate < conversion.ci_high < 1


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_trial_exports_sdtm_and_adam_traceable(trial_db: str, tmp_path: Path) -> None:
    sdtm_out, adam_out = tmp_path / "sdtm", tmp_path / "adam"
    assert main(["--db", trial_db, "export", "sdtm", "--out", str(sdtm_out), "--xpt"]) == 0
    assert main(["--db", trial_db, "export", "adam", "--out", str(adam_out), "--xpt"]) == 0
    adsl = _read_csv(adam_out / "adsl.csv")
    adrs = _read_csv(adam_out / "adrs.csv")
    adtte = _read_csv(adam_out / "adtte.csv")
    assert len(adsl) == 40
    assert {r["PARAMCD"] for r in adrs} == {"OVR", "BOR", "CBOR", "LIVRESP", "LIVBOR"}
    assert {r["PARAMCD"] for r in adtte} >= {"PFS", "OS", "DOR"}
    # every ADRS OVR record traces to the RS overall response of the same subject and visit
    rs = {(r["USUBJID"], r["RSSEQ"]): r for r in _read_csv(adam_out / "sdtm_rs.csv")}
    for row in (r for r in adrs if r["PARAMCD"] == "OVR"):
        source = rs[(row["USUBJID"], row["SRCSEQ"])]
        assert source["RSTESTCD"] == "OVRLRESP"
        assert source["VISIT"] == row["AVISIT"]
        assert source["RSSTRESC"] == row["AVALC"]
    # the SDTM written by `export sdtm` is the one ADaM traces to
    assert (sdtm_out / "rs.csv").read_text() == (adam_out / "sdtm_rs.csv").read_text()
    # XPT: labels, SAS dates, same values as the CSV
    frame, meta = pyreadstat.read_xport(str(adam_out / "adtte.xpt"))
    assert meta.column_names_to_labels["CNSR"] == "Censor"
    assert meta.column_names_to_labels["EVNTDESC"] == "Event or Censoring Description"
    assert list(frame["CNSR"].astype(int)) == [int(r["CNSR"]) for r in adtte]
    assert str(frame["ADT"].iloc[0])[:10] == adtte[0]["ADT"]
    frame, meta = pyreadstat.read_xport(str(adam_out / "adsl.xpt"))
    assert len(frame) == 40
    assert meta.table_name == "ADSL"


def test_cli_records_and_show(
    trial_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = _load_script().PASSWORD  # type: ignore[attr-defined]  # module loaded from a file
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # the CLI authenticates rad
    assert (
        main(
            [
                "--db",
                trial_db,
                "conversion",
                "set",
                "--patient",
                "S001",
                "--flr",
                "abc",
                "--as",
                "rad",
                "--password-stdin",
            ]
        )
        == 2
    )
    assert "--flr must be a number" in capsys.readouterr().err
    assert main(["--db", trial_db, "endpoints", "show", "--patient", "S001"]) == 0
    out = capsys.readouterr().out
    assert "not a RECIST category" in out
    assert "PFS:" in out
