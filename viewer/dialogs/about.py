"""Help → About Caliper: the version, and the licence and attribution of the bundled demo study.

The demo CT is CC BY 4.0 (TCIA Colorectal-Liver-Metastases); its attribution is
``resources/demo/ATTRIBUTION.txt``, shown here as it stands.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

import resources

ATTRIBUTION_FILE = Path(resources.__file__).resolve().parent / "demo" / "ATTRIBUTION.txt"


def about_text() -> str:
    """The About box's text: version, purpose, and the demo study's licence and attribution."""
    try:
        version = metadata.version("caliper")
    except metadata.PackageNotFoundError:  # a frozen build without package metadata
        version = "(version unknown)"
    try:
        attribution = ATTRIBUTION_FILE.read_text(encoding="utf-8").strip()
    except OSError as exc:
        attribution = f"The demo study's attribution could not be read ({ATTRIBUTION_FILE}: {exc})."
    return f"Caliper {version}\nRECIST 1.1 tumour response assessment workstation.\n\n{attribution}"


def show_about(parent: QWidget | None) -> QMessageBox:
    """Open the About box (non-modal, deleted on close); returned for tests."""
    box = QMessageBox(QMessageBox.Icon.Information, "About Caliper", about_text(), parent=parent)
    box.setObjectName("aboutBox")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
