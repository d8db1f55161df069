"""The ``caliper`` command line: a registry of sub-command modules, one per area.

Each area registers its own sub-commands from a module of its own
(``app/cli/<area>.py`` with a ``register(subparsers)`` function), so this
file only dispatches.  ``caliper`` with no sub-command starts the
workstation.

May import anything below it (``app`` controllers, ``storage``, ``recist``), each command
module only when its command runs; ``app.main`` only to start the window.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.errors import CliError
from storage.paths import UserFolderError

#: Modules that add sub-commands; each has ``register(subparsers) -> None`` and
#: sets ``func`` on its parsers (``func(args) -> int``).
COMMAND_MODULES: tuple[str, ...] = (
    "app.cli.evaluate",
    "app.cli.dicom",
    "app.cli.db",
    "app.cli.timepoint",
    "app.cli.export",
    "app.cli.endpoints",  # after export: adds export adam|endpoints
    "app.cli.pacs",
    "app.cli.view",
    "app.cli.measure",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="caliper",
        description="Caliper: tumour response assessment (RECIST 1.1 / iRECIST).",
    )
    parser.add_argument("--version", action="version", version=f"caliper {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL or SQLite file (default: $CALIPER_DB or the user data folder)",
    )
    parser.add_argument("--demo", action="store_true", help="start on the bundled demo study")
    parser.add_argument(
        "--open",
        metavar="PATH",
        dest="open_path",
        help="open this folder, zip, DICOMDIR or file in the window at start ('caliper PATH' too)",
    )
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="open the demo study offscreen, evaluate a case, check a temporary database; exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that area is not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def _path_as_open(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``caliper PATH`` means ``caliper --open PATH`` when PATH is no command but exists."""
    commands: set[str] = set()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        commands.update(getattr(action, "choices", None) or ())
    first = next(
        (
            i
            for i, a in enumerate(argv)
            if not a.startswith("-") and (i == 0 or argv[i - 1] not in ("--db", "--open"))
        ),
        None,
    )
    if first is None or argv[first] in commands or not Path(argv[first]).exists():
        return argv
    return [*argv[:first], "--open", argv[first], *argv[first + 1 :]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``caliper``; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(_path_as_open(parser, list(sys.argv[1:] if argv is None else argv)))
    # Everything Caliper writes (exports, reports, SRs, the database, logs) may hold personal
    # health information: owner-only (the caller's umask is restored when main returns).
    umask = os.umask(0o077)
    try:
        if args.self_check:
            from app.selfcheck import run_self_check

            return run_self_check()
        if args.command is None:
            from app.main import exit_process, run_gui

            exit_process(run_gui(db_url=args.db, demo=args.demo, open_path=args.open_path))
        return int(args.func(args) or 0)
    except (CliError, UserFolderError) as exc:  # an unwritable CALIPER_HOME is no crash
        print(f"caliper: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
