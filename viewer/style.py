"""The dark theme, response colours and bundled icons.

Reading rooms are dim; the theme keeps large surfaces dark and text light.
Colours of responses follow the usual convention of trial dashboards: green
for response, amber for stable disease, red for progression, grey for NE.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

import resources

RESOURCES_DIR = Path(resources.__file__).resolve().parent

#: Colour of each response code (RECIST 1.1 and iRECIST).
RESPONSE_COLOURS: dict[str, str] = {
    "CR": "#3fb68b",
    "PR": "#7cc96b",
    "SD": "#e8c547",
    "non-CR/non-PD": "#e8c547",
    "PD": "#e5534b",
    "NE": "#8b949e",
    "NED": "#3fb68b",
    "iCR": "#3fb68b",
    "iPR": "#7cc96b",
    "iSD": "#e8c547",
    "iUPD": "#f08c3a",
    "iCPD": "#e5534b",
}

#: Background tint of a signed (locked) timepoint.
LOCKED_TINT = QColor("#3a3220")
#: Text colour of engine warnings.
WARNING_COLOUR = QColor("#e8a33d")
#: Pen colours of the spider plot and the prior caliper.
ACCENT = "#5fb3d9"
CALIPER = "#f2c14e"


def response_colour(code: object) -> QColor:
    """The colour of a response code (``"PR"``, ``Response.PD``...); grey if unknown."""
    return QColor(RESPONSE_COLOURS.get(str(code) if code is not None else "", "#8b949e"))


def icon(name: str) -> QIcon:
    """A bundled icon from ``resources/icons/<name>.svg``."""
    return QIcon(str(RESOURCES_DIR / "icons" / f"{name}.svg"))


def style_sheet() -> str:
    """The application style sheet (``resources/style/caliper.qss``)."""
    return (RESOURCES_DIR / "style" / "caliper.qss").read_text(encoding="utf-8")


def configure_graphics() -> None:
    """pyqtgraph options for the whole application: numpy ``(row, column)`` = DICOM Rows/Columns.

    ``app/main.py`` calls this once (the layer contract keeps pyqtgraph out of ``app``).
    """
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def apply_dark_theme(app: QApplication) -> None:
    """Give *app* the Fusion style, a dark palette and the Caliper style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1e2126",
        QPalette.ColorRole.WindowText: "#d8dde3",
        QPalette.ColorRole.Base: "#171a1e",
        QPalette.ColorRole.AlternateBase: "#1c2026",
        QPalette.ColorRole.Text: "#d8dde3",
        QPalette.ColorRole.Button: "#2e343d",
        QPalette.ColorRole.ButtonText: "#d8dde3",
        QPalette.ColorRole.Highlight: "#35506b",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2b3038",
        QPalette.ColorRole.ToolTipText: "#e8ecf0",
        QPalette.ColorRole.PlaceholderText: "#6b7280",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7280"))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(icon("caliper"))
