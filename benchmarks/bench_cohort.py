"""Benchmark of the cohort (issue 17): ``caliper export cohort`` and the Cohort window.

Rows, each measured in a fresh process, best of ``--runs`` interleaved runs (anchor in brackets):

* ``caliper export cohort`` (wall, process start to exit)   [bare SELECT of every row]  <= 5 s
  with its stages measured in-process: read (``app.timelines.load_all``), summary
  (``cohort_summary``), tables (CSV) and plots (PNG)
* the Cohort window: widget created to first rendered frame   [three pyqtgraph plots with
  one batched item of N points each, rendered]                                            < 2 s

The anchors are measured in the same run: "bare SELECT" reads every patient, timepoint, lesion
and measurement row with :mod:`sqlite3` (no ORM, no records) and is the floor of the read; the
bare plots are what pyqtgraph needs to show N bars/points at all.

Usage::

    .venv/bin/python benchmarks/bench_cohort.py [--runs 5] [--patients 1000]
        [--before DIR]   # another checkout (git archive <rev> | tar -x -C DIR): before/after

The database is built once with this tree's ``ClinicalStore.import_records`` (the synthetic
patients of ``bench_fast.py``) and kept in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def worker_build(args: list[str]) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_fast import _build  # the same synthetic patients as the issue-17 benchmark

    _build(Path(args[0]), int(args[1]))
    return {}


def worker_select(args: list[str]) -> dict[str, Any]:
    """The anchor of the read: every row of the four tables, fetched with sqlite3."""
    start = time.perf_counter()
    con = sqlite3.connect(args[0])
    rows = 0
    for table in ("patient", "timepoint", "lesion", "measurement"):
        rows += len(con.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608 - fixed names
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": rows}


def worker_export(args: list[str]) -> dict[str, Any]:
    """``export cohort`` split in its stages (the same functions the CLI calls)."""
    stages: dict[str, float] = {}
    start = time.perf_counter()
    from app.cohort.metrics import cohort_summary, write_cohort_tables
    from app.timelines import load_all
    from storage.db import open_database

    db = open_database(args[0])
    stages["import + open"] = time.perf_counter() - start
    t = time.perf_counter()
    timelines = load_all(db)
    stages["read (load_all)"] = time.perf_counter() - t
    t = time.perf_counter()
    summary = cohort_summary(timelines)
    stages["summary"] = time.perf_counter() - t
    out = Path(args[1])
    t = time.perf_counter()
    write_cohort_tables(summary, out)
    stages["tables (CSV)"] = time.perf_counter() - t
    t = time.perf_counter()
    from app.reports.plots import write_cohort_plots

    write_cohort_plots(summary, out, fmt="png")
    stages["plots (PNG)"] = time.perf_counter() - t
    db.close()
    return {"stages": stages, "patients": len(timelines)}


def worker_window(args: list[str]) -> dict[str, Any]:
    """The Cohort window of the database, offscreen: seconds from creation to rendered."""
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.cohort.controller import CohortController
    from storage.db import open_database
    from viewer.cohort.window import CohortWidget

    db = open_database(args[0])
    start = time.perf_counter()
    controller = CohortController(db)
    trials = controller.trials()
    trial = trials[0] if len(trials) == 1 else None  # what the widget selects first
    controller.summary(trial)
    controller.bor_table(trial)
    read = time.perf_counter() - start  # the widget below reuses what was read
    widget = CohortWidget(controller)
    widget.resize(1600, 1000)
    widget.show()
    app.processEvents()
    for index in range(3):  # every plot tab drawn once
        widget.tabs.setCurrentIndex(index)
        widget.grab()
    seconds = time.perf_counter() - start
    db.close()
    return {"seconds": seconds, "read": read}


def worker_window_anchor(args: list[str]) -> dict[str, Any]:
    """Three pyqtgraph plots, each one batched item of N bars/points, rendered."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QTabWidget

    app = QApplication([])
    n = int(args[0])
    start = time.perf_counter()
    tabs = QTabWidget()
    x = np.arange(n, dtype=float)
    y = np.linspace(-100, 40, n)
    for name in ("waterfall", "spider", "swimmer"):
        plot = pg.PlotWidget()
        if name == "waterfall":
            plot.addItem(pg.BarGraphItem(x=x, height=y, width=0.75, brushes=["r"] * n))
        elif name == "spider":
            plot.addItem(pg.PlotCurveItem(np.tile(x, 2), np.tile(y, 2), connect="pairs"))
        else:
            plot.addItem(pg.ScatterPlotItem(x, y, size=8))
        tabs.addTab(plot, name)
    tabs.resize(1600, 1000)
    tabs.show()
    app.processEvents()
    for index in range(3):
        tabs.setCurrentIndex(index)
        tabs.grab()
    return {"seconds": time.perf_counter() - start}


WORKERS = {
    "build": worker_build,
    "select": worker_select,
    "export": worker_export,
    "window": worker_window,
    "window_anchor": worker_window_anchor,
}


def _run(argv: list[str], tree: Path, home: Path) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CALIPER_DB")}
    env.update(PYTHONPATH=str(tree), CALIPER_HOME=str(home))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=home, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[-4:]} ({tree}) failed:\n{proc.stderr[-2000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return wall, (json.loads(lines[-1]) if lines else {})


def _worker(name: str, args: list[str], tree: Path, home: Path) -> tuple[float, dict[str, Any]]:
    return _run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", name, *args], tree, home
    )


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> int:  # noqa: C901, PLR0915 - one linear script
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](sys.argv[3:])), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--before", type=Path, help="another Caliper checkout to compare with")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "caliper-bench-cohort"
    )
    args = parser.parse_args()
    trees = {"after": REPO} if args.before is None else {"before": args.before, "after": REPO}
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    db = args.cache / f"cohort-{args.patients}.sqlite3"
    try:
        if not db.exists():
            print(f"building {db} ({args.patients} patients) ...", flush=True)
            start = time.perf_counter()
            _worker("build", [str(db), str(args.patients)], REPO, work)
            print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
        best: dict[str, float] = {}
        stages: dict[str, dict[str, float]] = {}

        def keep(key: str, seconds: float) -> None:
            best[key] = min(best.get(key, float("inf")), seconds)

        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs}", flush=True)
            keep("anchor select", _worker("select", [str(db)], REPO, work)[1]["seconds"])
            keep(
                "anchor window",
                _worker("window_anchor", [str(args.patients)], REPO, work)[1]["seconds"],
            )
            for who, tree in trees.items():
                copy = work / f"{who}.sqlite3"  # a copy: the CLI records a witness entry
                shutil.copy(db, copy)
                out = work / f"out-{who}"
                code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
                argv = [sys.executable, "-c", code, "--db", str(copy), "export", "cohort"]
                keep(f"export {who}", _run([*argv, "--out", str(out)], tree, work)[0])
                _, result = _worker("export", [str(copy), str(out)], tree, work)
                for stage, seconds in result["stages"].items():
                    mine = stages.setdefault(who, {})
                    mine[stage] = min(mine.get(stage, float("inf")), seconds)
                _, result = _worker("window", [str(copy)], tree, work)
                keep(f"window {who}", result["seconds"])
                keep(f"window read {who}", result["read"])
                copy.unlink()
        print()
        print(
            f"{args.patients} patients, best of {args.runs} interleaved runs, "
            f"{os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}"
        )
        print(f"{'what':<44} {'seconds':>10} {'x anchor':>9}  target")
        sel, win = best["anchor select"], best["anchor window"]
        print(f"{'anchor: bare SELECT of every row (sqlite3)':<44} {_fmt(sel):>10} {1:>9.2f}")
        print(f"{'anchor: 3 bare plots of N items, rendered':<44} {_fmt(win):>10} {1:>9.2f}")
        for who in trees:
            e = best[f"export {who}"]
            print(
                f"{'caliper export cohort (' + who + ')':<44} {_fmt(e):>10} "
                f"{e / sel:>9.1f}  <= 5 s {'PASS' if e <= 5 else 'FAIL'}"
            )
            for stage, seconds in stages.get(who, {}).items():
                anchor = f"{seconds / sel:>9.1f}" if stage.startswith("read") else " " * 9
                print(f"{'  ' + stage:<44} {_fmt(seconds):>10} {anchor}")
        for who in trees:
            w = best[f"window {who}"]
            print(
                f"{'Cohort window rendered (' + who + ')':<44} {_fmt(w):>10} "
                f"{w / win:>9.1f}  < 2 s {'PASS' if w < 2 else 'FAIL'}"
            )
            r = best[f"window read {who}"]
            print(f"{'  of which reading + summary':<44} {_fmt(r):>10} {r / sel:>9.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
