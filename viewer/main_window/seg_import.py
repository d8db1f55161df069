"""File ▸ Import DICOM SEG as contours… (issue 16): a segmentation shown over its series.

The segments of a DICOM SEG whose frames refer to the shown series (``storage.exchange.seg``
through ``ReadingSession.read_seg_contours``) are outlined on the image like the
Smart caliper's contours, in another colour, until another series or patient is opened.
Nothing is stored: it is a reference to look at (e.g. the dcmqi liver SEG, an expert's
lesion masks), measured with the calipers as usual.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow

from viewer.errors import report_error
from viewer.image.contours import Contour

#: Outline colour of imported segments (RGBA): cyan, apart from the red proposals.
IMPORTED_RGBA = (60, 220, 255, 230)


class SegImportActions:
    """The File menu's SEG import, outlining what it read through ``smart_caliper``."""

    def __init__(self, window: QMainWindow, session: Any, viewer: Any, smart_caliper: Any) -> None:
        self.window, self.session = window, session
        self.viewer, self.smart_caliper = viewer, smart_caliper
        self.action = QAction("Import DICOM SEG as contours…", window)
        self.action.setObjectName("importSeg")
        self.action.setToolTip("Outline the segments of a DICOM SEG file on the shown series")
        self.action.triggered.connect(self.choose_file)

    def choose_file(self) -> None:
        """Ask for a SEG file and import it."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import DICOM SEG", "", "DICOM (*.dcm);;All files (*)"
        )
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> int:
        """Outline the SEG's segments on the shown series; returns how many were found."""
        volume = self.viewer.volume
        if volume is None:
            self.smart_caliper.say("Import DICOM SEG: open the series it was made on first.")
            return 0
        try:
            found = self.session.read_seg_contours(path, list(volume.sop_instance_uids))
        except Exception as exc:  # noqa: BLE001 - shown to the reader, like @shows_errors
            report_error(self.window, "Could not import the DICOM SEG", exc)
            return 0
        contours = [Contour(offset, mask, IMPORTED_RGBA) for _label, offset, mask in found]
        self.smart_caliper.set_imported(contours, volume)
        labels = ", ".join(label for label, _o, _m in found)
        self.smart_caliper.say(f"Imported {len(found)} segment(s) from the SEG: {labels}.")
        return len(found)
