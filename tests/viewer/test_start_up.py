"""Start-up: an unwritable ``CALIPER_HOME`` gives a message box; the PACS controller comes later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.qt


def test_unwritable_home_shows_a_message_box(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.main as main

    home = tmp_path / "home"
    home.write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setenv("CALIPER_HOME", str(home))
    monkeypatch.delenv("CALIPER_DB", raising=False)
    shown: list[str] = []
    monkeypatch.setattr(
        main.QMessageBox, "critical", staticmethod(lambda _parent, _title, text: shown.append(text))
    )

    code = main.run_gui(None, demo=False)

    assert code == 2
    assert len(shown) == 1
    assert "CALIPER_HOME" in shown[0]
    assert "Traceback" not in shown[0]


def test_the_pacs_stand_in_loads_the_real_controller_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window starts with a stand-in (no pydicom/pynetdicom yet); the real one follows."""
    from app.main import _LazyPacsController
    from app.pacs.controller import PacsController

    monkeypatch.setenv("CALIPER_HOME", str(tmp_path))
    stand_in = _LazyPacsController()
    assert stand_in.node_names() == []
    stand_in.shutdown()  # nothing loaded: nothing to stop
    assert stand_in._real is None
    real = stand_in.load()
    assert isinstance(real, PacsController)
    assert stand_in.load() is real
    assert stand_in.node_names() == real.node_names()
    assert stand_in.cancel == real.cancel  # anything else goes to the real controller
    stand_in.shutdown()


def _run_gui_probe(script: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run *script* in a fresh interpreter, offscreen, on CALIPER_HOME *home* (no CALIPER_DB)."""
    environment = dict(os.environ, CALIPER_HOME=str(home), QT_QPA_PLATFORM="offscreen", **env)
    environment.pop("CALIPER_DB", None)
    return subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_window_is_shown_before_sqlalchemy_is_imported(tmp_path: Path) -> None:
    """``caliper`` shows its main window first; the database layer is imported after it."""
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(sys.argv[:1])\n"
        "import app.main as main\n"
        "def check():\n"
        "    w = getattr(app, 'main_window', None)\n"
        "    if w is None or not w.session.attached:\n"
        "        QTimer.singleShot(50, check)\n"
        "        return\n"
        "    print('attached; sqlalchemy imported:', 'sqlalchemy' in sys.modules, flush=True)\n"
        "    app.quit()\n"
        "QTimer.singleShot(50, check)\n"
        "print('code', main.run_gui(None, demo=False), flush=True)\n"
    )
    done = _run_gui_probe(script, tmp_path, CALIPER_STARTUP_PROBE="1")
    lines = [x for x in done.stdout.splitlines() if "sqlalchemy imported" in x or "code" in x]
    assert lines == [
        "window shown; sqlalchemy imported: False",
        "attached; sqlalchemy imported: True",
        "code 0",
    ], done.stdout + done.stderr


def test_the_pending_session_relays_every_session_signal() -> None:
    """The stand-in the window is built on knows every signal of ReadingSession."""
    from psygnal import Signal

    from app.pending_session import SESSION_SIGNALS, NotReadyError, PendingSession
    from app.session import ReadingSession

    real = sorted(n for n, v in vars(ReadingSession).items() if isinstance(v, Signal))
    assert sorted(SESSION_SIGNALS) == real
    pending = PendingSession()
    assert pending.patient is None
    assert pending.reader is None
    assert pending.patients() == []
    assert pending.commands.can_undo_redo() == (False, False)
    with pytest.raises(NotReadyError, match="still opening the database"):
        pending.open_patient("X")


#: Imported only once the window is up (or when their feature is used): the database layer,
#: DICOM, PACS, image processing, plotting, PDF, and Caliper's own heavy modules (issue 17).
NOT_BEFORE_THE_WINDOW = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "cryptography",
    "pydicom",
    "pynetdicom",
    "highdicom",
    "SimpleITK",
    "gdcm",
    "pylibjpeg",
    "imagecodecs",
    "scipy",
    "matplotlib",
    "pandas",
    "lifelines",
    "PIL",
    "psygnal",
    "storage.db",
    "storage.dicom",
    "app.session",
    "app.pacs",
    "app.segmentation",
    "app.cohort",
    "recist.evaluate",
    "recist.endpoints",
    "viewer.cohort",
)

#: The docks' contents and the comparison pane: imported when they are built, right after
#: the window's first paint (issue 17).
DOCK_CONTENTS = (
    "viewer.response",
    "viewer.lesions.table_view",
    "viewer.lesions.assign_bar",
    "viewer.main_window.patient_browser",
    "viewer.main_window.series_panel",
    "viewer.main_window.comparison",
    "viewer.dialogs.series_chooser",
)

#: Runs the real entry point (``caliper`` with no command) and, when "window shown" is
#: logged, prints what is on screen and which modules are loaded, then ends the process.
_WINDOW_SHOWN_PROBE = r"""
import gc, json, logging, os, sys

_info = logging.Logger.info
state = {}

def report():
    try:
        state["gc_enabled_after"] = gc.isenabled()
        print("STATE " + json.dumps(state), flush=True)
    finally:
        os._exit(0)

def info(self, msg, *args, **kwargs):
    _info(self, msg, *args, **kwargs)
    if isinstance(msg, str) and msg.startswith("window shown"):
        try:
            from PySide6.QtCore import QTimer
            from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QToolBar
            window = next(
                w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)
            )
            state.update({
                "class": type(window).__name__,
                "visible": window.isVisible(),
                "menus": [a.text() for a in window.menuBar().actions()],
                "toolbar": len(window.findChild(QToolBar, "mainToolbar").actions()),
                "docks": sorted(
                    d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()
                ),
                # the docks' contents and the comparison pane come after the first paint
                # (before, they were built with the window: no docks_built attribute)
                "dock_contents_built": getattr(window, "docks_built", True),
                "comparison_pane_built": hasattr(window, "prior"),
                # the coronal/sagittal panes are built for a 2x2 layout (issue 17)
                "reformats_built": getattr(window.layout_view, "_reformats", 1) is not None,
                "gc_enabled_while_building": gc.isenabled(),
                "modules": sorted(sys.modules),
            })
            QTimer.singleShot(0, report)  # once run_gui is back in the event loop
        except BaseException:
            report()
            raise

logging.Logger.info = info
from app.cli import main
main([])
"""


def test_when_the_window_shows_no_heavy_module_is_imported_yet(tmp_path: Path) -> None:
    """``caliper``: the real main window (menus, toolbar, panes) shows before the heavy imports.

    The docks' contents (patient browser, series panel, lesion table, response panel) and
    the comparison pane are built right after the first paint
    (:func:`test_the_docks_are_filled_before_the_database_opens`), the coronal and sagittal
    panes for a 2x2 layout; the modules of :data:`NOT_BEFORE_THE_WINDOW` load after the
    window shows.
    """
    import json

    done = _run_gui_probe(_WINDOW_SHOWN_PROBE, tmp_path)
    lines = [x for x in done.stdout.splitlines() if x.startswith("STATE ")]
    assert lines, done.stdout + done.stderr
    state = json.loads(lines[0][len("STATE ") :])
    assert state["class"] == "MainWindow"
    assert state["visible"]
    assert state["menus"][:4] == ["&File", "&Edit", "&View", "&Timepoint"]
    assert state["toolbar"] > 10
    assert {"Patients", "Lesions", "Response"} <= set(state["docks"])
    assert not state["dock_contents_built"]
    assert not state["comparison_pane_built"]
    assert not state["reformats_built"]
    assert not state["gc_enabled_while_building"]  # no collections while the window is built
    assert state["gc_enabled_after"]
    loaded = [
        m
        for m in state["modules"]
        if any(m == h or m.startswith(h + ".") for h in NOT_BEFORE_THE_WINDOW + DOCK_CONTENTS)
    ]
    assert loaded == []


#: Runs ``caliper`` and, when it starts opening the database, prints what the docks hold.
_DOCKS_PROBE = r"""
import json, os, sys
import app.main as main
from PySide6.QtWidgets import QApplication, QDockWidget

_open = main._open_and_log_in

def open_and_log_in(db_url, window):
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    lesions = docks["Lesions"].widget()
    state = {
        "contents": {
            title: type(docks[title].widget()).__name__
            for title in ("Patients", "Series", "Response")
        },
        "lesion_table_in_dock": window.lesion_table.parent() is lesions,
        "assign_bar_in_dock": window.assign_bar.parent() is lesions,
        "contents_visible": all(
            w.isVisible()
            for w in (window.browser, window.lesion_table, window.assign_bar, window.response_panel)
        ),
        "comparison_pane": type(window.layout_view.prior).__name__,
        "same_pane": window.layout_view.prior is window.prior is window.comparison.prior,
        "sqlalchemy": "sqlalchemy" in sys.modules,
    }
    print("STATE " + json.dumps(state), flush=True)
    os._exit(0)

main._open_and_log_in = open_and_log_in
from app.cli import main as cli
cli([])
"""


def test_the_docks_are_filled_before_the_database_opens(tmp_path: Path) -> None:
    """The docks' contents and the comparison pane follow the first paint at once.

    They are built (and shown) before the database is opened, so a slow database
    never leaves the reader with empty docks.
    """
    import json

    done = _run_gui_probe(_DOCKS_PROBE, tmp_path)
    lines = [x for x in done.stdout.splitlines() if x.startswith("STATE ")]
    assert lines, done.stdout + done.stderr
    state = json.loads(lines[0][len("STATE ") :])
    assert state == {
        "contents": {
            "Patients": "PatientBrowserWidget",
            "Series": "SeriesPanelWidget",
            "Response": "ResponsePanelWidget",
        },
        "lesion_table_in_dock": True,
        "assign_bar_in_dock": True,
        "contents_visible": True,
        "comparison_pane": "PriorSliceWidget",
        "same_pane": True,
        "sqlalchemy": False,
    }


@pytest.mark.parametrize("remembered", [False, True], ids=["first start", "window.ini"])
def test_docks_filled_after_the_first_paint_are_laid_out_as_when_built_at_once(
    qtbot: Any, tmp_path: Path, remembered: bool
) -> None:
    """``build_docks_later``: once filled, the docks have the sizes of a window built complete.

    On a first start Qt splits the left column (patients / series) by the contents' size
    hints; filled later, the docks would keep the equal split of their empty frames.  Sizes
    remembered in ``window.ini`` stay as remembered.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app.main import SeriesLibrary
    from app.pending_session import PendingSession
    from viewer.main_window.window import MainWindow

    settings = str(tmp_path / "window.ini")
    if remembered:  # a window of an earlier start, its docks resized by the reader, closed
        earlier = MainWindow(
            PendingSession(), SeriesLibrary(tmp_path / "s.json"), settings_path=settings
        )
        qtbot.addWidget(earlier)
        earlier.show()
        qtbot.waitExposed(earlier)
        docks = earlier.docks
        earlier.resizeDocks(
            [docks["Patients"], docks["Series"]], [150, 450], Qt.Orientation.Vertical
        )
        earlier.resizeDocks([docks["Lesions"]], [520], Qt.Orientation.Horizontal)
        QApplication.processEvents()
        earlier.save_settings()
        earlier.hide()

    def laid_out(later: bool) -> tuple[dict[str, tuple[int, int, int, int]], MainWindow]:
        window = MainWindow(
            PendingSession(),
            SeriesLibrary(tmp_path / "s.json"),
            settings_path=settings if remembered else None,
            build_docks_later=later,
        )
        qtbot.addWidget(window)
        window.restore_settings()
        window.show()
        qtbot.waitExposed(window)
        assert window.docks_built is not later
        window.finish_building()
        QApplication.processEvents()
        rects = {title: dock.geometry().getRect() for title, dock in window.docks.items()}
        window.hide()
        return rects, window

    at_once, _ = laid_out(later=False)
    filled_later, window = laid_out(later=True)
    assert filled_later == at_once
    patients, series = at_once["Patients"], at_once["Series"]
    assert patients[3] != series[3]  # not an equal split (the case this test is about)
    assert window.docks["Lesions"].widget().isAncestorOf(window.lesion_table)
    assert window.docks["Response"].widget() is window.response_panel


_SIGTERM_WHILE_FILLING_PROBE = r"""
import os, signal, time
import viewer.main_window.window as window_module

fill = window_module.MainWindow.finish_building

def finish_building(self):
    os.kill(os.getpid(), signal.SIGTERM)  # as File > Quit: the window closes, settings saved
    time.sleep(0.05)
    return fill(self)

window_module.MainWindow.finish_building = finish_building
import app.main as main
print("code", main.run_gui(None, demo=False), flush=True)
"""


def test_sigterm_while_the_docks_are_filled_quits(tmp_path: Path) -> None:
    """The docks are filled before the event loop runs: a SIGTERM then still ends ``caliper``.

    The window closes as with File > Quit (its settings saved) and ``run_gui`` returns 0
    instead of entering the event loop with no window.
    """
    done = _run_gui_probe(_SIGTERM_WHILE_FILLING_PROBE, tmp_path)
    assert "code 0" in done.stdout.splitlines(), done.stdout + done.stderr
    assert (tmp_path / "config" / "window.ini").is_file()  # closed as File > Quit does
