"""Benchmark: loading an uncompressed CT series, Caliper against the alternatives.

Run ``.venv/bin/python benchmarks/bench_load.py`` from the checkout.  It loads
``ct-wholebody-269`` from the shared data and a 300-slice copy built in a
temporary folder (the 269 files plus 31 more: copies of the lowest slices with
new SOP Instance UIDs continuing the positions downwards), each with

* plain file reads (the floor: the bytes from the page cache),
* SimpleITK ``ImageSeriesReader`` (file discovery + read),
* naive pydicom (``dcmread`` every file, ``pixel_array``, rescale, sort, stack),
* Caliper ``load_series`` on a cold header index, and on a warm one,
* Caliper ``load_series(background=True)``: time until slice 0 can be shown.

Every measurement runs in a fresh subprocess, which reports its wall time and
its peak resident memory increase over the state just before loading
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``; the worst
run is shown).  The methods are interleaved over ``--repeats`` rounds and
the best time of each is used for the ratios (the median is shown too);
ratios are computed against the baselines measured in the same run, never
against fixed numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("CALIPER_SHARED_DATA", ROOT.parent / "shared" / "data"))


# -- measurements, run inside a worker subprocess --------------------------------------
def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


def _plain(folder: Path) -> object:
    return [p.read_bytes() for p in _files(folder)]


def _sitk(folder: Path) -> object:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    return image


def _naive_pydicom(folder: Path) -> object:
    import numpy as np
    import pydicom

    slices = []
    for path in _files(folder):
        ds = pydicom.dcmread(path)
        values = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        slices.append((float(ds.ImagePositionPatient[2]), values))
    slices.sort(key=lambda item: item[0])
    return np.stack([values for _, values in slices])


def _caliper(folder: Path) -> object:
    from storage.dicom import load_series

    return load_series(folder)


def _caliper_first_slice(folder: Path) -> tuple[object, float]:
    from storage.dicom import load_series

    start = time.perf_counter()
    volume = load_series(folder, background=True)
    first = time.perf_counter() - start
    volume.wait()
    return volume, first


METHODS = {
    "plain": _plain,
    "sitk": _sitk,
    "pydicom": _naive_pydicom,
    "caliper": _caliper,
    "caliper_warm": _caliper,
    "caliper_first": None,
}


def worker(method: str, folder: Path) -> None:
    """Run one measurement and print it as JSON (called in a subprocess)."""
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401 - imports are not part of the measurement
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401

    import storage.dicom  # noqa: F401

    exact_peak = _reset_peak()
    rss_before = _status_kib("VmRSS")
    start = time.perf_counter()
    first = None
    if method == "caliper_first":
        result, first = _caliper_first_slice(folder)
    else:
        result = METHODS[method](folder)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM")
    print(json.dumps({"seconds": seconds, "first": first, "peak_kib": peak - rss_before,
                      "exact_peak": exact_peak}))
    del result


# -- orchestration -----------------------------------------------------------------------
def make_300(source: Path, target: Path) -> Path:
    """Copy the 269 slices and add 31 more below them (new SOP UIDs and positions)."""
    import pydicom
    from pydicom.uid import generate_uid

    target.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in _files(source):
        (target / path.name).write_bytes(path.read_bytes())
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        entries.append((float(ds.ImagePositionPatient[2]), path))
    entries.sort()
    lowest = entries[0][0]
    step = entries[1][0] - entries[0][0]
    for k in range(1, 32):
        ds = pydicom.dcmread(entries[k - 1][1])
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        position = [float(v) for v in ds.ImagePositionPatient]
        position[2] = lowest - k * step
        ds.ImagePositionPatient = position
        ds.SliceLocation = position[2]
        ds.InstanceNumber = 269 + k
        ds.save_as(target / f"extra-{k:03d}.dcm")
    return target


def run(method: str, folder: Path, home: Path) -> dict[str, float]:
    """Run one measurement in a fresh interpreter with its own CALIPER_HOME."""
    env = dict(os.environ, CALIPER_HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--worker", method, str(folder)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(folder: Path, repeats: int, scratch: Path) -> dict[str, dict[str, float]]:
    """Best-of-N time and peak memory of every method on *folder*.

    The methods are interleaved (one round runs each method once) so that
    load from other processes on the machine hits them all alike; the best
    of the rounds is the least disturbed measurement.
    """
    warm_home = scratch / "warm-home"
    run("caliper", folder, warm_home)  # fills the header index for caliper_warm
    runs: dict[str, list[dict[str, float]]] = {method: [] for method in METHODS}
    for i in range(repeats):
        for method in METHODS:
            cold = scratch / f"{method}-{folder.name}-{i}"
            home = warm_home if method == "caliper_warm" else cold
            runs[method].append(run(method, folder, home))
    results: dict[str, dict[str, float]] = {}
    for method, done in runs.items():
        results[method] = {
            "seconds": min(r["seconds"] for r in done),
            "median": statistics.median(r["seconds"] for r in done),
            "first": min(r["first"] for r in done) if done[0]["first"] else 0.0,
            "peak_mib": max(r["peak_kib"] for r in done) / 1024,
        }
    return results


def report(label: str, n_slices: int, results: dict[str, dict[str, float]]) -> bool:
    """Print one table and the target checks; return True when every target is met."""
    voxel_mib = n_slices * 512 * 512 * 2 / 1024**2
    print(f"\n== {label}: {n_slices} x 512 x 512, voxel data {voxel_mib:.1f} MiB")
    names = {"plain": "plain file reads", "sitk": "SimpleITK ImageSeriesReader",
             "pydicom": "naive pydicom", "caliper": "Caliper (cold header index)",
             "caliper_warm": "Caliper (warm header index)",
             "caliper_first": "Caliper background (until complete)"}
    sitk = results["sitk"]["seconds"]
    plain = results["plain"]["seconds"]
    print(f"{'method':38} {'best s':>7} {'median':>7} {'x SITK':>7} {'x plain':>8} "
          f"{'peak MiB':>9} {'x voxels':>8}")
    for key, name in names.items():
        r = results[key]
        print(f"{name:38} {r['seconds']:7.3f} {r['median']:7.3f} {r['seconds'] / sitk:7.2f} "
              f"{r['seconds'] / plain:8.2f} {r['peak_mib']:9.1f} {r['peak_mib'] / voxel_mib:8.2f}")
    caliper = results["caliper"]
    first = results["caliper_first"]["first"]
    checks = [
        (f"Caliper / SimpleITK = {caliper['seconds'] / sitk:.2f} (target <= 0.6)",
         caliper["seconds"] <= 0.6 * sitk),
        (f"time to first slice = {first:.3f} s (target < 0.5 s)", first < 0.5),
        (f"Caliper peak memory = {caliper['peak_mib'] / voxel_mib:.2f} x voxel data "
         "(target <= 1.2)", caliper["peak_mib"] <= 1.2 * voxel_mib),
    ]
    for text, ok in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {text}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    """Build the 300-slice copy, run every method on both series, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return 0
    source = args.data / "ct-wholebody-269"
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as tmp:
        scratch = Path(tmp)
        copy = make_300(source, scratch / "ct-300")
        for folder in (source, copy):  # warm the page cache: every method reads from memory
            _plain(folder)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average "
              f"{os.getloadavg()[0]:.1f}, repeats={args.repeats} (interleaved, best of), "
              "page cache warm, one subprocess per measurement")
        ok = True
        for folder, n in ((source, 269), (copy, 300)):
            ok &= report(folder.name, n, measure(folder, args.repeats, scratch))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
