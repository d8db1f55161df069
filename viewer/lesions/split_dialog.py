"""Ask for the fragments of a target that split: their long axes in mm, comma-separated."""

from __future__ import annotations

import math
import re

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from viewer.style import WARNING_COLOUR

_SEPARATORS = re.compile(r"[,;+\s]+")


def parse_fragments(text: str) -> tuple[float, ...]:
    """The lengths in *text* (``"12, 8.5"``; commas, semicolons, ``+`` or spaces separate them).

    Raises
    ------
    ValueError
        A value is not a number above 0, or there are fewer than two; the
        message tells the reader what to type.
    """
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    lengths: list[float] = []
    for part in parts:
        try:
            value = float(part.removesuffix("mm"))
        except ValueError:
            raise ValueError(
                f"“{part}” is not a length in mm. Type each fragment's long axis, "
                "separated by commas, e.g. 12, 8.5"
            ) from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"“{part}”: each fragment must be longer than 0 mm.")
        lengths.append(value)
    if len(lengths) < 2:
        raise ValueError(
            "A split lesion has at least two fragments: type each one's long axis, "
            "separated by commas, e.g. 12, 8.5"
        )
    return tuple(lengths)


class SplitLesionDialog(QDialog):
    """Collect the long axes of the fragments a target split into.

    Parameters
    ----------
    code : str
        The target's code (``"T1"``).
    current : tuple of float
        Fragments recorded before (prefilled), or empty.
    parent : QWidget, optional
        Parent window.
    """

    def __init__(
        self, code: str, current: tuple[float, ...] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("splitLesionDialog")
        self.setWindowTitle(f"Split {code}")
        self._values: tuple[float, ...] = ()
        intro = QLabel(
            f"{code} has split into fragments. Type the long axis of each fragment in mm, "
            f"separated by commas; {code} counts as their sum."
        )
        intro.setWordWrap(True)
        self.fragments = QLineEdit(", ".join(f"{v:g}" for v in current))
        self.fragments.setObjectName("fragments")
        self.fragments.setPlaceholderText("e.g. 12, 8.5")
        self.total = QLabel()
        self.total.setObjectName("total")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {WARNING_COLOUR.name()};")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.fragments, self.total, self.error, buttons):
            layout.addWidget(widget)
        self.fragments.textChanged.connect(self._on_text_changed)
        self._on_text_changed(self.fragments.text())
        self.setMinimumWidth(420)

    def fragments_mm(self) -> tuple[float, ...]:
        """The accepted lengths (empty until the dialog is accepted)."""
        return self._values

    def _on_text_changed(self, text: str) -> None:
        self.error.hide()
        try:
            lengths = parse_fragments(text)
        except ValueError:
            self.total.setText("Sum: —")
            return
        self.total.setText(f"Sum: {' + '.join(f'{v:g}' for v in lengths)} = {sum(lengths):.1f} mm")

    def accept(self) -> None:
        """Close only when the text holds at least two valid lengths; else say what is wrong."""
        try:
            self._values = parse_fragments(self.fragments.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.adjustSize()  # grow to show the whole message
            self.fragments.setFocus()
            return
        super().accept()
