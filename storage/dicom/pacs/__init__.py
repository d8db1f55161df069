"""Finding and retrieving series on a PACS (DICOMweb or DIMSE).

```python
from storage.dicom.pacs import get_node, find_studies, find_series, retrieve_series, StudyQuery
node = get_node("radiology")
studies = find_studies(node, StudyQuery(patient_id="Lung_Dx-A0002"))
series = find_series(node, studies[0].study_instance_uid)
folder = retrieve_series(node, series[0], on_progress=print, cancel=threading.Event())
```

``folder`` is ``storage.paths.series_store_dir()/<SeriesInstanceUID>``, complete
(it appears only once every image has arrived); open it with
``storage.dicom.load_series(folder)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from storage.dicom.pacs.dicomweb import DicomWebPacs
from storage.dicom.pacs.dimse import DimsePacs
from storage.dicom.pacs.errors import (
    PacsAssociationRejected,
    PacsAuthenticationError,
    PacsConnectionError,
    PacsError,
    PacsRetrieveIncomplete,
    PacsSettingsError,
    PacsTimeout,
    RetrieveCancelled,
)
from storage.dicom.pacs.model import (
    CancelToken,
    ProgressCallback,
    SeriesMatch,
    StudyMatch,
    StudyQuery,
)
from storage.dicom.pacs.settings import (
    PacsNode,
    add_node,
    get_node,
    load_nodes,
    remove_node,
    save_nodes,
)
from storage.dicom.pacs.store import SeriesStaging, check_uid, remove_stale_partials

log = logging.getLogger(__name__)

__all__ = [
    "CancelToken",
    "DicomWebPacs",
    "DimsePacs",
    "PacsAssociationRejected",
    "PacsAuthenticationError",
    "PacsConnectionError",
    "PacsError",
    "PacsNode",
    "PacsRetrieveIncomplete",
    "PacsSettingsError",
    "PacsTimeout",
    "ProgressCallback",
    "RetrieveCancelled",
    "SeriesMatch",
    "SeriesStaging",
    "StudyMatch",
    "StudyQuery",
    "add_node",
    "client_for",
    "echo",
    "find_series",
    "find_studies",
    "get_node",
    "load_nodes",
    "locate_series",
    "push",
    "remove_node",
    "retrieve_series",
    "save_nodes",
]


def client_for(node: PacsNode) -> DicomWebPacs | DimsePacs:
    """The protocol client for ``node``."""
    return DicomWebPacs(node) if node.kind == "dicomweb" else DimsePacs(node)


def echo(node: PacsNode) -> None:
    """Check that ``node`` answers (C-ECHO or a minimal QIDO-RS query)."""
    client_for(node).echo()


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyMatch]:
    """Studies on ``node`` matching ``query`` (QIDO-RS or C-FIND)."""
    log.info("PACS %s: study query", node.name)
    return client_for(node).find_studies(query)


def find_series(node: PacsNode, study_instance_uid: str, modality: str = "") -> list[SeriesMatch]:
    """Series of one study on ``node``, sorted by series number."""
    check_uid(study_instance_uid, "StudyInstanceUID")
    found = client_for(node).find_series(study_instance_uid, modality=modality)
    return sorted(found, key=lambda s: (s.series_number is None, s.series_number or 0))


def locate_series(node: PacsNode, series_instance_uid: str) -> SeriesMatch:
    """Find a series by its UID alone (to learn its study and size).

    Raises
    ------
    PacsError
        The PACS does not hold that series.
    """
    check_uid(series_instance_uid, "SeriesInstanceUID")
    found = [
        s
        for s in client_for(node).find_series(series_instance_uid=series_instance_uid)
        if s.series_instance_uid == series_instance_uid
    ]
    if not found:
        raise PacsError(f"PACS {node.name!r} has no series {series_instance_uid}")
    return found[0]


def retrieve_series(
    node: PacsNode,
    series: SeriesMatch | str,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    store_dir: Path | None = None,
) -> Path:
    """Retrieve one series into the series store, all or nothing.

    Parameters
    ----------
    node : PacsNode
        Where to retrieve from (WADO-RS, C-GET or C-MOVE as configured).
    series : SeriesMatch or str
        The series (a UID is looked up on the PACS first).
    on_progress : callable, optional
        ``on_progress(images_done, images_expected_or_None)``, called from
        the retrieving thread (or the C-MOVE SCP's thread).
    cancel : CancelToken, optional
        Set it to stop; :class:`RetrieveCancelled` is raised.
    store_dir : Path, optional
        The series store (default :func:`storage.paths.series_store_dir`).

    Returns
    -------
    Path
        ``<store>/<SeriesInstanceUID>``, complete.

    Raises
    ------
    PacsError
        Any failure; subclasses say which.  Nothing is left in the store.
    """
    if isinstance(series, str):
        series = locate_series(node, series)
    client = client_for(node)
    remove_stale_partials(store_dir)  # leftovers of a crash, more than a day old
    log.info("PACS %s: retrieving series %s", node.name, series.series_instance_uid)
    with SeriesStaging(series.series_instance_uid, store_dir) as staging:
        client.retrieve_series(series, staging, on_progress, cancel)
        folder = staging.commit(series.n_instances)
    log.info(
        "PACS %s: series %s stored (%d images)",
        node.name,
        series.series_instance_uid,
        len(list(folder.iterdir())),
    )
    return folder


def push(node: PacsNode, paths: Sequence[Path | str]) -> int:
    """Send DICOM files (e.g. SR measurement reports) to ``node`` (C-STORE or STOW-RS)."""
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise PacsError(f"no such file: {', '.join(missing)}")
    for path in files:
        _check_pushable(path)
    log.info("PACS %s: pushing %d files", node.name, len(files))
    return client_for(node).store(files)


def _check_pushable(path: Path) -> None:
    """Refuse, naming the file, anything that is not a DICOM instance a PACS can store."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise PacsError(f"{path}: not a DICOM file ({exc}); nothing was sent") from None
    missing = [k for k in ("SOPClassUID", "SOPInstanceUID") if not str(ds.get(k, "")).strip()]
    if missing:
        raise PacsError(f"{path}: DICOM file without {' and '.join(missing)}; nothing was sent")
