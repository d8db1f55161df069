"""Where the next caliper goes: a new lesion of some kind, or an existing lesion.

A bar above the lesion table.  Drawing a caliper records it for the choice
made here: "New target" (with organ, location, nodal) creates the next T-code
lesion; choosing "T1" records T1's measurement at the current timepoint.
Selecting a lesion in the table selects it here too, so the usual follow-up
gesture is: click T1, draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from recist.model import Lesion, LesionKind
from viewer.lesions.table_model import KIND_LABELS

#: Organs offered first; any other text may be typed.
COMMON_ORGANS: tuple[str, ...] = (
    "liver", "lung", "lymph node", "peritoneum", "adrenal gland", "bone", "pleura", "spleen",
    "kidney", "pancreas", "soft tissue", "other",
)


@dataclass(frozen=True, slots=True)
class AssignTarget:
    """The choice for the next caliper: an existing lesion, or a new one with its attributes."""

    lesion_id: int | None
    kind: LesionKind
    organ: str
    location: str
    nodal: bool


class AssignBarWidget(QWidget):
    """Choose the lesion the next caliper is recorded for.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assignBar")
        self.lesion = QComboBox()
        self.lesion.setObjectName("assignLesion")
        self.lesion.setMinimumWidth(150)
        self.organ = QComboBox()
        self.organ.setObjectName("assignOrgan")
        self.organ.setEditable(True)
        self.organ.addItems(list(COMMON_ORGANS))
        self.location = QLineEdit()
        self.location.setObjectName("assignLocation")
        self.location.setPlaceholderText("location (segment, lobe, station)")
        self.nodal = QCheckBox("nodal")
        self.nodal.setObjectName("assignNodal")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(QLabel("Next caliper:"))
        layout.addWidget(self.lesion)
        layout.addWidget(self.organ)
        layout.addWidget(self.location, 1)
        layout.addWidget(self.nodal)
        self.lesion.currentIndexChanged.connect(self._on_lesion_changed)
        self.set_lesions([])

    def set_lesions(self, lesions: Sequence[Lesion]) -> None:
        """Offer "new <kind>" and every lesion in *lesions*; keep the current choice if possible."""
        keep = self.lesion.currentData()
        self.lesion.blockSignals(True)
        self.lesion.clear()
        for kind in LesionKind:
            self.lesion.addItem(f"New {KIND_LABELS[kind]} lesion", f"new:{kind.value}")
        if lesions:
            self.lesion.insertSeparator(self.lesion.count())
        for lesion in lesions:
            self.lesion.addItem(f"{lesion.code}  {lesion.organ} {lesion.location}".rstrip(), f"lesion:{lesion.id}")
        i = self.lesion.findData(keep) if keep is not None else -1
        self.lesion.setCurrentIndex(max(i, 0))
        self.lesion.blockSignals(False)
        self._on_lesion_changed()

    def select_lesion(self, lesion_id: int | None) -> None:
        """Choose *lesion_id*, or "New target lesion" for None."""
        i = self.lesion.findData(f"lesion:{lesion_id}") if lesion_id is not None else -1
        self.lesion.setCurrentIndex(i if i >= 0 else 0)

    def select_new(self, kind: LesionKind) -> None:
        """Choose "New <kind> lesion"."""
        self.lesion.setCurrentIndex(max(self.lesion.findData(f"new:{kind.value}"), 0))

    def choice(self) -> AssignTarget:
        """The current choice."""
        what, _, key = (self.lesion.currentData() or f"new:{LesionKind.TARGET.value}").partition(":")
        organ = self.organ.currentText().strip()
        location = self.location.text().strip()
        if what == "lesion":
            return AssignTarget(int(key), LesionKind.TARGET, organ, location, self.nodal.isChecked())
        return AssignTarget(None, LesionKind(key), organ, location, self.nodal.isChecked())

    def _on_lesion_changed(self, *_: object) -> None:
        data = self.lesion.currentData()
        is_new = data is None or str(data).startswith("new:")
        for widget in (self.organ, self.location, self.nodal):
            widget.setEnabled(is_new)
