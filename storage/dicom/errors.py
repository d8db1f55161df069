"""Errors and problem reports of DICOM discovery and loading."""

from __future__ import annotations

from dataclasses import dataclass


class DicomLoadError(Exception):
    """A series (or a file) cannot be found or loaded.

    The message always names the file or folder and says what is wrong, so
    that the application can show it to the reader as it is.

    Parameters
    ----------
    message : str
        What went wrong, naming the file or folder.
    path : str or None
        The file, folder or archive concerned, when there is one.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One file that was skipped during discovery, and why.

    Attributes
    ----------
    path : str
        The file (``archive.zip::member`` for a member of a zip archive).
    message : str
        What is wrong with it, in words a reader can act on.
    """

    path: str
    message: str

    def __post_init__(self) -> None:
        # one line, whatever a hostile file put into the text it quotes (UIDs, VRs, values)
        if not self.message.isprintable():
            object.__setattr__(self, "message", _one_line(self.message))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _one_line(text: str) -> str:
    """``text`` with every non-printable character (newline, NUL, ...) shown as its escape."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
