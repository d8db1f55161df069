"""Calipers → session for the main window: the "Next caliper" bar, "are you sure?", tool keys.

:class:`CaliperActions` is a collaborator that :class:`viewer.main_window.window.MainWindow`
owns; it is given the window's ``session``, ``viewer``, ``assign_bar`` and ``lesion_table``,
and asks the window for the amendment reason and to redraw the calipers.

* A drawn or moved caliper is one session call, given the image's field of
  view (a longer caliper is refused).  When the session asks "are you sure?"
  (a lesion grew or shrank beyond the plausible factor,
  ``ConfirmationNeededError``), a question box opens; Yes repeats the same call
  with ``confirmed=True`` (audited), No drops the caliper.
* The bar and the lesion table agree: choosing in either chooses in the other,
  and after a caliper the bar follows its documented rule
  (:data:`viewer.lesions.assign_bar.NEXT_CALIPER_RULE`).
* A new lesion's caliper at a follow-up that lies on a tracked lesion asks first: record it
  for that lesion, as a new lesion, or not at all (:mod:`viewer.main_window.tracked_guard`).
* A node's caliper waits for a short axis the reader drags; its caption says
  ``SA`` and shows the short axis, the length the sum uses.
* Single-letter tool keys never act while a text field has focus
  (:class:`viewer.image.keys.ToolKeyGuard`), and Return/Escape in the bar's
  text fields give the keys back to the image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from viewer.errors import report_error
from viewer.image.calipers import caption_for, field_of_view_mm
from viewer.image.keys import ToolKeyGuard
from viewer.main_window.move_notice import MoveNotice
from viewer.main_window.tracked_guard import ask_if_on_tracked


def needs_confirmation(exc: BaseException) -> bool:
    """True for the session's "are you sure?" error (``app.session.ConfirmationNeededError``).

    Duck-typed: the viewer never imports the session package (it reaches storage).
    """
    return any(cls.__name__ == "ConfirmationNeededError" for cls in type(exc).__mro__)


class CaliperActions:
    """Drawn and moved calipers, the Next caliper bar and the tool-key guard of the main window.

    Parameters
    ----------
    window : QWidget
        The main window: parent of the question boxes and of the tool-key guard.
    session : app.session.ReadingSession
        The controller each caliper is one call to.
    viewer, assign_bar, lesion_table
        The image view, the "Next caliper" bar and the lesion table.
    amendment_reason : callable
        The reason of the amendment in progress, or None.
    refresh_overlays : callable
        Redraws the calipers from the session (a refused move puts the caliper back).
    """

    def __init__(
        self,
        window: QWidget,
        session: Any,
        viewer: Any,
        assign_bar: Any,
        lesion_table: Any,
        *,
        amendment_reason: Callable[[], str | None],
        refresh_overlays: Callable[[], None],
    ) -> None:
        self.window, self.session, self.viewer = window, session, viewer
        self.assign_bar, self.lesion_table = assign_bar, lesion_table
        self._amendment_reason = amendment_reason
        self._refresh_overlays = refresh_overlays
        self.move_notice = MoveNotice(window, session)

    def connect(self) -> None:
        """Connect the bar to the table and the image; install the tool-key guard."""
        bar = self.assign_bar
        self.move_notice.connect()
        bar.choice_changed.connect(self._on_assign_choice_changed)
        bar.editing_done.connect(self.viewer.setFocus)
        self.viewer.set_reader_places_short_axis(lambda: bar.choice().nodal)
        app = QApplication.instance()
        if app is not None:
            self._tool_key_guard = ToolKeyGuard(self.window)
            app.installEventFilter(self._tool_key_guard)

    def update_assign_bar(self) -> None:
        """Offer the open patient's lesions, and only the choices RECIST allows at the timepoint."""
        tp = self.session.current_timepoint if self.session.patient else None
        self.assign_bar.set_lesions(self.session.lesions() if self.session.patient else [])
        self.assign_bar.set_timepoint(tp.label if tp else None, tp.is_baseline if tp else None)

    def _on_assign_choice_changed(self) -> None:
        """The bar's choice is the table's selection (a "New …" choice selects no row)."""
        self.lesion_table.select_lesion(self.assign_bar.choice().lesion_id)

    def overlay_label(self, measurement: Any, lesion: Any) -> str:
        """The caliper label: ``"T1 23.4 mm"``, or for a node ``"T2 SA 12.0 mm"`` (what counts)."""
        code = lesion.code if lesion is not None else "?"
        nodal = lesion is not None and lesion.nodal
        if nodal and measurement.short_axis_mm is not None:
            value = measurement.short_axis_mm
        else:
            value = measurement.long_axis_mm or 0
        return f"{caption_for(code, nodal)} {value:.1f} mm"

    # -- widgets → session (one call each) -------------------------------------------------
    def record_caliper(
        self, geometry: Any, choice: Any = None, *, confirmed: bool = False, asked: bool = False
    ) -> None:
        """Record a drawn caliper for the bar's choice; asks first when the session says so,
        or when a new lesion's caliper lies on a tracked lesion (:mod:`.tracked_guard`)."""
        choice = choice if choice is not None else self.assign_bar.choice()
        if not asked and self._ask_if_on_tracked(
            geometry,
            choice,
            lambda c: self.record_caliper(geometry, c, asked=True),
            self.viewer.discard_pending,
        ):
            return
        try:
            self.session.record_measurement(
                geometry,
                lesion_id=choice.lesion_id,
                kind=choice.kind,
                organ=choice.organ,
                location=choice.location,
                nodal=choice.nodal,
                reason=self._amendment_reason(),
                field_of_view_mm=field_of_view_mm(self.viewer.volume),
                confirmed=confirmed,
            )
        except Exception as exc:
            if needs_confirmation(exc) and not confirmed:
                self.ask_to_confirm(
                    exc,
                    lambda: self.record_caliper(geometry, choice, confirmed=True, asked=True),
                    self.viewer.discard_pending,
                )
                return
            self.viewer.discard_pending()  # the caliper on screen was not recorded
            raise
        self.assign_bar.caliper_recorded()

    def record_semi_auto(
        self,
        proposal: Any,
        geometry: Any,
        choice: Any = None,
        *,
        confirmed: bool = False,
        asked: bool = False,
    ) -> Any:
        """Store a Smart caliper proposal for the bar's choice (as :meth:`record_caliper`).

        Returns the stored measurement, or None when the session or the tracked-lesion guard
        asked first (the question box stores it on the reader's answer).
        """
        choice = choice if choice is not None else self.assign_bar.choice()
        if not asked and self._ask_if_on_tracked(
            geometry,
            choice,
            lambda c: self._say_stored(self.record_semi_auto(proposal, geometry, c, asked=True)),
            lambda: self._say("Smart caliper: cancelled, nothing stored."),
        ):
            self._say("Smart caliper: on a tracked lesion — record it as that lesion, or as new?")
            return None
        try:
            stored = self.session.record_semi_auto_measurement(
                proposal,
                geometry,
                lesion_id=choice.lesion_id,
                kind=choice.kind,
                organ=choice.organ,
                location=choice.location,
                nodal=choice.nodal,
                reason=self._amendment_reason(),
                field_of_view_mm=field_of_view_mm(self.viewer.volume),
                confirmed=confirmed,
            )
        except Exception as exc:
            if needs_confirmation(exc) and not confirmed:
                self.ask_to_confirm(
                    exc,
                    lambda: self.record_semi_auto(
                        proposal, geometry, choice, confirmed=True, asked=True
                    ),
                    lambda: None,
                )
                return None
            raise
        self.assign_bar.caliper_recorded()
        if getattr(stored, "id", None) is not None:
            # the proposal whose handles adjust it with the Smart tool, also when it was
            # stored on the answer to a question (before, only a proposal stored at once was)
            self.viewer.set_smart_proposal(stored.id)
        return stored

    def _ask_if_on_tracked(
        self, geometry: Any, choice: Any, record: Callable[[Any], Any], cancel: Callable[[], None]
    ) -> bool:
        """True when the tracked-lesion question opened (it records on the reader's answer)."""
        box = ask_if_on_tracked(
            self.window,
            self.session,
            geometry,
            choice,
            record=record,
            cancel=cancel,
            run=self._run_reporting,
        )
        return box is not None

    def _say(self, text: str) -> None:
        status_bar = getattr(self.window, "statusBar", None)
        if status_bar is not None:
            status_bar().showMessage(text, 15000)

    def _say_stored(self, stored: Any) -> None:
        """The Smart caliper's stored diameters, once the reader answered the question."""
        if stored is not None:
            long_mm, short_mm = stored.long_axis_mm or 0.0, stored.short_axis_mm or 0.0
            self._say(f"Smart caliper: {long_mm:.1f} × {short_mm:.1f} mm stored — Ctrl+Z rejects.")

    def move_caliper(self, measurement_id: int, geometry: Any, *, confirmed: bool = False) -> None:
        """Store a moved caliper; asks first when the session says so (No puts it back).

        The status bar then says what changed (``viewer.main_window.move_notice``).
        """
        before = self.move_notice.before(measurement_id)
        try:
            self.session.move_measurement(
                measurement_id,
                geometry,
                reason=self._amendment_reason(),
                field_of_view_mm=field_of_view_mm(self.viewer.volume),
                confirmed=confirmed,
            )
        except Exception as exc:
            if needs_confirmation(exc) and not confirmed:
                self.ask_to_confirm(
                    exc,
                    lambda: self.move_caliper(measurement_id, geometry, confirmed=True),
                    self._refresh_overlays,
                )
                return
            self._refresh_overlays()  # the caliper goes back to where it is stored
            raise
        self.move_notice.announce(before)

    def ask_to_confirm(
        self, exc: BaseException, on_yes: Callable[[], None], on_no: Callable[[], None]
    ) -> QMessageBox:
        """Open the "are you sure?" box for *exc* (window-modal, non-blocking); return it."""
        box = QMessageBox(self.window)
        box.setObjectName("confirmBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Caliper")
        box.setText("Are you sure?")
        box.setInformativeText(str(exc))
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Yes, store it")

        def answered(_result: int) -> None:
            if box.clickedButton() is yes:
                self._run_reporting(on_yes)
            else:
                on_no()

        box.finished.connect(answered)
        box.open()
        return box

    def _run_reporting(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown to the reader, like @shows_errors
            report_error(self.window, "Could not store the measurement", exc)
