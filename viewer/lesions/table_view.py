"""The table view of :class:`~viewer.lesions.table_model.LesionTableModel`.

Kind and status are edited with drop-down lists; organ, location and code
inline, after F2 or the row menu's "Edit organ / location…" (a click or double-click
goes to the lesion's image and opens no editor); nodal with a check box.  Choosing
"split" asks for the fragments' lengths (:class:`SplitLesionDialog`), "merged" for the
target the lesion joined (:class:`MergeLesionDialog`).  Selecting a row announces the lesion
(``lesion_selected``) so the main window can assign the next caliper to it and
show its previous key slice; a click on the table's empty area deselects it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from recist.model import LesionKind, MeasurementStatus
from viewer.errors import report_error
from viewer.lesions.merge_dialog import MergeLesionDialog
from viewer.lesions.split_dialog import SplitLesionDialog
from viewer.lesions.table_model import KIND, KIND_LABELS, STATUS, LesionTableModel, status_label

Index = QModelIndex | QPersistentModelIndex


class _ChoiceDelegate(QStyledItemDelegate):
    """A drop-down editor over fixed (value, label) choices."""

    def __init__(self, choices: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choices = choices

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:  # noqa: N802
        """A combo box listing the choices."""
        combo = QComboBox(parent)
        for value, label in self._choices:
            combo.addItem(label, value)
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802
        """Select the current value."""
        assert isinstance(editor, QComboBox)
        i = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(i, 0))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:  # noqa: N802
        """Write the chosen value."""
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


#: The lesion table's own keys, for Help → Keyboard shortcuts: (key, what it does).
TABLE_KEYS: tuple[tuple[str, str], ...] = (("F2", "Edit the selected cell (lesion table)"),)


class LesionTableView(QTableView):
    """Lesion table with drop-down editors and a ``lesion_selected(object)`` signal.

    Parameters
    ----------
    model : LesionTableModel
        The table's model.
    parent : QWidget, optional
        Parent widget.

    Signals
    -------
    lesion_selected(object)
        The selected lesion's id, or None when nothing is selected.
    """

    lesion_selected = Signal(object)

    def __init__(self, model: LesionTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesionTable")
        self.setModel(model)
        self._model = model
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # F2 (or the row menu's "Edit organ / location…"), not a click or a double-click:
        # those go to the lesion's image, and an editor they opened took the next key (N
        # renamed T1 to "n"; in a drop-down it would have chosen "new lesion")
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(100)
        header.setMinimumSectionSize(36)
        header.setStretchLastSection(True)
        self.setItemDelegateForColumn(
            KIND, _ChoiceDelegate([(k.value, KIND_LABELS[k]) for k in LesionKind], self)
        )
        self.setItemDelegateForColumn(
            STATUS, _ChoiceDelegate([(s.value, status_label(s)) for s in MeasurementStatus], self)
        )
        model.edit_failed.connect(self._on_edit_failed)
        model.details_needed.connect(self._on_details_needed)
        model.modelAboutToBeReset.connect(self._on_model_about_to_reset)
        model.modelReset.connect(self._on_model_reset)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._kept_lesion: Any = None
        self._set_fixed_widths()

    def _set_fixed_widths(self) -> None:
        """Fixed columns at their usual width; every column at least as wide as its title."""
        header = self.horizontalHeader()
        bold = QFont(header.font())
        bold.setBold(True)  # the current timepoint's title is bold: measure every title bold
        metrics = QFontMetrics(bold)
        usual = (46, 78, 86, 96, 48, 86)
        for column in range(self._model.columnCount()):
            title = str(self._model.headerData(column, Qt.Orientation.Horizontal) or "")
            # text + sort indicator / lock icon + margins: a title is never cut ("aseline mm")
            needed = (
                metrics.horizontalAdvance(title)
                + 2 * header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMargin)
                + (22 if column >= len(usual) else 12)
            )
            least = usual[column] if column < len(usual) else header.defaultSectionSize()
            self.setColumnWidth(column, max(least, needed))

    def selected_lesion_id(self) -> int | None:
        """The id of the selected lesion, or None."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        lesion = self._model.lesion_at(rows[0].row())
        return lesion.id if lesion is not None else None

    def select_lesion(self, lesion_id: int | None) -> None:
        """Select the row of *lesion_id* (None clears the selection)."""
        row = -1 if lesion_id is None else self._model.row_of(lesion_id)
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """A press on the empty area (below the last row, right of the last column) deselects."""
        if not self.indexAt(event.position().toPoint()).isValid():
            self.clearSelection()
            self.setCurrentIndex(QModelIndex())
        super().mousePressEvent(event)

    def _on_selection_changed(self, *_: object) -> None:
        self.lesion_selected.emit(self.selected_lesion_id())

    def _on_model_about_to_reset(self) -> None:
        self._kept_lesion = self.selected_lesion_id()

    def _on_model_reset(self) -> None:
        self._set_fixed_widths()
        # a refresh must not lose the reader's selection
        if self._kept_lesion is not None and self._model.row_of(self._kept_lesion) >= 0:
            self.selectRow(self._model.row_of(self._kept_lesion))
        else:
            self.lesion_selected.emit(None)

    def _on_edit_failed(self, message: str, exc: object) -> None:
        if isinstance(exc, BaseException):
            report_error(self.window(), message, exc)

    def ask_details(self, lesion_id: int, status: str) -> QDialog | None:
        """Open the split (*status* ``"split"``) or merge dialog of *lesion_id* (context menu)."""
        return self._on_details_needed(lesion_id, status)

    def _on_details_needed(self, lesion_id: int, status: str) -> QDialog | None:
        """Open the split or merge dialog for *lesion_id*; accepting it makes one session call."""
        row = self._model.row_of(lesion_id)
        lesion = self._model.lesion_at(row)
        if lesion is None:
            return None
        if lesion.kind is not LesionKind.TARGET:  # say so before asking for details
            report_error(
                self.window(),
                f"Could not record {lesion.code} as {status}",
                ValueError(
                    f"Only target lesions are recorded split or merged; {lesion.code} is a "
                    f"{KIND_LABELS[lesion.kind]} lesion."
                ),
            )
            return None
        current = self._model.measurement(row)
        dialog: QDialog
        if MeasurementStatus(status) is MeasurementStatus.SPLIT:
            fragments = current.fragments_mm if current is not None else ()
            split = SplitLesionDialog(lesion.code, fragments, self.window())
            split.accepted.connect(
                lambda: self._model.record_split(lesion_id, split.fragments_mm())
            )
            dialog = split
        else:
            others = self._model.other_target_codes(lesion_id)
            if not others:
                report_error(
                    self.window(),
                    f"Could not record {lesion.code} as merged",
                    ValueError(
                        f"{lesion.code} is the only target: "
                        "there is no other target it could have joined."
                    ),
                )
                return None
            joined = current.coalesced_into if current is not None else None
            merge = MergeLesionDialog(lesion.code, others, joined, self.window())
            merge.accepted.connect(lambda: self._model.record_merge(lesion_id, merge.into_code()))
            dialog = merge
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
