"""Where the window's widgets are on screen, for end-to-end tests (``CALIPER_UI_MAP``).

``app/main.py`` installs a :class:`UiMapWriter` when the environment variable
``CALIPER_UI_MAP`` names a file.  Ten times a second the writer measures the
main window, its named widgets, the toolbar buttons, the lesion table's rows,
the image view's pixel-to-screen mapping, open menus and dialogs, and
rewrites the file (JSON, atomically) when anything moved.  A test driving the
real program with X input events reads it to know where to click.

Only geometry and interface vocabulary are written: object names, class names,
menu and button captions, the entries of an open combo box list (organs, lesion
choices such as "T1 liver segment VII"), the tool tip on screen (the program's own
explanations), lesion codes (T1, NT1), slice numbers and positions in millimetres.
Never window titles, patient, reader or file names, dates, DICOM text, or what is
typed in a text field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QPoint, QPointF, QRect, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QMenu,
    QMenuBar,
    QToolBar,
    QToolTip,
    QTreeView,
    QWidget,
)

__all__ = ["UiMapWriter", "install_ui_map", "ui_map"]

UI_MAP_VARIABLE = "CALIPER_UI_MAP"

_INTERVAL_MS = 100
_CAPTION_CHARS = 48
_TIP_CHARS = 300


def _rect(widget: QWidget, local: QRect | None = None) -> list[int]:
    """Global ``[x, y, width, height]`` of *local* (default: the whole widget)."""
    local = local if local is not None else widget.rect()
    top_left = widget.mapToGlobal(local.topLeft())
    return [top_left.x(), top_left.y(), local.width(), local.height()]


def _caption(text: str) -> str:
    return text.replace("&", "").replace("…", "").replace("...", "").strip()[:_CAPTION_CHARS]


def _named_children(root: QWidget) -> dict[str, list[int]]:
    """Visible descendants of *root* that have an object name (Qt's own ``qt_*`` left out)."""
    found: dict[str, list[int]] = {}
    for child in root.findChildren(QWidget):
        name = child.objectName()
        if (
            name
            and not name.startswith("qt_")
            and child.isVisible()
            and name not in found
            and child.window() is root
        ):  # a dialog's widgets are listed under the dialog
            found[name] = _rect(child)
    return found


def _buttons(root: QWidget) -> dict[str, dict[str, Any]]:
    """Visible push/tool/check buttons by caption, with their checked and enabled state."""
    found: dict[str, dict[str, Any]] = {}
    for button in root.findChildren(QAbstractButton):
        caption = _caption(button.text())
        if caption and button.isVisible() and caption not in found and button.window() is root:
            found[caption] = {
                "rect": _rect(button),
                "enabled": button.isEnabled(),
                "checked": button.isChecked(),
            }
    return found


def _toolbar_actions(window: QWidget) -> dict[str, dict[str, Any]]:
    """Toolbar buttons by their action's object name (``tool_line``, ``open``, ``sign`` ...)."""
    found: dict[str, dict[str, Any]] = {}
    for toolbar in window.findChildren(QToolBar):
        for action in toolbar.actions():
            button = toolbar.widgetForAction(action)
            if action.objectName() and button is not None and button.isVisible():
                found[action.objectName()] = {
                    "rect": _rect(button),
                    "enabled": action.isEnabled(),
                    "checked": action.isChecked(),
                }
    return found


def _menu_items(menu: QMenu | QMenuBar) -> dict[str, dict[str, Any]]:
    """Items of a menu bar or an open menu by caption (``File``, ``Open folder``)."""
    found: dict[str, dict[str, Any]] = {}
    for action in menu.actions():
        caption = _caption(action.text())
        geometry = menu.actionGeometry(action)
        if caption and action.isVisible() and not geometry.isEmpty():
            found[caption] = {"rect": _rect(menu, geometry), "enabled": action.isEnabled()}
    return found


def _image_map(viewer: Any) -> dict[str, Any] | None:
    """Screen position of the displayed slice's pixel centres.

    The centre of pixel ``(row, col)`` is on screen at
    ``origin + col * col_step + row * row_step`` (global pixels, fractional).
    """
    rows, columns = viewer.image_shape
    if not rows or viewer.volume is None:
        return None
    view = viewer.graphics_view
    to_viewport = view.viewportTransform()
    corner = view.viewport().mapToGlobal(QPoint(0, 0))

    def screen(col: float, row: float) -> tuple[float, float]:
        p = to_viewport.map(viewer.view_box.mapViewToScene(QPointF(col, row)))
        return p.x() + corner.x(), p.y() + corner.y()

    origin, right, down = screen(0, 0), screen(1, 0), screen(0, 1)
    lps = [viewer.display_to_lps(x, y) for x, y in ((0, 0), (1, 0), (0, 1))]
    return {
        "plane": viewer.orientation,
        "slice_index": viewer.slice_index,
        "slice_count": viewer.slice_count,
        "rows": int(rows),
        "columns": int(columns),
        "origin": list(origin),
        "col_step": [right[0] - origin[0], right[1] - origin[1]],
        "row_step": [down[0] - origin[0], down[1] - origin[1]],
        "viewport": _rect(view.viewport()),
        # patient coordinates (LPS mm) of the same pixel centres: where a caliper belongs
        "origin_lps_mm": list(lps[0]),
        "col_step_lps_mm": [b - a for a, b in zip(lps[0], lps[1], strict=True)],
        "row_step_lps_mm": [b - a for a, b in zip(lps[0], lps[2], strict=True)],
    }


def _list_popup(popups: list[QWidget]) -> dict[str, dict[str, Any]] | None:
    """Entries of an open combo box list (organs, lesion choices) by caption, with whether
    each can be chosen (RECIST disables some at a timepoint)."""
    for popup in popups:
        view = popup.findChild(QAbstractItemView)
        if view is not None:
            model, found = view.model(), {}
            for caption, rect in _table_rows(view).items():
                row = next(
                    r
                    for r in range(model.rowCount())
                    if str(model.index(r, 0).data())[:_CAPTION_CHARS] == caption
                )
                enabled = bool(model.flags(model.index(row, 0)) & Qt.ItemFlag.ItemIsEnabled)
                found[caption] = {"rect": rect, "enabled": enabled}
            return found
    return None


def _table_rows(table: QAbstractItemView) -> dict[str, list[int]]:
    """Visible rows of *table* by the text of their first column (the lesion code)."""
    model, found = table.model(), {}
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        local = table.visualRect(index)
        if local.isEmpty() or not table.viewport().rect().intersects(local):
            continue
        full = QRect(
            local.left(), local.top(), table.viewport().width() - local.left(), local.height()
        )
        found[str(index.data())[:_CAPTION_CHARS]] = _rect(table.viewport(), full)
    return found


def _timepoint_rows(window: Any) -> dict[str, list[int]]:
    """Visible timepoint rows of the patient browser by label (the patients' rows are left out)."""
    tree = window.findChild(QTreeView, "patientTree")
    if tree is None:
        return {}
    model, found = tree.model(), {}
    for patient in range(model.rowCount()):
        parent = model.index(patient, 0)
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            local = tree.visualRect(index)
            if not local.isEmpty() and tree.viewport().rect().intersects(local):
                found[str(index.data())[:_CAPTION_CHARS]] = _rect(tree.viewport(), local)
    return found


def ui_map(window: Any) -> dict[str, Any]:
    """The map of *window* (a MainWindow) and of the menus and dialogs open above it."""
    focus = QApplication.focusWidget()
    popups = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()]
    lists = [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w.metaObject().className() == "QComboBoxPrivateContainer"
    ]
    dialogs = [
        {
            "class": w.metaObject().className(),
            "object": w.objectName(),
            "rect": _rect(w),
            "modal": w.isModal(),
            "widgets": _named_children(w),
            "buttons": _buttons(w),
        }
        for w in QApplication.topLevelWidgets()
        if w is not window
        and w.isVisible()
        and not isinstance(w, QMenu)
        and w.isWindow()
        and w.width() > 1
        and w not in lists
    ]
    return {
        "window": _rect(window),
        "window_id": int(window.winId()),
        "active": window.isActiveWindow(),
        "widgets": {
            **_named_children(window),
            "image": _rect(window.viewer.graphics_view.viewport()),
            "lesion_table": _rect(window.lesion_table.viewport()),
        },
        "toolbar": _toolbar_actions(window),
        "menubar": _menu_items(window.menuBar()),
        "popup": _menu_items(popups[-1]) if popups else None,
        "list_popup": _list_popup(lists),
        "tooltip": QToolTip.text()[:_TIP_CHARS] if QToolTip.isVisible() else None,
        "dialogs": dialogs,
        "status": window.statusBar().currentMessage(),
        "loading": window.progress.isVisible(),
        "lesion_rows": _table_rows(window.lesion_table),
        "timepoint_rows": _timepoint_rows(window),
        "image": _image_map(window.viewer),
        "focus": None
        if focus is None
        else {
            "class": focus.metaObject().className(),
            "object": focus.objectName(),
            "rect": _rect(focus),
        },
    }


class UiMapWriter(QObject):
    """Keeps the JSON file *path* up to date with :func:`ui_map` of *window*.

    Parameters
    ----------
    window : MainWindow
        The window to map.
    path : str or pathlib.Path
        The JSON file; rewritten (atomically) whenever the map changes, with a
        ``serial`` that counts the changes.
    """

    def __init__(self, window: Any, path: str | Path) -> None:
        super().__init__(window)
        self._window, self._path = window, Path(path)
        self._last: dict[str, Any] | None = None
        self._serial = 0
        self._timer = QTimer(self)
        self._timer.setInterval(_INTERVAL_MS)
        self._timer.timeout.connect(self.write)
        self._timer.start()

    def write(self) -> None:
        """Measure the window now and rewrite the file if anything changed."""
        try:
            current = ui_map(self._window)
        except RuntimeError:  # a widget was deleted while we measured; next tick
            return
        if current == self._last:
            return
        self._last = current
        self._serial += 1
        temporary = self._path.with_name(self._path.name + ".tmp")
        try:
            temporary.write_text(json.dumps({"serial": self._serial, **current}), encoding="utf-8")
            os.replace(temporary, self._path)
        except OSError:  # a test tool: never disturb the reader's session over it
            self._timer.stop()


def install_ui_map(window: Any) -> UiMapWriter | None:
    """A :class:`UiMapWriter` for *window* when ``$CALIPER_UI_MAP`` names a file, else None."""
    path = os.environ.get(UI_MAP_VARIABLE)
    return UiMapWriter(window, path) if path else None
