"""Benchmark: a cold ``storage.dicom.scan`` (every header read) of the working tree against a
git revision, interleaved in fresh subprocesses.

Written for issue 13, whose header checks (geometry validated per frame, nesting
capped, deflate bounded) must not slow discovery down, and used for issue 17 (the
header scan reads files from several threads).  Each round scans the folder
once with the baseline (``git archive REV`` in a temporary folder) and once with
the working tree, each in a new process with an empty header index; the best
wall time and the best CPU time (all threads) of each, per file, and their
ratios are printed.  ``--folder`` may be given several times.

Run: ``.venv/bin/python benchmarks/bench_scan_ab.py --baseline REV [--folder F]... [--rounds R]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "ct-wholebody-269"
_CHILD = """
import json, sys, tempfile, time, os
os.environ["CALIPER_HOME"] = tempfile.mkdtemp()
from storage.dicom import scan
started, wall = time.process_time(), time.perf_counter()
report = scan(sys.argv[1])
print(json.dumps({"cpu": time.process_time() - started, "wall": time.perf_counter() - wall,
                  "files": sum(len(s.files) for s in report.series) + len(report.problems),
                  "series": len(report.series), "problems": len(report.problems)}))
"""


def _scan(tree: Path, folder: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--folder", type=Path, action="append")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(scratch, filter="data")
        trees = {"baseline": Path(scratch), "working tree": ROOT}
        for folder in args.folder or [DEFAULT]:
            _compare(trees, folder, args.rounds)
    return 0


def _compare(trees: dict[str, Path], folder: Path, rounds: int) -> None:
    best = {name: {"wall": float("inf"), "cpu": float("inf")} for name in trees}
    found = {}
    files = 1.0
    for _ in range(rounds):
        for name, tree in trees.items():
            result = _scan(tree, folder)
            for key in ("wall", "cpu"):
                best[name][key] = min(best[name][key], result[key])
            found[name] = (result["series"], result["problems"])
            files = max(result["files"], 1)
    print(f"\n{folder} ({files:.0f} files), best of {rounds} interleaved rounds")
    for name, seconds in best.items():
        print(
            f"{name:13s} wall {seconds['wall'] * 1000:8.1f} ms "
            f"({seconds['wall'] / files * 1000:.3f} ms/file)   CPU {seconds['cpu'] * 1000:8.1f} ms "
            f"({seconds['cpu'] / files * 1000:.3f} ms/file)   (series, problems) = {found[name]}"
        )
    for key in ("wall", "cpu"):
        ratio = best["working tree"][key] / best["baseline"][key]
        print(f"ratio working tree / baseline, {key}: {ratio:.3f}")


if __name__ == "__main__":
    sys.exit(main())
