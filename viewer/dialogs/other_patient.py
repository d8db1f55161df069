"""The warning shown for a series of another DICOM patient (issue 11 point 5).

It names both Patient IDs (the session's message).  Attaching needs an
explicit click on "Attach anyway"; Return and Escape cancel.  When the series
could not be attached anyway (the timepoint is read on another series), the
box only informs.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_other_patient(parent: QWidget | None, message: str, attach_to: str | None) -> bool:
    """Warn about another patient's series; True when the reader chose to attach it.

    Parameters
    ----------
    parent : QWidget or None
        The window the box belongs to.
    message : str
        The session's warning, naming both Patient IDs.
    attach_to : str or None
        The timepoint label it would be attached to; None only informs (not opened).
    """
    box = QMessageBox(parent)
    box.setObjectName("otherPatientWarning")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Another patient's series?")
    box.setText("<b>This series may belong to another patient.</b>")
    if attach_to is None:
        box.setInformativeText(
            f"{message}\n\nIt was not opened: the current timepoint is read on another series "
            "(to read this one, select a timepoint without a series, or add one, "
            "and open it again)."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.exec()
        return False
    box.setInformativeText(message)
    attach = box.addButton(f"Attach to {attach_to} anyway", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Do not open it", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is attach
