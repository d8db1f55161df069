"""Where the files of a scan come from: a folder, a zip archive, a DICOMDIR or one file.

Zip members are only ever read into memory, never extracted, and members
whose names would escape the archive (``../``, absolute paths, drive letters)
are refused with a problem report.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pydicom
from pydicom.errors import InvalidDicomError

from storage.dicom.errors import DicomLoadError, FileProblem

#: Largest zip member read into memory.
MAX_MEMBER_BYTES = 2 * 1024**3
#: A member may inflate to this much whatever its compressed size...
RATIO_FREE_MEMBER_BYTES = 64 * 1024**2
#: ... and beyond it to at most this many times its compressed size (DICOM deflates 2-4 times).
MAX_MEMBER_RATIO = 100


@dataclass(frozen=True, slots=True)
class Entry:
    """One file to read: on disk, or a member of a zip archive."""

    path: str
    file_path: str
    member: str | None
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """The header index key of this entry."""
        return self.path


def member_display(archive: str, member: str) -> str:
    """The display path of a zip member: ``archive.zip::member``."""
    return f"{archive}::{member}"


def collect(root: Path) -> tuple[str, list[Entry], list[FileProblem]]:
    """List the files under *root*.

    Parameters
    ----------
    root : pathlib.Path
        A folder, a zip archive, a DICOMDIR or a single DICOM file.

    Returns
    -------
    kind : str
        ``"folder"``, ``"zip"``, ``"dicomdir"`` or ``"file"``.
    entries : list of Entry
        The files to read, sorted by path.
    problems : list of FileProblem
        Entries refused before reading (unsafe zip names, missing files, ...).

    Raises
    ------
    DicomLoadError
        If *root* does not exist or cannot be listed.
    """
    if not root.exists():
        raise DicomLoadError(f"{root}: no such file or folder", str(root))
    if root.is_dir():
        return "folder", _walk(root), []
    try:
        stat = root.stat()
    except OSError as exc:
        raise DicomLoadError(f"{root}: cannot be read ({exc.strerror})", str(root)) from exc
    if zipfile.is_zipfile(root):
        entries, problems = _zip_members(root, stat)
        return "zip", entries, problems
    if root.name.upper() == "DICOMDIR":
        entries, problems = _dicomdir(root)
        return "dicomdir", entries, problems
    return "file", [Entry(str(root), str(root), None, stat.st_size, stat.st_mtime_ns)], []


def _walk(root: Path) -> list[Entry]:
    entries: list[Entry] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = list(it)
        except OSError:
            continue
        for item in items:
            if item.name.startswith("."):
                continue
            try:
                if item.is_dir(follow_symlinks=False):
                    stack.append(item.path)
                elif item.is_file() and item.name.upper() != "DICOMDIR":
                    st = item.stat()
                    entries.append(Entry(item.path, item.path, None, st.st_size, st.st_mtime_ns))
            except OSError:
                continue
    entries.sort(key=lambda e: e.path)
    return entries


def is_safe_member(name: str) -> bool:
    """True if a zip member name stays inside the archive when joined to a folder."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts


def _zip_members(root: Path, stat: os.stat_result) -> tuple[list[Entry], list[FileProblem]]:
    entries: list[Entry] = []
    problems: list[FileProblem] = []
    try:
        with zipfile.ZipFile(root) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DicomLoadError(f"{root}: damaged zip archive ({exc})", str(root)) from exc
    for info in infos:
        if info.is_dir():
            continue
        shown = member_display(str(root), info.filename)
        if not is_safe_member(info.filename):
            problems.append(
                FileProblem(
                    shown,
                    "zip member name escapes the archive folder (absolute path or '..'); refused",
                )
            )
        elif info.file_size > MAX_MEMBER_BYTES:
            problems.append(
                FileProblem(
                    shown, f"zip member of {info.file_size} bytes is over the 2 GiB limit; refused"
                )
            )
        elif info.file_size > max(RATIO_FREE_MEMBER_BYTES, MAX_MEMBER_RATIO * info.compress_size):
            problems.append(
                FileProblem(
                    shown,
                    f"zip member inflates from {info.compress_size} to {info.file_size} "
                    f"bytes (over {MAX_MEMBER_RATIO} times); refused",
                )
            )
        elif PurePosixPath(info.filename).name.upper() != "DICOMDIR":
            entries.append(Entry(shown, str(root), info.filename, stat.st_size, stat.st_mtime_ns))
    entries.sort(key=lambda e: e.path)
    return entries, problems


def _dicomdir(root: Path) -> tuple[list[Entry], list[FileProblem]]:
    try:
        ds = pydicom.dcmread(root, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise DicomLoadError(f"{root}: not a readable DICOMDIR ({exc})", str(root)) from exc
    base = root.parent.resolve()
    entries: list[Entry] = []
    problems: list[FileProblem] = []
    seen: set[str] = set()
    for record in ds.get("DirectoryRecordSequence", []):
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else [str(p) for p in file_id]
        target = base.joinpath(*parts)
        shown = str(target)
        if ".." in parts or not _inside(target, base):
            problems.append(FileProblem(shown, "DICOMDIR entry points outside its folder; refused"))
            continue
        resolved = _case_insensitive(target)
        if resolved is None:
            problems.append(FileProblem(shown, f"listed in {root} but missing"))
            continue
        if resolved.name.upper() == "DICOMDIR" or resolved.resolve() == root.resolve():
            problems.append(
                FileProblem(
                    shown,
                    f"listed in {root} as an image but is a DICOMDIR "
                    "(an index, not an image); refused",
                )
            )
            continue
        if str(resolved) in seen:
            continue
        seen.add(str(resolved))
        st = resolved.stat()
        entries.append(Entry(str(resolved), str(resolved), None, st.st_size, st.st_mtime_ns))
    if not entries and not problems:
        problems.append(FileProblem(str(root), "the DICOMDIR lists no files"))
    entries.sort(key=lambda e: e.path)
    return entries, problems


def _inside(target: Path, base: Path) -> bool:
    try:
        target.resolve().relative_to(base)
    except ValueError:
        return False
    return True


def _case_insensitive(target: Path) -> Path | None:
    """Find *target*, tolerating the upper-case names of CD-ROM file sets."""
    if target.is_file():
        return target
    parent = target.parent
    if parent.is_dir():
        wanted = target.name.lower()
        for item in parent.iterdir():
            if item.name.lower() == wanted and item.is_file():
                return item
    return None


def read_member(archive: zipfile.ZipFile, entry: Entry) -> bytes:
    """Read one zip member into memory (never to disk)."""
    assert entry.member is not None
    return archive.read(entry.member)


def iter_member_bytes(entries: list[Entry]) -> Iterator[tuple[Entry, bytes | None, str | None]]:
    """Yield ``(entry, bytes, error)`` for zip entries, opening each archive once."""
    open_archives: dict[str, zipfile.ZipFile] = {}
    try:
        for entry in entries:
            try:
                archive = open_archives.get(entry.file_path)
                if archive is None:
                    archive = zipfile.ZipFile(entry.file_path)
                    open_archives[entry.file_path] = archive
                yield entry, read_member(archive, entry), None
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                yield entry, None, f"cannot be read from the archive ({exc})"
    finally:
        for archive in open_archives.values():
            archive.close()
