"""A yellow bar above the image naming the series just shown and its loader warnings.

Gantry tilt, uneven spacing, missing slices, duplicates and slices that could
not be decoded change what the reader measures on; they must be seen in the
window, not only in ``caliper dicom load --json``.  The bar stays until the
reader dismisses it (the ✕ button) or another series without warnings is shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from viewer.image.volume import volume_text

# on each widget itself: the application's dark sheet styles every QWidget, and a
# widget's own sheet is the one that wins over it
_STYLE = "QFrame#loadWarningsBanner { background: #f2c14e; border-radius: 3px; }"
_TEXT_STYLE = "background: transparent; color: #1b1b1b;"
_BUTTON_STYLE = (
    "QToolButton { background: transparent; color: #1b1b1b; border: none; font-weight: bold; }"
    "QToolButton:hover { background: #e0a92c; }"
)
#: A warning longer than this is cut (its full text is in the tool tip).
MAX_WARNING_CHARS = 220


def warnings_text(volume: Any) -> str:
    """The banner's text for *volume*: the series, then one line per warning ("" if none)."""
    warnings = [str(w) for w in (getattr(volume, "warnings", None) or [])]
    if not warnings:
        return ""
    name = volume_text(volume, "series_description", "(no description)")
    modality = volume_text(volume, "modality", "?")
    count = len(getattr(volume, "sop_instance_uids", None) or [])
    lines = [
        f"Series “{name}” ({modality}, {count} images, "
        f"{volume_text(volume, 'series_instance_uid')}) was loaded with warnings:"
    ]
    for warning in warnings:
        short = warning if len(warning) <= MAX_WARNING_CHARS else warning[:MAX_WARNING_CHARS] + "…"
        lines.append(f"• {short}")
    return "\n".join(lines)


class LoadWarningsBannerWidget(QFrame):
    """Shows :func:`warnings_text` of the series on screen; hidden when there is none.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loadWarningsBanner")
        self.setStyleSheet(_STYLE)
        self.label = QLabel()
        self.label.setObjectName("loadWarningsText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet(_TEXT_STYLE)
        self.dismiss_button = QToolButton()
        self.dismiss_button.setObjectName("dismissLoadWarnings")
        self.dismiss_button.setText("✕")
        self.dismiss_button.setToolTip("Dismiss these warnings")
        self.dismiss_button.setStyleSheet(_BUTTON_STYLE)
        self.dismiss_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        """The text shown (empty when there are no warnings)."""
        return self.label.text()

    def show_for(self, volume: Any) -> None:
        """Show the warnings of *volume*, or hide the bar when it has none."""
        text = warnings_text(volume)
        self.label.setText(text)
        self.label.setToolTip("\n".join(str(w) for w in (getattr(volume, "warnings", None) or [])))
        self.setVisible(bool(text))
