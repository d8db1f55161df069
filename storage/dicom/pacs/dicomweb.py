"""A PACS over DICOMweb: QIDO-RS queries, WADO-RS retrieve, STOW-RS push.

Built on ``dicomweb-client``; HTTP failures become :mod:`~storage.dicom.pacs.errors`
with a message naming the PACS.  Credentials go in the ``requests`` session,
never in the URL, so they cannot end up in a log line or an error message.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pydicom
import requests
from dicomweb_client import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO

from storage.dicom.pacs.errors import (
    PacsAuthenticationError,
    PacsConnectionError,
    PacsError,
    PacsRetrieveIncomplete,
    PacsTimeout,
    RetrieveCancelled,
)
from storage.dicom.pacs.model import (
    CancelToken,
    ProgressCallback,
    SeriesMatch,
    StudyMatch,
    StudyQuery,
    call_on_cancel,
    iso_date,
    to_int,
)
from storage.dicom.pacs.settings import PacsNode
from storage.dicom.pacs.store import SeriesStaging

log = logging.getLogger(__name__)

#: At most this many matches per query.  (Paging with ``offset`` is not used:
#: the Orthanc DICOMweb plugin ignores it for some queries, so paging never ends.)
MAX_MATCHES = 500

_STUDY_FIELDS = (
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
_SERIES_FIELDS = ("Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances")


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | requests.Timeout) or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _WildcardSession(requests.Session):
    """A session that sends QIDO wildcards as ``*`` and can cut a stalled download.

    The Orthanc DICOMweb plugin does not decode ``%2A``.  :meth:`interrupt`
    shuts the socket of the latest response down, which wakes a read blocked
    on a silent server (closing alone would not).
    """

    def __init__(self) -> None:
        super().__init__()
        self._latest: requests.Response | None = None
        self.hooks["response"].append(self._remember)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._latest = response

    def interrupt(self) -> None:
        """Shut down the connection of the latest response (from any thread)."""
        raw = getattr(self._latest, "raw", None)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is None:  # urllib3 hands the socket to http.client once the body streams
            buffered = getattr(getattr(raw, "_fp", None), "fp", None)
            sock = getattr(getattr(buffered, "raw", None), "_sock", None)
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`requests.Session.request`, with ``%2A`` un-escaped in the URL."""
        if isinstance(url, str):
            url = url.replace("%2A", "*").replace("%2a", "*")
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, url, *args, **kwargs)


class DicomWebPacs:
    """Query, retrieve from and push to one DICOMweb node.

    Parameters
    ----------
    node : PacsNode
        A node with ``dicomweb_url`` set.
    """

    def __init__(self, node: PacsNode) -> None:
        if not node.dicomweb_url:
            raise PacsError(f"PACS {node.name!r} has no DICOMweb URL")
        self.node = node
        self._session = session = _WildcardSession()
        if node.username:
            session.auth = (node.username, node.password or "")
        self._client = DICOMwebClient(
            node.dicomweb_url.rstrip("/"), session=session, timeout=node.timeout_s
        )
        # Fail fast: the reader sees the error and decides; no silent retries.
        self._client.set_http_retry_params(retry=False)

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """Turn ``requests`` errors into :class:`PacsError` with a clear message."""
        where = f"PACS {self.node.name!r} ({self.node.dicomweb_url})"
        try:
            yield
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (401, 403):
                raise PacsAuthenticationError(
                    f"{where} refused the credentials while {doing} (HTTP {status})"
                ) from None
            raise PacsError(f"{where} answered HTTP {status} while {doing}") from None
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise PacsTimeout(
                    f"{where} did not answer within {self.node.timeout_s:g} s while {doing}"
                ) from None
            raise PacsConnectionError(
                f"cannot connect to {where} while {doing}: connection refused or server down"
            ) from None
        except (ValueError, KeyError) as exc:
            raise PacsError(f"{where} sent an unreadable answer while {doing}: {exc}") from None

    def echo(self) -> None:
        """Check that the node answers a minimal QIDO-RS query."""
        with self._translate("checking the connection"):
            self._client.search_for_studies(limit=1)

    def find_studies(self, query: StudyQuery) -> list[StudyMatch]:
        """QIDO-RS ``/studies`` with the query's keys."""
        filters: dict[str, Any] = {}
        for key, value in (
            ("PatientID", query.patient_id.strip()),
            ("PatientName", query.name_pattern),
            ("StudyDate", query.date_range),
            ("ModalitiesInStudy", query.modality.strip()),
        ):
            if value:
                filters[key] = value
        with self._translate("searching for studies"):
            found = self._client.search_for_studies(
                search_filters=filters, fields=list(_STUDY_FIELDS), limit=MAX_MATCHES
            )
            return [_study_from_json(item) for item in found]

    def find_series(
        self, study_instance_uid: str = "", series_instance_uid: str = "", modality: str = ""
    ) -> list[SeriesMatch]:
        """QIDO-RS ``/series`` of one study, or of one series UID anywhere."""
        filters: dict[str, Any] = {}
        if series_instance_uid:
            filters["SeriesInstanceUID"] = series_instance_uid
        if modality:
            filters["Modality"] = modality
        fields = [*_SERIES_FIELDS, "StudyInstanceUID"]
        with self._translate("searching for series"):
            found = self._client.search_for_series(
                study_instance_uid=study_instance_uid or None,
                search_filters=filters,
                fields=fields,
                limit=MAX_MATCHES,
            )
            return [_series_from_json(item, study_instance_uid) for item in found]

    def retrieve_series(
        self,
        series: SeriesMatch,
        staging: SeriesStaging,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """WADO-RS: stream the series' instances into ``staging``; returns the count.

        Raises
        ------
        RetrieveCancelled
            ``cancel`` was set; the stream is closed at once.
        """
        what = f"series {series.series_instance_uid}"
        try:
            with (
                call_on_cancel(cancel, self._session.interrupt, "caliper-wado-cancel"),
                self._translate(f"retrieving {what}"),
            ):
                self._stream(series, staging, on_progress, cancel)
        except RetrieveCancelled:
            raise
        except PacsError as exc:
            if cancel is not None and cancel.is_set():
                raise RetrieveCancelled("retrieve cancelled; nothing was imported") from None
            if staging.count:
                raise PacsRetrieveIncomplete(
                    f"{exc} (after {staging.count} of {series.n_instances or '?'} images of "
                    f"{what}); nothing was imported"
                ) from None
            raise
        if cancel is not None and cancel.is_set():
            raise RetrieveCancelled("retrieve cancelled; nothing was imported")
        return staging.count

    def _stream(
        self,
        series: SeriesMatch,
        staging: SeriesStaging,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        """Write each instance of the WADO-RS multipart answer as it arrives."""
        stream = self._client.iter_series(series.study_instance_uid, series.series_instance_uid)
        try:
            for dataset in stream:
                if cancel is not None and cancel.is_set():
                    raise RetrieveCancelled("retrieve cancelled; nothing was imported")
                staging.write(str(dataset.SOPInstanceUID), _encode(dataset))
                if on_progress is not None:
                    on_progress(staging.count, series.n_instances)
        finally:
            if isinstance(stream, Generator):  # dicomweb-client streams with a generator
                stream.close()

    def store(self, paths: Sequence[Path]) -> int:
        """STOW-RS the files; returns how many the PACS accepted."""
        datasets = [pydicom.dcmread(str(path)) for path in paths]
        with self._translate("storing instances"):
            answer = self._client.store_instances(datasets)
        failed = answer.get("FailedSOPSequence", []) if answer is not None else []
        if failed:
            raise PacsError(
                f"PACS {self.node.name!r} refused {len(failed)} of {len(datasets)} files"
            )
        return len(datasets)


def _encode(dataset: Dataset) -> bytes:
    """The dataset as DICOM Part 10 bytes."""
    buffer = DicomBytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword, "")
    return "" if value is None else str(value)


def _study_from_json(item: dict[str, Any]) -> StudyMatch:
    ds = Dataset.from_json(item)
    modalities = ds.get("ModalitiesInStudy", [])
    if isinstance(modalities, str):
        modalities = [modalities]
    return StudyMatch(
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        study_date=iso_date(_text(ds, "StudyDate")),
        study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        modalities=tuple(str(m) for m in modalities if m),
        n_series=to_int(ds.get("NumberOfStudyRelatedSeries")),
        n_instances=to_int(ds.get("NumberOfStudyRelatedInstances")),
    )


def _series_from_json(item: dict[str, Any], study_instance_uid: str) -> SeriesMatch:
    ds = Dataset.from_json(item)
    return SeriesMatch(
        study_instance_uid=_text(ds, "StudyInstanceUID") or study_instance_uid,
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        modality=_text(ds, "Modality"),
        series_number=to_int(ds.get("SeriesNumber")),
        series_description=_text(ds, "SeriesDescription"),
        n_instances=to_int(ds.get("NumberOfSeriesRelatedInstances")),
    )
