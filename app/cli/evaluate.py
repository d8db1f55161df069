"""``caliper evaluate CASE.json ...``: RECIST 1.1 / iRECIST response of patient timelines.

One file holding one case prints that case's result (rules.md §10 JSON).  A
folder, several files, or a file holding a list of cases prints a JSON list of
``{"file", "case_id", "result"}`` (or ``"error"``) entries.  A malformed case
or an unreadable file is reported on stderr with the file and field; the
others are still evaluated, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import recist
from app.errors import CliError
from recist.limits import MAX_CASE_BYTES, loads_json
from recist.model import Criteria

_CRITERIA = {"recist1.1": Criteria.RECIST11, "irecist": Criteria.IRECIST}
_MAX_BYTES = MAX_CASE_BYTES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``evaluate`` sub-command to *subparsers*."""
    parser = subparsers.add_parser(
        "evaluate",
        help="compute RECIST 1.1 / iRECIST responses of case files (JSON)",
        description="Evaluate patient timelines in the case format (rules.md §10) and print "
        "the responses as JSON.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="CASE", help="case file(s) or folder(s) of *.json"
    )
    parser.add_argument(
        "--criteria",
        choices=sorted(_CRITERIA),
        type=str.lower,
        help="override the case's criteria",
    )
    confirm = parser.add_mutually_exclusive_group()
    confirm.add_argument(
        "--confirm",
        dest="confirm",
        action="store_true",
        default=None,
        help="require confirmation of CR/PR (overrides the case)",
    )
    confirm.add_argument(
        "--no-confirm",
        dest="confirm",
        action="store_false",
        help="do not require confirmation (overrides the case)",
    )
    parser.add_argument("--min-sd-days", type=int, metavar="DAYS", help="override min_sd_days")
    parser.add_argument(
        "--strict-table2",
        action="store_true",
        help="iRECIST O-13: keep new-lesion iUPD while new lesions persist",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help='compare with each case\'s "expected" block; exit 1 on a mismatch',
    )
    parser.add_argument("--compact", action="store_true", help="one-line JSON")
    parser.set_defaults(func=run_evaluate)


def _files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                raise CliError(f"{path}: folder holds no *.json case files")
            files.extend(found)
        else:
            files.append(path)
    return files


def _load(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ValueError(f"file is larger than {_MAX_BYTES // (1024 * 1024)} MB")
        return loads_json(path.read_bytes())
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except IsADirectoryError:
        raise ValueError("is a folder") from None
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None


def _settings(args: argparse.Namespace) -> recist.Settings:
    return recist.Settings(
        criteria=_CRITERIA[args.criteria] if args.criteria else None,
        confirmation_required=args.confirm,
        min_sd_days=args.min_sd_days,
        irecist_strict_table2=args.strict_table2,
    )


def check_expected(expected: Any, result: dict[str, Any]) -> list[str]:
    """Differences between a case's ``expected`` block and a result (keys absent are free)."""
    if not isinstance(expected, dict):
        return ["expected: not an object"]
    problems = []
    for key, value in expected.items():
        if key != "timepoints":
            if result.get(key) != value:
                problems.append(f"{key}: expected {value!r}, got {result.get(key)!r}")
            continue
        got = {tp["label"]: tp for tp in result["timepoints"]}
        for tp in value:
            actual = got.get(tp.get("label"))
            if actual is None:
                problems.append(f"timepoint {tp.get('label')!r} missing")
                continue
            problems.extend(
                f"{tp['label']}.{k}: expected {v!r}, got {actual.get(k)!r}"
                for k, v in tp.items()
                if actual.get(k) != v
            )
    return problems


def _evaluate_one(
    data: Any, where: str, settings: recist.Settings, check: bool
) -> tuple[dict[str, Any], list[str]]:
    case = recist.case_from_dict(data)
    result = recist.result_to_dict(recist.evaluate(case, settings))
    problems = check_expected(data["expected"], result) if check and "expected" in data else []
    return {"file": where, "case_id": case.id, "result": result}, problems


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate every case given, print JSON; return 0, 1 (``--check`` mismatch), 2 (bad input)."""
    settings = _settings(args)
    entries: list[dict[str, Any]] = []
    failed = mismatched = False
    single = False
    files = _files(args.paths)
    for path in files:
        try:
            data = _load(path)
        except ValueError as exc:
            print(f"caliper: error: {path}: {exc}", file=sys.stderr)
            entries.append({"file": str(path), "case_id": None, "error": str(exc)})
            failed = True
            continue
        single = len(files) == 1 and isinstance(data, dict)
        items = data if isinstance(data, list) else [data]
        for n, item in enumerate(items):
            where = f"{path}[{n}]" if isinstance(data, list) else str(path)
            try:
                entry, problems = _evaluate_one(item, str(path), settings, args.check)
            except recist.CaseFormatError as exc:
                case_id = item.get("id") if isinstance(item, dict) else None
                print(f"caliper: error: {where}: {exc}", file=sys.stderr)
                entries.append(
                    {"file": str(path), "case_id": case_id, "error": str(exc), "field": exc.field}
                )
                failed = True
                continue
            except Exception as exc:  # an engine bug must not hide the other files' results
                case_id = item.get("id") if isinstance(item, dict) else None
                message = f"internal error evaluating case {case_id!r}: {type(exc).__name__}: {exc}"
                print(f"caliper: error: {where}: {message} (please report)", file=sys.stderr)
                entries.append({"file": str(path), "case_id": case_id, "error": message})
                failed = True
                continue
            for problem in problems:
                print(
                    f"caliper: mismatch: {where} ({entry['case_id']}): {problem}", file=sys.stderr
                )
            mismatched = mismatched or bool(problems)
            if args.check:
                entry["check"] = problems if problems else "ok"
            entries.append(entry)
    output: Any = entries[0]["result"] if single and entries and "result" in entries[0] else entries
    if not (single and failed):
        json.dump(output, sys.stdout, indent=None if args.compact else 2, ensure_ascii=False)
        sys.stdout.write("\n")
    if failed:
        return 2
    return 1 if mismatched else 0
