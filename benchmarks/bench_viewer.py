"""Scrolling and window/level speed of the image view on a real 512x512 CT.

Measures frames per second of ``SeriesViewerWidget.set_slice`` (axial, and
coronal reformats) and ``set_window``, each followed by a synchronous repaint
of the whole widget (image, calipers, corner text), and of the same
operations on a bare pyqtgraph ``ImageItem`` in the same run (the baseline),
in interleaved rounds so that machine load affects both alike.  The design
target is at least 60 frames per second.

The layouts too (issue 12): 1x2 (current | comparison pane following by
patient position) and 2x2 (axial, coronal, sagittal linked by the crosshair,
and the comparison pane), each pane the size of the single view, scrolling
the axial pane and dragging its window; every step repaints the whole layout.
Their ratio is to the same bare single ImageItem (target >= 0.5x).

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
from viewer.image.layout import ViewerLayout  # noqa: E402
from viewer.image.prior import PriorSliceWidget  # noqa: E402
from viewer.image.view import SeriesViewerWidget  # noqa: E402

TARGET_FPS = 60.0
TARGET_RATIO = 0.5
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


class _Layout:
    """The image area in a layout: main pane, reformats and comparison pane, all linked."""

    def __init__(self, app, volume, name: str) -> None:
        self.n = volume.voxels.shape[0]
        self.main, self.prior = SeriesViewerWidget(), PriorSliceWidget()
        self.layout = ViewerLayout(self.main, self.prior)
        columns, rows = (2, 1) if name == "1x2" else (2, 2)
        self.layout.resize(SIZE[0] * columns, SIZE[1] * rows + 30)  # + the pane's header
        self.main.set_volume(volume)
        self.layout.set_layout(name)
        self.prior.show_series(volume, "baseline")
        rows_, cols_ = volume.voxels.shape[1:]
        # as viewer.main_window.comparison does: the comparison pane follows by z
        self.main.slice_changed.connect(
            lambda i: self.prior.follow(volume.index_to_lps(i, rows_ / 2, cols_ / 2))
        )
        self.layout.show()
        app.processEvents()

    def repaint(self) -> None:
        self.layout.repaint()

    def scroll(self, i: int) -> None:
        self.main.set_slice((i * 7) % self.n)

    def window(self, i: int) -> None:
        self.main.set_window(30 + i % 50, 150 + i % 80)


def _measure(app, volume, frames: int, rounds: int) -> dict[str, list[float]]:
    """Interleave rounds of each case so machine load hits them alike."""
    base, widget = _Baseline(app, volume.voxels), _Widget(app, volume)
    one_two, two_two = _Layout(app, volume, "1x2"), _Layout(app, volume, "2x2")
    results: dict[str, list[float]] = {
        k: [] for k in ("bs", "bw", "bc", "ws", "ww", "wc", "2s", "2w", "4s", "4w")
    }
    for target in (base, widget, one_two, two_two):  # warm-up
        _fps(target.scroll, 10, target.repaint)
    for _ in range(rounds):
        results["bs"].append(_fps(base.scroll, frames, base.repaint))
        results["ws"].append(_fps(widget.scroll, frames, widget.repaint))
        results["bw"].append(_fps(base.window, frames, base.repaint))
        results["ww"].append(_fps(widget.window, frames, widget.repaint))
        results["2s"].append(_fps(one_two.scroll, frames, one_two.repaint))
        results["2w"].append(_fps(one_two.window, frames, one_two.repaint))
        results["4s"].append(_fps(two_two.scroll, frames, two_two.repaint))
        results["4w"].append(_fps(two_two.window, frames, two_two.repaint))
    one_two.layout.close()
    two_two.layout.close()
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
        ("1x2 scroll", r["2s"], r["bs"]),
        ("1x2 window/level", r["2w"], r["bw"]),
        ("2x2 scroll", r["4s"], r["bs"]),
        ("2x2 window/level", r["4w"], r["bw"]),
    )
    ok = True
    for name, fps, base in cases:
        good = fps >= TARGET_FPS and fps / base >= TARGET_RATIO
        ok &= good
        print(  # noqa: T201
            f"{name:20s} widget {fps:7.1f} fps   bare ImageItem {base:7.1f} fps   "
            f"ratio {fps / base:5.2f}   target >= {TARGET_FPS:.0f} fps and "
            f">= {TARGET_RATIO}x: {'OK' if good else 'BELOW TARGET'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
