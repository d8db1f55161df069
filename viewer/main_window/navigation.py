"""Lesion navigation: jump to a lesion's image, N / Shift+N, the lesion row's context menu.

:class:`LesionNavigation` is a collaborator that
:class:`viewer.main_window.window.MainWindow` owns.  A click or double-click on
a lesion row, N (next) and Shift+N (previous, in the table's order: targets,
non-targets, new lesions) and the row's "Go to image" show the lesion's image
at the current timepoint (found by SOP Instance UID, :func:`slice_of`) and
centre it.  A lesion not measured at the current timepoint is shown at the
patient position of its latest earlier measurement.  When the reader chooses
another timepoint, the view goes to the selected lesion's slice there in the same
way (:meth:`LesionNavigation.show_slice_of`).  The context menu offers the edits
of the lesion; an entry that is not allowed now is disabled and its
tool tip says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from recist.model import DrawnGeometry, LesionKind, MeasurementStatus
from viewer.errors import shows_errors
from viewer.image.volume import slice_of
from viewer.lesions.table_model import ORGAN
from viewer.main_window.actions import make_action

#: Context-menu entries in their order: (object name, text).
MENU_ENTRIES = (
    ("jump", "Go to image"),
    ("edit", "Edit organ / location…"),
    ("notEvaluable", "Mark not evaluable"),
    ("tooSmall", "Too small to measure"),
    ("split", "Split…"),
    ("merge", "Merged into…"),
    ("delete", "Delete lesion…"),
)


class LesionNavigation:
    """Lesion navigation and the lesion row's context menu.

    Parameters
    ----------
    window : QMainWindow
        Parent of the actions; its status bar says where the lesion is when it cannot be shown.
    session : app.session.ReadingSession
        Read for measurements; the menu's edits make one call each.
    viewer : SeriesViewerWidget
        The image view moved to the lesion.
    table : LesionTableView
        The lesion table (its model gives the order).
    amendment_reason : callable
        Returns the reason of an amendment in progress (edits carry it), or None.
    """

    def __init__(
        self,
        window: Any,
        session: Any,
        viewer: Any,
        table: Any,
        amendment_reason: Callable[[], str | None],
    ) -> None:
        self.window, self.session, self.viewer, self.table = window, session, viewer, table
        self._reason = amendment_reason
        self.next_action = make_action(window, "Next lesion", self.next_lesion, "N", "nextLesion")
        self.previous_action = make_action(
            window, "Previous lesion", self.previous_lesion, "Shift+N", "previousLesion"
        )
        for action in (self.next_action, self.previous_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)  # active without a menu entry of their own too
        self.last_menu: QMenu | None = None

    def connect(self) -> None:
        """Clicks on rows jump; the table's context menu is ours."""
        # on press, in the same event as the selection (and the slice the window shows for it):
        # no moment where the new slice shows with the old pan
        self.table.pressed.connect(self._on_row_clicked)
        self.table.doubleClicked.connect(self._on_row_clicked)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)

    def add_to_menu(self, menu: QMenu) -> None:
        """Add Next / Previous lesion to *menu* (the View or Edit menu)."""
        menu.addAction(self.next_action)
        menu.addAction(self.previous_action)

    # -- moving ---------------------------------------------------------------------------
    def _on_row_clicked(self, index: QModelIndex) -> None:
        lesion = self.table.model().lesion_at(index.row())
        if lesion is not None:
            self.jump_to(lesion.id)

    def next_lesion(self) -> None:
        """Select and show the next lesion of the table (the first after the last)."""
        self._step(1)

    def previous_lesion(self) -> None:
        """Select and show the previous lesion of the table (the last before the first)."""
        self._step(-1)

    def _step(self, delta: int) -> None:
        model = self.table.model()
        count = model.rowCount()
        if count == 0:
            self.window.statusBar().showMessage("No lesion recorded yet.", 5000)
            return
        selected = self.table.selected_lesion_id()
        row = model.row_of(selected) if selected is not None else -1
        row = (row + delta) % count if row >= 0 else (0 if delta > 0 else count - 1)
        lesion = model.lesion_at(row)
        self.table.selectRow(row)
        self.jump_to(lesion.id)

    def geometry_of(self, lesion_id: int) -> tuple[DrawnGeometry | None, bool]:
        """(geometry, at the current timepoint): where *lesion_id* was drawn, latest first."""
        current = (
            self.session.measurement_for(lesion_id) if self.session.current_timepoint else None
        )
        if current is not None and current.geometry is not None:
            return current.geometry, True
        previous = (
            self.session.previous_measurement(lesion_id)
            if self.session.current_timepoint is not None
            else None
        )
        if previous is not None and previous[1].geometry is not None:
            return previous[1].geometry, False
        drawn = [
            m.geometry
            for tp in reversed(self.session.timepoints())
            for m in self.session.measurements(tp.id)
            if m.lesion_id == lesion_id and m.geometry is not None
        ]
        return (drawn[0] if drawn else None), False

    def jump_to(self, lesion_id: int) -> bool:
        """Show *lesion_id*'s image and centre it; False (and a status message) when impossible."""
        lesion = next((x for x in self.session.lesions() if x.id == lesion_id), None)
        code = lesion.code if lesion is not None else "The lesion"
        volume = self.viewer.volume
        geometry, here = self.geometry_of(lesion_id)
        if volume is None or geometry is None:
            why = "no series is shown" if volume is None else "it is not drawn on an image"
            self.window.statusBar().showMessage(f"{code}: cannot go to its image: {why}.", 8000)
            return False
        if getattr(self.viewer, "orientation", "axial") != "axial":
            self.viewer.set_orientation("axial")  # calipers are on axial images
        index = slice_of(volume, geometry) if here else None
        if index is None:
            index = self._index_at_position(volume, geometry)
        if index is None:
            self.window.statusBar().showMessage(
                f"{code}: its image is not in the series shown (File → Open folder… to load it).",
                8000,
            )
            return False
        self.viewer.set_slice(index)
        self._centre(volume, geometry, index, exact=here)
        return True

    def show_slice_of(self, lesion_id: int, prior: DrawnGeometry | None = None) -> bool:
        """Show *lesion_id*'s slice after the reader chose it or another timepoint, quietly.

        Its image at the current timepoint, else the slice nearest the patient position of
        *prior* (the caliper the comparison pane shows) or of its latest earlier measurement
        (the series may differ).  The plane, zoom and pan stay; False (nothing moves,
        nothing said) when the lesion is not drawn or its position lies outside the series
        shown.
        """
        volume = self.viewer.volume
        geometry, here = self.geometry_of(lesion_id)
        if not here and prior is not None:
            geometry = prior
        if volume is None or geometry is None:
            return False
        axial = getattr(self.viewer, "orientation", "axial") == "axial"
        index = slice_of(volume, geometry) if here and axial else None
        if index is None:
            index = self._index_at_position(volume, geometry)
            if index is None:
                return False
            if not axial:  # a reformat: the plane through the lesion's middle
                self.viewer.set_position(_middle_lps(geometry))
                return True
        self.viewer.set_slice(index)
        return True

    @staticmethod
    def _index_at_position(volume: Any, geometry: DrawnGeometry) -> int | None:
        if not hasattr(volume, "lps_to_index"):
            return None
        index = int(round(volume.lps_to_index(*_middle_lps(geometry))[0]))
        return index if 0 <= index < volume.voxels.shape[0] else None

    def _centre(self, volume: Any, geometry: DrawnGeometry, index: int, *, exact: bool) -> None:
        """Pan (keeping the zoom) so that the caliper's middle is in the middle of the view."""
        if exact:
            (x0, y0), (x1, y1) = geometry.long_axis.start_px, geometry.long_axis.end_px
            x, y = (x0 + x1) / 2, (y0 + y1) / 2
        elif hasattr(volume, "lps_to_index"):
            _, y, x = volume.lps_to_index(*_middle_lps(geometry))
        else:
            return
        box = self.viewer.view_box
        (left, right), (top, bottom) = box.viewRange()
        half_w, half_h = (right - left) / 2, (bottom - top) / 2
        box.setRange(xRange=(x - half_w, x + half_w), yRange=(y - half_h, y + half_h), padding=0)

    # -- the row's context menu ---------------------------------------------------------------
    def _on_context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        lesion = self.table.model().lesion_at(index.row()) if index.isValid() else None
        if lesion is None:
            return
        self.table.selectRow(index.row())
        menu = self.context_menu(lesion.id)
        menu.popup(self.table.viewport().mapToGlobal(position))

    def context_menu(self, lesion_id: int) -> QMenu:
        """The menu of *lesion_id*'s row (entries named as :data:`MENU_ENTRIES`)."""
        menu = QMenu(self.table)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.setToolTipsVisible(True)  # a disabled entry says why
        slots: dict[str, Callable[[], Any]] = {
            "jump": lambda: self.jump_to(lesion_id),
            "edit": lambda: self._edit(lesion_id),
            "notEvaluable": lambda: self._set_status(lesion_id, MeasurementStatus.NOT_EVALUABLE),
            "tooSmall": lambda: self._set_status(lesion_id, MeasurementStatus.TOO_SMALL),
            "split": lambda: self.table.ask_details(lesion_id, MeasurementStatus.SPLIT.value),
            "merge": lambda: self.table.ask_details(lesion_id, MeasurementStatus.MERGED.value),
            "delete": lambda: self._delete(lesion_id),
        }
        refusals = self.refusals(lesion_id)
        for name, text in MENU_ENTRIES:
            action = QAction(text, menu)
            action.setObjectName(name)
            why = refusals.get(name)
            action.setEnabled(why is None)
            if why is not None:
                action.setToolTip(why)
            action.triggered.connect(slots[name])
            menu.addAction(action)
            if name in ("edit", "tooSmall", "merge"):
                menu.addSeparator()
        self.last_menu = menu
        return menu

    def refusals(self, lesion_id: int) -> dict[str, str]:
        """Why an entry of *lesion_id*'s menu is not allowed now (entry name → reason)."""
        lesions = list(self.session.lesions())
        lesion = next((x for x in lesions if x.id == lesion_id), None)
        if lesion is None:
            return {name: "The lesion no longer exists." for name, _ in MENU_ENTRIES}
        found: dict[str, str] = {}
        if self.geometry_of(lesion_id)[0] is None:
            found["jump"] = f"{lesion.code} is not drawn on an image at any timepoint."
        tp = self.session.current_timepoint
        locked = tp is not None and tp.id is not None and self.session.is_locked(tp.id)
        status_why: str | None = None
        if tp is None:
            status_why = "Choose a timepoint first."
        elif locked and self._reason() is None:
            status_why = (
                f"{tp.label} is signed and locked: Timepoint → Amend signed timepoint… first."
            )
        elif lesion.kind is LesionKind.NEW and tp.is_baseline:
            status_why = (
                f"{lesion.code} is a new lesion: it has nothing to record at {tp.label}; "
                "select a follow-up timepoint."
            )
        for name in ("notEvaluable", "tooSmall", "split", "merge"):
            if status_why is not None:
                found[name] = status_why
        if "split" not in found and lesion.kind is not LesionKind.TARGET:
            found["split"] = found["merge"] = (
                f"Only targets are recorded split or merged; {lesion.code} is not a target."
            )
        others = [x for x in lesions if x.kind is LesionKind.TARGET and x.id != lesion_id]
        if "merge" not in found and not others:
            found["merge"] = f"{lesion.code} is the only target: there is no other it could join."
        if locked and self._reason() is None and tp is not None:
            found["delete"] = (
                f"{tp.label} is signed and locked: Timepoint → Amend signed timepoint… first."
            )
        return found

    def _edit(self, lesion_id: int) -> None:
        model = self.table.model()
        row = model.row_of(lesion_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.edit(model.index(row, ORGAN))

    @shows_errors("Could not set the status")
    def _set_status(self, lesion_id: int, status: MeasurementStatus) -> None:
        self.session.set_status(lesion_id, status, reason=self._reason())

    @shows_errors("Could not delete the lesion")
    def _delete(
        self, lesion_id: int, confirm: Callable[[QWidget, str], bool] | None = None
    ) -> bool:
        lesion = next((x for x in self.session.lesions() if x.id == lesion_id), None)
        if lesion is None:
            return False
        question = (
            f"Delete {lesion.code} with its measurements at every timepoint?\n"
            "Edit → Undo brings it back."
        )
        if not (confirm or _ask)(self.window, question):
            return False
        self.session.delete_lesion(lesion_id, reason=self._reason())
        return True


def _ask(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(
        parent,
        "Delete lesion",
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _middle_lps(geometry: DrawnGeometry) -> tuple[float, float, float]:
    """The middle of a caliper's long axis (patient LPS mm)."""
    a, b = geometry.long_axis.start_lps_mm, geometry.long_axis.end_lps_mm
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)
