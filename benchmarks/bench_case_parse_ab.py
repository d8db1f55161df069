"""Benchmark: the case parser of the working tree against a git revision, in one process.

Times ``case_from_dict(json.loads(text))`` over the same case texts (the public cases
and a synthetic population of ``bench_recist.synthetic_case``) with the baseline
``recist`` (from ``git archive REV recist``) and the working tree's, alternating for
several rounds, and prints the best CPU time of each and their ratio.  Written for
issue 13's input limits (text lengths and characters checked while parsing), which
must not slow the parser down.

Run: ``.venv/bin/python benchmarks/bench_case_parse_ab.py --baseline REV [--patients N]``
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_recist import synthetic_case  # noqa: E402
from bench_recist_ab import _load_engines  # noqa: E402

PUBLIC = ROOT.parent / "shared" / "recist" / "cases-public.json"


def _timed(engine: ModuleType, texts: list[str]) -> float:
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        for text in texts:
            engine.case_from_dict(json.loads(text))
        return time.process_time() - started
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git revision of the baseline recist")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(13)
    texts = [json.dumps(synthetic_case(rng, i, 10, "RECIST1.1")) for i in range(args.patients)]
    if PUBLIC.is_file():
        texts += [json.dumps(c) for c in json.loads(PUBLIC.read_text(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as folder:
        old, new = _load_engines(args.baseline, Path(folder))
        best = {"baseline": float("inf"), "working tree": float("inf")}
        for _ in range(args.rounds):
            best["baseline"] = min(best["baseline"], _timed(old, texts))
            best["working tree"] = min(best["working tree"], _timed(new, texts))
    for name, seconds in best.items():
        print(
            f"{name:13s} {seconds * 1000:8.1f} ms for {len(texts)} cases "
            f"({seconds / len(texts) * 1e6:.1f} us per case)"
        )
    print(f"ratio working tree / baseline: {best['working tree'] / best['baseline']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
