"""``caliper db|reader|patient|timeline|audit ...``: the database from the command line.

Every command works on ``--db URL`` (or ``$CALIPER_DB``, or the SQLite file in
the user data folder) and brings its schema up to date first.

Who writes
----------
Commands that change data name the reader they act as with ``--as USERNAME``
(or ``$CALIPER_READER``) and are authenticated: the reader's password is asked
for (or read as the first line of standard input with ``--password-stdin``), and
every change is audited as that reader.  ``caliper db init`` creates, in any
database that lacks it (also one the window created), an admin reader ``system``
without a password that can never log in or sign: scripts use ``--as system`` for
imports, and to add readers only until the first administrator exists.  Only
admins add readers and reset passwords.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import recist
from app.errors import CliError
from recist.limits import loads_json
from recist.model import Criteria, Patient, Reader, Role
from storage.db import (
    SYSTEM_USERNAME,
    AuthenticationError,
    Database,
    NotFoundError,
    RepositoryError,
    open_database,
)
from storage.db.checkpoint import SIGNER_ROLES as CHECKPOINT_SIGNER_ROLES
from storage.db.readers import PasswordChangeRequiredError, UnlockedReader


def _open(args: argparse.Namespace) -> Database:
    try:
        return open_database(args.db)
    except RepositoryError as exc:
        raise CliError(str(exc)) from exc


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise CliError(f"--password-stdin: standard input ended before {what}")
    return line.rstrip("\r\n")


def actor_password(args: argparse.Namespace, username: str) -> str:
    """The acting reader's password: first line of stdin (``--password-stdin``) or a prompt.

    Read once per command (kept on ``args``), so a signature reuses it.
    """
    cached = getattr(args, "_actor_password", None)
    if cached is not None:
        return str(cached)
    if getattr(args, "password_stdin", False):
        password = _stdin_line(f"the password of {username}")
    elif sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass(f"Password of {username} (acting as {username}): ")
    else:
        raise CliError(
            f"changes made as {username!r} need {username}'s password: pass it on the first "
            "line of standard input with --password-stdin, or run the command in a terminal "
            f"to be asked (--as {SYSTEM_USERNAME} needs none, for scripted imports)"
        )
    args._actor_password = password
    return password


def _actor(args: argparse.Namespace, db: Database) -> Reader:
    """The reader named by ``--as``, authenticated with their password (``system``: none)."""
    reader = _named_reader(args, db)
    if reader.username == SYSTEM_USERNAME:
        return reader
    try:
        return db.readers.authenticate(reader.username, actor_password(args, reader.username))
    except PasswordChangeRequiredError as exc:
        raise CliError(
            f"the password of {reader.username!r} was reset by an administrator; log in to "
            "Caliper once and choose a new password first"
        ) from exc
    except AuthenticationError as exc:
        raise CliError(f"wrong password for {reader.username!r}; nothing was changed") from exc


def _named_reader(args: argparse.Namespace, db: Database) -> Reader:
    username = getattr(args, "as_reader", None) or os.environ.get("CALIPER_READER")
    if not username:
        raise CliError(
            "name the reader this change is made by with --as USERNAME or $CALIPER_READER "
            f"(scripts may use --as {SYSTEM_USERNAME} after `caliper db init`)"
        )
    try:
        reader = db.readers.get(username)
    except NotFoundError as exc:
        if username == SYSTEM_USERNAME:
            raise CliError(
                f"no reader {SYSTEM_USERNAME!r} in this database; run `caliper db init` to create "
                f"it, then add readers with `caliper reader add ... --as {SYSTEM_USERNAME}`"
            ) from exc
        raise CliError(
            f"no reader {username!r}; `caliper reader list` shows who exists, and an admin "
            f"adds readers with `caliper reader add ... --as ADMIN` (`caliper db init` creates "
            f"the admin {SYSTEM_USERNAME!r})"
        ) from exc
    if not reader.active:
        raise CliError(
            f"reader {username!r} is inactive; an admin can run "
            f"`caliper reader activate {username} --as ADMIN`"
        )
    return reader


def _add_as(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="as_reader",
        metavar="USERNAME",
        help="reader making the change (default: $CALIPER_READER); their password is asked",
    )
    if "--password-stdin" not in parser._option_string_actions:
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the acting reader's password from the first line of standard input",
        )


def _run(func: Any) -> Any:
    """Run a command body; storage and case errors become CliError (exit 2)."""

    def wrapper(args: argparse.Namespace) -> int:
        db = _open(args)
        try:
            return int(func(args, db) or 0)
        except (RepositoryError, recist.RecistError) as exc:
            raise CliError(str(exc)) from exc
        finally:
            db.close()

    return wrapper


@_run
def _db_init(args: argparse.Namespace, db: Database) -> int:
    try:
        db.readers.get(SYSTEM_USERNAME)
        system = None
    except NotFoundError:  # a new database, or one the window created without it
        system = db.readers.ensure_system()
    print(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if getattr(args, "app_role", None):
        from storage.db.roles import grant_application_role

        grant_application_role(db, args.app_role, db.dialect)
        print(
            f"granted {args.app_role} the application's rights: it may read and append to the "
            "audit trail, never change, delete or truncate it, nor touch its triggers"
        )
    if system is not None:
        print(
            f"created admin reader {system.username!r} for scripted imports "
            f"(use --as {system.username})"
        )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = _stdin_line(f"the password for {args.username}")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise CliError("the passwords do not match")
    if not password:
        raise CliError("the password must not be empty")
    return password


@_run
def _reader_add(args: argparse.Namespace, db: Database) -> int:
    actor = _actor(args, db)
    reader = db.readers.create(
        args.username, args.name, Role(args.role), _read_password(args), by=actor
    )
    print(
        f"added reader {reader.username} ({reader.full_name}, {reader.role.value}), id {reader.id}"
    )
    return 0


@_run
def _reader_reset_password(args: argparse.Namespace, db: Database) -> int:
    actor = _actor(args, db)
    reader = db.readers.reset_password(args.username, _read_password(args), by=actor)
    print(
        f"reset the password of {reader.username}; they must choose a new one when they next "
        "log in to Caliper"
    )
    return 0


@_run
def _reader_set_active(args: argparse.Namespace, db: Database) -> int:
    active = args.reader_command == "activate"
    reader = db.readers.set_active(args.username, active, by=_actor(args, db))
    print(f"reader {reader.username} is now {'active' if reader.active else 'inactive'}")
    return 0


@_run
def _reader_list(args: argparse.Namespace, db: Database) -> int:
    for reader in db.readers.list():
        state = "" if reader.active else " (inactive)"
        if db.readers.password_change_required(reader.username):
            state += " (password reset: changed at next log-in)"
        print(f"{reader.username}\t{reader.role.value}\t{reader.full_name}{state}")
    return 0


@_run
def _patient_add(args: argparse.Namespace, db: Database) -> int:
    store = db.store(_actor(args, db))
    patient = store.add_patient(
        Patient(
            id=None,
            subject_id=args.subject,
            trial=args.trial,
            site=args.site,
            criteria=Criteria(args.criteria),
            confirmation_required=not args.no_confirmation,
        )
    )
    print(f"added patient {patient.subject_id} (trial {patient.trial or '-'}), id {patient.id}")
    return 0


@_run
def _patient_list(args: argparse.Namespace, db: Database) -> int:
    for patient in db.read_only_store().patients():
        print(f"{patient.subject_id}\t{patient.trial}\t{patient.site}")
    return 0


def _load_case(path: str, case_id: str | None) -> dict[str, Any]:
    try:
        data = loads_json(Path(path).read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from exc
    if isinstance(data, list):
        matches = [
            c for c in data if isinstance(c, dict) and (case_id is None or c.get("id") == case_id)
        ]
        if len(matches) != 1:
            ids = ", ".join(str(c.get("id")) for c in data if isinstance(c, dict))
            raise CliError(f"{path} holds several cases; choose one with --case ID ({ids})")
        data = matches[0]
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected a case object (rules.md §10)")
    return data


@_run
def _timeline_import(args: argparse.Namespace, db: Database) -> int:
    store = db.store(_actor(args, db))
    if args.all:
        return _timeline_import_all(args, store)
    data = _load_case(args.case_file, args.case)
    _import_case(store, data, args.case_file, args.patient)
    return 0


def _import_case(store: Any, data: Any, where: str, subject: str | None = None) -> None:
    """Parse one case and store it as one patient's timeline (one transaction)."""
    try:
        case = recist.case_from_dict(data)
    except recist.CaseFormatError as exc:
        raise CliError(f"{where}: {exc}") from exc
    subject = subject or case.id
    if not subject:
        raise CliError(f"{where}: the case has no id; name the patient with --patient ID")
    case = dataclasses.replace(case, id=subject)
    patient, timepoints, lesions, measurements = recist.case_to_records(case)
    stored = store.import_records(patient, timepoints, lesions, measurements)
    print(
        f"imported {len(timepoints)} timepoints, {len(lesions)} lesions, "
        f"{len(measurements)} measurements into patient {stored.subject_id}"
    )


def _timeline_import_all(args: argparse.Namespace, store: Any) -> int:
    """``--all``: every case of a list file, each its own patient (issue 17: one process)."""
    if args.patient or args.case:
        raise CliError("--all imports every case under its own id; drop --patient and --case")
    try:
        data = loads_json(Path(args.case_file).read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {args.case_file}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CliError(f"{args.case_file}: {exc}") from exc
    cases = data if isinstance(data, list) else [data]
    for index, case in enumerate(cases):  # each in its own transaction; stop at the first error
        _import_case(store, case, f"{args.case_file}[{index}]")
    print(f"imported {len(cases)} patients")
    return 0


@_run
def _timeline_export(args: argparse.Namespace, db: Database) -> int:
    chart = db.read_only_store().chart(args.patient)
    case = recist.case_from_records(
        chart.patient, chart.timepoints, chart.lesions, chart.measurements
    )
    text = json.dumps(recist.case_to_dict(case), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)
    return 0


def _parse_head(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CliError(
            f"--expect-head wants SEQ:HASH as printed by `caliper audit verify`, got {text!r}"
        )
    return int(seq), digest.lower()


def _checkpoint_signer(args: argparse.Namespace, db: Database) -> UnlockedReader:
    """The reader of ``audit verify --as``, unlocked with their password (asked once)."""
    reader = _named_reader(args, db)
    if reader.username == SYSTEM_USERNAME or reader.role not in CHECKPOINT_SIGNER_ROLES:
        what = "has no signing key" if reader.username == SYSTEM_USERNAME else f"is a {reader.role}"
        raise CliError(
            f"{reader.username!r} {what}: audit checkpoints are signed by an investigator or "
            "an admin; nothing was verified"
        )
    try:
        return db.readers.unlock(reader.username, actor_password(args, reader.username))
    except PasswordChangeRequiredError as exc:
        raise CliError(str(exc)) from exc
    except AuthenticationError as exc:
        raise CliError(
            f"wrong password for {reader.username!r}; nothing was verified or written"
        ) from exc


@_run
def _audit_verify(args: argparse.Namespace, db: Database) -> int:
    signer = _checkpoint_signer(args, db) if args.as_reader else None
    report = db.verify_audit(
        _parse_head(args.expect_head),
        full=args.full,
        signer=signer,
        require_signed=args.require_signed,
    )
    print(report)
    if report.ok and report.head_seq:
        print(
            "record this head to detect a later truncation: "
            f"--expect-head {report.head_seq}:{report.head_hash}"
        )
    return 0 if report.ok else 1


@_run
def _audit_export(args: argparse.Namespace, db: Database) -> int:
    try:
        count = db.export_audit_csv(args.out)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(f"wrote {count} audit events to {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``db``, ``reader``, ``patient``, ``timeline`` and ``audit`` to ``caliper``."""
    db = subparsers.add_parser("db", help="create or upgrade the database")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    init = db_sub.add_parser(
        "init", help="create/upgrade the schema; add the admin reader 'system' if missing"
    )
    init.add_argument(
        "--app-role",
        metavar="ROLE",
        help="PostgreSQL, run as the owner: grant ROLE what workstations need (the audit "
        "trail append-only); workstations then connect as ROLE",
    )
    init.set_defaults(func=_db_init)

    reader = subparsers.add_parser("reader", help="readers (accounts) and their roles")
    reader_sub = reader.add_subparsers(dest="reader_command", metavar="ACTION", required=True)
    add = reader_sub.add_parser("add", help="add a reader (admins only)")
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True, help="full printed name, used on signatures")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.READER.value)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read passwords from stdin: first your own (unless --as system), then the new one",
    )
    _add_as(add)
    add.set_defaults(func=_reader_add)
    reader_sub.add_parser("list", help="list readers").set_defaults(func=_reader_list)
    reset = reader_sub.add_parser(
        "reset-password",
        help="give a reader a temporary password, changed at their next log-in (admins only)",
    )
    reset.add_argument("username", metavar="USERNAME")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read passwords from stdin: first your own, then the temporary one",
    )
    _add_as(reset)
    reset.set_defaults(func=_reader_reset_password)
    for action, text in (
        ("deactivate", "stop a reader from logging in and writing (admins only)"),
        ("activate", "allow a deactivated reader again (admins only)"),
    ):
        toggle = reader_sub.add_parser(action, help=text)
        toggle.add_argument("username", metavar="USERNAME")
        _add_as(toggle)
        toggle.set_defaults(func=_reader_set_active)

    patient = subparsers.add_parser("patient", help="trial subjects")
    patient_sub = patient.add_subparsers(dest="patient_command", metavar="ACTION", required=True)
    p_add = patient_sub.add_parser("add", help="add a patient")
    p_add.add_argument("subject", metavar="SUBJECT")
    p_add.add_argument("--trial", default="")
    p_add.add_argument("--site", default="")
    p_add.add_argument(
        "--criteria", choices=[c.value for c in Criteria], default=Criteria.RECIST11.value
    )
    p_add.add_argument(
        "--no-confirmation", action="store_true", help="responses need no confirmation scan"
    )
    _add_as(p_add)
    p_add.set_defaults(func=_patient_add)
    patient_sub.add_parser("list", help="list patients").set_defaults(func=_patient_list)

    timeline = subparsers.add_parser(
        "timeline", help="import/export a patient's timeline (case JSON)"
    )
    t_sub = timeline.add_subparsers(dest="timeline_command", metavar="ACTION", required=True)
    t_imp = t_sub.add_parser(
        "import", help="import a case file (rules.md §10) into an empty patient"
    )
    t_imp.add_argument("case_file", metavar="CASE.json")
    t_imp.add_argument("--patient", metavar="ID", help="subject id (default: the case's id)")
    t_imp.add_argument("--case", metavar="ID", help="which case, when the file holds a list")
    t_imp.add_argument(
        "--all",
        action="store_true",
        help="import every case of the file, each as its own patient (stops at the first error)",
    )
    _add_as(t_imp)
    t_imp.set_defaults(func=_timeline_import)
    t_exp = t_sub.add_parser("export", help="write a patient's timeline as a case file")
    t_exp.add_argument("--patient", metavar="ID", required=True)
    t_exp.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    t_exp.set_defaults(func=_timeline_export)

    audit = subparsers.add_parser("audit", help="verify or export the audit trail")
    a_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_ver = a_sub.add_parser(
        "verify", help="walk the hash chain and replay it against the data; exit 1 if broken"
    )
    a_ver.add_argument(
        "--expect-head", metavar="SEQ:HASH", help="an event recorded by an earlier verify"
    )
    a_ver.add_argument(
        "--full",
        action="store_true",
        help="verify every event and row, not only what is new since this workstation's "
        "last verified checkpoint",
    )
    a_ver.add_argument(
        "--require-signed",
        action="store_true",
        help="trust only a checkpoint signed by an investigator or an admin (--as): an "
        "unsigned one is not used and every event is verified",
    )
    a_ver.add_argument(
        "--as",
        dest="as_reader",
        metavar="USERNAME",
        help="sign the checkpoint this verify writes as USERNAME (an investigator or an "
        "admin; their password is asked); without it the checkpoint is unsigned",
    )
    a_ver.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the signing reader's password from the first line of standard input",
    )
    a_ver.set_defaults(func=_audit_verify)
    a_exp = a_sub.add_parser("export", help="write the trail as CSV for an inspector")
    a_exp.add_argument("--out", metavar="FILE.csv", required=True)
    a_exp.set_defaults(func=_audit_export)
