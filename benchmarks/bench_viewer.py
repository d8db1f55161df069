"""Scrolling and window/level speed of the image view on a real 512x512 CT.

Measures frames per second of ``SeriesViewerWidget.set_slice`` (axial, and
coronal reformats) and ``set_window``, each followed by a synchronous repaint
of the whole widget (image, calipers, corner text), and of the same
operations on a bare pyqtgraph ``ImageItem`` in the same run (the baseline),
in interleaved rounds so that machine load affects both alike.  The design
target is at least 60 frames per second.

Run: ``.venv/bin/python benchmarks/bench_viewer.py [SERIES_FOLDER]``
(default ``../shared/data/ct-wholebody-269``; offscreen unless a display is set).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.dicom import load_series  # noqa: E402
from viewer.image.view import SeriesViewerWidget  # noqa: E402

TARGET_FPS = 60.0
SIZE = (800, 800)


def _fps(step, frames: int, repaint) -> float:
    start = time.perf_counter()
    for i in range(frames):
        step(i)
        repaint()
    return frames / (time.perf_counter() - start)


class _Baseline:
    """A bare pyqtgraph ImageItem in a ViewBox: what any pyqtgraph viewer costs."""

    def __init__(self, app, voxels: np.ndarray) -> None:
        self.voxels = voxels
        self.view = pg.GraphicsView(background="k")
        vb = pg.ViewBox(invertY=True, lockAspect=True)
        self.view.setCentralItem(vb)
        self.item = pg.ImageItem(axisOrder="row-major")
        vb.addItem(self.item)
        self.item.setImage(voxels[0], autoLevels=False, levels=(-45, 105))
        self.view.resize(*SIZE)
        self.view.show()
        app.processEvents()
        vb.autoRange(padding=0)

    def repaint(self) -> None:
        self.view.viewport().repaint()

    def scroll(self, i: int) -> None:
        n = self.voxels.shape[0]
        self.item.setImage(self.voxels[(i * 7) % n], autoLevels=False, levels=(-45, 105))

    def window(self, i: int) -> None:
        self.item.setLevels((-45 - i % 50, 105 + i % 80))

    def coronal(self, i: int) -> None:
        rows = self.voxels.shape[1]
        image = self.voxels[:, (i * 7) % rows, :][::-1]
        self.item.setImage(image, autoLevels=False, levels=(-45, 105))


class _Widget:
    """The Caliper image view, with its annotations and calipers."""

    def __init__(self, app, volume) -> None:
        self.n = volume.voxels.shape[0]
        self.widget = SeriesViewerWidget()
        self.widget.resize(*SIZE)
        self.widget.set_volume(volume)
        self.widget.show()
        app.processEvents()

    def repaint(self) -> None:
        # the whole widget: image, calipers and the corner text
        self.widget.repaint()

    def scroll(self, i: int) -> None:
        self.widget.set_slice((i * 7) % self.n)

    def window(self, i: int) -> None:
        self.widget.set_window(30 + i % 50, 150 + i % 80)

    def coronal(self, i: int) -> None:
        if self.widget.orientation != "coronal":
            self.widget.set_orientation("coronal")
        self.widget.set_slice((i * 7) % self.widget.slice_count)


def _measure(app, volume, frames: int, rounds: int) -> dict[str, list[float]]:
    """Interleave rounds of each case so machine load hits them alike."""
    base, widget = _Baseline(app, volume.voxels), _Widget(app, volume)
    results: dict[str, list[float]] = {k: [] for k in ("bs", "bw", "bc", "ws", "ww", "wc")}
    for target in (base, widget):  # warm-up
        _fps(target.scroll, 10, target.repaint)
    for _ in range(rounds):
        results["bs"].append(_fps(base.scroll, frames, base.repaint))
        results["ws"].append(_fps(widget.scroll, frames, widget.repaint))
        results["bw"].append(_fps(base.window, frames, base.repaint))
        results["ww"].append(_fps(widget.window, frames, widget.repaint))
    # coronal reformats last: the widget then stays in that plane
    for target in (base, widget):
        _fps(target.coronal, 10, target.repaint)
    for _ in range(rounds):
        results["bc"].append(_fps(base.coronal, frames, base.repaint))
        results["wc"].append(_fps(widget.coronal, frames, widget.repaint))
    base.view.close()
    widget.widget.close()
    return results


def main(argv: list[str]) -> int:
    """Load the series, run the measurements, print fps and ratios; exit 1 below target."""
    folder = (
        Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data" / "ct-wholebody-269"
    )
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    volume = load_series(folder)
    frames, rounds = 100, 7
    print(  # noqa: T201
        f"series: {folder.name}  voxels {volume.voxels.shape} {volume.voxels.dtype}  "
        f"platform {app.platformName()}  view {SIZE[0]}x{SIZE[1]}  "
        f"{rounds} interleaved rounds x {frames} frames, median fps"
    )
    r = {k: statistics.median(v) for k, v in _measure(app, volume, frames, rounds).items()}
    cases = (
        ("scroll axial", r["ws"], r["bs"]),
        ("window/level", r["ww"], r["bw"]),
        ("scroll coronal", r["wc"], r["bc"]),
    )
    ok = True
    for name, fps, base in cases:
        verdict = "OK" if fps >= TARGET_FPS else "BELOW TARGET"
        ok &= fps >= TARGET_FPS
        print(  # noqa: T201
            f"{name:20s} widget {fps:7.1f} fps   bare ImageItem {base:7.1f} fps   "
            f"ratio {fps / base:5.2f}   target >= {TARGET_FPS:.0f} fps: {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
