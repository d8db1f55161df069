"""``caliper evaluate``: the real console script, run as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "tests" / "recist" / "data" / "cases-public.json"
CALIPER = Path(sys.executable).with_name("caliper")


def caliper(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = str(CALIPER) if CALIPER.exists() else shutil.which("caliper")
    assert exe, "the caliper console script is not installed in this environment"
    return subprocess.run(
        [exe, "evaluate", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def public_cases() -> list[dict[str, Any]]:
    return json.loads(PUBLIC.read_text(encoding="utf-8"))


@pytest.fixture
def r07(tmp_path: Path) -> Path:
    case = next(c for c in public_cases() if c["id"].startswith("R07"))
    path = tmp_path / "r07.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def test_one_case_prints_the_result(r07: Path) -> None:
    run = caliper(str(r07))
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["best_overall_response"] == "PR"
    assert out["progression_date"] == "2026-07-13"
    last = out["timepoints"][-1]
    assert {
        "label",
        "sum_mm",
        "pct_from_baseline",
        "pct_from_nadir",
        "nadir_mm",
        "target",
        "non_target",
        "new_lesions",
        "overall",
        "reason",
        "warnings",
    } <= set(last)
    assert (last["overall"], last["sum_mm"], last["pct_from_nadir"]) == ("PD", 72.0, 20.0)
    assert "PD: sum 72 mm ≥ 1.2 × nadir 60 mm and +12 mm ≥ 5 mm" in last["reason"]


def test_the_public_case_list_checks_against_expected() -> None:
    run = caliper("--check", "--compact", str(PUBLIC))
    assert run.returncode == 0, run.stderr
    entries = json.loads(run.stdout)
    assert len(entries) == 32
    assert all(e["check"] == "ok" for e in entries)


def test_overrides_change_the_answer(r07: Path) -> None:
    irecist = json.loads(caliper("--criteria", "irecist", str(r07)).stdout)
    assert irecist["criteria"] == "iRECIST"
    assert irecist["timepoints"][-1]["overall"] == "iUPD"
    confirmed = json.loads(caliper("--confirm", str(r07)).stdout)
    assert confirmed["best_overall_response"] == "PR"
    assert confirmed["confirmation_required"] is True


def test_bad_files_are_named_and_the_rest_still_evaluated(tmp_path: Path, r07: Path) -> None:
    bad = tmp_path / "bad.json"
    case = json.loads(r07.read_text())
    case["timepoints"][2]["targets"][0]["diameter_mm"] = "abc"
    bad.write_text(json.dumps(case), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "timepoints": [', encoding="utf-8")
    run = caliper(str(tmp_path))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "bad.json: timepoints[2].targets[0].diameter_mm" in run.stderr
    assert "broken.json: not valid JSON" in run.stderr
    entries = {Path(e["file"]).name: e for e in json.loads(run.stdout)}
    assert entries["r07.json"]["result"]["best_overall_response"] == "PR"
    assert entries["bad.json"]["field"] == "timepoints[2].targets[0].diameter_mm"


def test_missing_file_exit_2_without_traceback(tmp_path: Path) -> None:
    run = caliper(str(tmp_path / "nope.json"))
    assert run.returncode == 2
    assert "nope.json: no such file" in run.stderr
    assert "Traceback" not in run.stderr


def test_check_reports_a_mismatch(tmp_path: Path) -> None:
    case = public_cases()[0]
    case["expected"]["best_overall_response"] = "CR"
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    run = caliper("--check", str(path))
    assert run.returncode == 1
    assert "best_overall_response: expected 'CR', got 'PR'" in run.stderr
