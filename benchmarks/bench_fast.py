"""Benchmark of issue 17 ("fast everywhere"): every row of its table as a ratio to an anchor.

Each row is measured in fresh processes (start-up costs are what the reader feels), best
of ``--runs`` interleaved runs: anchor, this tree, and with ``--before DIR`` the same row on
another checkout of Caliper (``git archive <rev> | tar -x -C DIR``), so "before" and "after"
come from one run on the same noisy machine.

Rows (anchor in brackets):

* ``caliper --version``                    [``python -c pass``]            target <= 0.3 s
* ``caliper evaluate`` of one case          [``python -c 'import pydicom'``] target <= 0.5 s
* main window shown after launch            [bare Qt window + pyqtgraph]    target <= 1.3x
  (launch to the "window shown" line in the log, offscreen unless QT_QPA_PLATFORM is set;
  also the ratio to the anchor of the same round: median and range, i.e. the noise)
* ``caliper audit verify``, 100k events     [-]                             target <= 2 s, flat
  (``--full`` and the incremental verify after a checkpoint and 1,000 new events)
* ``caliper export cohort``, 1,000 patients [-]                             target <= 5 s
* the cohort window of 1,000 patients       [-]                             target < 2 s
* ``timeline import``, per patient          [-]                             target <= 50 ms
  (``import``: ``import_records`` in one process; ``import_cli``: ``caliper timeline import
  --all`` of a 50-patient file, wall time / 50; before ``--all`` existed, one process per
  patient, 5 of them)
* parse one case file                       [evaluate it]                   target <= 1x

The compressed-series rows (JPEG-LS, JPEG 2000, cold load) are ``benchmarks/bench_load.py
--compressed``'s; ``--load`` runs it after these rows.

Usage::

    .venv/bin/python benchmarks/bench_fast.py [--runs 5] [--before /tmp/caliper-before]
        [--only version,evaluate,window,verify,cohort,window_cohort,import,import_cli,parse]
        [--load] [--no-compile]

Each tree's packages are compiled to bytecode (``compileall``) before the runs, as an
installed Caliper has them (pip writes ``.pyc`` files at install, PyInstaller bundles them)
and as the anchor's own libraries in site-packages have them; otherwise, under
``PYTHONDONTWRITEBYTECODE=1``, every launch would compile Caliper's ~100 modules from source
(~0.1 s) and the anchor none.  ``--no-compile`` measures without.

The databases (100k audit events; 1,000 patients) are built once with this tree's
``ClinicalStore.import_records`` and kept in ``--cache`` (default: a folder in /tmp).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CASES = REPO.parent / "shared" / "recist" / "cases-public.json"
ROWS = (
    "version",
    "evaluate",
    "window",
    "verify",
    "cohort",
    "window_cohort",
    "import",
    "import_cli",
    "parse",
)
#: Patients in the case list file of the "import_cli" row (one ``caliper`` process).
CLI_IMPORT_PATIENTS = 50

# -- synthetic data -------------------------------------------------------------------------


def synthetic_case(n: int, n_timepoints: int = 10, n_lesions: int = 5) -> dict[str, Any]:
    """A deterministic case: ``n_lesions`` liver/lung targets over ``n_timepoints`` (66 events)."""
    timepoints = []
    for t in range(n_timepoints):
        shrink = [0, 8, 14, 18, 16, 20, 24, 30, 36, 40][t % 10] * (1 + n % 3) / 2
        timepoints.append(
            {
                "label": "baseline" if t == 0 else f"C{3 * t}",
                "date": f"{2026 + (t * 63 + 5) // 365}-"
                f"{((t * 63 + 5) % 365) // 31 + 1:02d}-{((t * 63 + 5) % 365) % 28 + 1:02d}",
                "slice_thickness_mm": 5,
                "targets": [
                    {
                        "id": f"T{i + 1}",
                        "organ": "liver" if i < 2 else "lung",
                        "nodal": False,
                        "diameter_mm": max(5.0, 30.0 + 3 * i - shrink),
                    }
                    for i in range(n_lesions)
                ],
                "non_targets": [],
                "new_lesions": [],
            }
        )
    return {
        "id": f"S-{n:05d}",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "min_sd_days": 42,
        "timepoints": timepoints,
    }


def _import_patients(store: Any, first: int, count: int, trial: str = "CRLM-01") -> list[float]:
    import dataclasses

    import recist

    seconds = []
    for n in range(first, first + count):
        start = time.perf_counter()
        case = recist.case_from_dict(synthetic_case(n))
        patient, tps, lesions, ms = recist.case_to_records(case)
        store.import_records(dataclasses.replace(patient, trial=trial), tps, lesions, ms)
        seconds.append(time.perf_counter() - start)
    return seconds


def _build(path: Path, patients: int) -> None:
    """A SQLite database with ``patients`` synthetic patients, imported as ``system``."""
    from storage.db import open_database

    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    db = open_database(str(tmp))
    try:
        _import_patients(db.store(db.readers.ensure_system()), 0, patients)
    finally:
        db.close()
    tmp.replace(path)


# -- workers (run in a child process, with PYTHONPATH set to the tree under test) -------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_build(args: list[str]) -> dict[str, Any]:
    _build(Path(args[0]), int(args[1]))
    return {}


def worker_import(args: list[str]) -> dict[str, Any]:
    """Per-patient import time into a copy of the 1,000-patient database."""
    from storage.db import open_database

    db = open_database(args[0])
    try:
        seconds = _import_patients(db.store(db.readers.ensure_system()), 100_000, int(args[1]))
    finally:
        db.close()
    seconds.sort()
    return {"seconds": seconds[len(seconds) // 2]}


def worker_append(args: list[str]) -> dict[str, Any]:
    """Append ``args[1]`` events' worth of patients (66 events each) to a database."""
    from storage.db import open_database

    db = open_database(args[0])
    try:
        _import_patients(db.store(db.readers.ensure_system()), 200_000, max(1, int(args[1]) // 66))
    finally:
        db.close()
    return {}


def worker_parse(args: list[str]) -> dict[str, Any]:
    """Per public case: parsing its text (``json.loads`` + ``case_from_dict``) against ``evaluate``.

    The two are timed in alternate rounds (CPU time of this process, so that other processes
    on a shared machine count less), best round of each.  Also reported, not part of the
    ratio: the two halves of the parse, and the whole path of ``caliper evaluate FILE``
    (read the file, ``loads_json`` with its nesting check, ``case_from_dict``).
    """
    import recist
    from recist.limits import loads_json

    texts = [json.dumps(c) for c in json.loads(CASES.read_text(encoding="utf-8"))]
    data = [json.loads(t) for t in texts]
    cases = [recist.case_from_dict(d) for d in data]
    folder = Path(tempfile.mkdtemp(prefix="bench17-parse-"))
    files = []
    for i, text in enumerate(texts):
        files.append(folder / f"case{i}.json")
        files[-1].write_text(text, encoding="utf-8")

    def per_item(func: Any, items: list[Any], repeat: int = 10) -> float:
        start = time.process_time()
        for _ in range(repeat):
            for item in items:
                func(item)
        return (time.process_time() - start) / (repeat * len(items))

    measured: dict[str, Any] = {
        "seconds": lambda: per_item(lambda t: recist.case_from_dict(json.loads(t)), texts),
        "anchor": lambda: per_item(recist.evaluate, cases),
        "loads": lambda: per_item(json.loads, texts),
        "build": lambda: per_item(recist.case_from_dict, data),
        "file": lambda: per_item(
            lambda f: recist.case_from_dict(loads_json(f.read_bytes())), files
        ),
    }
    best = dict.fromkeys(measured, float("inf"))
    for _ in range(15):
        for name, measure in measured.items():
            best[name] = min(best[name], measure())
    shutil.rmtree(folder, ignore_errors=True)
    return best


def worker_window(args: list[str]) -> dict[str, Any]:
    """The anchor of the "window" row: a bare Qt main window with pyqtgraph imported.

    Writes "window shown" to ``$CALIPER_HOME/logs/caliper.log`` as Caliper does, so the parent
    times both the same way, then stays up until it is terminated.
    """
    import pyqtgraph  # noqa: F401
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication([])
    window = QtWidgets.QMainWindow()
    window.resize(1200, 800)
    window.show()
    app.processEvents()
    log = Path(os.environ["CALIPER_HOME"]) / "logs" / "caliper.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write("INFO anchor: window shown\n")
    app.exec()
    return {}


def worker_window_cohort(args: list[str]) -> dict[str, Any]:
    """Open the cohort window of the 1,000-patient database offscreen: seconds to rendered."""
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.cohort.controller import CohortController
    from storage.db import open_database
    from viewer.cohort.window import CohortWidget

    db = open_database(args[0])
    start = time.perf_counter()
    widget = CohortWidget(CohortController(db))
    widget.resize(1200, 800)
    widget.show()
    app.processEvents()
    widget.grab()
    seconds = time.perf_counter() - start
    db.close()
    return {"seconds": seconds}


def worker_cli(args: list[str]) -> dict[str, Any]:
    """Run ``caliper ARGS`` in this process; report its peak memory."""
    from app.cli import main

    code = main(args)
    return {"code": code, "rss_mib": _rss_mib()}


WORKERS = {
    "build": worker_build,
    "import": worker_import,
    "append": worker_append,
    "parse": worker_parse,
    "window": worker_window,
    "window_cohort": worker_window_cohort,
    "cli": worker_cli,
    "migrate": lambda args: worker_migrate(args),
}

# -- the parent: interleaved runs ----------------------------------------------------------------


class Runner:
    def __init__(self, python: str, work: Path) -> None:
        self.python = python
        self.work = work

    def env(self, tree: Path | None, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CALIPER_DB")}
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        env["CALIPER_HOME"] = str(home)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return env

    def timed(
        self, argv: list[str], tree: Path | None, home: Path, timeout: float = 1800
    ) -> tuple[float, str]:
        """Wall seconds of a child process (cwd outside the repo, so PYTHONPATH decides)."""
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                argv,
                cwd=self.work,
                env=self.env(tree, home),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:  # e.g. a modal error box on a broken tree
            raise RuntimeError(f"{argv[-3:]} ({tree}) did not finish in {timeout:.0f} s") from exc
        seconds = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{argv} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return seconds, proc.stdout

    def worker(
        self, name: str, args: list[str], tree: Path, home: Path, timeout: float = 1800
    ) -> dict[str, Any]:
        seconds, out = self.timed(
            [self.python, str(Path(__file__).resolve()), "--worker", name, *args],
            tree,
            home,
            timeout,
        )
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        result.setdefault("wall", seconds)
        return result

    def window(
        self, anchor: bool, tree: Path, home: Path, timeout: float = 120
    ) -> tuple[float, str]:
        """Launch ``caliper`` (or the anchor) and time it to its "window shown" log line.

        The parent's clock runs from the launch to the moment the line is in the log
        (polled every 5 ms), the same for the anchor and for any tree; Caliper's own
        figure (seconds since process start, from the line) is returned as text.
        Before issue 17 the line read "main window shown"; it is recognised too.
        """
        log = home / "logs" / "caliper.log"
        seen = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
        if anchor:
            argv = [self.python, str(Path(__file__).resolve()), "--worker", "window"]
        else:
            argv = [self.python, "-c", "import sys; from app.cli import main; sys.exit(main([]))"]
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            argv,
            cwd=self.work,
            env=self.env(tree, home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            while True:
                lines = log.read_text(encoding="utf-8").splitlines()[seen:] if log.exists() else []
                line = next((ln for ln in lines if _main_window_line(ln)), None)
                if line is not None:
                    seconds = time.perf_counter() - start
                    words = line.split("window shown", 1)[1].split()
                    return seconds, (f"{words[0]} s" if "process start" in line else "")
                if proc.poll() is not None:
                    raise RuntimeError(f"exited {proc.returncode}: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]  # stderr is a pipe
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"no 'window shown' in {log} after {timeout:.0f} s")
                time.sleep(0.005)
        finally:
            proc.terminate()  # SIGTERM: the window closes as File > Quit does
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cli(self, argv: list[str], tree: Path | None, home: Path) -> float:
        code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
        return self.timed([self.python, "-c", code, *argv], tree, home)[0]


def _compile(tree: Path) -> None:
    """Write the bytecode of *tree*'s packages (``__pycache__``, ignored by git)."""
    packages = sorted(str(d) for d in tree.iterdir() if (d / "__init__.py").is_file())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *packages], env=env, check=True
    )
    print(f"compiled the bytecode of {tree} ({', '.join(Path(p).name for p in packages)})")


def _main_window_line(line: str) -> bool:
    """The log line of the main window (not of the splash), old wording or new."""
    return "window shown" in line and "splash window shown" not in line


def _home(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](sys.argv[3:])), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another Caliper checkout to compare with")
    parser.add_argument("--only", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "caliper-bench17"
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--load", action="store_true", help="then run bench_load.py --compressed")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not compile the trees' bytecode first (launches may compile from source)",
    )
    args = parser.parse_args()
    rows = [r for r in args.only.split(",") if r]
    unknown = set(rows) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    trees: dict[str, Path] = {"after": REPO}
    if args.before:
        trees = {"before": args.before.resolve(), "after": REPO}
    args.cache.mkdir(parents=True, exist_ok=True)
    if not args.no_compile:
        for tree in trees.values():
            _compile(tree)
    work = Path(tempfile.mkdtemp(prefix="bench17-"))
    runner = Runner(sys.executable, work)
    try:
        return _run(args, rows, trees, runner, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def worker_migrate(args: list[str]) -> dict[str, Any]:
    from storage.db import open_database

    open_database(args[0]).close()
    return {}


def _databases(
    args: argparse.Namespace, rows: list[str], runner: Runner, work: Path, trees: dict[str, Path]
) -> dict[str, dict[str, Path]]:
    """Build (once, cached) the databases the rows need: with the oldest tree, then a copy
    migrated by each newer one (an old Caliper refuses a newer schema)."""
    wanted = {}
    if "verify" in rows:
        wanted["verify"] = -(-args.events // 66)
    if {"cohort", "window_cohort", "import", "import_cli"} & set(rows):
        wanted["cohort"] = args.patients
    paths: dict[str, dict[str, Path]] = {}
    oldest = next(iter(trees.values()))
    for name, patients in wanted.items():
        path = args.cache / f"{name}-{patients}-{oldest.name}.sqlite3"
        if not path.exists():
            print(f"building {path} ({patients} patients) ...", flush=True)
            start = time.perf_counter()
            runner.worker("build", [str(path), str(patients)], oldest, _home(work, "build"))
            print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
        for who, tree in trees.items():
            copy = path.with_name(f"{path.stem}-{who}.sqlite3")
            if tree == oldest:
                copy = path
            elif not copy.exists() or copy.stat().st_mtime < path.stat().st_mtime:
                shutil.copy(path, copy)
                runner.worker("migrate", [str(copy)], tree, _home(work, "build"))
            paths.setdefault(name, {})[who] = copy
    return paths


def _run(
    args: argparse.Namespace, rows: list[str], trees: dict[str, Path], runner: Runner, work: Path
) -> int:
    dbs = _databases(args, rows, runner, work, trees)
    case_file = work / "case.json"
    case_file.write_text(json.dumps(json.loads(CASES.read_text(encoding="utf-8"))[0]))
    best: dict[tuple[str, str], float] = {}
    notes: dict[tuple[str, str], str] = {}

    def keep(row: str, who: str, seconds: float, note: str = "") -> None:
        if seconds < best.get((row, who), float("inf")):
            best[(row, who)] = seconds
            if note:
                notes[(row, who)] = note

    for run in range(args.runs):
        print(f"run {run + 1}/{args.runs}", flush=True)
        for row in rows:
            try:
                _measure(row, run, args, trees, runner, work, dbs, case_file, keep)
            except RuntimeError as exc:  # one failed measurement must not lose the others
                print(f"  {row}: {str(exc)[:600]}", flush=True)
    _report(rows, trees, best, notes)
    if args.load:
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "bench_load.py"), "--compressed"],
            check=False,
        )
    return 0


def _measure(row, run, args, trees, runner, work, dbs, case_file, keep) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001, C901, PLR0913
    home = _home(work, f"home-{row}")
    if row == "version":
        keep(row, "anchor", runner.timed([runner.python, "-c", "pass"], None, home)[0])
        for who, tree in trees.items():
            keep(row, who, runner.cli(["--version"], tree, home))
    elif row == "evaluate":
        keep(row, "anchor", runner.timed([runner.python, "-c", "import pydicom"], None, home)[0])
        for who, tree in trees.items():
            keep(row, who, runner.cli(["evaluate", str(case_file)], tree, home))
    elif row == "window":
        for who, tree in [("anchor", REPO), *trees.items()]:
            whome = _home(work, f"home-window-{who}")
            try:
                seconds, logged = runner.window(who == "anchor", tree, whome)
            except RuntimeError as exc:
                print(f"  window ({who}): {exc}", flush=True)
                continue
            keep(row, who, seconds, f"log {logged}" if logged else "")
            WINDOW_ROUNDS.setdefault(who, {})[run] = seconds
    elif row == "verify":
        for who, tree in trees.items():
            db = work / f"verify-{who}.sqlite3"
            vhome = _home(work, f"home-verify-{who}-{run}")
            shutil.copy(dbs["verify"][who], db)
            full = ["--full"] if who == "after" else []
            result = runner.worker("cli", ["--db", str(db), "audit", "verify", *full], tree, vhome)
            keep(row, who, result["wall"], f"peak {result['rss_mib']:.0f} MiB")
            if who == "after":  # checkpointed by the verify above; 1,000 new events, then again
                runner.worker("append", [str(db), "1000"], tree, vhome)
                result = runner.worker("cli", ["--db", str(db), "audit", "verify"], tree, vhome)
                keep(
                    "verify (incremental, +1k events)",
                    who,
                    result["wall"],
                    f"peak {result['rss_mib']:.0f} MiB",
                )
            db.unlink()
    elif row == "cohort":
        for who, tree in trees.items():
            out = work / f"cohort-{who}"
            seconds = runner.cli(
                ["--db", str(dbs["cohort"][who]), "export", "cohort", "--out", str(out)], tree, home
            )
            keep(row, who, seconds)
    elif row == "window_cohort":
        for who, tree in trees.items():
            keep(
                row,
                who,
                runner.worker("window_cohort", [str(dbs["cohort"][who])], tree, home)["seconds"],
            )
    elif row == "import":
        for who, tree in trees.items():
            db = work / f"import-{who}.sqlite3"
            shutil.copy(dbs["cohort"][who], db)
            keep(row, who, runner.worker("import", [str(db), "20"], tree, home)["seconds"])
            db.unlink()
    elif row == "import_cli":
        cases = work / "import-cases.json"
        first = 300_000 + 1000 * run
        cases.write_text(
            json.dumps([synthetic_case(first + i) for i in range(CLI_IMPORT_PATIENTS)]),
            encoding="utf-8",
        )
        for who, tree in trees.items():
            db = work / f"import-cli-{who}.sqlite3"
            shutil.copy(dbs["cohort"][who], db)
            argv = ["--db", str(db), "timeline", "import", str(cases), "--as", "system"]
            if who == "before":  # no --all before issue 17: one process per patient (5 of them)
                seconds = 0.0
                for i in range(5):
                    seconds += runner.cli([*argv, "--case", f"S-{first + i:05d}"], tree, home)
                keep(row, who, seconds / 5)
            else:
                seconds = runner.cli([*argv, "--all"], tree, home)
                keep(row, who, seconds / CLI_IMPORT_PATIENTS)
            db.unlink()
    elif row == "parse":
        for who, tree in trees.items():
            result = runner.worker("parse", [], tree, home)
            note = (
                f"loads {result['loads'] * 1e6:.0f} + build {result['build'] * 1e6:.0f} us; "
                f"file {result['file'] / result['anchor']:.2f}x"
            )
            keep(row, who, result["seconds"], note)
            keep(row, f"anchor-{who}", result["anchor"])


TARGETS = {
    "version": ("python -c pass", "<= 0.3 s"),
    "evaluate": ("python -c 'import pydicom'", "<= 0.5 s"),
    "window": ("bare Qt window + pyqtgraph", "<= 1.3x anchor"),
    "verify": ("-", "<= 2 s, flat memory"),
    "verify (incremental, +1k events)": ("-", "<= 2 s"),
    "cohort": ("-", "<= 5 s"),
    "window_cohort": ("-", "< 2 s"),
    "import": ("-", "<= 50 ms"),
    "import_cli": ("-", "<= 50 ms"),
    "parse": ("evaluate the case", "<= 1x anchor"),
}
LABELS = {
    "version": "caliper --version",
    "evaluate": "caliper evaluate (one case)",
    "window": "main window shown after launch",
    "verify": "caliper audit verify, 100k events (full)",
    "verify (incremental, +1k events)": "caliper audit verify, incremental (+1k events)",
    "cohort": "caliper export cohort, 1,000 patients",
    "window_cohort": "cohort window, 1,000 patients",
    "import": "timeline import, per patient (in process)",
    "import_cli": f"caliper timeline import, per patient ({CLI_IMPORT_PATIENTS} in a file)",
    "parse": "parse one case file",
}


#: The "window" row's seconds of each run (who -> run -> seconds), for the per-round ratios.
WINDOW_ROUNDS: dict[str, dict[int, float]] = {}


def _window_rounds() -> None:
    """Each tree's ratio to the anchor of the same round: median and range (the noise)."""
    anchor = WINDOW_ROUNDS.get("anchor", {})
    for who, seconds in WINDOW_ROUNDS.items():
        ratios = sorted(
            s / anchor[r] for r, s in seconds.items() if who != "anchor" and r in anchor
        )
        if ratios:
            median = ratios[len(ratios) // 2]
            print(
                f"window, {who} / anchor of the same round: median {median:.2f}x, "
                f"{ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(ratios)} rounds"
            )


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0.001:  # the parse row
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def _report(
    rows: list[str],
    trees: dict[str, Path],
    best: dict[tuple[str, str], float],
    notes: dict[tuple[str, str], str],
) -> None:
    names = [r for r in TARGETS if r in rows or (r.startswith("verify") and "verify" in rows)]
    print()
    header = (
        f"| {'what':<48} | {'anchor':<32} | "
        + " | ".join(f"{w:<26}" for w in trees)
        + " | target |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c) + 2) for c in header.strip("|").split("|")[:-1]) + "|---|")
    for row in names:
        anchor_name, target = TARGETS[row]
        anchor = best.get((row, "anchor"))
        cells = []
        for who in trees:
            value = best.get((row, who))
            if row == "parse":
                anchor = best.get((row, f"anchor-{who}"))
            text = _fmt(value)
            if value is not None and anchor:
                text += f" ({value / anchor:.2f}x)"
            if (row, who) in notes:
                text += f", {notes[(row, who)]}"
            cells.append(f"{text:<26}")
        anchor_text = f"{anchor_name} {_fmt(anchor)}" if anchor else anchor_name
        print(f"| {LABELS[row]:<48} | {anchor_text:<32} | " + " | ".join(cells) + f" | {target} |")
    _window_rounds()


if __name__ == "__main__":
    sys.exit(main())
