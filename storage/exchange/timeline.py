"""Per-patient response timelines: the case JSON of rules.md §10 plus results, and CSV.

The JSON is the case format Caliper's rules engine reads (``recist.case_from_dict``),
with the subject's identity and the computed result added under ``"result"``
(``recist.result_to_dict``).  Reading it back and re-evaluating the case gives the
same responses, which is how an exported timeline is checked.

The CSV has one row per lesion per timepoint (``record = "lesion"``) and one row
per timepoint response (``record = "response"``), so that a spreadsheet user
can filter either.

Each lesion entry of the JSON and each lesion row of the CSV also says how the measurement
was made (:class:`MeasurementProvenance`, :data:`PROVENANCE_COLUMNS`): ``manual`` or
``semi-automatic`` (issue 16's Smart caliper), the algorithm's name and version, whether the
reader then changed it (moved the caliper, edited the contour with the brush) and the volume
of its stored contour.  The case reader ignores these keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from recist.limits import loads_json
from recist.model import Lesion, Measurement, Method, Patient, Reader, Timepoint

#: Version of the timeline JSON wrapper (the case keys themselves follow rules.md §10).
TIMELINE_FORMAT = "caliper-timeline/1"

#: The timepoint response values of a "response" row, as the engine reports them.
#: ``post_progression`` is true after the first progression (not used for BOR) and
#: empty when the result predates the flag.
RESPONSE_COLUMNS: tuple[str, ...] = (
    "sum_mm",
    "pct_from_baseline",
    "pct_from_nadir",
    "target",
    "non_target",
    "new_lesions",
    "overall",
    "post_progression",
    "reason",
)

#: How each lesion's measurement was made (:meth:`MeasurementProvenance.fields`): in every
#: lesion entry of the JSON, and the last columns of the CSV (appended: older readers of the
#: file find their columns where they were).
PROVENANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "algorithm",
    "algorithm_version",
    "edited",
    "edits",
    "volume_ml",
)

CSV_COLUMNS: tuple[str, ...] = (
    "subject_id",
    "record",
    "timepoint",
    "date",
    "lesion",
    "category",
    "organ",
    "nodal",
    "status",
    "diameter_mm",
    "short_axis_mm",
    "equivocal",
    *RESPONSE_COLUMNS,
    *PROVENANCE_COLUMNS,
)

#: ``method`` of a measurement drawn by hand, and of one an algorithm proposed.
MANUAL, SEMI_AUTOMATIC = "manual", "semi-automatic"


@dataclass(frozen=True)
class MeasurementProvenance:
    """How one measurement was made: by hand, or proposed by an algorithm (issue 16).

    Attributes
    ----------
    method : str
        :data:`MANUAL` or :data:`SEMI_AUTOMATIC`.
    algorithm, algorithm_version : str
        The segmentation algorithm that proposed it (for a contour the reader edited with the
        brush, the one that drew it first); empty when manual or not known.
    contour_edited : bool or None
        The reader edited the contour with the brush (the caliper then follows the contour).
    caliper_change : str or None
        What the reader changed in the caliper after it was stored with its contour: ``""``
        nothing, ``"caliper moved"``, ``"status set to absent"`` (...); None when that is not
        known (no contour, or one stored before Caliper recorded its caliper).
    volume_ml : float or None
        Volume of the stored contour (mL).
    parameters : dict
        The algorithm's parameters (of the algorithm that drew the contour first, for an
        edited one); empty when manual or not known.  Not a CSV column: the DICOM SR writes
        them in its Algorithm Identification (:mod:`storage.exchange.sr`).
    """

    method: str = MANUAL
    algorithm: str = ""
    algorithm_version: str = ""
    contour_edited: bool | None = None
    caliper_change: str | None = None
    volume_ml: float | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def caliper_moved(self) -> bool | None:
        """The reader changed the caliper (moved it, or replaced it by a status)."""
        return None if self.caliper_change is None else bool(self.caliper_change)

    @property
    def semi_automatic(self) -> bool:
        """True for a measurement an algorithm proposed."""
        return self.method == SEMI_AUTOMATIC

    @property
    def edited(self) -> bool | None:
        """The reader changed the proposal; None when manual or when it is not known."""
        if not self.semi_automatic:
            return None
        if self.contour_edited or self.caliper_moved:
            return True
        if self.contour_edited is None or self.caliper_moved is None:
            return None
        return False

    @property
    def edits(self) -> str:
        """What the reader changed: ``contour edited``, ``caliper moved``, both, or empty."""
        done = ["contour edited"] if self.contour_edited else []
        return ", ".join(done + ([self.caliper_change] if self.caliper_change else []))

    def fields(self) -> dict[str, Any]:
        """The :data:`PROVENANCE_COLUMNS` values (None where nothing applies)."""
        semi = self.semi_automatic
        return {
            "method": self.method,
            "algorithm": self.algorithm or None,
            "algorithm_version": self.algorithm_version or None,
            "edited": self.edited,
            "edits": self.edits or None,
            "volume_ml": None if self.volume_ml is None or not semi else round(self.volume_ml, 2),
        }

    def describe(self) -> str:
        """One line for a report: ``semi-automatic, caliper-half-contrast-region 1.4, edited by
        the reader (caliper moved)``."""
        if not self.semi_automatic:
            return MANUAL
        parts = [SEMI_AUTOMATIC]
        if self.algorithm:
            parts.append(f"{self.algorithm} {self.algorithm_version}".strip())
        edited = self.edited
        if edited:
            parts.append(f"edited by the reader ({self.edits})")
        elif edited is False:
            parts.append("accepted as proposed")
        else:
            parts.append("edits by the reader not known")
        if self.volume_ml is not None:
            parts.append(f"volume {self.volume_ml:.1f} mL")
        return ", ".join(parts)


class TimelineFormatError(ValueError):
    """A timeline file that cannot be read; the message names the file and the field."""


@dataclass(frozen=True)
class PatientTimeline:
    """Everything exported for one patient, read through the audited store.

    Parameters
    ----------
    patient, timepoints, lesions, measurements
        The stored records (measurements carry ``lesion_id``/``timepoint_id``).
    result
        ``recist.result_to_dict`` of the patient's evaluation.
    readers
        Readers by id, for evaluator fields and signatures.
    signatures
        Signature records (any objects with ``timepoint_id``, ``meaning``, ``signed_at``
        and ``reader``/``investigator``); only shown in reports.
    provenance
        How measurements were made, by measurement id (read with their contours); a
        measurement missing here is described from its ``method`` alone.
    """

    patient: Patient
    timepoints: tuple[Timepoint, ...]
    lesions: tuple[Lesion, ...]
    measurements: tuple[Measurement, ...]
    result: Mapping[str, Any]
    readers: Mapping[int, Reader] = field(default_factory=dict)
    signatures: tuple[Any, ...] = ()
    provenance: Mapping[int, MeasurementProvenance] = field(default_factory=dict)

    def provenance_of(self, m: Measurement) -> MeasurementProvenance:
        """How ``m`` was made (from its ``method`` when its contour was not read)."""
        found = self.provenance.get(m.id) if m.id is not None else None
        if found is not None:
            return found
        return MeasurementProvenance(SEMI_AUTOMATIC if m.method is Method.SEMI_AUTO else MANUAL)

    def measurement(self, lesion_id: int | None, timepoint_id: int | None) -> Measurement | None:
        """The measurement of one lesion at one timepoint, or None."""
        for m in self.measurements:
            if m.lesion_id == lesion_id and m.timepoint_id == timepoint_id:
                return m
        return None

    def lesion(self, lesion_id: int | None) -> Lesion | None:
        """The lesion with this id, or None."""
        return next((les for les in self.lesions if les.id == lesion_id), None)

    def result_for(self, label: str) -> Mapping[str, Any]:
        """The result entry of the timepoint labelled ``label`` (empty if none)."""
        entries: list[Mapping[str, Any]] = self.result.get("timepoints", [])
        for entry in entries:
            if entry.get("label") == label:
                return entry
        return {}


def timeline_to_dict(timeline: PatientTimeline) -> dict[str, Any]:
    """The case dict (rules.md §10) of a patient plus identity and result.

    Parameters
    ----------
    timeline
        Records and result of one patient.

    Returns
    -------
    dict
        JSON-ready: the keys of ``recist.case_to_dict`` plus ``format``,
        ``subject_id``, ``trial``, ``site`` and ``result``.
    """
    from recist import case_from_records, case_to_dict

    case = case_from_records(
        timeline.patient, timeline.timepoints, timeline.lesions, timeline.measurements
    )
    data: dict[str, Any] = {
        "format": TIMELINE_FORMAT,
        "subject_id": timeline.patient.subject_id,
        "trial": timeline.patient.trial,
        "site": timeline.patient.site,
    }
    data.update(case_to_dict(case))
    _add_provenance(data, timeline)
    data["result"] = _jsonable(dict(timeline.result))
    return data


def _add_provenance(data: dict[str, Any], timeline: PatientTimeline) -> None:
    """Add the :data:`PROVENANCE_COLUMNS` to every lesion entry of the case dict."""
    labels = {tp.id: tp.label for tp in timeline.timepoints}
    codes = {les.id: les.code for les in timeline.lesions}
    by_entry = {  # the last one wins, as in the case (one measurement per lesion and timepoint)
        (labels.get(m.timepoint_id), codes.get(m.lesion_id)): m for m in timeline.measurements
    }
    for tp in data.get("timepoints", []):
        for key in ("targets", "non_targets", "new_lesions"):
            for entry in tp.get(key, []):
                m = by_entry.get((tp.get("label"), entry.get("id")))
                if m is not None:
                    entry.update(timeline.provenance_of(m).fields())


def dumps_timeline_json(data: Mapping[str, Any]) -> str:
    """Serialise a timeline dict as indented JSON (decimals as numbers, dates ISO 8601)."""
    return json.dumps(_jsonable(dict(data)), indent=2, ensure_ascii=False) + "\n"


def read_timeline_json(source: str | Path | io.TextIOBase) -> dict[str, Any]:
    """Read a timeline (or bare case) JSON file.

    Raises
    ------
    TimelineFormatError
        When the file is not JSON or has no ``timepoints`` list.
    """
    name = str(source) if isinstance(source, str | Path) else "<stream>"
    try:
        text = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()
        data = loads_json(text)
    except (OSError, ValueError) as exc:
        raise TimelineFormatError(f"{name}: not a readable JSON timeline ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("timepoints"), list):
        raise TimelineFormatError(f"{name}: a timeline needs a 'timepoints' list")
    return data


def reevaluate(data: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate the case part of a timeline dict again; returns ``result_to_dict`` output."""
    from recist import case_from_dict, evaluate, result_to_dict

    result: dict[str, Any] = _jsonable(result_to_dict(evaluate(case_from_dict(_case_part(data)))))
    return result


def timeline_csv_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Flatten a timeline dict into CSV rows (lesion rows, then the response row, per TP)."""
    subject = str(data.get("subject_id", data.get("id", "")))
    results = {r.get("label"): r for r in data.get("result", {}).get("timepoints", [])}
    rows: list[dict[str, str]] = []
    for tp in data["timepoints"]:
        label = tp.get("label", "")
        base = {"subject_id": subject, "timepoint": label, "date": tp.get("date") or ""}
        for category, key in (
            ("target", "targets"),
            ("non_target", "non_targets"),
            ("new", "new_lesions"),
        ):
            for entry in tp.get(key, []):
                rows.append(
                    _row(
                        {
                            **base,
                            "record": "lesion",
                            "lesion": entry.get("id"),
                            "category": category,
                            "organ": entry.get("organ"),
                            "nodal": entry.get("nodal"),
                            "status": _entry_status(entry),
                            "diameter_mm": entry.get("diameter_mm"),
                            "short_axis_mm": entry.get("short_axis_mm"),
                            "equivocal": entry.get("equivocal"),
                            **{k: entry.get(k) for k in PROVENANCE_COLUMNS},
                        }
                    )
                )
        res = results.get(label, {})
        rows.append(
            _row(
                {
                    **base,
                    "record": "response",
                    **{k: res.get(k) for k in RESPONSE_COLUMNS},
                }
            )
        )
    return rows


def dumps_timeline_csv(data: Mapping[str, Any]) -> str:
    """The CSV text of a timeline dict (header :data:`CSV_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(timeline_csv_rows(data))
    return out.getvalue()


def records_from_case(
    data: Mapping[str, Any], subject_id: str | None = None
) -> tuple[Patient, list[Timepoint], list[Lesion], list[Measurement]]:
    """Turn a case dict into domain records, for importing a timeline into the store.

    Uses ``recist.case_from_dict`` and ``recist.case_to_records``, then gives the
    records local ids (patient 1, timepoints ``order + 1``, lesions from 1) so that
    measurements point at them the way stored records do; the store assigns its
    own ids on insert.

    Raises
    ------
    TimelineFormatError
        Naming the field, when the case cannot be read.
    """
    from recist import CaseFormatError, case_from_dict, case_to_records

    try:
        case = case_from_dict(_case_part(data))
    except CaseFormatError as exc:
        raise TimelineFormatError(f"case {data.get('id', '?')}: {exc}") from exc
    patient, tps, lesions, ms = case_to_records(case)
    patient = replace(
        patient,
        id=1,
        subject_id=subject_id or str(data.get("subject_id") or patient.subject_id),
        trial=str(data.get("trial") or ""),
        site=str(data.get("site") or ""),
    )
    timepoints = [replace(tp, id=tp.order + 1, patient_id=1) for tp in tps]
    lesions = [replace(les, id=i + 1, patient_id=1) for i, les in enumerate(lesions)]
    measurements = []
    for m in ms:  # case_to_records numbers the lesion and timepoint of each from 0
        if m.lesion_id is None or m.timepoint_id is None:
            raise TimelineFormatError(
                f"case {data.get('id', '?')}: a measurement has no lesion or timepoint"
            )
        measurements.append(replace(m, lesion_id=m.lesion_id + 1, timepoint_id=m.timepoint_id + 1))
    return patient, timepoints, lesions, measurements


def _case_part(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a timeline dict that belong to the case format."""
    return {k: v for k, v in data.items() if k not in _WRAPPER_KEYS}


_WRAPPER_KEYS = frozenset({"format", "subject_id", "trial", "site", "result", "expected"})


def _entry_status(entry: Mapping[str, Any]) -> str:
    """A status word for a case-format entry (targets have none in the format)."""
    if "status" in entry:
        return str(entry["status"])
    if entry.get("coalesced_into"):
        return "merged"
    if entry.get("fragments_mm"):
        return "split"
    if "diameter_mm" in entry and entry["diameter_mm"] is None:
        return "not_evaluable"
    return "measured"


def _row(values: Mapping[str, Any]) -> dict[str, str]:
    """A CSV row: every column present, None as empty, booleans lower case."""
    return {col: _cell(values.get(col)) for col in CSV_COLUMNS}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_jsonable(value))


def _jsonable(value: Any) -> Any:
    """Decimals to int/float, dates to ISO strings, enums to their value, recursively."""
    from decimal import Decimal
    from enum import Enum

    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value
