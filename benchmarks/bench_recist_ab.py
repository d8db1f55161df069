"""Benchmark: the RECIST engine of the working tree against a git revision, in one process.

A shared machine makes two separate runs of ``bench_recist.py`` hard to compare.  This
script loads both engines into one process (the baseline from ``git archive REV recist``
into a temporary folder), evaluates the same synthetic population
(``bench_recist.synthetic_case``) with each, alternating old/new for several rounds,
and prints the best CPU time of each (``process_time``: less disturbed than wall
time by other processes on the machine) and their ratio.

Run: ``.venv/bin/python benchmarks/bench_recist_ab.py --baseline REV [--patients N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_recist import synthetic_case  # noqa: E402


def _load_engines(baseline: str, folder: Path) -> tuple[ModuleType, ModuleType]:
    """(baseline, working tree) ``recist`` packages, imported side by side."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", baseline, "recist"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    import recist as new

    for name in [n for n in sys.modules if n == "recist" or n.startswith("recist.")]:
        sys.modules[f"_new_{name}"] = sys.modules.pop(name)
    sys.path.insert(0, str(folder))
    import recist as old

    assert Path(old.__file__).is_relative_to(folder), old.__file__
    return old, new


def _timed(engine: ModuleType, cases: list[Any], settings: Any) -> float:
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        for case in cases:
            engine.evaluate(case, settings)
        return time.process_time() - started
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git revision of the baseline engine")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--timepoints", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260105)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    raw = [synthetic_case(rng, i, args.timepoints, "RECIST1.1") for i in range(args.patients)]
    with tempfile.TemporaryDirectory() as tmp:
        old, new = _load_engines(args.baseline, Path(tmp))
        rows = []
        for label, criteria, with_irecist in (
            ("default: RECIST 1.1 + parallel iRECIST", "RECIST1.1", True),
            ("RECIST 1.1 only (with_irecist=False)", "RECIST1.1", False),
            ("iRECIST case (+ RECIST 1.1 track)", "iRECIST", True),
        ):
            data = [{**d, "criteria": criteria} for d in raw]
            engines = []
            for engine in (old, new):
                cases = [engine.case_from_dict(d) for d in data]
                engines.append((engine, cases, engine.Settings(with_irecist=with_irecist)))
            best = [float("inf"), float("inf")]
            for r in range(args.rounds):
                for k in (0, 1) if r % 2 == 0 else (1, 0):  # alternate who goes first
                    engine, cases, settings = engines[k]
                    best[k] = min(best[k], _timed(engine, cases, settings))
            rows.append((label, best[0], best[1]))
    print(
        f"RECIST engine A/B: {args.patients} patients x {args.timepoints} timepoints, "
        f"best CPU time (process_time) of {args.rounds} interleaved rounds, GC off; "
        f"baseline {args.baseline}"
    )
    for label, t_old, t_new in rows:
        print(
            f"  {label:40s} baseline {t_old:6.3f} s   now {t_new:6.3f} s   "
            f"now/baseline {t_new / t_old:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
