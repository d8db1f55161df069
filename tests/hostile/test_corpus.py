"""Issue 13: the hostile-input corpus through the real command line.

At least 60 hostile DICOM inputs and 40 hostile case files (``corpus.py``) are
given to ``caliper dicom load`` / ``dicom info`` and ``caliper evaluate`` /
``timeline import``, each in its own process (``driver.py`` forks one per command
line and reads its peak memory with ``wait4``).  Each must end with exit code 2
and one line on stderr that names the input (``dicom info`` lists the input
among the skipped files and exits 0), never a traceback, within 10 s and 1 GiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.corpus import case_corpus, dicom_corpus

DRIVER = Path(__file__).with_name("driver.py")
MAX_SECONDS = 10.0
MAX_RSS_MIB = 1024.0


def _run_all(jobs: list[list[str]], home: Path) -> list[dict[str, Any]]:
    spec = home.parent / f"{home.name}-jobs.json"
    spec.write_text(json.dumps(jobs), encoding="utf-8")
    env = dict(
        os.environ, CALIPER_HOME=str(home), OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen"
    )
    result = subprocess.run(
        [sys.executable, str(DRIVER), str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def _bad(run: dict[str, Any], expect_rc: int = 2, lines_per_case: bool = False) -> str | None:
    """Why *run* is not a clean refusal, or None (``lines_per_case``: a file holding a list
    of cases gets one error line per bad case, as ``caliper evaluate`` reports them)."""
    lines = run["stderr"].strip().splitlines()
    if "Traceback" in run["stderr"]:
        return "traceback: " + run["stderr"][-600:]
    if run["rc"] != expect_rc:
        return f"exit code {run['rc']} (stderr {run['stderr'][-300:]!r})"
    single = len(lines) == 1 or (lines_per_case and len(lines) > 1)
    if expect_rc == 2 and not (single and all(x.startswith("caliper: error: ") for x in lines)):
        return f"not one error line: {run['stderr'][-600:]!r}"
    if run["seconds"] > MAX_SECONDS:
        return f"took {run['seconds']} s"
    if run["max_rss_mib"] > MAX_RSS_MIB:
        return f"peak memory {run['max_rss_mib']} MiB"
    return None


@pytest.fixture(scope="module")
def dicom_inputs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-dicom")
    return dicom_corpus(folder, shared_data / "ct-chest-30" / "1-16.dcm")


@pytest.fixture(scope="module")
def case_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return case_corpus(tmp_path_factory.mktemp("hostile-cases"))


def test_the_corpus_is_as_large_as_promised(
    dicom_inputs: dict[str, Path], case_inputs: dict[str, Path]
) -> None:
    assert len(dicom_inputs) >= 60
    assert len(case_inputs) >= 40
    for item in (
        "deflate-header-4gib",
        "deflate-pixels-1.8gb",
        "nested-5000",
        "spacing-zero",
        "spacing-negative",
        "spacing-1e308",
        "slope-nan",
        "orientation-nan",
        "dicomdir-missing",
        "dicomdir-escaping",
        "dicomdir-garbage",
    ):
        assert item in dicom_inputs
    assert dicom_inputs["deflate-header-4gib"].stat().st_size < 5 * 1024**2


def test_dicom_load_refuses_every_hostile_input(
    dicom_inputs: dict[str, Path], tmp_path: Path
) -> None:
    names = sorted(dicom_inputs)
    runs = _run_all([["dicom", "load", str(dicom_inputs[n])] for n in names], tmp_path / "home")
    failures = {
        name: why for name, run in zip(names, runs, strict=True) if (why := _bad(run)) is not None
    }
    assert not failures, json.dumps(failures, indent=1)
    for name, run in zip(names, runs, strict=True):
        assert str(dicom_inputs[name]) in run["stderr"], (name, run["stderr"])


def test_dicom_info_lists_every_hostile_input_as_skipped(
    dicom_inputs: dict[str, Path], tmp_path: Path
) -> None:
    names = sorted(dicom_inputs)
    runs = _run_all(
        [["dicom", "info", str(dicom_inputs[n]), "--json"] for n in names], tmp_path / "home"
    )
    failures = {}
    for name, run in zip(names, runs, strict=True):
        why = _bad(run, expect_rc=0) if run["rc"] == 0 else _bad(run)
        if why is None and run["rc"] == 0:
            report = json.loads(run["stdout"])
            if report["series"] or not report["problems"]:
                why = f"{len(report['series'])} series, {len(report['problems'])} problems"
        if why is not None:
            failures[name] = why
    assert not failures, json.dumps(failures, indent=1)


def test_one_bad_file_is_skipped_and_the_rest_loads(
    dicom_inputs: dict[str, Path], shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in sorted((shared_data / "ct-chest-30").glob("1-0*.dcm")):
        (folder / path.name).write_bytes(path.read_bytes())
    hostile = (
        "nested-5000",
        "nested-big-endian-3000",
        "deflate-header-4gib",
        "spacing-zero",
        "orientation-nan",
        "slope-nan",
    )
    for name in hostile:
        (folder / f"zz-{name}.dcm").write_bytes(dicom_inputs[name].read_bytes())
    [run] = _run_all([["dicom", "load", str(folder), "--json"]], tmp_path / "home")
    assert _bad(run, expect_rc=0) is None, run
    assert json.loads(run["stdout"])["shape"][0] == 9
    [info] = _run_all([["dicom", "info", str(folder), "--json"]], tmp_path / "home2")
    report = json.loads(info["stdout"])
    assert sorted(Path(p["path"]).name for p in report["problems"]) == sorted(
        f"zz-{name}.dcm" for name in hostile
    )


def test_evaluate_refuses_every_hostile_case(case_inputs: dict[str, Path], tmp_path: Path) -> None:
    names = sorted(case_inputs)
    runs = _run_all([["evaluate", str(case_inputs[n])] for n in names], tmp_path / "home")
    failures = {
        name: why
        for name, run in zip(names, runs, strict=True)
        if (why := _bad(run, lines_per_case=True)) is not None
    }
    assert not failures, json.dumps(failures, indent=1)


def test_timeline_import_refuses_every_hostile_case(
    case_inputs: dict[str, Path], tmp_path: Path
) -> None:
    names = sorted(case_inputs)
    jobs = (
        [["db", "init"]]
        + [
            ["timeline", "import", str(case_inputs[n]), "--patient", f"H-{i}", "--as", "system"]
            for i, n in enumerate(names)
        ]
        + [["patient", "list"]]
    )
    runs = _run_all(jobs, tmp_path / "home")
    assert runs[0]["rc"] == 0, runs[0]
    failures = {
        name: why
        for name, run in zip(names, runs[1:-1], strict=True)
        if (why := _bad(run)) is not None
    }
    assert not failures, json.dumps(failures, indent=1)
    assert runs[-1]["rc"] == 0
    assert runs[-1]["stdout"] == ""  # nothing was stored
