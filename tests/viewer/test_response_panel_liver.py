"""The liver response beside the overall response in the response panel (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.session import ReadingSession
from recist.model import DrawnGeometry, Role, Segment
from storage.db import Database, open_database
from viewer.response.panel import HEADERS, LIVER_COLUMN, OVERALL_COLUMN, ResponsePanelWidget

pytestmark = pytest.mark.qt


def drawn(long_mm: float, slice_index: int = 10) -> DrawnGeometry:
    seg = Segment((0.0, 0.0), (long_mm, 0.0), (0.0, 0.0, 0.0), (long_mm, 0.0, 0.0))
    return DrawnGeometry("1.2.3", f"1.2.3.{slice_index}", slice_index, seg)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ReadingSession]:
    db: Database = open_database(str(tmp_path / "caliper.sqlite3"))
    db.readers.create("rita", "Rita Reader", Role.READER, "rita-pw")
    s = ReadingSession(db, db.readers.authenticate("rita", "rita-pw"))
    s.add_patient("S-002", "CRLM", first_dose_date=date(2026, 1, 5))
    s.open_patient("S-002")
    yield s
    db.close()


def test_liver_pr_is_shown_beside_an_overall_sd(qtbot, session: ReadingSession) -> None:  # noqa: ANN001
    panel = ResponsePanelWidget(session)
    qtbot.addWidget(panel)
    session.add_timepoint("Baseline", date(2026, 1, 2))
    liver = session.record_measurement(drawn(50.0), organ="liver")
    lung = session.record_measurement(drawn(50.0, 20), organ="lung")
    assert panel.liver("Baseline") == ""
    assert not panel.table.isColumnHidden(LIVER_COLUMN)
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(drawn(30.0), lesion_id=liver.lesion_id)  # liver -40 %
    session.record_measurement(drawn(60.0, 20), lesion_id=lung.lesion_id)  # sum 90: -10 %
    assert LIVER_COLUMN == OVERALL_COLUMN + 1
    assert HEADERS[LIVER_COLUMN] == "Liver"
    assert panel.overall("C3") == "SD"
    assert panel.liver("C3") == "PR"
    row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("C3")
    assert panel.table.item(row, LIVER_COLUMN).text() == "PR (-40.0 %)"
    assert "not RECIST" in panel.table.item(row, LIVER_COLUMN).toolTip()
    assert "protocol-defined" in panel.table.horizontalHeaderItem(LIVER_COLUMN).toolTip()
    assert panel.best_liver.text() == "Best liver response (protocol, not RECIST): PR"
    assert panel.best_response.text() == "Best overall response: SD"


def test_no_liver_lesion_hides_the_liver_column(qtbot, session: ReadingSession) -> None:  # noqa: ANN001
    panel = ResponsePanelWidget(session)
    qtbot.addWidget(panel)
    session.add_timepoint("Baseline", date(2026, 1, 2))
    session.record_measurement(drawn(50.0, 20), organ="lung")
    assert panel.table.isColumnHidden(LIVER_COLUMN)
    assert not panel.best_liver.isVisibleTo(panel)
    assert panel.liver("Baseline") == ""


def test_the_liver_column_follows_a_remeasurement(qtbot, session: ReadingSession) -> None:  # noqa: ANN001
    """Re-measuring a lesion updates the liver response as it updates the overall one."""
    panel = ResponsePanelWidget(session)
    qtbot.addWidget(panel)
    session.add_timepoint("Baseline", date(2026, 1, 2))
    liver = session.record_measurement(drawn(50.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(drawn(30.0), lesion_id=liver.lesion_id)
    row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("C3")
    assert panel.table.item(row, LIVER_COLUMN).text() == "PR (-40.0 %)"
    session.record_measurement(drawn(45.0), lesion_id=liver.lesion_id)  # replaces it: -10 %
    row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("C3")
    assert panel.table.item(row, LIVER_COLUMN).text() == "SD (-10.0 %)"
