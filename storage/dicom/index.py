"""The header index cache: reopening a scanned folder parses no header again.

One JSON file per scanned root in ``cache_dir()/dicom-index``; each entry is
keyed by the file's path and remembered with its size and modification time,
so a changed, added or removed file is read again and nothing else is.
A damaged or foreign cache file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from storage.dicom.errors import FileProblem
from storage.dicom.records import FileHeader
from storage.dicom.sources import Entry
from storage.paths import cache_dir

log = logging.getLogger(__name__)

#: Bump when FileHeader or the classification rules change.
INDEX_VERSION = 6

Result = FileHeader | FileProblem | None


class HeaderIndex:
    """Cached header results of the files under one scanned root.

    Parameters
    ----------
    root : pathlib.Path
        The folder, archive, DICOMDIR or file that is scanned.
    """

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve())
        digest = hashlib.sha256(self.root.encode("utf-8")).hexdigest()[:32]
        try:
            folder: Path | None = cache_dir() / "dicom-index"
        except OSError as exc:  # no cache folder: every scan reads every header
            log.warning("no DICOM header index: %s", exc)
            folder = None
        self.file = folder / f"{digest}.json" if folder is not None else None
        self._entries: dict[str, dict[str, Any]] = {}
        self._used: set[str] = set()
        self._dirty = False
        self._load()

    def _load(self) -> None:
        if self.file is None:
            return
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (
            isinstance(data, dict)
            and data.get("version") == INDEX_VERSION
            and data.get("root") == self.root
            and isinstance(data.get("entries"), dict)
        ):
            self._entries = data["entries"]

    def get(self, entry: Entry) -> tuple[bool, Result]:
        """Return ``(hit, result)`` for *entry*; a miss when size or mtime differ."""
        cached = self._entries.get(entry.key)
        if (
            not cached
            or cached.get("size") != entry.size
            or cached.get("mtime_ns") != entry.mtime_ns
        ):
            return False, None
        try:
            result = _decode(cached["result"], entry.path)
        except (KeyError, TypeError, ValueError):
            return False, None
        self._used.add(entry.key)
        return True, result

    def put(self, entry: Entry, result: Result) -> None:
        """Remember the header result of *entry*."""
        self._entries[entry.key] = {
            "size": entry.size,
            "mtime_ns": entry.mtime_ns,
            "result": _encode(result),
        }
        self._used.add(entry.key)
        self._dirty = True

    def save(self) -> None:
        """Write the index if anything changed, dropping entries of vanished files."""
        if len(self._used) != len(self._entries):
            self._entries = {k: v for k, v in self._entries.items() if k in self._used}
            self._dirty = True
        if not self._dirty or self.file is None:
            return
        payload = {"version": INDEX_VERSION, "root": self.root, "entries": self._entries}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            text = json.dumps(payload, separators=(",", ":"))  # the C encoder; dump() is not
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.file)
        except OSError as exc:  # a cache that cannot be written only costs time
            log.warning("cannot write the DICOM header index %s: %s", self.file, exc)
        self._dirty = False


def _encode(result: Result) -> dict[str, Any]:
    if result is None:
        return {"kind": "skip"}
    if isinstance(result, FileProblem):
        return {"kind": "problem", "message": result.message}
    return {"kind": "header", "header": result.to_json()}


def _decode(data: dict[str, Any], path: str | None = None) -> Result:
    kind = data["kind"]
    if kind == "skip":
        return None
    if kind == "problem":
        return FileProblem(path or "", data["message"])
    if kind == "header":
        return FileHeader.from_json(data["header"])
    raise ValueError(f"unknown index entry kind {kind!r}")
