"""PACS nodes: where a site's PACS are and how to talk to them.

The nodes live in ``pacs.json`` in :func:`storage.paths.config_dir`, written
with owner-only permissions (0600) because a DICOMweb node may carry a user
name and password.  :meth:`PacsNode.public_dict` is the only form of a node
that may go to a log or the audit trail: it never holds the password.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.dicom.pacs.errors import PacsSettingsError
from storage.paths import config_dir

SETTINGS_FILE = "pacs.json"
_FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_AET_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # printable ASCII but backslash
RETRIEVE_METHODS = ("get", "move")


def _check_aet(value: str, what: str) -> None:
    if not _AET_RE.match(value) or not value.strip():
        raise PacsSettingsError(f"{what} must be 1-16 printable ASCII characters, got {value!r}")


def _check_port(value: int | None, what: str) -> None:
    if value is None or not 0 < int(value) < 65536:
        raise PacsSettingsError(f"{what} must be a port number 1-65535, got {value!r}")


@dataclass(frozen=True, slots=True)
class PacsNode:
    """One PACS a site can query and retrieve from.

    Parameters
    ----------
    name : str
        Short name the reader picks the node by (letters, digits, ``._-``).
    dicomweb_url : str or None
        Base URL of a DICOMweb service (QIDO-RS, WADO-RS, STOW-RS).  When set,
        the DIMSE fields are ignored.
    host, port, called_aet : str, int, str
        Address and AE title of a DIMSE (C-FIND / C-GET / C-MOVE / C-STORE) PACS.
    calling_aet : str
        Caliper's own AE title, as the PACS knows it.
    retrieve_method : {"get", "move"}
        C-GET on the query association, or C-MOVE to Caliper's own SCP.
    scp_port : int or None
        Port of Caliper's storage SCP for C-MOVE (the PACS must know
        ``calling_aet`` at this port).
    scp_address : str
        Address Caliper's storage SCP listens on.
    username, password : str or None
        HTTP basic credentials for a DICOMweb node; never logged.
    timeout_s : float
        Seconds to wait for any answer before giving up.
    """

    name: str
    dicomweb_url: str | None = None
    host: str | None = None
    port: int | None = None
    called_aet: str | None = None
    calling_aet: str = "CALIPER"
    retrieve_method: str = "get"
    scp_port: int | None = None
    scp_address: str = "127.0.0.1"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name or ""):
            raise PacsSettingsError(
                f"name must be 1-64 letters, digits, '.', '_' or '-', got {self.name!r}"
            )
        if not self.timeout_s > 0:
            raise PacsSettingsError(f"timeout_s must be > 0, got {self.timeout_s!r}")
        if self.dicomweb_url:
            self._check_dicomweb()
        else:
            self._check_dimse()

    def _check_dicomweb(self) -> None:
        parts = urlsplit(self.dicomweb_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PacsSettingsError(
                f"dicomweb_url must be an http(s) URL, got {self.dicomweb_url!r}"
            )
        if parts.username or parts.password:
            raise PacsSettingsError(
                "dicomweb_url must not contain credentials; give username and password instead"
            )

    def _check_dimse(self) -> None:
        if not self.host:
            raise PacsSettingsError("a node needs either dicomweb_url or host/port/called_aet")
        _check_port(self.port, "port")
        _check_aet(self.called_aet or "", "called_aet")
        _check_aet(self.calling_aet, "calling_aet")
        if self.retrieve_method not in RETRIEVE_METHODS:
            raise PacsSettingsError(
                f"retrieve_method must be one of {RETRIEVE_METHODS}, got {self.retrieve_method!r}"
            )
        if self.retrieve_method == "move":
            _check_port(self.scp_port, "scp_port (Caliper's SCP for C-MOVE)")

    @property
    def kind(self) -> str:
        """``"dicomweb"`` or ``"dimse"``."""
        return "dicomweb" if self.dicomweb_url else "dimse"

    @property
    def address(self) -> str:
        """Where the node is, for messages: the URL or ``AET@host:port``."""
        if self.dicomweb_url:
            return self.dicomweb_url
        return f"{self.called_aet}@{self.host}:{self.port}"

    def public_dict(self) -> dict[str, object]:
        """The node without its password: safe for logs and the audit trail."""
        data = asdict(self)
        data.pop("password")
        data["has_password"] = self.password is not None
        return data

    def with_changes(self, **changes: Any) -> PacsNode:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def _settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_nodes(path: Path | None = None) -> list[PacsNode]:
    """Read the site's PACS nodes (an empty list when none are configured).

    Raises
    ------
    PacsSettingsError
        The file is not valid JSON or holds an invalid node.
    """
    path = path or _settings_path()
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [PacsNode(**item) for item in data.get("nodes", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise PacsSettingsError(f"{path}: not a valid PACS settings file ({exc})") from exc


def save_nodes(nodes: list[PacsNode], path: Path | None = None) -> Path:
    """Write all nodes, replacing the file; returns its path."""
    path = path or _settings_path()
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):
        raise PacsSettingsError(f"node names must be unique, got {names}")
    payload = {"version": _FORMAT_VERSION, "nodes": [asdict(node) for node in nodes]}
    _write_private(path, json.dumps(payload, indent=2) + "\n")
    return path


def get_node(name: str, path: Path | None = None) -> PacsNode:
    """The node called ``name``.

    Raises
    ------
    PacsSettingsError
        No node has that name.
    """
    nodes = load_nodes(path)
    for node in nodes:
        if node.name == name:
            return node
    known = ", ".join(n.name for n in nodes) or "none configured"
    raise PacsSettingsError(
        f"no PACS called {name!r} (known: {known}); add it with 'caliper pacs add'"
    )


def add_node(node: PacsNode, *, replace_existing: bool = False, path: Path | None = None) -> Path:
    """Add ``node`` (or replace the node of the same name when ``replace_existing``)."""
    nodes = load_nodes(path)
    if any(n.name == node.name for n in nodes) and not replace_existing:
        raise PacsSettingsError(f"a PACS called {node.name!r} exists already")
    nodes = [n for n in nodes if n.name != node.name] + [node]
    return save_nodes(nodes, path)


def remove_node(name: str, path: Path | None = None) -> None:
    """Remove the node called ``name``."""
    get_node(name, path)
    save_nodes([n for n in load_nodes(path) if n.name != name], path)
