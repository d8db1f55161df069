"""Field widgets and error marks shared by the patient record dialogs.

The conversion, surgery and survival dialogs keep every value as typed (text
fields, not spin boxes, so nothing typed is silently clamped or lost) and hand
it to the controller, which parses it.  A field the controller refuses is
marked red with the message as its tool tip; a field an endpoint still needs is
marked amber.  Dates are typed ``YYYY-MM-DD``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

#: Rich-text colours of the verdicts and criterion states.
STATUS_COLOURS = {
    "met": "#3fb68b",
    "not met": "#e5534b",
    "missing": "#e8a33d",
    "undetermined": "#e8a33d",
}
ERROR_COLOUR = "#e5534b"
MISSING_COLOUR = "#e8a33d"

#: Style of the marks (the dialogs set it on themselves).
STYLE_SHEET = f"""
QLineEdit[mark="invalid"], QComboBox[mark="invalid"], QTableWidget[mark="invalid"]
    {{ border: 1px solid {ERROR_COLOUR}; }}
QLineEdit[mark="missing"], QComboBox[mark="missing"] {{ border: 1px solid {MISSING_COLOUR}; }}
"""
NOT_RECORDED = "—"


def mark(widget: QWidget, state: str = "", tip: str = "") -> None:
    """Mark *widget* ``"invalid"``, ``"missing"`` or not at all (``""``), with *tip* as tool tip."""
    if widget.property("mark") != state:
        widget.setProperty("mark", state)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
    widget.setToolTip(tip)


def text_field(name: str, placeholder: str = "", width: int | None = None) -> QLineEdit:
    """A named line edit."""
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    if width is not None:
        edit.setMaximumWidth(width)
    return edit


def date_field(name: str) -> QLineEdit:
    """A date typed as ``YYYY-MM-DD`` (empty: not recorded)."""
    return text_field(name, "YYYY-MM-DD", 130)


def choice_field(name: str, choices: list[tuple[str, Any]], *, optional: bool = True) -> QComboBox:
    """A combo of ``(text, data)`` choices, headed by "—" (not recorded) when *optional*."""
    combo = QComboBox()
    combo.setObjectName(name)
    if optional:
        combo.addItem(NOT_RECORDED, None)
    for text, data in choices:
        combo.addItem(text, data)
    return combo


def yes_no_field(name: str) -> QComboBox:
    """Yes / no / not recorded."""
    return choice_field(name, [("yes", True), ("no", False)])


def select_data(combo: QComboBox, data: Any) -> None:
    """Select the entry holding *data* (the first entry when none does)."""
    index = combo.findData(data)
    combo.setCurrentIndex(max(index, 0))


def combo_text(combo: QComboBox) -> str:
    """The selected entry's data as text (``""`` for "not recorded")."""
    data = combo.currentData()
    return "" if data is None else str(data)


def error_label(name: str = "error", *, hidden: bool = True) -> QLabel:
    """The red, wrapped label a dialog says what it refused in (hidden until it has something)."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOUR};")
    if hidden:
        label.hide()
    return label


def show_errors(label: QLabel, messages: list[str]) -> None:
    """Show *messages* (one a line) in *label*, or hide it when there is none."""
    label.setText("<br>".join(escape(m) for m in messages))
    label.setVisible(bool(messages))


def status_html(status: str, text: str) -> str:
    """*text* coloured by a criterion / verdict *status* (met, not met, missing, undetermined)."""
    colour = STATUS_COLOURS.get(status, "#aeb6c0")
    return f"<span style='color:{colour}'><b>{escape(text)}</b></span>"
