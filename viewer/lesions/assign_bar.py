"""Where the next caliper goes: a new lesion of some kind, or an existing lesion.

A bar above the lesion table.  Drawing a caliper records it for the choice
made here: "New target (T3)" (with organ, location, nodal) creates T3;
choosing "T1" records T1's measurement at the current timepoint.  Selecting a
lesion in the table selects it here too, so the usual follow-up gesture is:
click T1, draw.

The rule (also the bar's tool tip, :data:`NEXT_CALIPER_RULE`): the next
caliper goes to the choice shown, and only the reader changes it (here, or by
selecting a lesion in the table).  After a caliper the choice stays: a "New …"
choice stays new, so the next caliper creates the next code, and its organ,
location and nodal are cleared; an existing lesion stays chosen, so the next
caliper re-measures it at this timepoint.  The line under the choices says
which lesion that is.  Choices RECIST does not allow at the timepoint are
disabled: targets and non-targets are chosen at baseline, new lesions appear
only at follow-up.

The organ is chosen from the controlled list of :mod:`recist.organs` (the
codes the SR and SDTM exports use), or "other…" with free text.  Choosing a
lymph node ticks nodal: a node is measured by its short axis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from recist.model import Lesion, LesionKind
from recist.organs import ORGANS, OTHER, canonical_organ, find_organ

#: The organ list offered, in order; the last choice opens a free-text field.
COMMON_ORGANS: tuple[str, ...] = (*(organ.name for organ in ORGANS), OTHER)

NEXT_CALIPER_RULE = (
    "The next caliper goes to the choice shown here; only you change it (here, or by "
    "selecting a lesion in the table).\nAfter a caliper the choice stays: “New …” stays new "
    "(the next caliper creates the next code; organ, location and nodal are cleared), an "
    "existing lesion stays chosen (the next caliper re-measures it at this timepoint).\n"
    "Targets and non-targets are chosen at baseline; new lesions only at follow-up."
)
"""The bar's tool tip: how the next caliper's lesion is chosen, the same way every time."""

_NEW_LABELS = {
    LesionKind.TARGET: "New target",
    LesionKind.NON_TARGET: "New non-target",
    LesionKind.NEW: "New lesion",
}
_KIND_WORDS = {
    LesionKind.TARGET: "target",
    LesionKind.NON_TARGET: "non-target",
    LesionKind.NEW: "new lesion",
}
#: Code prefixes, as app.session.records.CODE_PREFIX (the viewer cannot import the session).
_PREFIX = {LesionKind.TARGET: "T", LesionKind.NON_TARGET: "NT", LesionKind.NEW: "N"}


def next_code(kind: LesionKind, lesions: Sequence[Lesion]) -> str:
    """The code a new lesion of *kind* gets: the lowest free number (the session's rule)."""
    prefix = _PREFIX[kind]
    pattern = re.compile(rf"^{prefix}(\d+)$")
    taken = {int(m.group(1)) for les in lesions if (m := pattern.match(les.code.strip().upper()))}
    n = 1
    while n in taken:
        n += 1
    return f"{prefix}{n}"


@dataclass(frozen=True, slots=True)
class AssignTarget:
    """The choice for the next caliper: an existing lesion, or a new one with its attributes."""

    lesion_id: int | None
    kind: LesionKind
    organ: str
    location: str
    nodal: bool


class AssignBarWidget(QWidget):
    """Choose the lesion the next caliper is recorded for (see the module docstring for the rule).

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.

    Signals
    -------
    choice_changed()
        The lesion chosen (or "New …") changed.
    editing_done()
        The reader pressed Return or Escape in a text field: give the keys back to the image.
    """

    choice_changed = Signal()
    editing_done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assignBar")
        self.setToolTip(NEXT_CALIPER_RULE)
        self._lesions: list[Lesion] = []
        self._is_baseline: bool | None = None
        self._timepoint_label = ""
        self.lesion = QComboBox()
        self.lesion.setObjectName("assignLesion")
        self.lesion.setMinimumWidth(170)
        self.lesion.setToolTip(NEXT_CALIPER_RULE)
        self.organ = QComboBox()  # a controlled list: typing can never end up in it
        self.organ.setObjectName("assignOrgan")
        self.organ.addItem("organ…", "")
        for name in COMMON_ORGANS:
            self.organ.addItem(f"{name}…" if name == OTHER else name, name)
        self.other_organ = QLineEdit()
        self.other_organ.setObjectName("assignOtherOrgan")
        self.other_organ.setPlaceholderText("organ (free text)")
        self.other_organ.hide()
        self.location = QLineEdit()
        self.location.setObjectName("assignLocation")
        self.location.setPlaceholderText("location (segment, lobe, station)")
        self.nodal = QCheckBox("nodal")
        self.nodal.setObjectName("assignNodal")
        self.summary = QLabel()
        self.summary.setObjectName("assignSummary")
        self.summary.setToolTip(NEXT_CALIPER_RULE)
        row = QHBoxLayout()
        for widget, stretch in (
            (self.lesion, 0),
            (self.organ, 0),
            (self.other_organ, 1),
            (self.location, 1),
            (self.nodal, 0),
        ):
            row.addWidget(widget, stretch)
        layout = QGridLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setVerticalSpacing(1)
        layout.addWidget(QLabel("Next caliper:"), 0, 0)
        layout.addLayout(row, 0, 1)
        layout.addWidget(self.summary, 1, 1)
        self.lesion.currentIndexChanged.connect(self._on_lesion_changed)
        self.organ.currentIndexChanged.connect(self._on_organ_changed)
        self.nodal.toggled.connect(self._update_summary)
        for field in (self.other_organ, self.location):
            field.returnPressed.connect(self.editing_done.emit)
            field.textChanged.connect(self._update_summary)
        self.set_lesions([])

    # -- what the main window tells the bar --------------------------------------------------
    def set_lesions(self, lesions: Sequence[Lesion]) -> None:
        """Offer "New …" and every lesion in *lesions*; keep the current choice if possible."""
        self._lesions = list(lesions)
        keep = self.lesion.currentData()
        self.lesion.blockSignals(True)
        self.lesion.clear()
        for kind in LesionKind:
            self.lesion.addItem(
                f"{_NEW_LABELS[kind]} ({next_code(kind, self._lesions)})", f"new:{kind.value}"
            )
        if self._lesions:
            self.lesion.insertSeparator(self.lesion.count())
        for lesion in self._lesions:
            self.lesion.addItem(
                f"{lesion.code}  {lesion.organ} {lesion.location}".rstrip(), f"lesion:{lesion.id}"
            )
        self._enable_choices()
        i = self.lesion.findData(keep) if keep is not None else -1
        self.lesion.setCurrentIndex(i if self._enabled(i) else self._first_new())
        self.lesion.blockSignals(False)
        self._on_lesion_changed(announce=self.lesion.currentData() != keep)

    def set_timepoint(self, label: str | None, is_baseline: bool | None) -> None:
        """Disable the choices RECIST does not allow at this timepoint (None: no timepoint)."""
        self._timepoint_label, self._is_baseline = label or "", is_baseline
        self.set_lesions(self._lesions)

    def caliper_recorded(self) -> None:
        """A caliper was recorded for the choice: apply the rule (new stays new, fields cleared)."""
        if self.choice().lesion_id is None:
            self.clear_new_lesion_fields()
        self._update_summary()

    # -- what the reader (or a test) chooses -------------------------------------------------
    def select_lesion(self, lesion_id: int | None) -> None:
        """Choose *lesion_id*; None keeps a "New …" choice, else chooses the first allowed one."""
        if lesion_id is not None:
            i = self.lesion.findData(f"lesion:{lesion_id}")
            if self._enabled(i):
                self.lesion.setCurrentIndex(i)
                return
        if self.choice().lesion_id is not None or not self._enabled(self.lesion.currentIndex()):
            self.lesion.setCurrentIndex(self._first_new())

    def select_new(self, kind: LesionKind) -> None:
        """Choose "New <kind>" (if RECIST allows it at this timepoint)."""
        i = self.lesion.findData(f"new:{kind.value}")
        if self._enabled(i):
            self.lesion.setCurrentIndex(i)

    def set_organ(self, organ: str) -> None:
        """Choose *organ* from the list, or "other…" with *organ* as its free text."""
        listed = find_organ(organ) if organ.strip() else None
        if listed is not None:
            self.organ.setCurrentIndex(self.organ.findData(listed.name))
        elif organ.strip():
            self.organ.setCurrentIndex(self.organ.findData(OTHER))
            self.other_organ.setText(organ.strip())
        else:
            self.organ.setCurrentIndex(0)

    def clear_new_lesion_fields(self) -> None:
        """Empty organ, location and nodal (a new lesion starts with nothing inherited)."""
        self.organ.setCurrentIndex(0)
        self.other_organ.clear()
        self.location.clear()
        self.nodal.setChecked(False)

    def choice(self) -> AssignTarget:
        """The current choice; for an existing lesion, that lesion's own organ, location, nodal."""
        data = self.lesion.currentData() or f"new:{LesionKind.TARGET.value}"
        what, _, key = data.partition(":")
        if what == "lesion":
            lesion = self._lesion(int(key))
            if lesion is not None:
                return AssignTarget(
                    lesion.id, lesion.kind, lesion.organ, lesion.location, lesion.nodal
                )
            return AssignTarget(int(key), LesionKind.TARGET, "", "", False)
        return AssignTarget(
            None,
            LesionKind(key),
            self.organ_text(),
            self.location.text().strip(),
            self.nodal.isChecked(),
        )

    def organ_text(self) -> str:
        """The organ chosen for a new lesion ("" when none; the free text for "other…")."""
        name = self.organ.currentData() or ""
        return canonical_organ(self.other_organ.text()) if name == OTHER else name

    # -- internals ---------------------------------------------------------------------------
    def _lesion(self, lesion_id: int) -> Lesion | None:
        return next((les for les in self._lesions if les.id == lesion_id), None)

    def _allowed(self, data: object) -> tuple[bool, str]:
        """Whether a choice is possible at this timepoint, and why not."""
        what, _, key = str(data).partition(":")
        if self._is_baseline is None or what not in ("new", "lesion"):
            return True, ""
        if what == "new":
            kind = LesionKind(key)
        else:
            lesion = self._lesion(int(key))
            kind = lesion.kind if lesion is not None else LesionKind.TARGET
            if kind is LesionKind.NEW and self._is_baseline:
                return False, "A new lesion has nothing to record at baseline."
            return True, ""
        if self._is_baseline and kind is LesionKind.NEW:
            return False, (
                "New lesions are recorded at follow-up; at baseline choose targets and non-targets."
            )
        if not self._is_baseline and kind is not LesionKind.NEW:
            return False, (
                f"{_KIND_WORDS[kind].capitalize()}s are chosen at baseline; "
                "record this as a new lesion."
            )
        return True, ""

    def _enable_choices(self) -> None:
        model = self.lesion.model()
        assert isinstance(model, QStandardItemModel)
        for i in range(self.lesion.count()):
            data = self.lesion.itemData(i)
            if data is None:
                continue  # the separator
            allowed, why = self._allowed(data)
            item = model.item(i)
            item.setEnabled(allowed)
            item.setToolTip(why or NEXT_CALIPER_RULE)

    def _enabled(self, index: int) -> bool:
        if index < 0 or self.lesion.itemData(index) is None:
            return False
        model = self.lesion.model()
        assert isinstance(model, QStandardItemModel)
        return bool(model.item(index).flags() & Qt.ItemFlag.ItemIsEnabled)

    def _first_new(self) -> int:
        return next((i for i in range(len(LesionKind)) if self._enabled(i)), 0)

    def _on_lesion_changed(self, *_: object, announce: bool = True) -> None:
        is_new = self.choice().lesion_id is None
        for widget in (self.organ, self.other_organ, self.location, self.nodal):
            widget.setEnabled(is_new)
        self._update_summary()
        if announce:
            self.choice_changed.emit()

    def _on_organ_changed(self, *_: object) -> None:
        other = self.organ.currentData() == OTHER
        self.other_organ.setVisible(other)
        listed = find_organ(self.organ.currentData() or "")
        if listed is not None and listed.nodal:
            self.nodal.setChecked(True)
        if other:
            self.other_organ.setFocus()
        self._update_summary()

    def _update_summary(self, *_: object) -> None:
        choice = self.choice()
        where = f" at {self._timepoint_label}" if self._timepoint_label else ""
        if choice.lesion_id is None:
            code = next_code(choice.kind, self._lesions)
            organ = ", ".join(x for x in (choice.organ, choice.location) if x) or "organ not chosen"
            nodal = ", nodal: place the short axis" if choice.nodal else ""
            kind = _KIND_WORDS[choice.kind]  # "new lesion" already says new
            article = "a" if choice.kind is LesionKind.NEW else "a new"
            text = f"→ creates {code}, {article} {kind} ({organ}{nodal}){where}"
        else:
            lesion = self._lesion(choice.lesion_id)
            code = lesion.code if lesion is not None else "?"
            text = f"→ measures {code}{where} (replaces its measurement there)"
        self.summary.setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Escape in the bar gives the keys back to the image."""
        if event.key() == Qt.Key.Key_Escape:
            self.editing_done.emit()
            return
        super().keyPressEvent(event)
