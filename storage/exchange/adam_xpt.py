"""SAS transport (XPORT v5) files of the ADaM datasets, with variable labels.

Written with pyreadstat from the same rows as the CSV files.  Dates are SAS
dates (numeric days since 1960-01-01, format ``DATE9.``); the numeric analysis
variables are numbers; every other variable is character.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from storage.exchange.adam import (
    ADRS_COLUMNS,
    ADSL_COLUMNS,
    ADTTE_COLUMNS,
    DATE_VARIABLES,
    LABELS,
    NUMERIC_VARIABLES,
    AdamDatasets,
)

SAS_EPOCH = date(1960, 1, 1)
_DATASET_LABELS = {
    "adsl": "Subject-Level Analysis Dataset",
    "adrs": "Response Analysis Dataset",
    "adtte": "Time-to-Event Analysis Dataset",
}


def _numeric(value: Any, column: str, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return float((value - SAS_EPOCH).days)
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name.upper()}.{column}: {value!r} is not a number") from exc


def write_adam_xpt(datasets: AdamDatasets, out_dir: str | Path) -> list[Path]:
    """Write ``adsl.xpt``, ``adrs.xpt`` and ``adtte.xpt`` into *out_dir*; return their paths."""
    out = Path(out_dir)
    written = []
    for name, rows, columns in (
        ("adsl", datasets.adsl, ADSL_COLUMNS),
        ("adrs", datasets.adrs, ADRS_COLUMNS),
        ("adtte", datasets.adtte, ADTTE_COLUMNS),
    ):
        numeric = DATE_VARIABLES | NUMERIC_VARIABLES
        data = {
            c: [_numeric(r.get(c), c, name) if c in numeric else str(r.get(c) or "") for r in rows]
            for c in columns
        }
        frame = pd.DataFrame(data, columns=list(columns))
        for c in columns:
            frame[c] = frame[c].astype("float64" if c in numeric else "object")
        path = out / f"{name}.xpt"
        pyreadstat.write_xport(
            frame,
            str(path),
            file_format_version=5,
            table_name=name.upper(),
            file_label=_DATASET_LABELS[name],
            column_labels=[LABELS[c] for c in columns],
            variable_format={c: "DATE9." for c in columns if c in DATE_VARIABLES},
        )
        written.append(path)
    return written
