"""The "Find on PACS" dialog: search a PACS, pick a series, retrieve it.

The dialog never talks to a PACS itself: it drives a Qt-free controller
(``app.pacs.controller.PacsController``, duck-typed here because the viewer does not
import storage, even indirectly).  The controller works on its own thread and
reports through psygnal signals; a small QObject re-emits them as Qt signals,
so the widgets are only ever touched from the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

MODALITIES = ("", "CT", "MR", "PT", "US", "CR", "DX", "MG", "NM", "SR")
STUDY_COLUMNS = (
    "Patient ID",
    "Patient name",
    "Date",
    "Modalities",
    "Description",
    "Series",
    "Images",
)
SERIES_COLUMNS = ("#", "Modality", "Description", "Images")
_UID_ROLE = Qt.ItemDataRole.UserRole


class _Bridge(QObject):
    """Re-emits the controller's psygnal signals as queued Qt signals."""

    studies_found = Signal(list)
    series_found = Signal(str, list)
    retrieve_progressed = Signal(int, int)
    series_retrieved = Signal(str)
    retrieve_cancelled = Signal()
    failed = Signal(str)
    busy_changed = Signal(bool)

    NAMES = (
        "studies_found",
        "series_found",
        "retrieve_progressed",
        "series_retrieved",
        "retrieve_cancelled",
        "failed",
        "busy_changed",
    )

    def connect_to(self, controller: Any) -> None:
        """Forward every controller signal to the Qt signal of the same name."""
        for name in self.NAMES:
            getattr(controller, name).connect(getattr(self, name).emit)

    def disconnect_from(self, controller: Any) -> None:
        """Stop forwarding (the dialog is going away)."""
        for name in self.NAMES:
            getattr(controller, name).disconnect(getattr(self, name).emit)


def _item(value: object, uid: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem("" if value is None else str(value))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if uid is not None:
        item.setData(_UID_ROLE, uid)
    return item


def _table(columns: tuple[str, ...]) -> QTableWidget:
    """A read-only, single-row-selection table whose "Description" column takes the slack."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(columns.index("Description"), QHeaderView.ResizeMode.Stretch)
    return table


class FindOnPacsDialog(QDialog):
    """Search a PACS for a patient's studies and retrieve a series into the local store.

    Parameters
    ----------
    controller : app.pacs.controller.PacsController
        Does the work; see its signals.
    parent : QWidget, optional

    Signals
    -------
    series_retrieved(str)
        Folder of a completely retrieved series; the main window opens it.
    """

    series_retrieved = Signal(str)

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find on PACS")
        self.resize(900, 620)
        self._controller = controller
        self._busy = False
        self._bridge = _Bridge(self)
        self._build()
        self._bridge.connect_to(controller)
        self._connect()
        self.pacs_combo.addItems(controller.node_names())
        self._set_busy(False)
        if self.pacs_combo.count() == 0:
            self._show_status("No PACS configured: add one with 'caliper pacs add'.", error=True)

    # -- construction -------------------------------------------------------

    def _build(self) -> None:
        self.pacs_combo = QComboBox()
        self.patient_id_edit = QLineEdit()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("family name, prefix match")
        self.from_edit = QLineEdit()
        self.from_edit.setPlaceholderText("YYYY-MM-DD")
        self.to_edit = QLineEdit()
        self.to_edit.setPlaceholderText("YYYY-MM-DD")
        self.modality_combo = QComboBox()
        self.modality_combo.setEditable(True)
        self.modality_combo.addItems(list(MODALITIES))
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)

        form = QFormLayout()
        form.addRow("PACS", self.pacs_combo)
        form.addRow("Patient ID", self.patient_id_edit)
        form.addRow("Patient name", self.name_edit)
        dates = QHBoxLayout()
        dates.addWidget(self.from_edit)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.to_edit)
        form.addRow("Study date", dates)
        form.addRow("Modality", self.modality_combo)
        query_box = QGroupBox("Search")
        query_layout = QHBoxLayout(query_box)
        query_layout.addLayout(form, 1)
        query_layout.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.studies_table = _table(STUDY_COLUMNS)
        self.series_table = _table(SERIES_COLUMNS)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for title, table in (("Studies", self.studies_table), ("Series", self.series_table)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(table)
            splitter.addWidget(box)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m images")
        self.retrieve_button = QPushButton("Retrieve")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress_bar, 1)
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(query_box)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.search_button.clicked.connect(self._on_search_clicked)
        self.retrieve_button.clicked.connect(self._on_retrieve_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.close_button.clicked.connect(self.reject)
        self.studies_table.itemSelectionChanged.connect(self._on_study_selection_changed)
        self.series_table.itemSelectionChanged.connect(self._update_buttons)
        self._bridge.studies_found.connect(self._on_studies_found)
        self._bridge.series_found.connect(self._on_series_found)
        self._bridge.retrieve_progressed.connect(self._on_retrieve_progressed)
        self._bridge.series_retrieved.connect(self._on_series_retrieved)
        self._bridge.retrieve_cancelled.connect(self._on_retrieve_cancelled)
        self._bridge.failed.connect(self._on_failed)
        self._bridge.busy_changed.connect(self._set_busy)

    # -- what the reader does -----------------------------------------------

    @property
    def node_name(self) -> str:
        """The PACS picked in the combo box."""
        return self.pacs_combo.currentText()

    def selected_study_uid(self) -> str | None:
        """StudyInstanceUID of the selected study row."""
        return self._selected_uid(self.studies_table)

    def selected_series_uid(self) -> str | None:
        """SeriesInstanceUID of the selected series row."""
        return self._selected_uid(self.series_table)

    @staticmethod
    def _selected_uid(table: QTableWidget) -> str | None:
        rows = table.selectionModel().selectedRows()
        item = table.item(rows[0].row(), 0) if rows else None
        return str(item.data(_UID_ROLE)) if item is not None else None

    def _on_search_clicked(self) -> None:
        self._show_status("Searching…")
        self.studies_table.setRowCount(0)
        self.series_table.setRowCount(0)
        self._controller.find_studies(
            self.node_name,
            patient_id=self.patient_id_edit.text(),
            patient_name=self.name_edit.text(),
            date_from=self.from_edit.text(),
            date_to=self.to_edit.text(),
            modality=self.modality_combo.currentText(),
        )

    def _on_study_selection_changed(self) -> None:
        self.series_table.setRowCount(0)
        uid = self.selected_study_uid()
        if uid:
            self._controller.find_series(self.node_name, uid)
        self._update_buttons()

    def _on_retrieve_clicked(self) -> None:
        uid = self.selected_series_uid()
        if not uid:
            return
        self.progress_bar.setRange(0, 0)  # busy until the first image arrives
        self._show_status("Retrieving…")
        self._controller.retrieve(self.node_name, uid)

    def _on_cancel_clicked(self) -> None:
        self._show_status("Cancelling…")
        self._controller.cancel()

    # -- what the controller reports -------------------------------------------

    def _on_studies_found(self, studies: list[Any]) -> None:
        self.studies_table.setRowCount(len(studies))
        for row, s in enumerate(studies):
            values = (
                s.patient_id,
                s.patient_name,
                s.study_date,
                "/".join(s.modalities),
                s.study_description,
                s.n_series,
                s.n_instances,
            )
            for col, value in enumerate(values):
                self.studies_table.setItem(
                    row, col, _item(value, s.study_instance_uid if col == 0 else None)
                )
        self._show_status(f"{len(studies)} studies found.")
        if studies:
            self.studies_table.selectRow(0)

    def _on_series_found(self, study_uid: str, series: list[Any]) -> None:
        if study_uid != self.selected_study_uid():
            return  # the reader moved on to another study
        self.series_table.setRowCount(len(series))
        for row, s in enumerate(series):
            values = (s.series_number, s.modality, s.series_description, s.n_instances)
            for col, value in enumerate(values):
                self.series_table.setItem(
                    row, col, _item(value, s.series_instance_uid if col == 0 else None)
                )
        if series:
            self.series_table.selectRow(0)
        self._update_buttons()

    def _on_retrieve_progressed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, done))
        self.progress_bar.setValue(done)

    def _on_series_retrieved(self, path: str) -> None:
        self.progress_bar.setValue(self.progress_bar.maximum())
        self._show_status(f"Retrieved into {path}")
        self.series_retrieved.emit(path)

    def _on_retrieve_cancelled(self) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._show_status("Retrieve cancelled; nothing was imported.")

    def _on_failed(self, message: str) -> None:
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)
        self._show_status(message, error=True)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.cancel_button.setEnabled(busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.search_button.setEnabled(not self._busy and self.pacs_combo.count() > 0)
        self.retrieve_button.setEnabled(not self._busy and self.selected_series_uid() is not None)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #c0392b;" if error else "")
        self.status_label.setText(text)

    # -- closing -----------------------------------------------------------------

    def done(self, result: int) -> None:
        """Cancel a running retrieve and stop listening to the controller."""
        self._controller.cancel()
        self._bridge.disconnect_from(self._controller)
        super().done(result)
