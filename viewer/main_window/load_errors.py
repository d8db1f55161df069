"""Loader errors in words a reader understands, with the technical text behind Details.

``storage.dicom`` reports a folder without images as one long line (``"…: no image
series found: a.txt: not a DICOM file (no 'DICM' marker after the 128-byte
preamble); … (+3 more)"``).  :func:`friendly_load_error` turns it into
"No DICOM images in this folder (6 files skipped: see Details)" and keeps the
file-by-file reasons, one a line, for the Details button.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

_NO_SERIES = "no image series found"
_MORE = re.compile(r"\(\+(\d+) more\)\s*$")


def friendly_load_error(path: str, exc: BaseException) -> tuple[str, str, str]:
    """(title, one-line summary, details) of a failed load of *path*."""
    name = Path(path).name or path
    text = str(exc) or type(exc).__name__
    if _NO_SERIES in text:
        reasons = text.split(f"{_NO_SERIES}:", 1)[1].strip() if f"{_NO_SERIES}:" in text else ""
        more = _MORE.search(reasons)
        listed = [r.strip() for r in _MORE.sub("", reasons).split("; ") if r.strip()]
        skipped = len(listed) + (int(more.group(1)) if more else 0)
        summary = "No DICOM images in this folder" + (
            f" ({skipped} file{'' if skipped == 1 else 's'} skipped: see Details)"
            if skipped
            else " (it is empty)"
        )
        details = "\n".join(listed) + (f"\n… and {more.group(1)} more" if more else "")
        return f"Could not open {name}", summary, details or text
    if isinstance(exc, PermissionError):
        return (
            f"Could not open {name}",
            "Caliper may not read this folder (permission denied).",
            text,
        )
    if isinstance(exc, FileNotFoundError):
        return f"Could not open {name}", "The folder or file no longer exists.", text
    first = text.splitlines()[0] if text else ""
    short = first if len(first) <= 160 else first[:157] + "…"
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"Could not open {name}", short, details


def show_load_error(parent: QWidget | None, path: str, exc: BaseException) -> QMessageBox:
    """A warning box with the summary; the technical text behind *Show Details*."""
    title, summary, details = friendly_load_error(path, exc)
    box = QMessageBox(parent)
    box.setObjectName("loadErrorBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Caliper")
    box.setText(title)
    box.setInformativeText(summary)
    box.setDetailedText(f"{path}\n\n{details}")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box
