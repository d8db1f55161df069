"""The ``caliper`` command line: a lazy registry of sub-commands, one module per area.

Each sub-command is registered here by NAME (:data:`COMMANDS`: the module(s) that build
it, a one-line help, aliases); its module is imported only when that command runs, or
when ``caliper CMD --help`` asks for its options.  ``caliper``, ``caliper --version``
and ``caliper --help`` import no command module at all (no numpy, pydicom, database
layer or Qt: tests/app/test_import_budget.py).  An area's module has a
``register(subparsers)`` function that adds its parsers and sets ``func`` on them
(``func(args) -> int``).  ``caliper`` with no sub-command starts the workstation.

May import anything below it (``app`` controllers, ``storage``, ``recist``), each command
module only when its command runs; ``app.main`` only to start the window.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app import __version__
from app.errors import CliError
from storage.paths import UserFolderError


@dataclass(frozen=True)
class Command:
    """One top-level sub-command: what builds it (imported only when it runs) and its help."""

    modules: tuple[str, ...]  # each has register(subparsers); in order
    help: str
    aliases: tuple[str, ...] = ()


#: Every top-level sub-command, in the order ``caliper --help`` lists them.  The help text
#: must equal what the module registers (tests/app/test_import_budget.py checks).
COMMANDS: dict[str, Command] = {
    "evaluate": Command(
        ("app.cli.evaluate",), "compute RECIST 1.1 / iRECIST responses of case files (JSON)"
    ),
    "dicom": Command(("app.cli.dicom",), "find and load DICOM series"),
    "db": Command(("app.cli.db",), "create or upgrade the database"),
    "reader": Command(("app.cli.db",), "readers (accounts) and their roles"),
    "patient": Command(("app.cli.db",), "trial subjects"),
    "timeline": Command(("app.cli.db",), "import/export a patient's timeline (case JSON)"),
    "audit": Command(("app.cli.db",), "verify or export the audit trail"),
    "timepoint": Command(("app.cli.timepoint",), "a patient's timepoints"),
    # export.py builds the group; endpoints.py adds export adam|endpoints to it
    "export": Command(
        ("app.cli.export", "app.cli.endpoints"), "timelines, PDF reports, DICOM SR, SDTM, cohort"
    ),
    "import": Command(("app.cli.export",), "import measurements from DICOM SR"),
    "conversion": Command(
        ("app.cli.endpoints",), "a patient's conversion record (MDT, FLR, Child-Pugh)"
    ),
    "surgery": Command(("app.cli.endpoints",), "a patient's surgery and pathology (MPR)"),
    "survival": Command(("app.cli.endpoints",), "a patient's survival data (PFS, OS)"),
    "endpoints": Command(("app.cli.endpoints",), "a patient's derived endpoints"),
    "pacs": Command(("app.cli.pacs",), "query a PACS and retrieve series from it"),
    "view": Command(
        ("app.cli.view",), "render a slice of a DICOM series to a PNG file (offscreen)"
    ),
    "measure": Command(
        ("app.cli.measure",),
        "measure the lesion (or the liver) at a point of a series: diameters and volume",
    ),
}

_ALIASES: dict[str, str] = {alias: name for name, c in COMMANDS.items() for alias in c.aliases}


def _top_parser() -> tuple[
    argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]
]:
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
    return parser, parser.add_subparsers(dest="command", metavar="COMMAND")


def build_parser(
    commands: Iterable[str] | None = None,
) -> argparse.ArgumentParser:
    """The parser; the sub-commands named in ``commands`` (all when None) fully built.

    Every other sub-command is a placeholder with its name and help only (enough for
    ``caliper --help`` and for choosing a command), so its module is not imported.
    """
    parser, subparsers = _top_parser()
    for name, command in COMMANDS.items():
        subparsers.add_parser(name, help=command.help, aliases=list(command.aliases))
    wanted = list(COMMANDS) if commands is None else [_ALIASES.get(c, c) for c in commands]
    # The command modules register on a scratch parser of the same prog; the parsers of the
    # wanted commands then replace their placeholders (aliases included).
    scratch, built = _top_parser()
    loaded: list[str] = []
    for name in wanted:
        for module_name in COMMANDS[name].modules:
            if module_name in loaded:
                continue
            loaded.append(module_name)
            importlib.import_module(module_name).register(built)
        for key in (name, *COMMANDS[name].aliases):
            subparsers.choices[key] = built.choices[name]
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The registered sub-command ``argv`` names (its first word that is no option), or None."""
    word = _first_word(argv)
    if word is None:
        return None
    name = _ALIASES.get(argv[word], argv[word])
    return name if name in COMMANDS else None


def _first_word(argv: Sequence[str]) -> int | None:
    return next(
        (
            i
            for i, a in enumerate(argv)
            if not a.startswith("-") and (i == 0 or argv[i - 1] not in ("--db", "--open"))
        ),
        None,
    )


def _path_as_open(argv: list[str]) -> list[str]:
    """``caliper PATH`` means ``caliper --open PATH`` when PATH is no command but exists."""
    first = _first_word(argv)
    if first is None or argv[first] in COMMANDS or argv[first] in _ALIASES:
        return argv
    if not Path(argv[first]).exists():
        return argv
    return [*argv[:first], "--open", argv[first], *argv[first + 1 :]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``caliper``; return the process exit code."""
    arguments = _path_as_open(list(sys.argv[1:] if argv is None else argv))
    command = command_of(arguments)
    parser = build_parser([] if command is None else [command])
    args = parser.parse_args(arguments)
    # Everything Caliper writes (exports, reports, SRs, the database, logs) may hold personal
    # health information: owner-only (the caller's umask is restored when main returns).
    umask = os.umask(0o077)
    try:
        if args.self_check:
            from app.selfcheck import run_self_check

            return run_self_check()
        if args.command is None:
            # No garbage collections while Qt, pyqtgraph and the window's modules load (tens
            # of thousands of new objects, no garbage: ~10 % of the start-up); run_gui turns
            # the collector back on once the window is shown.
            gc.disable()
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
