"""The Smart caliper (key M): one click in a lesion measures it (issue 16).

:class:`SmartCaliperActions` is a collaborator that :class:`viewer.main_window.window.MainWindow`
owns.  A click in a lesion (or a drag across it) on an axial slice with the ``smart`` tool:

1. segments the lesion in 3-D off the GUI thread (:class:`viewer.image.compute.ComputeTask`
   running ``app.segmentation.measure_lesion``), with its progress in the status bar and a
   Cancel button there (or Esc; a new click also replaces a computation still running);
2. stores the proposed RECIST caliper (longest axial diameter and its longest perpendicular)
   as a semi-automatic measurement of the lesion chosen in the "Next caliper" bar, with its
   contour, volume, HU statistics and the algorithm's name, version and parameters
   (``ReadingSession.record_semi_auto_measurement``, audited), and shows its slice;
3. outlines the contours of the semi-automatic measurements of the shown series.

Follow-up: with a lesion measured at an earlier timepoint chosen in the Next caliper bar, a
click near it seeds the segmentation where it looks like that lesion near its earlier position
(``app.segmentation.follow_up``); key 0 (:data:`DISAPPEARED_KEY`) records the chosen lesion as
disappeared (0 mm) at the current timepoint.

The reader adjusts the proposal by dragging its handles like any caliper (it stays
semi-automatic) or rejects it with Undo (Ctrl+Z) or Delete.  With the smart tool only the
proposal's handles take a drag (``SeriesViewerWidget.set_smart_proposal``): a drag across a
lesion that starts on another lesion's caliper measures, it does not move that caliper.
A point that cannot be measured (in air, no edge, a leak) is refused with the reason in the
status bar; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QPushButton

from viewer.errors import report_error
from viewer.image.compute import ComputeTask
from viewer.image.contours import Contour

#: How long a result or refusal stays in the status bar (ms).
MESSAGE_MS = 15000


#: Sets the selected lesion to 0 mm (disappeared) at the current timepoint.
DISAPPEARED_KEY = "0"


def _measure(
    volume: Any, point_lps: tuple[float, float, float], earlier: Any = None
) -> Callable[..., Any]:
    """The work of one click: segmentation and diameters (Qt-free, ``app.segmentation``).

    ``earlier`` (an ``app.segmentation.follow_up.EarlierLesion``): the selected lesion as
    measured at an earlier timepoint; the seed moves from the click to where it looks like it.
    """

    def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
        from app.segmentation import (
            SegmentationCancelled,
            SegmentationError,
            measure_lesion,
            seed_index,
        )
        from app.segmentation.follow_up import follow_up_seeds
        from app.segmentation.measure import wait_until_loaded

        wait_until_loaded(volume, cancelled)  # unloaded slices are zeros, not tissue
        seed = seed_index(volume, point_lps)
        seeds = [seed] if earlier is None else follow_up_seeds(volume, seed, earlier)
        refusal: SegmentationError | None = None
        for s in seeds:  # the first seed that measures; else the first refusal
            try:
                return measure_lesion(volume, s, progress=progress, cancelled=cancelled)
            except SegmentationCancelled:
                raise
            except SegmentationError as exc:
                refusal = refusal or exc
        assert refusal is not None  # there is always a seed
        raise refusal

    return work


def contour_signals(session: Any) -> tuple[Any, ...]:
    """The session's signals after which the contours on the image are drawn again."""
    s = session
    return (
        s.measurement_added,
        s.measurement_changed,
        s.measurement_removed,
        s.timepoint_selected,
        s.patient_opened,
    )


class SmartCaliperActions:
    """Smart caliper clicks → segmentation task → one semi-automatic measurement.

    Parameters
    ----------
    window : QMainWindow
        Its status bar shows progress, results and refusals.
    session : app.session.ReadingSession
        Stores the measurement and its contour; lists the contours to outline.
    viewer : SeriesViewerWidget
        Emits ``smart_caliper_requested``; shows the contours.
    calipers : CaliperActions
        Records the proposal for the Next caliper bar's choice (asks when the session asks).
    pool : QThreadPool, optional
        Where the segmentation runs (default: the global pool).
    """

    def __init__(
        self,
        window: QMainWindow,
        session: Any,
        viewer: Any,
        calipers: Any,
        pool: QThreadPool | None = None,
    ) -> None:
        self.window, self.session, self.viewer, self.calipers = window, session, viewer, calipers
        self._pool = pool or QThreadPool.globalInstance()
        self.task: ComputeTask | None = None
        self._task_volume: Any = None
        self._task_context: tuple[Any, Any] = (None, None)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("smartCaliperCancel")
        self.cancel_button.setToolTip("Stop the Smart caliper's segmentation (Esc)")
        # Esc while it segments: an action of the button, on only while the button shows
        # (the image keeps Esc otherwise); not the button's own shortcut, which clicks 100 ms
        # later (animateClick), after a fast proposal may have been stored
        self.cancel_key = QAction("Cancel the Smart caliper segmentation", self.cancel_button)
        self.cancel_key.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_key.triggered.connect(self.cancel)
        self.cancel_button.addAction(self.cancel_key)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.last_message = ""
        self._imported: list[Contour] = []
        self._imported_volume: Any = None
        self.disappeared_action = QAction("Lesion disappeared (0 mm)", window)
        self.disappeared_action.setObjectName("lesionDisappeared")
        self.disappeared_action.setShortcut(QKeySequence(DISAPPEARED_KEY))
        self.disappeared_action.setToolTip(
            f"Record the lesion chosen in the Next caliper bar as disappeared: 0 mm at this "
            f"timepoint ({DISAPPEARED_KEY})"
        )
        self.disappeared_action.triggered.connect(self.set_disappeared)

    def connect(self) -> None:
        """Listen to the image and to the session (contours follow the measurements)."""
        self.window.statusBar().addPermanentWidget(self.cancel_button)
        self.window.addAction(self.disappeared_action)
        self.viewer.smart_caliper_requested.connect(self.measure_at)
        # another patient: no proposal of this one stays adjustable with the smart tool
        self.session.patient_opened.connect(lambda *_: self.viewer.set_smart_proposal(None))
        for signal in contour_signals(self.session):
            signal.connect(lambda *_: self.refresh_contours())
        s = self.session
        for signal in (s.measurement_added, s.measurement_changed, s.measurement_removed):
            # an undo (or any later edit) makes "recorded as disappeared — Ctrl+Z undoes" or
            # "28.6 x 19.1 mm … Ctrl+Z rejects" stale: it stayed up for 15 s after the undo
            signal.connect(lambda *_: self._clear_own_message())
        # a new series clears the image's contours: outline this one's again (a series shown
        # from the Series panel and back lost its lesions' outlines)
        self.viewer.volume_changed.connect(lambda *_: self.refresh_contours())

    # -- click → task ------------------------------------------------------------------
    def measure_at(self, point_lps: tuple[float, float, float]) -> ComputeTask | None:
        """Segment the lesion at an LPS point off the GUI thread; returns the task started."""
        volume = self.viewer.volume
        if volume is None:
            return None
        if self.session.patient is None or self.session.current_timepoint is None:
            self._say("Smart caliper: open a patient and a timepoint first.")
            return None
        self.cancel()
        point = (float(point_lps[0]), float(point_lps[1]), float(point_lps[2]))
        task = ComputeTask(_measure(volume, point, self.earlier_lesion()))
        task.signals.progress.connect(self._on_progress)
        task.signals.finished.connect(lambda result: self._on_finished(task, result))
        task.signals.failed.connect(lambda exc: self._on_failed(task, exc))
        self.task, self._task_volume = task, volume
        # what the click was for: the result is that lesion's, at that timepoint, whatever the
        # reader chooses while it segments (N, a row click, another timepoint)
        self._task_context = (self._patient_and_timepoint(), self._choice())
        self.cancel_button.show()
        self._say("Smart caliper: segmenting…")
        self._pool.start(task)
        return task

    def _choice(self) -> Any:
        """The Next caliper bar's choice now (an ``AssignTarget``), or None."""
        bar = getattr(self.calipers, "assign_bar", None)
        return bar.choice() if bar is not None else None

    def _patient_and_timepoint(self) -> tuple[Any, Any]:
        patient, tp = self.session.patient, self.session.current_timepoint
        return (getattr(patient, "id", None), getattr(tp, "id", None))

    def _selected_lesion_id(self) -> int | None:
        lesion_id = getattr(self._choice(), "lesion_id", None)
        return int(lesion_id) if lesion_id is not None else None

    def earlier_lesion(self) -> Any:
        """The selected lesion's latest measurement before the current timepoint, or None.

        Its caliper's centre (LPS) seeds the follow-up proposal; its contour's mean HU, when it
        has one, says what the lesion looks like.
        """
        lesion_id = self._selected_lesion_id()
        current = self.session.current_timepoint
        if lesion_id is None or current is None:
            return None
        from app.segmentation.follow_up import earlier_lesion

        earlier = [t for t in self.session.timepoints() if t.order < current.order]
        for tp in sorted(earlier, key=lambda t: t.order, reverse=True):
            for m in self.session.measurements(tp.id):
                if m.lesion_id != lesion_id or m.id is None:
                    continue
                seg = self.session.segmentation_for(m.id)
                found = earlier_lesion(m, None if seg is None else seg.mean_hu)
                if found is not None:
                    return found
        return None

    def set_disappeared(self) -> None:
        """Record the lesion chosen in the Next caliper bar as disappeared (0 mm) here."""
        lesion_id = self._selected_lesion_id()
        if self.session.patient is None or lesion_id is None:
            self._say("Lesion disappeared: choose the lesion in the Next caliper bar first.")
            return
        current = self.session.current_timepoint
        if current is not None and current.is_baseline:  # said here, not in an error box
            self._say(
                f"Lesion disappeared (0) is for a follow-up: at {current.label}, the baseline, "
                "a lesion is measured."
            )
            return
        from recist.model import MeasurementStatus

        try:
            self.session.set_status(lesion_id, MeasurementStatus.ABSENT)
        except Exception as exc:  # noqa: BLE001 - shown to the reader, like @shows_errors
            report_error(self.window, "Could not record the lesion as disappeared", exc)
            return
        self._say("Lesion recorded as disappeared (0 mm) at this timepoint — Ctrl+Z undoes.")

    def cancel(self) -> None:
        """Stop the segmentation in progress (nothing is stored)."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
            self._say("Smart caliper: cancelled.")
        self.cancel_button.hide()

    def _on_progress(self, fraction: float) -> None:
        self._say(f"Smart caliper: segmenting… {fraction * 100:.0f} %", 0)

    def _on_failed(self, task: ComputeTask, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        self.cancel_button.hide()
        self._say(f"Smart caliper: {exc}")

    def _on_finished(self, task: ComputeTask, proposal: Any) -> None:
        if task is not self.task:
            return
        self.task = None
        self.cancel_button.hide()
        volume = self._task_volume
        where, choice = self._task_context
        if volume is not self.viewer.volume:  # another series is shown now
            self._say("Smart caliper: the series changed; click again.")
            return
        if where != self._patient_and_timepoint():  # the same series at another timepoint
            self._say("Smart caliper: the timepoint changed while it segmented; click again.")
            return
        try:
            stored = self.calipers.record_semi_auto(proposal, proposal.geometry(volume), choice)
        except Exception as exc:  # noqa: BLE001 - shown to the reader, like @shows_errors
            report_error(self.window, "Could not store the Smart caliper's measurement", exc)
            return
        self.viewer.set_slice(proposal.slice_index)
        if stored is not None:  # record_semi_auto made it the proposal whose handles adjust it
            # the stored caliper's lengths, as the table shows them (the proposal's are rounded
            # from the contour: 19.0 here beside 19.1 in the table, for 19.05 mm)
            long_mm = stored.long_axis_mm if stored.long_axis_mm is not None else 0.0
            short_mm = stored.short_axis_mm if stored.short_axis_mm is not None else 0.0
            self._say(
                f"Smart caliper: {long_mm:.1f} × {short_mm:.1f} mm, "
                f"{proposal.volume_ml:.1f} mL, {proposal.mean_hu:.0f} ± {proposal.sd_hu:.0f} HU "
                f"({proposal.seconds:.1f} s) — drag the caliper to adjust, Ctrl+Z rejects."
            )
        self.refresh_contours()

    # -- contours ----------------------------------------------------------------------
    def refresh_contours(self) -> None:
        """Outline the contours of the shown series' semi-automatic measurements."""
        volume = self.viewer.volume
        imported = self._imported if volume is not None and volume is self._imported_volume else []
        session = self.session
        if volume is None or session.patient is None or session.current_timepoint is None:
            self.viewer.set_contours(imported)
            return
        uid = getattr(volume, "series_instance_uid", None)
        contours = []
        for m in self.session.measurements():
            if getattr(m.method, "value", m.method) != "semi_auto" or m.id is None:
                continue
            seg = self.session.segmentation_for(m.id)
            if seg is not None and seg.series_instance_uid == uid:
                contours.append(Contour(seg.mask.offset, seg.mask.mask))
        self.viewer.set_contours(contours + imported)

    def set_imported(self, contours: list[Contour], volume: Any) -> None:
        """Outline contours imported from a DICOM SEG on ``volume`` (not stored)."""
        self._imported, self._imported_volume = list(contours), volume
        self.refresh_contours()

    def _clear_own_message(self) -> None:
        bar = self.window.statusBar()
        if self.last_message and bar.currentMessage() == self.last_message:
            bar.clearMessage()

    def say(self, text: str) -> None:
        """Show a message in the status bar (as the Smart caliper's own)."""
        self._say(text)

    def _say(self, text: str, timeout_ms: int = MESSAGE_MS) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, timeout_ms)
