"""A PACS over DIMSE: C-ECHO, C-FIND, C-GET or C-MOVE, and C-STORE (pynetdicom).

A C-MOVE needs Caliper's own storage SCP: it is started for the duration
of one retrieve on ``node.scp_address:node.scp_port`` with AE title
``node.calling_aet``, accepts images only from the PACS's AE title and only
for the series asked for.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, build_role, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from storage.dicom.pacs.errors import (
    PacsAssociationRejected,
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
    iso_date,
    to_int,
)
from storage.dicom.pacs.settings import PacsNode
from storage.dicom.pacs.store import SeriesStaging

_PENDING = (0xFF00, 0xFF01)
_SUCCESS, _WARNING, _CANCELLED = 0x0000, 0xB000, 0xFE00
_OUT_OF_RESOURCES, _CANNOT_UNDERSTAND = 0xA700, 0xC000
#: Uncompressed first; the compressed ones let a PACS send what it stored.
_GET_TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.99",
]


@contextmanager
def _abort_on_cancel(assoc: Association, cancel: CancelToken | None) -> Iterator[None]:
    """Abort ``assoc`` as soon as ``cancel`` is set, even while waiting on a silent PACS."""
    if cancel is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.1):
            if cancel.is_set():
                assoc.abort()
                return

    watcher = threading.Thread(target=watch, name="caliper-pacs-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


class DimsePacs:
    """Query, retrieve from and push to one DIMSE node.

    Parameters
    ----------
    node : PacsNode
        A node with ``host``, ``port`` and ``called_aet`` set.
    """

    def __init__(self, node: PacsNode) -> None:
        if node.kind != "dimse":
            raise PacsError(f"PACS {node.name!r} is not a DIMSE node")
        self.node = node
        self.where = f"PACS {node.name!r} ({node.address})"

    # -- associations -------------------------------------------------

    def _new_ae(self) -> AE:
        ae = AE(ae_title=self.node.calling_aet)
        t = self.node.timeout_s
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = t
        return ae

    def _connection_failure(self, doing: str) -> PacsError:
        """Why an association could not be set up (probing the port again)."""
        node = self.node
        try:
            with socket.create_connection((node.host, node.port), timeout=node.timeout_s):
                pass
        except ConnectionRefusedError:
            return PacsConnectionError(
                f"cannot connect to {self.where} while {doing}: connection refused "
                "(is the PACS running, and are host and port right?)"
            )
        except TimeoutError:
            return PacsTimeout(f"{self.where} did not answer within {node.timeout_s:g} s while {doing}")
        except OSError as exc:
            return PacsConnectionError(f"cannot connect to {self.where} while {doing}: {exc.strerror or exc}")
        return PacsTimeout(
            f"{self.where} accepted the connection but gave no DICOM answer within "
            f"{node.timeout_s:g} s while {doing}"
        )

    @contextmanager
    def _association(self, ae: AE, doing: str, **kwargs: Any) -> Iterator[Association]:
        """An established association, released afterwards; clear errors otherwise."""
        rejection: list[A_ASSOCIATE_RJ] = []

        def on_pdu(event: evt.Event) -> None:
            if isinstance(event.pdu, A_ASSOCIATE_RJ):
                rejection.append(event.pdu)

        handlers = [(evt.EVT_PDU_RECV, on_pdu), *kwargs.pop("evt_handlers", [])]
        assoc = ae.associate(self.node.host, self.node.port, ae_title=self.node.called_aet,
                             evt_handlers=handlers, **kwargs)
        if not assoc.is_established:
            if rejection:
                pdu = rejection[0]
                raise PacsAssociationRejected(
                    f"{self.where} refused the association while {doing}: {pdu.reason_str} "
                    f"({pdu.result_str.lower()}). Check the called AE title "
                    f"{self.node.called_aet!r} and that the PACS knows Caliper as "
                    f"{self.node.calling_aet!r}."
                )
            raise self._connection_failure(doing)
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()

    def echo(self) -> None:
        """C-ECHO the node."""
        ae = self._new_ae()
        ae.add_requested_context(Verification)
        with self._association(ae, "checking the connection") as assoc:
            status = assoc.send_c_echo()
            if not status or status.get("Status") != _SUCCESS:
                raise PacsError(f"{self.where} did not confirm the C-ECHO")

    # -- queries --------------------------------------------------------

    def _find(self, identifier: Dataset, doing: str) -> list[Dataset]:
        ae = self._new_ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        found: list[Dataset] = []
        with self._association(ae, doing) as assoc:
            for status, answer in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
                code = status.get("Status") if status else None
                if code is None:
                    raise PacsTimeout(f"{self.where} stopped answering while {doing}")
                if code in _PENDING and answer is not None:
                    found.append(answer)
                elif code not in _PENDING and code != _SUCCESS:
                    raise PacsError(f"{self.where} refused the query while {doing} (status 0x{code:04X})")
        return found

    def find_studies(self, query: StudyQuery) -> list[StudyMatch]:
        """C-FIND at STUDY level."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.PatientID = query.patient_id.strip()
        ds.PatientName = query.name_pattern
        ds.StudyDate = query.date_range
        ds.ModalitiesInStudy = query.modality.strip()
        for keyword in ("StudyInstanceUID", "StudyDescription", "AccessionNumber",
                        "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"):
            setattr(ds, keyword, "")
        matches = []
        for ans in self._find(ds, "searching for studies"):
            modalities = ans.get("ModalitiesInStudy", [])
            modalities = [modalities] if isinstance(modalities, str) else list(modalities or [])
            matches.append(StudyMatch(
                study_instance_uid=_text(ans, "StudyInstanceUID"),
                patient_id=_text(ans, "PatientID"),
                patient_name=_text(ans, "PatientName"),
                study_date=iso_date(_text(ans, "StudyDate")),
                study_description=_text(ans, "StudyDescription"),
                accession_number=_text(ans, "AccessionNumber"),
                modalities=tuple(str(m) for m in modalities if m),
                n_series=to_int(ans.get("NumberOfStudyRelatedSeries")),
                n_instances=to_int(ans.get("NumberOfStudyRelatedInstances")),
            ))
        return matches

    def find_series(self, study_instance_uid: str = "", series_instance_uid: str = "",
                    modality: str = "") -> list[SeriesMatch]:
        """C-FIND at SERIES level, within one study or for one series UID."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "SERIES"
        ds.StudyInstanceUID = study_instance_uid
        ds.SeriesInstanceUID = series_instance_uid
        ds.Modality = modality
        ds.SeriesNumber = ""
        ds.SeriesDescription = ""
        ds.NumberOfSeriesRelatedInstances = ""
        return [
            SeriesMatch(
                study_instance_uid=_text(ans, "StudyInstanceUID") or study_instance_uid,
                series_instance_uid=_text(ans, "SeriesInstanceUID"),
                modality=_text(ans, "Modality"),
                series_number=to_int(ans.get("SeriesNumber")),
                series_description=_text(ans, "SeriesDescription"),
                n_instances=to_int(ans.get("NumberOfSeriesRelatedInstances")),
            )
            for ans in self._find(ds, "searching for series")
        ]

    def _sop_classes(self, series: SeriesMatch) -> tuple[list[str], int]:
        """SOP classes of a series and its number of images (C-FIND at IMAGE level)."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "IMAGE"
        ds.StudyInstanceUID = series.study_instance_uid
        ds.SeriesInstanceUID = series.series_instance_uid
        ds.SOPInstanceUID = ""
        ds.SOPClassUID = ""
        found = self._find(ds, f"listing the images of series {series.series_instance_uid}")
        classes = sorted({_text(a, "SOPClassUID") for a in found if _text(a, "SOPClassUID")})
        return classes, len(found)

    # -- retrieve ---------------------------------------------------------

    def _store_handler(self, staging: SeriesStaging, total: int | None,
                       on_progress: ProgressCallback | None,
                       cancel: CancelToken | None) -> Callable[[evt.Event], int]:
        series_uid = staging.series_instance_uid

        def handle(event: evt.Event) -> int:
            if cancel is not None and cancel.is_set():
                return _OUT_OF_RESOURCES
            ds = event.dataset
            if _text(ds, "SeriesInstanceUID") != series_uid:
                return _CANNOT_UNDERSTAND  # not what we asked for: refuse it
            staging.write(str(event.request.AffectedSOPInstanceUID), event.encoded_dataset())
            if on_progress is not None:
                on_progress(staging.count, total)
            return _SUCCESS

        return handle

    def _follow(self, responses: Iterator[tuple[Dataset, Dataset | None]], assoc: Association,
                staging: SeriesStaging, total: int | None, cancel: CancelToken | None) -> None:
        """Read C-GET/C-MOVE responses until the last one; raise on failure or cancel."""
        what = f"series {staging.series_instance_uid}"
        with _abort_on_cancel(assoc, cancel):
            self._read_responses(responses, assoc, staging, total, cancel, what)

    def _read_responses(self, responses: Iterator[tuple[Dataset, Dataset | None]],
                        assoc: Association, staging: SeriesStaging, total: int | None,
                        cancel: CancelToken | None, what: str) -> None:
        for status, _ in responses:
            if cancel is not None and cancel.is_set():
                assoc.abort()
                raise RetrieveCancelled("retrieve cancelled; nothing was imported")
            code = status.get("Status") if status else None
            if code is None:
                if staging.count:
                    raise PacsRetrieveIncomplete(
                        f"{self.where} stopped answering after {staging.count} of "
                        f"{total if total is not None else '?'} images of {what} "
                        f"(no answer within {self.node.timeout_s:g} s); nothing was imported"
                    )
                raise PacsTimeout(f"{self.where} did not answer within "
                                  f"{self.node.timeout_s:g} s while retrieving {what}")
            if code in _PENDING:
                continue
            if code == _CANCELLED:
                raise RetrieveCancelled("retrieve cancelled; nothing was imported")
            if code not in (_SUCCESS, _WARNING):
                raise PacsError(f"{self.where} refused to send {what} (status 0x{code:04X}); "
                                "nothing was imported")
            return

    def retrieve_series(self, series: SeriesMatch, staging: SeriesStaging,
                        on_progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> int:
        """C-GET or C-MOVE the series into ``staging``; returns the number of images."""
        classes, count = self._sop_classes(series)
        total = series.n_instances if series.n_instances is not None else count
        if self.node.retrieve_method == "move":
            self._move(series, staging, total, on_progress, cancel)
        else:
            self._get(series, staging, classes, total, on_progress, cancel)
        if cancel is not None and cancel.is_set():
            raise RetrieveCancelled("retrieve cancelled; nothing was imported")
        return staging.count

    @staticmethod
    def _identifier(series: SeriesMatch) -> Dataset:
        ds = Dataset()
        ds.QueryRetrieveLevel = "SERIES"
        ds.StudyInstanceUID = series.study_instance_uid
        ds.SeriesInstanceUID = series.series_instance_uid
        return ds

    def _get(self, series: SeriesMatch, staging: SeriesStaging, classes: list[str],
             total: int | None, on_progress: ProgressCallback | None,
             cancel: CancelToken | None) -> None:
        ae = self._new_ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        classes = classes or [cx.abstract_syntax for cx in AllStoragePresentationContexts[:100]]
        roles = []
        for uid in classes[:120]:
            ae.add_requested_context(uid, _GET_TRANSFER_SYNTAXES)
            roles.append(build_role(uid, scp_role=True))
        handler = self._store_handler(staging, total, on_progress, cancel)
        with self._association(ae, f"retrieving series {series.series_instance_uid}",
                               ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, handler)]) as assoc:
            responses = assoc.send_c_get(self._identifier(series), StudyRootQueryRetrieveInformationModelGet)
            self._follow(responses, assoc, staging, total, cancel)

    def _move(self, series: SeriesMatch, staging: SeriesStaging, total: int | None,
              on_progress: ProgressCallback | None, cancel: CancelToken | None) -> None:
        scp = AE(ae_title=self.node.calling_aet)
        scp.network_timeout = scp.dimse_timeout = scp.acse_timeout = self.node.timeout_s
        scp.require_called_aet = True
        scp.require_calling_aet = [self.node.called_aet or ""]
        for cx in AllStoragePresentationContexts:
            scp.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        handler = self._store_handler(staging, total, on_progress, cancel)
        address = (self.node.scp_address, int(self.node.scp_port or 0))
        try:
            server = scp.start_server(address, block=False, evt_handlers=[(evt.EVT_C_STORE, handler)])
        except OSError as exc:
            raise PacsError(f"Caliper cannot listen for C-MOVE on {address[0]}:{address[1]}: "
                            f"{exc.strerror or exc}") from None
        try:
            ae = self._new_ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            with self._association(ae, f"retrieving series {series.series_instance_uid}") as assoc:
                responses = assoc.send_c_move(self._identifier(series), self.node.calling_aet,
                                              StudyRootQueryRetrieveInformationModelMove)
                self._follow(responses, assoc, staging, total, cancel)
        finally:
            server.shutdown()

    # -- push -------------------------------------------------------------

    def store(self, paths: Sequence[Path]) -> int:
        """C-STORE the files; returns how many the PACS accepted."""
        headers = [pydicom.dcmread(str(p), stop_before_pixels=True) for p in paths]
        ae = self._new_ae()
        for key in sorted({(str(h.SOPClassUID), str(h.file_meta.TransferSyntaxUID)) for h in headers}):
            ae.add_requested_context(key[0], [key[1]])
        failed = []
        with self._association(ae, "storing instances") as assoc:
            for path in paths:
                status = assoc.send_c_store(str(path))
                code = status.get("Status") if status else None
                if code is None:
                    raise PacsTimeout(f"{self.where} did not confirm storing {Path(path).name}")
                if code not in (_SUCCESS, 0xB000, 0xB007, 0xB006):
                    failed.append(f"{Path(path).name} (status 0x{code:04X})")
        if failed:
            raise PacsError(f"{self.where} refused {len(failed)} of {len(paths)} files: {', '.join(failed)}")
        return len(paths)

