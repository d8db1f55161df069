"""SAS transport (XPORT version 5) files of the SDTM tumour domains, as sponsors submit them.

Written with pyreadstat (maintained, ReadStat-based) from the same rows as the
CSV files, so the two never disagree.  Sequence numbers, ``VISITNUM`` and
``TRSTRESN`` are numeric variables (empty -> missing); every other variable
is character, as in the SDTM IG.  Every variable carries its SDTMIG label
(:data:`storage.exchange.sdtm_terms.LABELS`) and every dataset its name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from storage.exchange.sdtm import SdtmDatasets
from storage.exchange.sdtm_terms import LABELS, NUMERIC

#: Variables written as numbers; the rest are character.
NUMERIC_VARIABLES = NUMERIC

DATASET_LABELS = {
    "tu": "Tumor/Lesion Identification",
    "tr": "Tumor/Lesion Results",
    "rs": "Disease Response and Clin Classification",
    "supptu": "Supplemental Qualifiers for TU",
    "supptr": "Supplemental Qualifiers for TR",
}


def _number(text: str, column: str, domain: str) -> float | None:
    if text in ("", None):
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise ValueError(f"{domain.upper()}.{column}: {text!r} is not a number") from exc


def write_xpt(datasets: SdtmDatasets, out_dir: str | Path) -> list[Path]:
    """Write ``tu.xpt``, ``tr.xpt``, ``rs.xpt`` (and ``supptu.xpt``, ``supptr.xpt``) into *out_dir*.

    Raises
    ------
    ValueError
        If a numeric variable holds text that is not a number (names the variable).
    """
    out = Path(out_dir)
    written = []
    columns = datasets.columns()
    for name, rows in datasets.datasets().items():
        cols = columns[name]
        data = {
            column: [
                _number(row.get(column, ""), column, name)
                if column in NUMERIC_VARIABLES
                else str(row.get(column, ""))
                for row in rows
            ]
            for column in cols
        }
        frame = pd.DataFrame(data, columns=list(cols))
        for column in cols:
            frame[column] = frame[column].astype(
                "float64" if column in NUMERIC_VARIABLES else "object"
            )
        path = out / f"{name}.xpt"
        pyreadstat.write_xport(
            frame,
            str(path),
            file_format_version=5,
            table_name=name.upper(),
            file_label=DATASET_LABELS[name],
            column_labels=[LABELS[c] for c in cols],
        )
        written.append(path)
    return written
