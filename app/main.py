"""The composition root: the QApplication, the database, the reader, the main window.

``run_gui(db_url, demo)`` is what ``caliper`` with no sub-command runs.  It is
the one ``app`` module that imports Qt and the viewer: it opens the database,
logs a reader in, wires a :class:`~app.session.ReadingSession` to the
:class:`~viewer.main_window.window.MainWindow` and hands the window a
:class:`SeriesLibrary` (the viewer itself never imports ``storage``).

On an empty database Caliper asks for the first administrator (or, where no
one can answer a dialog, creates ``system`` and a local reader) and opens the
bundled demo study (``resources/demo``) so that a new reader sees a working
screen at once; ``--demo`` opens it directly.
"""

from __future__ import annotations

import contextlib
import gc
import getpass
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from PySide6.QtCore import QEventLoop, QSettings, QSocketNotifier, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox

from app import demo, pyside_hook
from app.demo import DEMO_FOLDER, DEMO_SUBJECT_ID
from recist.model import Reader, Role

# Heavy modules (pyqtgraph, SQLAlchemy + Alembic, pydicom, the viewer) are imported
# inside the functions that need them, after the splash screen is up: importing them
# takes seconds on a slow disk and the reader should see Caliper start at once.
if TYPE_CHECKING:
    from storage.db import Database
    from viewer.image.loading import SeriesLibrary as OpensSeries
    from viewer.main_window.window import MainWindow

__all__ = [
    "DEMO_FOLDER",
    "DEMO_SUBJECT_ID",
    "can_ask",
    "log_in",
    "SeriesChoice",
    "SeriesLibrary",
    "build_main_window",
    "exit_process",
    "open_demo",
    "render_volume_png",
    "run_gui",
]

log = logging.getLogger("caliper")

_LOCAL_READER_FILE = "local_reader.txt"


@dataclass(frozen=True)
class SeriesChoice:
    """One image series of a source, as the series chooser lists it (Qt-free)."""

    series_instance_uid: str
    series_description: str
    modality: str
    n_images: int
    series_number: int | None = None
    patient_id: str = ""
    study_date: str = ""
    thumbnail: Any = field(default=None, repr=False, compare=False)  # 2-D array, middle image


class SeriesLibrary:
    """Opens series and remembers where each was found (``series_locations.json``).

    Volumes are kept by *instance set* (series UID + a digest of its SOP
    Instance UIDs, :func:`viewer.image.volume.instance_set_key`): one series
    read from two folders holding different files (a 14-slice excerpt, the
    whole series) gives two volumes that are never taken for each other.

    Parameters
    ----------
    index_file : pathlib.Path
        JSON file mapping series instance UIDs to the folders they were loaded
        from, most recent first.
    """

    def __init__(self, index_file: Path) -> None:
        self._index_file = index_file
        self._volumes: dict[str, Any] = {}  # instance-set key -> volume, most recent last
        self._loaded: set[tuple[str, str]] = set()  # (series UID, folder) read this session
        try:
            data = json.loads(index_file.read_text(encoding="utf-8"))
            self._paths: dict[str, list[str]] = {
                str(uid): [where] if isinstance(where, str) else [str(p) for p in where]
                for uid, where in dict(data).items()
            }
        except (OSError, ValueError, TypeError):
            self._paths = {}

    def scan_folder(self, path: str | Path) -> list[SeriesChoice]:
        """The image series under *path*, each with a thumbnail of its middle image."""
        from storage.dicom import scan

        return [
            SeriesChoice(
                info.series_instance_uid,
                info.series_description,
                info.modality,
                info.n_images,
                info.series_number,
                info.patient_id,
                info.study_date,
                _middle_image(info),
            )
            for info in scan(path).series
        ]

    def open_folder(
        self,
        path: str | Path,
        on_progress: Callable[[int, int], None] | None = None,
        series_uid: str | None = None,
    ) -> Any:
        """Load an image series under *path* and remember its place.

        *series_uid* picks the series when *path* holds several; None loads the
        largest (the window asks the reader first, see :meth:`scan_folder`).
        """
        from storage.dicom import load_series
        from viewer.image.volume import instance_set_key

        volume = load_series(path, series_uid=series_uid, on_progress=on_progress)
        uid, key = volume.series_instance_uid, instance_set_key(volume)
        self._volumes.pop(key, None)
        self._volumes[key] = volume  # most recent last
        self._loaded.add((uid, str(path)))
        places = self._paths.setdefault(uid, [])
        if places[:1] != [str(path)]:
            places[:] = [str(path)] + [p for p in places if p != str(path)]
            try:
                self._index_file.write_text(json.dumps(self._paths, indent=1), encoding="utf-8")
            except OSError as exc:  # losing the index only costs a later "Open folder…"
                log.warning("could not save the series index %s: %s", self._index_file, exc)
        return volume

    def folders(self, series_instance_uid: str) -> list[str]:
        """The folders *series_instance_uid* was opened from, most recent first."""
        return list(self._paths.get(series_instance_uid, []))

    def volume(self, series_instance_uid: str, sop_instance_uids: Iterable[str] = ()) -> Any:
        """The series as loaded before or re-read from where it was found; None if unknown.

        With *sop_instance_uids* (the images measurements were drawn on) the
        volume holding most of them wins; among equals the most recently opened.
        """
        wanted = set(sop_instance_uids)

        def held(volume: Any) -> int:
            return len(wanted.intersection(volume.sop_instance_uids))

        cached = [
            v
            for v in reversed(self._volumes.values())
            if v.series_instance_uid == series_instance_uid
        ]
        best = max(cached, key=held, default=None)  # max keeps the first (most recent) of equals
        for path in self._paths.get(series_instance_uid, []):
            if best is not None and held(best) == len(wanted):
                break
            if (series_instance_uid, path) in self._loaded or not Path(path).exists():
                continue
            try:
                volume = self.open_folder(path, series_uid=series_instance_uid)  # may hold several
            except Exception as exc:  # noqa: BLE001 - a moved or damaged folder: try the next
                log.warning(
                    "could not re-read series %s from %s: %s", series_instance_uid, path, exc
                )
                self._loaded.add((series_instance_uid, path))
                continue
            if best is None or held(volume) > held(best):
                best = volume
        return best


def _middle_image(info: Any, size: int = 128) -> Any:
    """The middle image of a scanned series, at most *size* pixels wide; None if undecodable."""
    import numpy as np

    from storage.dicom.pixels import FrameDecoder

    images = [(head, frame) for head in info.headers for frame in head.frames]
    if not images:
        return None
    head, frame = images[len(images) // 2]
    try:
        out = np.zeros((head.rows, head.columns), dtype=np.float32)
        FrameDecoder(np.dtype(np.float32)).decode(head, frame, out)
    except Exception as exc:  # noqa: BLE001 - a chooser without a thumbnail still works
        log.info("no thumbnail for series %s: %s", info.series_instance_uid, exc)
        return None
    step = max(1, -(-max(out.shape) // size))
    return np.ascontiguousarray(out[::step, ::step])


def render_volume_png(*args: Any, **kwargs: Any) -> None:
    """:func:`viewer.image.render.render_volume_png` (for ``caliper --self-check``)."""
    from viewer.image.render import render_volume_png as render

    render(*args, **kwargs)


def _local_reader(database: Database, humans: list[Reader]) -> Reader | None:
    """This workstation's password-less reader; created only when the database has no reader."""
    from storage import paths

    marker = paths.config_dir() / _LOCAL_READER_FILE
    known = marker.read_text(encoding="utf-8").strip() if marker.exists() else ""
    local = next((r for r in humans if r.username == known), None)
    if local is not None or humans:
        return local
    username = getpass.getuser() or "reader"
    reader = database.readers.create(username, f"{username} (local reader)", Role.READER, None)
    marker.write_text(username, encoding="utf-8")
    return reader


def can_ask() -> bool:
    """False where no one can answer a dialog (the offscreen and minimal platforms of tests)."""
    return QApplication.platformName() not in ("offscreen", "minimal")


def log_in(
    database: Database,
    before_dialog: Callable[[], object] | None = None,
    *,
    ask_first_admin: bool | None = None,
) -> Reader | None:
    """The reader for this session: the first administrator, the local reader, or whoever logs in.

    On a database without readers (but the system account) the first start asks
    for the first administrator (:class:`FirstAdminDialog`), who then adds readers
    and investigators in Admin → Readers….  Where no one can answer a dialog
    (*ask_first_admin* False; by default on the offscreen platform) it creates
    ``system`` as ``caliper db init`` does and a local reader without a password
    instead.  When readers exist a login dialog is shown; the local reader, if
    this workstation created one, continues with an empty password.  A reader
    whose password an administrator reset chooses a new one before going on.
    """
    from storage.db import SYSTEM_USERNAME
    from viewer.dialogs.login import LoginDialog

    humans = [r for r in database.readers.list() if r.username != SYSTEM_USERNAME and r.active]
    if not humans:
        if can_ask() if ask_first_admin is None else ask_first_admin:
            if before_dialog is not None:
                before_dialog()
            return _ask_first_admin(database)
        database.readers.ensure_system()  # so that `caliper reader add --as system` works later
    local = _local_reader(database, humans)
    if local is not None and all(r.username == local.username for r in humans):
        return local

    def authenticate(username: str, password: str) -> Reader:
        if local is not None and username == local.username and not password:
            return local
        return _authenticate(database, username, password)

    names = [r.username for r in humans]
    last = _last_reader()
    for first in (local.username if local is not None else None, last):
        if first in names:  # the last reader who logged in here first, then the local reader
            names.remove(first)
            names.insert(0, first)
    if before_dialog is not None:
        before_dialog()  # e.g. close the splash, which would sit on top of the dialog
    dialog = LoginDialog(names, authenticate)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    _remember_reader(dialog.reader.username)
    return cast(Reader, dialog.reader)


#: The key in window.ini of the last reader who logged in on this workstation (offered first).
LAST_READER_SETTING = "session/last_reader"


def _window_ini() -> QSettings:
    """This workstation's window.ini (the file the window remembers its state in)."""
    from storage import paths

    return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)


def _last_reader() -> str | None:
    value = _window_ini().value(LAST_READER_SETTING, "")
    return str(value) if value else None


def _remember_reader(username: str) -> None:
    _window_ini().setValue(LAST_READER_SETTING, username)


NO_ADMIN_MESSAGE = (
    "Caliper needs an administrator to start on a new database. Start Caliper again and "
    "create one, or on the command line run `caliper db init`, then `caliper reader add "
    '--username U --name "Full Name" --role admin --as system`.'
)


def _ask_first_admin(database: Database) -> Reader | None:
    """Show :class:`FirstAdminDialog`; the administrator created, or None if cancelled."""
    from app.readers import create_first_admin
    from viewer.dialogs.first_admin import FirstAdminDialog

    dialog = FirstAdminDialog(
        lambda username, name, password, repeat: create_first_admin(
            database, username, name, password, repeat
        )
    )
    if dialog.exec() == QDialog.DialogCode.Accepted:
        admin: Reader = dialog.reader
        log.info("first administrator %s created", admin.username)
        return admin
    QMessageBox.information(None, "Caliper", NO_ADMIN_MESSAGE)
    return None


def _authenticate(database: Database, username: str, password: str) -> Reader:
    """Check the password; after an administrator's reset, the reader chooses a new one first."""
    from storage.db import AuthenticationError
    from storage.db.readers import PasswordChangeRequiredError
    from viewer.dialogs.new_password import NewPasswordDialog

    try:
        return database.readers.authenticate(username, password)
    except PasswordChangeRequiredError:
        dialog = NewPasswordDialog(
            username,
            lambda new, _repeat: database.readers.change_password(username, password, new),
            QApplication.activeModalWidget(),
        )
        if dialog.exec() == QDialog.DialogCode.Accepted:
            reader: Reader = dialog.reader
            return reader
        raise AuthenticationError(
            f"{username} must choose a new password to log in (an administrator reset it)"
        ) from None


def open_demo(session: Any, library: OpensSeries) -> None:
    """Open the demo patient, creating it if needed (:func:`app.demo.open_demo`)."""
    from viewer.image.overlays import make_geometry

    demo.open_demo(session, library, make_geometry)


def build_main_window(
    database: Database,
    reader: Reader,
    library: SeriesLibrary | None = None,
    *,
    pacs_controller: Any = None,
    remember_settings: bool = False,
) -> MainWindow:
    """A main window for *reader* on *database* (tests build it this way too).

    *pacs_controller* (an ``app.pacs.controller.PacsController``) is behind File → Find on PACS…;
    without one that action is disabled.  Trial → Cohort… reads the same database.
    With *remember_settings*, geometry, tool, preset and the last patient are kept in
    ``window.ini`` in the user's config folder.
    """
    from app.readers import ReaderAdminController
    from app.session import ReadingSession
    from storage import paths
    from viewer.main_window.window import MainWindow
    from viewer.style import configure_graphics

    configure_graphics()  # pg.setConfigOptions(imageAxisOrder="row-major"), once, before any view
    library = library or SeriesLibrary(paths.config_dir() / "series_locations.json")
    from app.cohort.controller import CohortController
    from app.exports import ExportController

    window = MainWindow(
        ReadingSession(database, reader),
        library,
        pacs_controller=pacs_controller,
        cohort_controller=CohortController(database),
        settings_path=str(paths.config_dir() / "window.ini") if remember_settings else None,
        readers_controller=ReaderAdminController(database, reader),
        export_controller=ExportController(database),
    )
    window.database = database  # type: ignore[attr-defined]  # kept with its window; MainWindow has no such field
    return window


def _splash() -> QLabel:
    """A plain splash shown while the heavy modules load.

    A QLabel with splash flags, not QSplashScreen: its ``show()`` blocks up to
    1 s waiting for the window to be exposed.
    """
    splash = QLabel("Caliper\n\nopening the database…")
    splash.setWindowFlags(Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    splash.setAlignment(Qt.AlignmentFlag.AlignCenter)
    splash.setStyleSheet("background: #1e2126; color: #d8dde3; font-size: 13pt; padding: 24px;")
    splash.resize(420, 140)
    splash.show()
    return splash


def _show_crash(summary: str, report: Path) -> None:
    if threading.current_thread() is not threading.main_thread() or QApplication.closingDown():
        # A dialog from a worker thread (or while quitting) hangs the program on a black
        # window; the report is saved and logged, which is what the reader needs then.
        message = f"caliper: {summary}; a report was saved to {report}"
        print(message, file=sys.stderr)  # noqa: T201 - no dialog now: the terminal and the log
        return
    box = QMessageBox(
        QMessageBox.Icon.Critical, "Caliper", "Caliper ran into an unexpected problem."
    )
    box.setInformativeText(f"{summary}\n\nA report was saved to {report}.")
    box.exec()


def run_gui(db_url: str | None, demo: bool, open_path: str | None = None) -> int:
    """Start the workstation; return the exit code.

    Parameters
    ----------
    db_url : str or None
        Database URL or SQLite file; None uses ``$CALIPER_DB`` or the user data folder.
    demo : bool
        Open the bundled demo study at once.
    open_path : str or None
        A folder, zip, DICOMDIR or file to open once the window is up (``caliper PATH``).

    Returns
    -------
    int
        0 on a normal exit, 1 when the database cannot be opened or no one logs in, 2 when
        the user folders cannot be created (e.g. an unwritable ``CALIPER_HOME``; a message
        box says so).

    The log counts from process start (:func:`app.seconds_since_start`): "splash window
    shown", "window shown" (the main window) and "first slice shown".
    """
    from app import seconds_since_start

    pyside_hook.install()  # before the heavy imports: each one passes PySide6's import hook
    started = time.perf_counter()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Caliper")
    app.setStyle("Fusion")  # before the first window: the platform's own style costs ~1 s to load
    splash = _splash()
    app.processEvents()
    splash_seconds = time.perf_counter() - started
    splash_since_start = seconds_since_start()
    from app.diagnostics import configure_logging, install_excepthook
    from storage.paths import UserFolderError

    try:
        configure_logging()
    except UserFolderError as exc:  # e.g. an unwritable CALIPER_HOME: say so, no traceback
        splash.close()
        QMessageBox.critical(None, "Caliper", f"Caliper cannot start.\n\n{exc}")
        return 2
    log.info("splash window shown %.2f s after process start", splash_since_start)
    from viewer.style import apply_dark_theme

    apply_dark_theme(app)
    install_excepthook(_show_crash)
    pacs_controller = _LazyPacsController()
    app.aboutToQuit.connect(pacs_controller.shutdown)  # cancel a retrieve, stop its thread
    # The window first, on a session without database or reader: importing the database
    # layer (SQLAlchemy, the ORM, the audit trail) and logging in come after it is shown.
    window = _build_window_shell(pacs_controller)
    last_patient = window.restore_settings()
    window.show()
    window.statusBar().showMessage("Starting…")
    splash.close()
    # painted once; the reader's input waits until the docks are filled (below)
    app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    startup_seconds = time.perf_counter() - started
    # timings read by tests/viewer/test_main_window.py (a subprocess start-up measurement)
    window.splash_seconds = splash_seconds  # type: ignore[attr-defined]  # set for the timing test only
    window.startup_seconds = startup_seconds  # type: ignore[attr-defined]  # as splash_seconds
    # read by benchmarks/bench_fast.py (row "window"): seconds since the process started
    log.info("window shown %.2f s after process start", seconds_since_start())
    gc.enable()  # off while the window was built when started by ``caliper`` (app.cli)
    if os.environ.get(_PROBE_ENV):  # tests/viewer/test_start_up.py: nothing heavy so far
        print(f"window shown; sqlalchemy imported: {'sqlalchemy' in sys.modules}", flush=True)  # noqa: T201
    app.main_window = window  # type: ignore[attr-defined]  # found by tests
    opened: list[Database] = []

    def stop(code: int) -> None:
        window.hide()  # not closed: nothing of this start is saved in window.ini
        app.exit(code)

    def finish() -> None:
        database = _open_and_log_in(db_url, window)
        if database is None:
            stop(1)
            return
        opened.append(database)
        window.statusBar().clearMessage()
        from viewer.main_window.ui_map import install_ui_map

        # $CALIPER_UI_MAP (e2e tests): the first map is of the window with its reader
        window.ui_map = install_ui_map(window)  # type: ignore[attr-defined]  # for the e2e tests
        _log_first_slice(window)
        QTimer.singleShot(0, lambda: pacs_controller.load(window))
        first_start = not window.session.patients()
        if demo or first_start:
            QTimer.singleShot(0, lambda: _open_demo_in(window, started))
        else:
            known = [p.subject_id for p in window.session.patients()]
            subject = last_patient if last_patient in known else known[0]
            QTimer.singleShot(0, lambda: window.session.open_patient(subject))
        if open_path:
            QTimer.singleShot(0, lambda: _open_at_start(window, open_path))

    restore_signals = _quit_on_signals(app)
    try:
        window.finish_building()  # the docks' contents and the comparison pane
        app.processEvents()  # painted, and the reader's input delivered, before the database opens
        if not window.isVisible():  # closed by SIGTERM / SIGINT meanwhile: no event loop
            return 0
        QTimer.singleShot(0, finish)
        code = app.exec()
    finally:
        restore_signals()
    for database in opened:
        database.close()
    return int(code)


#: Set by tests/viewer/test_start_up.py: print whether SQLAlchemy was imported when the
#: window was shown (it must not be).
_PROBE_ENV = "CALIPER_STARTUP_PROBE"


def _build_window_shell(pacs_controller: Any) -> MainWindow:
    """The main window on a :class:`app.pending_session.PendingSession` (no database yet)."""
    from app.pending_session import PendingSession
    from storage import paths
    from viewer.main_window.window import MainWindow
    from viewer.style import configure_graphics

    configure_graphics()  # pg.setConfigOptions(imageAxisOrder="row-major"), once, before any view
    return MainWindow(
        PendingSession(),
        SeriesLibrary(paths.config_dir() / "series_locations.json"),
        pacs_controller=pacs_controller,
        settings_path=str(paths.config_dir() / "window.ini"),
        build_docks_later=True,  # their contents right after the first paint (run_gui)
    )


def _open_and_log_in(db_url: str | None, window: MainWindow) -> Database | None:
    """Open the database, log the reader in and hand *window* its session; None if not."""
    from storage.db import open_database

    try:
        database = open_database(db_url)
    except Exception as exc:  # the reader must see why Caliper cannot start
        QMessageBox.critical(window, "Caliper", f"Could not open the database.\n\n{exc}")
        return None
    reader = log_in(database)
    if reader is None:
        database.close()
        return None
    from app.cohort.controller import CohortController
    from app.exports import ExportController
    from app.readers import ReaderAdminController
    from app.session import ReadingSession

    window.session.attach(ReadingSession(database, reader))
    window.database = database  # type: ignore[attr-defined]  # kept with its window; MainWindow has no such field
    window.attach_session(
        readers_controller=ReaderAdminController(database, reader),
        cohort_controller=CohortController(database),
        export_controller=ExportController(database),
    )
    return database


class _LazyPacsController:
    """Stands in for ``app.pacs.controller.PacsController`` until the window is shown.

    Importing it imports pydicom, pynetdicom and the DICOMweb client (about a fifth of
    the start-up); the window is built with this stand-in, which knows no PACS node yet,
    and :meth:`load` (run once the window is up) imports the real controller and updates
    "Find on PACS…".  Any other use loads it at once.
    """

    def __init__(self) -> None:
        self._real: Any = None

    def load(self, window: MainWindow | None = None) -> Any:
        """The real controller (imported now if need be); refresh *window*'s PACS action."""
        if self._real is None:
            from app.pacs.controller import PacsController

            self._real = PacsController()
        if window is not None:
            window.pacs.update_action()
        return self._real

    def node_names(self) -> list[str]:
        """No node until :meth:`load` (the window asks again when the File menu opens)."""
        return [] if self._real is None else list(self._real.node_names())

    def shutdown(self) -> None:
        """Stop the real controller's worker, if it was ever loaded."""
        if self._real is not None:
            self._real.shutdown()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


def _log_first_slice(window: MainWindow, give_up: float = 120.0) -> None:
    """Log "first slice shown" (seconds since process start) once the viewer shows an image."""
    from app import seconds_since_start

    timer = QTimer(window)

    def check() -> None:
        if window.viewer.volume is None:
            if seconds_since_start() > give_up:
                timer.stop()
            return
        timer.stop()
        QApplication.processEvents()  # the slice is painted before the clock is read
        log.info("first slice shown %.2f s after process start", seconds_since_start())

    timer.timeout.connect(check)
    timer.start(10)


def exit_process(code: int) -> NoReturn:
    """End the process at once after the GUI has shut down in order (never returns).

    By then the window has cancelled its loads and saved its settings and the
    database is closed.  What is left is the interpreter's own teardown, which
    frees every module and Qt wrapper one by one and takes 1–2 s on a busy
    workstation — a reader who quits sees a process that lingers.  The exit
    handlers (decode worker processes, logging) still run; only that teardown is
    skipped.
    """
    import atexit

    try:
        atexit._run_exitfuncs()
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _quit_on_signals(app: QApplication) -> Callable[[], None]:
    """Make SIGTERM and SIGINT close the windows as File → Quit does; return an undo.

    Python runs signal handlers only when it gets control, and Qt's event loop
    keeps it in C++: the signal's wake-up byte on a socket pair wakes a
    :class:`QSocketNotifier`, so the handler runs at once.
    """
    receiver, sender = socket.socketpair()
    receiver.setblocking(False)
    sender.setblocking(False)
    notifier = QSocketNotifier(receiver.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            receiver.recv(64)

    def quit_app(signum: int, _frame: object) -> None:
        log.info("quit on %s", signal.Signals(signum).name)
        app.closeAllWindows()  # the main window cancels its loads and saves its settings
        app.quit()

    notifier.activated.connect(drain)
    previous_fd = signal.set_wakeup_fd(sender.fileno())
    previous = {sig: signal.signal(sig, quit_app) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        receiver.close()
        sender.close()

    return restore


def _open_at_start(window: MainWindow, path: str) -> None:
    log.info("opening at start: %s", path)
    window.open_folder(path)


def _open_demo_in(window: MainWindow, started: float) -> None:
    try:
        open_demo(window.session, window.library)
    except Exception as exc:  # the empty workstation still works without the demo
        log.exception("could not open the demo study")
        QMessageBox.warning(window, "Caliper", f"Could not open the demo study.\n\n{exc}")
        return
    first = next((x for x in window.session.lesions() if x.code == "T1"), None)
    if first is not None:  # show T1 with its baseline key slice beside it
        window.lesion_table.select_lesion(first.id)
    demo_ready_seconds = time.perf_counter() - started
    window.demo_ready_seconds = demo_ready_seconds  # type: ignore[attr-defined]  # for the timing test
    window.statusBar().showMessage(
        "Demo study DEMO-001: real liver metastases at baseline; the C3 follow-up is SIMULATED "
        "(see resources/demo/README.md).",
        15000,
    )
    log.info("demo study ready %.2f s after start", demo_ready_seconds)
