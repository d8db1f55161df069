"""``caliper pacs``: configure PACS nodes, query them, retrieve and push.

```
caliper pacs add NAME --dicomweb URL [--user U --password-env VAR]
caliper pacs add NAME --host H --port P --aet CALLED [--our-aet CALLING]
                       [--retrieve get|move --scp-port P]
caliper pacs list | remove NAME | echo NAME
caliper pacs find NAME [--patient-id ID] [--name N] [--from DATE] [--to DATE]
                        [--modality CT] [--series]
caliper pacs get NAME --series UID
caliper pacs push NAME SR.dcm [...]
```
Passwords are never taken on the command line (they would end up in the
shell history): ``--password-env`` names an environment variable instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import Any

from app.errors import CliError
from storage.dicom import pacs
from storage.dicom.pacs import PacsError, PacsNode, StudyQuery


def _out(text: object = "") -> None:
    """One line of the command's result on stdout."""
    sys.stdout.write(f"{text}\n")


def _err(text: object = "", end: str = "\n") -> None:
    """Progress and summaries on stderr (stdout stays parseable)."""
    sys.stderr.write(f"{text}{end}")
    sys.stderr.flush()


def register(subparsers: Any) -> None:
    """Add ``caliper pacs ...`` to the top-level parser."""
    parser = subparsers.add_parser("pacs", help="query a PACS and retrieve series from it")
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add (or with --replace, change) a PACS node")
    add.add_argument("name")
    add.add_argument("--dicomweb", metavar="URL", help="DICOMweb base URL (QIDO/WADO/STOW-RS)")
    add.add_argument("--host", help="DIMSE host")
    add.add_argument("--port", type=int, help="DIMSE port")
    add.add_argument("--aet", metavar="CALLED", help="the PACS's AE title")
    add.add_argument("--our-aet", metavar="CALLING", default="CALIPER", help="Caliper's AE title")
    add.add_argument(
        "--retrieve",
        choices=("get", "move"),
        default="get",
        help="C-GET (default) or C-MOVE to Caliper's own SCP",
    )
    add.add_argument("--scp-port", type=int, help="port of Caliper's SCP for C-MOVE")
    add.add_argument("--user", help="DICOMweb user name")
    add.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the password"
    )
    add.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    add.add_argument("--replace", action="store_true", help="replace a node of the same name")
    add.set_defaults(func=_add)

    lst = sub.add_parser("list", help="list the PACS nodes (without passwords)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)

    rm = sub.add_parser("remove", help="remove a PACS node")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)

    ech = sub.add_parser("echo", help="check that a PACS answers")
    ech.add_argument("name")
    ech.set_defaults(func=_echo)

    find = sub.add_parser("find", help="search a PACS for studies")
    find.add_argument("name")
    find.add_argument("--patient-id", default="")
    find.add_argument("--name", dest="patient_name", default="", help="patient name (prefix)")
    find.add_argument("--from", dest="date_from", default="", metavar="DATE", help="YYYY-MM-DD")
    find.add_argument("--to", dest="date_to", default="", metavar="DATE", help="YYYY-MM-DD")
    find.add_argument("--modality", default="")
    find.add_argument("--series", action="store_true", help="also list each study's series")
    find.add_argument("--json", action="store_true")
    find.set_defaults(func=_find)

    get = sub.add_parser("get", help="retrieve a series into the local series store")
    get.add_argument("name")
    get.add_argument("--series", required=True, metavar="UID")
    get.add_argument("--json", action="store_true")
    get.set_defaults(func=_get)

    push = sub.add_parser("push", help="send DICOM files (SR reports) to a PACS")
    push.add_argument("name")
    push.add_argument("files", nargs="+")
    push.set_defaults(func=_push)


def _node(name: str) -> PacsNode:
    try:
        return pacs.get_node(name)
    except PacsError as exc:
        raise CliError(str(exc)) from None


def _add(args: argparse.Namespace) -> int:
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise CliError(f"environment variable {args.password_env} is not set")
    if bool(args.dicomweb) == bool(args.host):
        raise CliError("give either --dicomweb URL or --host/--port/--aet")
    try:
        node = PacsNode(
            name=args.name,
            dicomweb_url=args.dicomweb,
            host=args.host,
            port=args.port,
            called_aet=args.aet,
            calling_aet=args.our_aet,
            retrieve_method=args.retrieve,
            scp_port=args.scp_port,
            username=args.user,
            password=password,
            timeout_s=args.timeout,
        )
        path = pacs.add_node(node, replace_existing=args.replace)
    except PacsError as exc:
        raise CliError(str(exc)) from None
    _out(f"PACS {node.name!r} saved ({node.address}) in {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        nodes = pacs.load_nodes()
    except PacsError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        _out(json.dumps([n.public_dict() for n in nodes], indent=2))
        return 0
    if not nodes:
        _out("no PACS configured; add one with 'caliper pacs add'")
    for node in nodes:
        how = (
            "DICOMweb"
            if node.kind == "dicomweb"
            else f"DIMSE as {node.calling_aet}, C-{node.retrieve_method.upper()}"
        )
        _out(f"{node.name}\t{node.address}\t{how}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    try:
        pacs.remove_node(args.name)
    except PacsError as exc:
        raise CliError(str(exc)) from None
    _out(f"PACS {args.name!r} removed")
    return 0


def _echo(args: argparse.Namespace) -> int:
    node = _node(args.name)
    try:
        pacs.echo(node)
    except PacsError as exc:
        raise CliError(str(exc)) from None
    _out(f"PACS {node.name!r} ({node.address}) answers")
    return 0


def _find(args: argparse.Namespace) -> int:
    node = _node(args.name)
    try:
        query = StudyQuery(
            patient_id=args.patient_id,
            patient_name=args.patient_name,
            date_from=_date(args.date_from, "--from"),
            date_to=_date(args.date_to, "--to"),
            modality=args.modality,
        )
        studies = pacs.find_studies(node, query)
        series = (
            {s.study_instance_uid: pacs.find_series(node, s.study_instance_uid) for s in studies}
            if args.series
            else {}
        )
    except (PacsError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        out = [
            dict(asdict(s), series=[asdict(x) for x in series.get(s.study_instance_uid, [])])
            for s in studies
        ]
        _out(json.dumps(out, indent=2))
        return 0
    for study in studies:
        _out(
            f"{study.patient_id}\t{study.patient_name}\t{study.study_date}\t"
            f"{'/'.join(study.modalities)}\t{study.study_description}\t{study.study_instance_uid}"
        )
        for s in series.get(study.study_instance_uid, []):
            _out(
                f"    series {s.series_number}\t{s.modality}\t{s.n_instances} images\t"
                f"{s.series_description}\t{s.series_instance_uid}"
            )
    _err(f"{len(studies)} studies")
    return 0


def _date(text: str, option: str) -> Any:
    from datetime import date

    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} must be a date like 2024-05-31, got {text!r}") from None


def _get(args: argparse.Namespace) -> int:
    node = _node(args.name)

    def progress(done: int, total: int | None) -> None:
        _err(f"\r{done}/{total if total else '?'} images", end="")

    try:
        folder = pacs.retrieve_series(node, args.series, on_progress=progress)
    except PacsError as exc:
        _err()
        raise CliError(str(exc)) from None
    _err()
    n_files = sum(1 for _ in folder.iterdir())
    if args.json:
        _out(
            json.dumps({"series_instance_uid": args.series, "path": str(folder), "files": n_files})
        )
    else:
        _out(folder)
    return 0


def _push(args: argparse.Namespace) -> int:
    node = _node(args.name)
    try:
        count = pacs.push(node, args.files)
    except PacsError as exc:
        raise CliError(str(exc)) from None
    _out(f"{count} file(s) stored on PACS {node.name!r}")
    return 0
