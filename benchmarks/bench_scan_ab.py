"""Benchmark: a cold ``storage.dicom.scan`` (every header read) of the working tree against a
git revision, interleaved in fresh subprocesses.

Written for issue 13, whose header checks (geometry validated per frame, nesting
capped, deflate bounded) must not slow discovery down.  Each round scans the
folder once with the baseline (``git archive REV`` in a temporary folder) and
once with the working tree, each in a new process with an empty header index;
the best CPU time of each and their ratio are printed.

Run: ``.venv/bin/python benchmarks/bench_scan_ab.py --baseline REV [--folder F] [--rounds R]``
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
started = time.process_time()
report = scan(sys.argv[1])
print(json.dumps({"cpu": time.process_time() - started,
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
    parser.add_argument("--folder", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(scratch, filter="data")
        trees = {"baseline": Path(scratch), "working tree": ROOT}
        best = dict.fromkeys(trees, float("inf"))
        found = {}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                result = _scan(tree, args.folder)
                best[name] = min(best[name], result["cpu"])
                found[name] = (result["series"], result["problems"])
    for name, seconds in best.items():
        print(f"{name:13s} {seconds * 1000:8.1f} ms CPU (series, problems) = {found[name]}")
    print(f"ratio working tree / baseline: {best['working tree'] / best['baseline']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
