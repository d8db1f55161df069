"""Drive the real Caliper program through X input events, as a reader would.

Everything here acts from outside the process: ``xdotool`` sends real
(XTEST) key and mouse events to the X server, screenshots are grabbed from
the X server with Pillow, and the program's state is read after the fact
from what it leaves behind: the database through the ``caliper`` console
script (``timeline export``, ``audit verify``, ``audit export``), its log
file and crash reports in ``$CALIPER_HOME/logs``.

Where to click comes from the map the program writes when started with
``CALIPER_UI_MAP=path`` (``viewer/main_window/ui_map.py``): global rectangles
of named widgets, toolbar buttons, menu items, dialog buttons, lesion table
rows, and the pixel-to-screen mapping of the displayed slice.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageGrab

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The program under test: the installed console script, or another build (e.g. the
#: PyInstaller folder's ``dist/caliper/caliper``) named by ``$CALIPER_E2E_PROGRAM``.
CALIPER = Path(os.environ.get("CALIPER_E2E_PROGRAM") or Path(sys.executable).with_name("caliper"))

Rect = Sequence[int]
Point = tuple[float, float]


class UiTimeout(AssertionError):
    """The program did not reach the expected state in time (the last map is in the message)."""


def centre(rect: Rect) -> tuple[int, int]:
    """The centre of a ``[x, y, width, height]`` rectangle."""
    x, y, w, h = rect
    return int(x + w / 2), int(y + h / 2)


class CaliperProgram:
    """One running ``caliper`` process on an X display, with its own ``CALIPER_HOME``.

    Parameters
    ----------
    display : str
        The X display (``":45"``).
    home : pathlib.Path
        The program's ``CALIPER_HOME`` (database, logs, config); kept across restarts.
    shots : pathlib.Path
        Folder for screenshots.
    xdotool : str
        Path of the ``xdotool`` program (from ``tests.system_tools.system_tool``).
    """

    def __init__(self, display: str, home: Path, shots: Path, xdotool: str) -> None:
        self.display, self.home, self.shots, self.xdotool = display, home, shots, xdotool
        self.map_path = home / "ui_map.json"
        self.process: subprocess.Popen[bytes] | None = None
        self.window_id: str | None = None
        self.stderr_path = home / "stderr.txt"

    # -- the process ---------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The environment of the program and of its command-line calls."""
        env = {k: v for k, v in os.environ.items() if k not in ("CALIPER_DB", "CALIPER_READER")}
        env.update(
            DISPLAY=self.display,
            QT_QPA_PLATFORM="xcb",
            CALIPER_HOME=str(self.home),
            CALIPER_UI_MAP=str(self.map_path),
        )
        return env

    def start(
        self,
        *args: str,
        password: str | None = None,
        first_admin: tuple[str, str, str] | None = None,
        timeout: float = 40.0,
    ) -> CaliperProgram:
        """Start ``caliper ARGS`` and wait until its main window is on screen.

        With *first_admin* ``(full name, username, password)``, a new database's
        "first administrator" dialog is expected first and filled in (Tab between
        its fields, Return).  With *password*, the login dialog is expected: the
        password is typed into it (it has the focus) and Return logs the first
        listed reader in.
        """
        self.map_path.unlink(missing_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(CALIPER), *args],
                env=self.env(),
                stdout=err,
                stderr=err,
                cwd=self.home,
                start_new_session=True,
            )
        if first_admin is not None:
            dialog = self.xdo(
                "search", "--sync", "--onlyvisible", "--name", "first administrator$",
                timeout=timeout,
            ).split()[0]  # fmt: skip
            self.xdo("windowfocus", "--sync", dialog)
            full_name, username, secret = first_admin
            for i, text in enumerate((full_name, username, secret, secret)):
                if i:
                    self.key("Tab")
                self.type(text)
            self.key("Return")
        if password is not None:
            login = self.xdo(
                "search", "--sync", "--onlyvisible", "--name", "log in$", timeout=timeout
            ).split()[0]
            self.xdo("windowfocus", "--sync", login)
            self.type(password)
            self.key("Return")
        ui = self.wait_ui(lambda m: m["window"][2] > 0, timeout=timeout, what="the first UI map")
        self.window_id = str(ui["window_id"])
        deadline = time.monotonic() + timeout
        while True:  # the map's window is the visible "Caliper — …" X window
            found = self.xdo("search", "--onlyvisible", "--name", "^Caliper — ", timeout=timeout)
            if self.window_id in found.split():
                break
            assert time.monotonic() < deadline, f"window {self.window_id} not among {found}"
            time.sleep(0.1)
        self.xdo("windowfocus", "--sync", self.window_id)
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate the program (SIGTERM, then SIGKILL); its exit code, None if killed."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
            return None

    def wait_exit(self, timeout: float) -> int | None:
        """The exit code once the program exits within *timeout* seconds, else None."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    # -- reading what the program left behind ---------------------------------------------
    def cli(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``caliper ARGS`` on the program's database (the console script, not an import)."""
        self.home.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(CALIPER), *args],
            env=self.env(),
            capture_output=True,
            text=True,  # noqa: S603
            input=stdin,
            cwd=self.home,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"caliper {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def timeline(self, patient: str = "DEMO-001") -> dict[str, Any]:
        """``caliper timeline export --patient PATIENT`` as a dict."""
        return json.loads(self.cli("timeline", "export", "--patient", patient).stdout)

    def audit_verify(self) -> str:
        """``caliper audit verify`` output; raises when the trail is not intact."""
        return self.cli("audit", "verify").stdout

    def audit_events(self) -> list[dict[str, str]]:
        """The audit trail as rows (``caliper audit export``)."""
        out = self.home / "audit.csv"
        self.cli("audit", "export", "--out", str(out))
        with out.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def log_text(self) -> str:
        """The program's log file (``$CALIPER_HOME/logs/caliper.log``)."""
        path = self.home / "logs" / "caliper.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def crash_reports(self) -> list[Path]:
        """Crash reports the program saved (``crash-*.txt``)."""
        return sorted((self.home / "logs").glob("crash-*.txt"))

    def stderr_text(self) -> str:
        """What the program printed on stdout and stderr."""
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    # -- the UI map ----------------------------------------------------------------------
    def ui(self) -> dict[str, Any]:
        """The program's latest UI map (``CALIPER_UI_MAP``)."""
        return json.loads(self.map_path.read_text(encoding="utf-8"))

    def wait_ui(
        self,
        predicate: Callable[[dict[str, Any]], Any],
        timeout: float = 30.0,
        what: str = "the expected screen",
    ) -> dict[str, Any]:
        """Poll the UI map until ``predicate(map)`` is true; that map.

        The bound only matters when the screen never comes: a shared, loaded machine took over
        10 s to open the sign dialog (an Argon2id key derivation behind it) once.
        """
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise UiTimeout(
                    f"caliper exited ({self.process.returncode}) waiting for {what}:\n"
                    f"{self.stderr_text()[-2000:]}"
                )
            try:
                last = self.ui()
                if predicate(last):
                    return last
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                pass
            time.sleep(0.05)
        with contextlib.suppress(Exception):  # what the screen showed, beside the other shots
            self.screenshot(f"timeout-{time.strftime('%H%M%S')}")
        raise UiTimeout(
            f"timed out after {timeout} s waiting for {what}; last map: {json.dumps(last)[:3000]}"
        )

    def settle(self, seconds: float = 0.3) -> dict[str, Any]:
        """Wait until the map has not changed for *seconds*; that map."""
        deadline, serial, since = time.monotonic() + 15, None, time.monotonic()
        while time.monotonic() < deadline:
            current = self.ui()["serial"]
            if current != serial:
                serial, since = current, time.monotonic()
            elif time.monotonic() - since >= seconds:
                break
            time.sleep(0.05)
        return self.ui()

    def rect(self, name: str, ui: dict[str, Any] | None = None) -> list[int]:
        """Global rectangle of *name*: a named widget, toolbar action, menu item, lesion row or
        a button of the topmost dialog (by caption)."""
        ui = ui or self.ui()
        for dialog in reversed(ui["dialogs"]):
            for group in ("buttons", "widgets"):
                if name in dialog[group]:
                    entry = dialog[group][name]
                    return entry["rect"] if isinstance(entry, dict) else entry
        for group in ("popup", "toolbar", "menubar"):
            if ui.get(group) and name in ui[group]:
                return ui[group][name]["rect"]
        for group in ("widgets", "lesion_rows", "timepoint_rows"):
            if name in ui[group]:
                return ui[group][name]
        raise KeyError(f"{name!r} is not on screen; map: {json.dumps(ui)[:3000]}")

    def pixel_to_screen(
        self, row: float, col: float, ui: dict[str, Any] | None = None
    ) -> tuple[float, float]:
        """Global screen position of the centre of pixel ``(row, col)`` of the displayed slice."""
        image = (ui or self.ui())["image"]
        assert image is not None, "no image on screen"
        (ox, oy), (cx, cy), (rx, ry) = image["origin"], image["col_step"], image["row_step"]
        return ox + col * cx + row * rx, oy + col * cy + row * ry

    def screen_to_pixel(
        self, x: float, y: float, ui: dict[str, Any] | None = None
    ) -> tuple[float, float]:
        """``(row, col)`` of the displayed slice under global screen point ``(x, y)``."""
        image = (ui or self.ui())["image"]
        (ox, oy), (cx, cy), (rx, ry) = image["origin"], image["col_step"], image["row_step"]
        det = cx * ry - rx * cy
        dx, dy = x - ox, y - oy
        return (cx * dy - cy * dx) / det, (ry * dx - rx * dy) / det

    # -- X input -------------------------------------------------------------------------
    def xdo(self, *args: str, timeout: float = 20.0) -> str:
        """Run ``xdotool ARGS`` on the program's display."""
        result = subprocess.run(
            [self.xdotool, *args],
            env=self.env(),
            capture_output=True,
            text=True,  # noqa: S603
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"xdotool {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def refocus(self) -> None:
        """Give the main window the X input focus, as a window manager does when a dialog
        closes (Xvfb runs none: without this the keys after a dialog go nowhere)."""
        assert self.window_id is not None
        self.xdo("windowfocus", "--sync", self.window_id)

    def key(self, *keys: str) -> None:
        """Press and release each key (xdotool names: ``b``, ``ctrl+q``, ``Return``, ``Home``)."""
        self.xdo("key", "--delay", "40", *keys)
        time.sleep(0.1)

    def type(self, text: str) -> None:
        """Type *text* key by key."""
        self.xdo("type", "--delay", "25", text)
        time.sleep(0.1)

    def window_origin(self) -> tuple[int, int]:
        """The main window's top-left corner on screen."""
        x, y, _, _ = self.ui()["window"]
        return x, y

    def click(self, x: float, y: float, button: int = 1, double: bool = False) -> None:
        """Click at ``(x, y)`` in main-window coordinates."""
        ox, oy = self.window_origin()
        self.click_screen(ox + x, oy + y, button, double)

    def click_screen(self, x: float, y: float, button: int = 1, double: bool = False) -> None:
        """Click at global screen position ``(x, y)``."""
        args = [
            "mousemove",
            "--sync",
            str(round(x)),
            str(round(y)),
            "sleep",
            "0.05",
            "click",
            *(["--repeat", "2", "--delay", "80"] if double else []),
            str(button),
        ]
        self.xdo(*args)
        time.sleep(0.15)

    def click_on(self, name: str) -> None:
        """Click the centre of :meth:`rect` *name* (widget, action, menu item, button, row)."""
        self.click_screen(*centre(self.rect(name)))

    def menu(self, *path: str, timeout: float = 15.0) -> None:
        """Open a menu bar menu and click through *path* (``"File", "Open folder"``)."""
        self.click_on(path[0])
        for item in path[1:]:
            ui = self.wait_ui(
                lambda m, i=item: m["popup"] and i in m["popup"], timeout, f"menu item {item!r}"
            )
            self.click_screen(*centre(ui["popup"][item]["rect"]))

    def open_list(self, combo: str, timeout: float = 5.0) -> dict[str, Any]:
        """Open the combo box *combo* (object name); its entries ``{caption: {rect, enabled}}``."""
        x, y, w, h = self.rect(combo)
        self.click_screen(x + w - 8, y + h / 2)  # the arrow: an editable combo box opens there too
        return self.wait_ui(lambda m: m["list_popup"], timeout, f"the list of {combo}")[
            "list_popup"
        ]

    def choose(self, combo: str, entry: str, timeout: float = 5.0) -> str:
        """Open *combo* and click its first entry whose caption starts with *entry*; the caption."""
        entries = self.open_list(combo, timeout)
        caption = next((c for c in entries if c.startswith(entry)), None)
        assert caption is not None, f"no {entry!r} in the list of {combo}: {list(entries)}"
        assert entries[caption]["enabled"], f"{caption!r} cannot be chosen in {combo}"
        self.click_screen(*centre(entries[caption]["rect"]))
        self.wait_ui(lambda m: not m["list_popup"], timeout, f"the list of {combo} to close")
        return caption

    def wait_dialog(self, button: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a dialog with a button captioned *button*; that dialog's map entry."""
        ui = self.wait_ui(
            lambda m: any(button in d["buttons"] for d in m["dialogs"]),
            timeout,
            f"a dialog with a {button!r} button",
        )
        return next(d for d in reversed(ui["dialogs"]) if button in d["buttons"])

    def drag_screen(self, start: Point, end: Point, steps: int = 16, button: int = 1) -> None:
        """Press at *start*, move in *steps* real motion events, release at *end* (screen)."""
        (x0, y0), (x1, y1) = start, end
        args = [
            "mousemove",
            "--sync",
            str(round(x0)),
            str(round(y0)),
            "sleep",
            "0.1",
            "mousedown",
            str(button),
        ]
        for i in range(1, steps + 1):
            t = i / steps
            args += [
                "sleep",
                "0.02",
                "mousemove",
                str(round(x0 + (x1 - x0) * t)),
                str(round(y0 + (y1 - y0) * t)),
            ]
        args += ["sleep", "0.1", "mouseup", str(button)]
        self.xdo(*args)
        time.sleep(0.2)

    def drag(self, start: Point, end: Point, steps: int = 16, button: int = 1) -> None:
        """:meth:`drag_screen` with *start* and *end* in main-window coordinates."""
        ox, oy = self.window_origin()
        self.drag_screen((ox + start[0], oy + start[1]), (ox + end[0], oy + end[1]), steps, button)

    def drag_pixels(self, start: Point, end: Point, steps: int = 16) -> None:
        """Drag from image pixel *start* ``(row, col)`` to *end* on the displayed slice."""
        ui = self.ui()
        self.drag_screen(self.pixel_to_screen(*start, ui), self.pixel_to_screen(*end, ui), steps)

    # -- pictures ------------------------------------------------------------------------
    def screenshot(self, name: str) -> Image.Image:
        """Grab the whole screen, save it as ``<shots>/<name>.png`` and return it."""
        image = ImageGrab.grab(xdisplay=self.display).convert("RGB")
        self.shots.mkdir(parents=True, exist_ok=True)
        image.save(self.shots / f"{name}.png")
        return image


def caliper_coloured(pixel: tuple[int, int, int]) -> bool:
    """A caliper line's colour (green or yellow-orange), never a grey CT pixel."""
    r, g, b = pixel[:3]
    return g - b > 60 and (g - r > 40 or r - b > 60)


def coloured_near(image: Image.Image, x: float, y: float, radius: int = 4) -> int:
    """How many caliper-coloured screen pixels lie within *radius* of ``(x, y)``."""
    count = 0
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            px, py = round(x) + dx, round(y) + dy
            if (
                0 <= px < image.width
                and 0 <= py < image.height
                and caliper_coloured(image.getpixel((px, py)))
            ):
                count += 1
    return count


def coloured_in(image: Image.Image, rect: Rect) -> int:
    """How many caliper-coloured pixels lie inside the global rectangle *rect*."""
    x, y, w, h = rect
    crop = image.crop((max(x, 0), max(y, 0), min(x + w, image.width), min(y + h, image.height)))
    return sum(1 for p in crop.getdata() if caliper_coloured(p))
