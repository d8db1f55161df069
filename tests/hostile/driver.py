"""Run ``caliper`` command lines, one forked process each, measuring time and peak memory.

Run as ``python tests/hostile/driver.py JOBS.json``: JOBS.json holds a list of
argument lists.  The driver imports the command line once (so that importing
is not counted), then forks one child per job that runs ``app.cli.main(argv)``
exactly as the ``caliper`` script does; an exception escaping ``main`` is
printed as a traceback and exits 70.  ``os.wait4`` gives each child's peak
resident memory; a child still running after ``--timeout`` seconds is killed.
A memory limit (address space) keeps a regression from taking the machine
down.  One JSON line per job is printed:
``{"argv", "rc", "stdout", "stderr", "seconds", "max_rss_mib"}``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

#: Address-space limit of each child (a safety net: far above what any job may use).
ADDRESS_SPACE = 6 * 1024**3
TIMEOUT = 30.0


def _child(argv: list[str], out: int, err: int) -> None:
    os.dup2(out, 1)
    os.dup2(err, 2)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    from app.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # noqa: BLE001 - what the test looks for
        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(argv: list[str], timeout: float) -> dict[str, object]:
    """Fork, run one command line, and describe how it went."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            _child(argv, out.fileno(), err.fileno())
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() - started > timeout:
                os.kill(pid, signal.SIGKILL)
                _done, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return {
            "argv": argv,
            "rc": os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "seconds": round(seconds, 3),
            "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
        }


def main() -> int:
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else TIMEOUT
    from app.cli import build_parser

    build_parser()  # import every command module before the first fork
    for argv in jobs:
        print(json.dumps(run(argv, timeout)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
