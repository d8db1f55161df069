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

With ``--compressed`` it also makes compressed copies of ``ct-wholebody-269``
at benchmark time (JPEG-LS and JPEG 2000 lossless with pydicom's encoders;
JPEG lossless and 12-bit JPEG Extended with dcmtk's ``dcmcjpeg`` when it is
installed) and prints, for each, Caliper / SimpleITK and the cold load
against "raw read + decode" (read every file, decode its frame with the
fastest decoder, serially, in one process), and the time per frame of every
decoder candidate (the measurements behind ``storage.dicom.decoders.ORDER``).
``--before DIR`` also runs Caliper from another checkout (e.g. a ``git
archive`` of an older commit) in the same interleaved rounds
(``--before-without-gdcm``: with python-gdcm hidden from it); ``--codec native``
adds the original uncompressed files to these tables; ``--copies DIR``
keeps the compressed copies there and reuses them on the next run.  The
compressed tables also show the best CPU time (user + system of every thread
of the measured process), steadier than wall time on a busy machine.  "Caliper
(pool started)" is a load in a process whose decoder worker processes are
already running, as for every series after the first one of a session.

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
from typing import Any

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
    return reader.Execute()


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


def _raw_decode(folder: Path) -> object:
    """The floor for a compressed series: read each file, decode its frame, fastest decoder."""
    import pydicom
    from pydicom.pixels import get_decoder

    from storage.dicom.decoders import plugins_for

    out = []
    for path in _files(folder):
        ds = pydicom.dcmread(path)
        syntax = ds.file_meta.TransferSyntaxUID
        plugins = plugins_for(syntax)
        out.append(
            get_decoder(syntax).as_array(ds, decoding_plugin=plugins[0] if plugins else "")[0]
        )
    return out


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
#: Methods of the compressed-series tables.
COMPRESSED_METHODS = {
    "raw": _raw_decode,
    "sitk": _sitk,
    "caliper": _caliper,
    "caliper_pool": _caliper,
    "caliper_before": _caliper,
}


def worker(method: str, folder: Path) -> None:
    """Run one measurement and print it as JSON (called in a subprocess)."""
    sys.path.insert(0, os.environ.get("CALIPER_BENCH_CODE", str(ROOT)))
    import numpy  # noqa: F401 - imports are not part of the measurement
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401

    import storage.dicom  # noqa: F401

    if method == "caliper_pool":  # as in a session that has loaded a compressed series before
        from storage.dicom import workers

        workers.warm_up()
    exact_peak = _reset_peak()
    rss_before = _status_kib("VmRSS")
    cpu_before = os.times()
    start = time.perf_counter()
    first = None
    if method == "caliper_first":
        result, first = _caliper_first_slice(folder)
    else:
        result = {**METHODS, **COMPRESSED_METHODS}[method](folder)
    seconds = time.perf_counter() - start
    cpu_after = os.times()  # every thread of this process (worker processes not included)
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "first": first,
                "peak_kib": peak - rss_before,
                "exact_peak": exact_peak,
            }
        )
    )
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


def run(
    method: str, folder: Path, home: Path, code: Path = ROOT, hide: Path | None = None
) -> dict[str, float]:
    """Run one measurement in a fresh interpreter with its own CALIPER_HOME.

    *code* is the checkout whose ``storage`` is imported; *hide* a folder put
    first on the path (``--before-without-gdcm`` puts a ``gdcm`` that fails to
    import there, as before python-gdcm was a dependency).
    """
    path = os.pathsep.join(str(p) for p in (hide, code) if p is not None)
    env = dict(os.environ, CALIPER_HOME=str(home), PYTHONPATH=path, CALIPER_BENCH_CODE=str(code))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- compressed copies -----------------------------------------------------------------
def _encode_with_pydicom(source: Path, target: Path, syntax: str, plugin: str) -> None:
    import pydicom

    target.mkdir(parents=True, exist_ok=True)
    for path in _files(source):
        ds = pydicom.dcmread(path)
        ds.compress(syntax, encoding_plugin=plugin)
        ds.save_as(target / path.name)


def _encode_with_dcmtk(source: Path, target: Path, option: str) -> bool:
    import shutil

    tool = shutil.which("dcmcjpeg")
    if tool is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    for path in _files(source):
        subprocess.run(
            [tool, option, str(path), str(target / path.name)], check=True, capture_output=True
        )
    return True


#: The compressed copies, by the names ``--codec`` takes.
CODECS = ("jpegls", "j2k", "jpeg-sv1", "jpeg-ext12", "native")
LABELS = {
    "jpegls": "JPEG-LS lossless (pyjpegls encoder)",
    "j2k": "JPEG 2000 lossless (openjpeg encoder)",
    "jpeg-sv1": "JPEG lossless SV1 (dcmcjpeg)",
    "jpeg-ext12": "JPEG Extended 12-bit lossy (dcmcjpeg)",
    "native": "uncompressed (the original files, no copy)",
}
DCMTK_OPTIONS = {"jpeg-sv1": "--encode-lossless-sv1", "jpeg-ext12": "--encode-extended"}


def make_compressed(
    source: Path, scratch: Path, codecs: tuple[str, ...] = CODECS
) -> list[tuple[str, Path]]:
    """Compressed copies of *source*: (label, folder) for each codec available here.

    A copy already complete in *scratch* (``--copies`` of an earlier run) is reused.
    """
    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless

    wanted = len(_files(source))
    copies = []
    for name, label in LABELS.items():
        if name not in codecs:
            continue
        target = scratch / name
        if name == "native":
            copies.append((label, source))
        elif target.is_dir() and len(_files(target)) == wanted:
            copies.append((label, target))
        elif name == "jpegls":
            _encode_with_pydicom(source, target, JPEGLSLossless, "pyjpegls")
            copies.append((label, target))
        elif name == "j2k":
            _encode_with_pydicom(source, target, JPEG2000Lossless, "pylibjpeg")
            copies.append((label, target))
        elif _encode_with_dcmtk(source, target, DCMTK_OPTIONS[name]):
            copies.append((label, target))
        else:
            print(f"dcmcjpeg not found (apt-get install dcmtk): no {label} copy")
    return copies


def _threaded(decode: Any, datasets: list[Any], threads: int = 2) -> float:
    """Wall time to decode *datasets* split over *threads* threads."""
    import threading

    parts = [datasets[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda p=p: [decode(ds) for ds in p]) for p in parts]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - start


def decoder_candidates(folder: Path, frames: int = 40, repeats: int = 5) -> None:
    """Print ms per frame of every installed decoder on the first *frames* files of *folder*.

    Also the speed-up of two threads over one (best of the rounds each): about
    2 on two free cores when the decoder releases the GIL, about 1 when not.
    """
    import numpy as np
    import pydicom
    from pydicom.pixels import get_decoder

    import storage.dicom.decoders  # noqa: F401 - registers caliper-gdcm

    datasets = [pydicom.dcmread(p) for p in _files(folder)[:frames]]
    syntax = datasets[0].file_meta.TransferSyntaxUID
    decoder = get_decoder(syntax)
    times: dict[str, float] = {}
    two: dict[str, float] = {}
    results: dict[str, list[np.ndarray] | str] = {}
    for _ in range(repeats):  # interleaved rounds, best of
        for plugin in decoder.available_plugins:
            if isinstance(results.get(plugin), str):
                continue
            start = time.perf_counter()
            try:
                arrays = [decoder.as_array(ds, decoding_plugin=plugin)[0] for ds in datasets]
            except Exception as exc:  # noqa: BLE001 - a decoder that fails is reported
                results[plugin] = str(exc).strip().splitlines()[-1][:90]
                continue
            times[plugin] = min(times.get(plugin, 1e9), (time.perf_counter() - start) / frames)
            results[plugin] = arrays
            wall = _threaded(lambda ds, p=plugin: decoder.as_array(ds, decoding_plugin=p), datasets)
            two[plugin] = min(two.get(plugin, 1e9), wall / frames)
    order = storage.dicom.decoders.plugins_for(syntax)
    print(f"  decoders for {syntax.name} (chosen order: {', '.join(order)}):")
    first = next((r for r in results.values() if not isinstance(r, str)), None)
    for plugin, outcome in sorted(results.items(), key=lambda kv: times.get(kv[0], 1e9)):
        if isinstance(outcome, str):
            print(f"    {plugin:19} fails: {outcome}")
            continue
        diff = max(
            int(np.abs(a.astype(np.int64) - b).max()) for a, b in zip(outcome, first, strict=True)
        )  # type: ignore[arg-type]
        print(
            f"    {plugin:19} {times[plugin] * 1000:7.2f} ms/frame   max |diff| to "
            f"the first: {diff}   2 threads: x{times[plugin] / two[plugin]:.2f}"
        )


def measure_compressed(
    folder: Path, repeats: int, scratch: Path, before: Path | None, hide: Path | None = None
) -> dict[str, dict[str, float]]:
    """Best-of-N interleaved times of raw read+decode, SimpleITK and Caliper on *folder*."""
    methods = [m for m in COMPRESSED_METHODS if m != "caliper_before" or before is not None]
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for i in range(repeats):
        for method in methods:
            home = scratch / f"{method}-{folder.name}-{i}"
            if method == "caliper_before" and before is not None:
                runs[method].append(run(method, folder, home, before, hide))
            else:
                runs[method].append(run(method, folder, home))
    return {
        m: {
            "seconds": min(r["seconds"] for r in t),
            "median": statistics.median(r["seconds"] for r in t),
            "cpu": min(r["cpu"] for r in t),
            # this method / SimpleITK within each round, best and median of the rounds
            "round_best": min(
                r["seconds"] / s["seconds"] for r, s in zip(t, runs["sitk"], strict=True)
            ),
            "round_median": statistics.median(
                r["seconds"] / s["seconds"] for r, s in zip(t, runs["sitk"], strict=True)
            ),
        }
        for m, t in runs.items()
    }


def report_compressed(label: str, results: dict[str, dict[str, float]]) -> bool:
    """Print one compressed-series table; return True when the targets are met."""
    sitk, raw = results["sitk"]["seconds"], results["raw"]["seconds"]
    names = {
        "raw": "raw read + decode (serial)",
        "sitk": "SimpleITK ImageSeriesReader",
        "caliper": "Caliper (cold index, fresh process)",
        "caliper_pool": "Caliper (cold index, pool started)",
        "caliper_before": "Caliper before (--before)",
    }
    print(f"\n== {label}, 269 x 512 x 512")
    print(
        f"{'method':38} {'best s':>7} {'median':>7} {'x SITK':>7} {'x raw':>7} "
        f"{'CPU s':>7} {'CPU x SITK':>10} {'x SITK in round: best, median':>30}"
    )
    sitk_cpu = results["sitk"]["cpu"]
    for key, r in results.items():
        print(
            f"{names[key]:38} {r['seconds']:7.3f} {r['median']:7.3f} "
            f"{r['seconds'] / sitk:7.2f} {r['seconds'] / raw:7.2f} "
            f"{r['cpu']:7.3f} {r['cpu'] / sitk_cpu:10.2f} "
            f"{r['round_best']:22.2f}, {r['round_median']:.2f}"
        )
    print(
        "  (CPU: user + system time of every thread of the measured process, best of the "
        "rounds; the worker processes of 'pool started' are not counted)"
    )
    caliper = results["caliper"]["seconds"]
    checks = [
        (
            f"Caliper / SimpleITK = {caliper / sitk:.2f} (target <= 0.6; JPEG 2000: on >= 4 "
            f"cores, here {os.cpu_count()})",
            caliper <= 0.6 * sitk,
        ),
        (
            f"cold load / raw read + decode = {caliper / raw:.2f} (target <= 1.5)",
            caliper <= 1.5 * raw,
        ),
    ]
    for text, ok in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {text}")
    return all(ok for _, ok in checks)


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
    names = {
        "plain": "plain file reads",
        "sitk": "SimpleITK ImageSeriesReader",
        "pydicom": "naive pydicom",
        "caliper": "Caliper (cold header index)",
        "caliper_warm": "Caliper (warm header index)",
        "caliper_first": "Caliper background (until complete)",
    }
    sitk = results["sitk"]["seconds"]
    plain = results["plain"]["seconds"]
    print(
        f"{'method':38} {'best s':>7} {'median':>7} {'x SITK':>7} {'x plain':>8} "
        f"{'peak MiB':>9} {'x voxels':>8}"
    )
    for key, name in names.items():
        r = results[key]
        print(
            f"{name:38} {r['seconds']:7.3f} {r['median']:7.3f} {r['seconds'] / sitk:7.2f} "
            f"{r['seconds'] / plain:8.2f} {r['peak_mib']:9.1f} {r['peak_mib'] / voxel_mib:8.2f}"
        )
    caliper = results["caliper"]
    first = results["caliper_first"]["first"]
    checks = [
        (
            f"Caliper / SimpleITK = {caliper['seconds'] / sitk:.2f} (target <= 0.6)",
            caliper["seconds"] <= 0.6 * sitk,
        ),
        (f"time to first slice = {first:.3f} s (target < 0.5 s)", first < 0.5),
        (
            f"Caliper peak memory = {caliper['peak_mib'] / voxel_mib:.2f} x voxel data "
            "(target <= 1.2)",
            caliper["peak_mib"] <= 1.2 * voxel_mib,
        ),
    ]
    for text, ok in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {text}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    """Build the 300-slice copy, run every method on both series, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compressed",
        action="store_true",
        help="also compressed copies (JPEG-LS, JPEG 2000, JPEG) made here",
    )
    parser.add_argument("--only-compressed", action="store_true", help="only the compressed copies")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="another checkout whose Caliper runs in the same rounds",
    )
    parser.add_argument(
        "--before-without-gdcm",
        action="store_true",
        help="run --before with python-gdcm hidden (it was no dependency then)",
    )
    parser.add_argument(
        "--codec",
        action="append",
        choices=CODECS,
        help="only these compressed copies (repeatable; default: all)",
    )
    parser.add_argument(
        "--copies",
        type=Path,
        default=None,
        help="keep the compressed copies in this folder and reuse them on the next run",
    )
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return 0
    source = args.data / "ct-wholebody-269"
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as tmp:
        scratch = Path(tmp)
        ok = True
        if args.compressed or args.only_compressed:
            print(
                f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average "
                f"{os.getloadavg()[0]:.1f}, repeats={args.repeats} (interleaved, best of)"
            )
            hide = None
            if args.before_without_gdcm:
                hide = scratch / "hide-gdcm"
                hide.mkdir()
                (hide / "gdcm.py").write_text('raise ImportError("hidden by bench_load.py")\n')
            for label, folder in make_compressed(
                source, args.copies or scratch / "compressed", tuple(args.codec or CODECS)
            ):
                _plain(folder)
                if folder != source:  # uncompressed data need no decoder plugin
                    decoder_candidates(folder)
                ok &= report_compressed(
                    label, measure_compressed(folder, args.repeats, scratch, args.before, hide)
                )
            if args.only_compressed:
                return 0 if ok else 1
        copy = make_300(source, scratch / "ct-300")
        for folder in (source, copy):  # warm the page cache: every method reads from memory
            _plain(folder)
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average "
            f"{os.getloadavg()[0]:.1f}, repeats={args.repeats} (interleaved, best of), "
            "page cache warm, one subprocess per measurement"
        )
        for folder, n in ((source, 269), (copy, 300)):
            ok &= report(folder.name, n, measure(folder, args.repeats, scratch))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
