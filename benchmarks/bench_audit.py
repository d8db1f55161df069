"""Benchmark of ``caliper audit verify`` on 100k events (issue 17: <= 2 s, flat memory).

Rows, each a fresh ``caliper --db DB audit verify`` process (wall time of the whole command,
the verify's own time inside it, and the process's peak RSS), best of ``--runs``
interleaved runs:

* ``full``: ``audit verify --full`` (every event re-hashed, every signature checked, the
  whole trail replayed against the tables);
* ``incremental``: ``audit verify`` after a verify wrote its checkpoint and 1,000 new events
  were written (what a workstation's daily verify does);
* ``signed``: the same from a checkpoint signed by the investigator (``verify --as inv``):
  the signature is checked before the checkpoint is used;
* ``signing``: ``audit verify --as inv --password-stdin`` from the unsigned checkpoint (the
  password unlocks the key, the new checkpoint is signed);
* ``anchor``: ``caliper --version`` in the same run (the process start-up every row pays).

The trail is made of synthetic patients (66 events each) imported by an investigator, so
each event carries an Ed25519 signature to verify (``--by system`` imports as ``system``:
unsigned events, the cheaper case).  The databases are built once with this tree and kept
in ``--cache``.

Usage::

    .venv/bin/python benchmarks/bench_audit.py [--runs 5] [--events 100000] [--by reader]
"""

from __future__ import annotations

import argparse
import contextlib
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
sys.path.insert(0, str(REPO / "benchmarks"))
PASSWORD = "bench password 1"

# -- workers (child processes) ------------------------------------------------------------------


def _store(db: Any, by: str) -> Any:
    from recist.model import Role

    system = db.readers.ensure_system()
    if by == "system":
        return db.store(system)
    try:
        reader = db.readers.authenticate("inv", PASSWORD)
    except Exception:  # noqa: BLE001 (first build: create the investigator)
        reader = db.readers.create(
            "inv", "Dr Ivy Investigator", Role.INVESTIGATOR, PASSWORD, by=system
        )
    return db.store(reader)


def worker_build(args: list[str]) -> dict[str, Any]:
    """Write ``args[1]`` events' worth of synthetic patients (66 events each) into ``args[0]``."""
    from bench_fast import _import_patients

    from storage.db import open_database

    db = open_database(args[0])
    try:
        first = int(args[3])
        _import_patients(_store(db, args[2]), first, max(1, int(args[1]) // 66))
    finally:
        db.close()
    return {}


def worker_verify(args: list[str]) -> dict[str, Any]:
    """``caliper --db DB audit verify [--full]`` in this process: its time and peak memory."""
    from app.cli import main

    start = time.perf_counter()
    code = main(["--db", args[0], "audit", "verify", *args[1:]])
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"code": code, "seconds": seconds, "rss_mib": rss}


def worker_version(args: list[str]) -> dict[str, Any]:
    from app.cli import main

    with contextlib.suppress(SystemExit):
        main(["--version"])
    return {"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


WORKERS = {"build": worker_build, "verify": worker_verify, "version": worker_version}

# -- the parent ---------------------------------------------------------------------------------


def _run(
    name: str, args: list[str], home: Path, cwd: Path, stdin: str | None = None
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("CALIPER_DB", "CALIPER_WITNESS")}
    env["PYTHONPATH"] = str(REPO)
    env["CALIPER_HOME"] = str(home)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", name, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{name} {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall"] = wall
    result["out"] = proc.stdout
    return result


def _files(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in ("", ".witness", "-wal", "-shm")]


def _snapshot(db: Path, home: Path, to: Path) -> None:
    if to.exists():
        shutil.rmtree(to)
    to.mkdir(parents=True)
    for path in _files(db):
        if path.exists():
            shutil.copy2(path, to / path.name)
    shutil.copytree(home, to / "home")


def _restore(snapshot: Path, db: Path, home: Path) -> None:
    for path in _files(db):
        path.unlink(missing_ok=True)
        saved = snapshot / path.name
        if saved.exists():
            shutil.copy2(saved, path)
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(snapshot / "home", home)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](sys.argv[3:])), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000, help="events after the checkpoint")
    parser.add_argument("--by", choices=("reader", "system"), default="reader")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "caliper-bench-audit"
    )
    args = parser.parse_args()
    cache = args.cache
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / f"base-{args.by}-{args.events}.sqlite3"
    build_home = cache / "home-build"
    build_home.mkdir(exist_ok=True)
    if not base.exists():
        print(f"building {base} ({args.events} events by {args.by}) ...", flush=True)
        partial = base.with_suffix(".partial")
        for path in _files(partial):
            path.unlink(missing_ok=True)
        _run("build", [str(partial), str(args.events), args.by, "0"], build_home, cache)
        partial.replace(base)
        witness = partial.with_name(partial.name + ".witness")
        if witness.exists():
            witness.replace(base.with_name(base.name + ".witness"))
    work = cache / "work"
    work.mkdir(exist_ok=True)
    db, home = work / "caliper.sqlite3", work / "home"
    # the starting states: the base trail; and after a verify (checkpoint) + new events
    for path in _files(db):
        path.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    for path in _files(base):
        if path.exists():
            shutil.copy2(path, db.with_name(db.name + path.name[len(base.name) :]))
    _snapshot(db, home, work / "state-full")
    first = _run("verify", [str(db)], home, work)
    if first["code"] != 0:
        print(first["out"])
        return 1
    _run("build", [str(db), str(args.new), args.by, "900000"], home, work)
    _snapshot(db, home, work / "state-incremental")
    sign = ["--as", "inv", "--password-stdin"]
    signed_rows = args.by == "reader"  # a trail imported by system has no investigator
    if signed_rows:  # the same, from a checkpoint the investigator signed
        _restore(work / "state-full", db, home)
        first = _run("verify", [str(db), *sign], home, work, stdin=PASSWORD + "\n")
        if first["code"] != 0 or "signed by inv" not in first["out"]:
            print(first["out"])
            return 1
        _run("build", [str(db), str(args.new), args.by, "900000"], home, work)
        _snapshot(db, home, work / "state-signed")
    rows = ["full", "incremental", *(["signed", "signing"] if signed_rows else [])]
    results: dict[str, list[dict[str, Any]]] = {row: [] for row in ["anchor", *rows]}
    for run in range(args.runs):
        results["anchor"].append(_run("version", [], home, work))
        _restore(work / "state-full", db, home)
        results["full"].append(_run("verify", [str(db), "--full"], home, work))
        _restore(work / "state-incremental", db, home)
        results["incremental"].append(_run("verify", [str(db)], home, work))
        if signed_rows:
            _restore(work / "state-signed", db, home)
            results["signed"].append(_run("verify", [str(db)], home, work))
            _restore(work / "state-incremental", db, home)
            results["signing"].append(
                _run("verify", [str(db), *sign], home, work, stdin=PASSWORD + "\n")
            )
        for row in rows:
            if results[row][-1]["code"] != 0:
                print(results[row][-1]["out"])
                return 1
        last = {row: results[row][-1]["wall"] for row in results}
        print(
            f"run {run + 1}: "
            + ", ".join(f"{row} {seconds:.2f} s" for row, seconds in last.items()),
            flush=True,
        )
    print()
    print(results["incremental"][-1]["out"].strip().splitlines()[0])
    print()
    anchor = min(r["wall"] for r in results["anchor"])
    print(f"audit verify, {args.events:,} events by {args.by}, best of {args.runs} (target <= 2 s)")
    print(f"{'row':<34}{'command':>9}{'verify':>9}{'peak RSS':>11}{'x anchor':>10}")
    print(
        f"{'anchor: caliper --version':<34}{anchor:>8.2f}s{'-':>9}"
        f"{min(r['rss_mib'] for r in results['anchor']):>8.0f} MiB{1:>10.2f}"
    )
    labels = {
        "full": "verify --full",
        "incremental": f"verify (checkpoint + {args.new:,} new)",
        "signed": f"verify (signed checkpoint + {args.new:,})",
        "signing": f"verify --as inv (+ {args.new:,} new)",
    }
    for row in rows:
        label = labels[row]
        best = min(results[row], key=lambda r: r["wall"])
        peak = max(r["rss_mib"] for r in results[row])
        print(
            f"{label:<34}{best['wall']:>8.2f}s{best['seconds']:>8.2f}s{peak:>8.0f} MiB"
            f"{best['wall'] / anchor:>10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
