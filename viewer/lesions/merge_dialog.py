"""Ask which target a coalesced target joined."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


class MergeLesionDialog(QDialog):
    """Choose the target that a coalesced target merged into.

    Parameters
    ----------
    code : str
        The merged target's code (``"T2"``).
    target_codes : list of str
        The other targets, offered as choices.
    current : str or None
        The target chosen before (preselected), if any.
    parent : QWidget, optional
        Parent window.
    """

    def __init__(
        self,
        code: str,
        target_codes: list[str],
        current: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mergeLesionDialog")
        self.setWindowTitle(f"Merge {code}")
        intro = QLabel(
            f"{code} has coalesced with another target. Choose the target that now holds "
            f"the coalesced mass and measure the whole mass there; {code} counts 0 mm."
        )
        intro.setWordWrap(True)
        self.into = QComboBox()
        self.into.setObjectName("into")
        self.into.addItems(target_codes)
        if current in target_codes:
            self.into.setCurrentText(current)
        form = QFormLayout()
        form.addRow(f"{code} merged into", self.into)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def into_code(self) -> str:
        """The chosen target's code."""
        return self.into.currentText()
