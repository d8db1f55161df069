"""The lesion table: one row per lesion, its measurements at every timepoint.

Columns: code, kind, organ, location, nodal, the status at the current
timepoint, one "long × short mm" column per timepoint, and the engine's
warnings for the lesion at the current timepoint ("T3 is 8 mm: below 10 mm,
not measurable").  The model is a read-through view of a
:class:`app.session.ReadingSession`: it rebuilds its rows when the session
says something changed, and writes an edit back with one session call
(``change_lesion`` or ``set_status``).  No RECIST rule lives here; the
warnings are the engine's own text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QFont

from recist.model import Lesion, LesionKind, Measurement, MeasurementStatus, Timepoint
from viewer.style import LOCKED_TINT, WARNING_COLOUR, icon

Index = QModelIndex | QPersistentModelIndex

#: Short, reader-facing names of the statuses (the table shows these).
STATUS_LABELS: dict[MeasurementStatus, str] = {
    MeasurementStatus.MEASURED: "measured",
    MeasurementStatus.TOO_SMALL: "too small",
    MeasurementStatus.ABSENT: "absent",
    MeasurementStatus.NOT_EVALUABLE: "not evaluable",
    MeasurementStatus.PRESENT: "present",
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: "unequivocal progression",
    MeasurementStatus.FURTHER_INCREASE: "further increase (iRECIST)",
    MeasurementStatus.SPLIT: "split",
    MeasurementStatus.MERGED: "merged",
}

#: Reader-facing names of the lesion kinds.
KIND_LABELS: dict[LesionKind, str] = {
    LesionKind.TARGET: "target",
    LesionKind.NON_TARGET: "non-target",
    LesionKind.NEW: "new",
}

_CELL_STATUS = {
    MeasurementStatus.TOO_SMALL: "TSTM",
    MeasurementStatus.ABSENT: "absent",
    MeasurementStatus.NOT_EVALUABLE: "NE",
    MeasurementStatus.PRESENT: "present",
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: "UP",
    MeasurementStatus.FURTHER_INCREASE: "UP+",
}

#: Statuses that need details the table cannot hold (fragments, the target joined).
NEEDS_DETAILS = frozenset({MeasurementStatus.SPLIT, MeasurementStatus.MERGED})

CODE, KIND, ORGAN, LOCATION, NODAL, STATUS = range(6)
_FIXED_HEADERS = ("Code", "Kind", "Organ", "Location", "Node", "Status")


_KIND_ORDER = {LesionKind.TARGET: 0, LesionKind.NON_TARGET: 1, LesionKind.NEW: 2}


def table_order(lesion: Lesion) -> tuple[int, int, str]:
    """Sort key of a row: targets first (T1, T2 … T10), then non-targets, then new lesions.

    Within a kind by the number in the code (T2 before T10), then by the code itself.
    """
    digits = "".join(c for c in lesion.code if c.isdigit())
    number = int(digits) if digits else 10**6
    return (_KIND_ORDER.get(lesion.kind, 3), number, lesion.code)


def status_label(status: MeasurementStatus) -> str:
    """The reader-facing name of *status* (its value in words when it has no label yet)."""
    return STATUS_LABELS.get(status) or status.value.replace("_", " ")


def format_measurement(measurement: Measurement | None) -> str:
    """Cell text: the axes, a split, a merge or a status.

    E.g. ``"34.0"``, ``"18.2 × 11.0"`` (long × short), ``"20.0 split"``, ``"→ T1"``.
    """
    if measurement is None:
        return ""
    if measurement.status in _CELL_STATUS:
        return _CELL_STATUS[measurement.status]
    if measurement.status is MeasurementStatus.MERGED:
        return f"→ {measurement.coalesced_into}"
    if measurement.status is MeasurementStatus.SPLIT:
        return f"{measurement.long_axis_mm or 0:.1f} split"
    long_mm, short_mm = measurement.long_axis_mm, measurement.short_axis_mm
    if long_mm is None and short_mm is None:
        return status_label(measurement.status)
    if long_mm is None:
        return f"SA {short_mm:.1f}"
    if short_mm is None:
        return f"{long_mm:.1f}"
    return f"{long_mm:.1f} × {short_mm:.1f}"


@dataclass(slots=True)
class _Row:
    lesion: Lesion
    by_timepoint: dict[int, Measurement] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class LesionTableModel(QAbstractTableModel):
    """Lesions of the open patient with their measurements per timepoint.

    Parameters
    ----------
    session : app.session.ReadingSession
        The controller; read on every refresh, written on edits.

    Signals
    -------
    edit_failed(str, object)
        An edit was refused by the session: (what failed, the exception).
    details_needed(int, str)
        The reader chose status "split" or "merged" for a lesion (its id, the
        status value): the view asks for the fragments or the target joined
        and calls :meth:`record_split` / :meth:`record_merge`.
    """

    edit_failed = Signal(str, object)
    details_needed = Signal(int, str)

    def __init__(self, session: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self._session = session
        self.amendment_reason: str | None = None
        """Reason passed with every edit while the reader amends a signed timepoint."""
        self._rows: list[_Row] = []
        self._timepoints: list[Timepoint] = []
        self._current_id: int | None = None
        self._locked: set[int] = set()
        self._lock_icon = icon("lock")
        self._warning_icon = icon("warning")
        for name in (
            "patient_opened",
            "timepoint_selected",
            "lesion_added",
            "lesion_changed",
            "lesion_removed",
            "measurement_added",
            "measurement_changed",
            "measurement_removed",
            "assessment_updated",
            "timepoint_locked",
        ):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(self._on_session_changed)
        self.refresh()

    # -- reading the session -------------------------------------------------
    def _on_session_changed(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Rebuild every row from the session."""
        self.beginResetModel()
        try:
            self._load()
        finally:
            self.endResetModel()

    def _load(self) -> None:
        session = self._session
        self._rows, self._timepoints, self._locked = [], [], set()
        current = getattr(session, "current_timepoint", None)
        self._current_id = current.id if current is not None else None
        if getattr(session, "patient", None) is None:
            return
        self._timepoints = list(session.timepoints())
        self._locked = {
            tp.id for tp in self._timepoints if tp.id is not None and session.is_locked(tp.id)
        }
        rows = {lesion.id: _Row(lesion) for lesion in session.lesions()}
        for tp in self._timepoints:
            for m in session.measurements(tp.id):
                if m.lesion_id in rows and tp.id is not None:
                    rows[m.lesion_id].by_timepoint[tp.id] = m
        warnings = self._current_warnings(current)
        for row in rows.values():
            row.warnings = warnings.get(row.lesion.code, [])
        self._rows = sorted(rows.values(), key=lambda r: table_order(r.lesion))

    def _current_warnings(self, current: Timepoint | None) -> dict[str, list[str]]:
        result = getattr(self._session, "assessment", None)
        if result is None or current is None:
            return {}
        by_code: dict[str, list[str]] = {}
        for tp_result in getattr(result, "timepoints", ()):
            if tp_result.label != current.label:
                continue
            for warning in tp_result.warnings:
                if warning.lesion:
                    by_code.setdefault(warning.lesion, []).append(warning.message)
        return by_code

    # -- lookups for the view ------------------------------------------------
    def lesion_at(self, row: int) -> Lesion | None:
        """The lesion shown in *row* (None outside the table)."""
        return self._rows[row].lesion if 0 <= row < len(self._rows) else None

    def row_of(self, lesion_id: int) -> int:
        """The row of *lesion_id*, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.lesion.id == lesion_id), -1)

    def row_of_code(self, code: str) -> int:
        """The row of the lesion coded *code* (``"T1"``), or -1."""
        return next((i for i, r in enumerate(self._rows) if r.lesion.code == code), -1)

    def measurement(self, row: int, timepoint_id: int | None = None) -> Measurement | None:
        """The measurement of *row* at *timepoint_id* (default: the current timepoint)."""
        tp_id = self._current_id if timepoint_id is None else timepoint_id
        if not 0 <= row < len(self._rows) or tp_id is None:
            return None
        return self._rows[row].by_timepoint.get(tp_id)

    def warnings(self, row: int) -> list[str]:
        """The engine's warnings for the lesion in *row* at the current timepoint."""
        return list(self._rows[row].warnings) if 0 <= row < len(self._rows) else []

    def timepoint_column(self, timepoint_id: int) -> int:
        """The column showing *timepoint_id*, or -1."""
        for i, tp in enumerate(self._timepoints):
            if tp.id == timepoint_id:
                return len(_FIXED_HEADERS) + i
        return -1

    @property
    def warnings_column(self) -> int:
        """Index of the Warnings column."""
        return len(_FIXED_HEADERS) + len(self._timepoints)

    # -- Qt model API ----------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        """Number of lesions."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        """Fixed columns + one per timepoint + warnings."""
        return 0 if parent.isValid() else len(_FIXED_HEADERS) + len(self._timepoints) + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        """Column titles: fixed names, ``"<timepoint> mm"``, ``"Warnings"``."""
        if orientation != Qt.Orientation.Horizontal:
            return None
        tp = self._timepoint_of_column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            if section < len(_FIXED_HEADERS):
                return _FIXED_HEADERS[section]
            return f"{tp.label} mm" if tp is not None else "Warnings"
        if role == Qt.ItemDataRole.DecorationRole and tp is not None and tp.id in self._locked:
            return self._lock_icon
        if role == Qt.ItemDataRole.FontRole and tp is not None and tp.id == self._current_id:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and tp is not None:
            locked = " (signed, locked)" if tp.id in self._locked else ""
            return f"{tp.label} {tp.scan_date or ''}: long × short axis in mm{locked}"
        return None

    def _timepoint_of_column(self, column: int) -> Timepoint | None:
        i = column - len(_FIXED_HEADERS)
        return self._timepoints[i] if 0 <= i < len(self._timepoints) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, check state, colours and tool tips."""
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        lesion = row.lesion
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(row, column, role)
        if role == Qt.ItemDataRole.CheckStateRole and column == NODAL:
            return Qt.CheckState.Checked if lesion.nodal else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole and column == self.warnings_column:
            return QBrush(WARNING_COLOUR)
        if role == Qt.ItemDataRole.DecorationRole and column == CODE and row.warnings:
            return self._warning_icon
        if role == Qt.ItemDataRole.BackgroundRole:
            tp = self._timepoint_of_column(column)
            if tp is not None and tp.id in self._locked:
                return QBrush(LOCKED_TINT)
            if column == STATUS and self._current_id in self._locked:
                return QBrush(LOCKED_TINT)
        if role == Qt.ItemDataRole.ToolTipRole and (
            row.warnings and column in (CODE, self.warnings_column)
        ):
            return "\n".join(row.warnings)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._linked_tip(row, column)
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and self._timepoint_of_column(column) is not None
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return lesion.id
        return None

    def _text(self, row: _Row, column: int, role: int) -> Any:
        lesion = row.lesion
        current = row.by_timepoint.get(self._current_id) if self._current_id is not None else None
        if column == CODE:
            return lesion.code
        if column == KIND:
            return (
                lesion.kind.value if role == Qt.ItemDataRole.EditRole else KIND_LABELS[lesion.kind]
            )
        if column == ORGAN:
            return lesion.organ
        if column == LOCATION:
            return lesion.location
        if column == NODAL:
            return None
        if column == STATUS:
            if current is None:
                return "" if role == Qt.ItemDataRole.EditRole else "—"
            return (
                current.status.value
                if role == Qt.ItemDataRole.EditRole
                else status_label(current.status)
            )
        tp = self._timepoint_of_column(column)
        if tp is not None and tp.id is not None:
            return format_measurement(row.by_timepoint.get(tp.id))
        return "; ".join(row.warnings)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Lesion attributes and the current status are editable; measurements are drawn."""
        base = super().flags(index)
        if not index.isValid():
            return base
        if index.column() == NODAL:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() in (CODE, KIND, ORGAN, LOCATION, STATUS):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        """Send an edit to the session (one call); the table refreshes from its signals."""
        if not index.isValid():
            return False
        lesion = self._rows[index.row()].lesion
        column = index.column()
        try:
            if column == NODAL and role == Qt.ItemDataRole.CheckStateRole:
                checked = Qt.CheckState(value) == Qt.CheckState.Checked
                self._session.change_lesion(lesion.id, nodal=checked, reason=self.amendment_reason)
            elif role != Qt.ItemDataRole.EditRole:
                return False
            elif column == STATUS and MeasurementStatus(value) in NEEDS_DETAILS:
                self.details_needed.emit(lesion.id, MeasurementStatus(value).value)
                return False  # nothing changes until the reader gives the details
            elif column == STATUS:
                self._session.set_status(
                    lesion.id, MeasurementStatus(value), reason=self.amendment_reason
                )
            elif column == KIND:
                self._session.change_lesion(
                    lesion.id, kind=LesionKind(value), reason=self.amendment_reason
                )
            elif column in (CODE, ORGAN, LOCATION):
                field_name = {CODE: "code", ORGAN: "organ", LOCATION: "location"}[column]
                self._session.change_lesion(
                    lesion.id, reason=self.amendment_reason, **{field_name: str(value).strip()}
                )
            else:
                return False
        except Exception as exc:  # shown by the view through edit_failed
            self.edit_failed.emit(f"Could not change {lesion.code}", exc)
            self.refresh()
            return False
        return True

    def _linked_tip(self, row: _Row, column: int) -> str | None:
        """Tool tip of a split or merged measurement cell: the fragments, the target joined."""
        tp = self._timepoint_of_column(column)
        m = row.by_timepoint.get(tp.id) if tp is not None and tp.id is not None else None
        if m is None:
            return None
        if m.status is MeasurementStatus.SPLIT:
            parts = " + ".join(f"{v:.1f}" for v in m.fragments_mm)
            return (
                f"{row.lesion.code} split into {len(m.fragments_mm)} fragments: "
                f"{parts} = {m.long_axis_mm:.1f} mm"
            )
        if m.status is MeasurementStatus.MERGED:
            return f"{row.lesion.code} coalesced into {m.coalesced_into}: counts 0 mm"
        return None

    # -- split and merged targets (details asked by the view) ------------------------------
    def other_target_codes(self, lesion_id: int) -> list[str]:
        """Codes of the targets other than *lesion_id* (what a merged target can join)."""
        return [
            r.lesion.code
            for r in self._rows
            if r.lesion.kind is LesionKind.TARGET and r.lesion.id != lesion_id
        ]

    def record_split(self, lesion_id: int, fragments_mm: tuple[float, ...]) -> bool:
        """Record *lesion_id* as split into *fragments_mm* at the current timepoint (one call)."""
        return self._call(
            "split",
            lesion_id,
            lambda: self._session.record_split(
                lesion_id, fragments_mm, reason=self.amendment_reason
            ),
        )

    def record_merge(self, lesion_id: int, into_code: str) -> bool:
        """Record *lesion_id* as merged into *into_code* at the current timepoint (one call)."""
        return self._call(
            "merged",
            lesion_id,
            lambda: self._session.record_merge(lesion_id, into_code, reason=self.amendment_reason),
        )

    def _call(self, what: str, lesion_id: int, edit: Any) -> bool:
        try:
            edit()
        except Exception as exc:  # shown by the view through edit_failed
            row = self.row_of(lesion_id)
            code = self._rows[row].lesion.code if row >= 0 else "the lesion"
            self.edit_failed.emit(f"Could not record {code} as {what}", exc)
            return False
        return True
