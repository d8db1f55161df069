"""Retrieving a series over DIMSE: C-GET on the query association, or C-MOVE
to Caliper's own storage SCP.

The SCP of a C-MOVE is started for the duration of one retrieve on
``node.scp_address:node.scp_port`` with AE title ``node.calling_aet``; it
accepts images only from the PACS's AE title and only for the series asked
for.  A cancel aborts the association at once, even while the PACS is silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # pynetdicom makes its SOP class names at import time
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from storage.dicom.pacs.errors import (
    PacsError,
    PacsRetrieveIncomplete,
    PacsTimeout,
    RetrieveCancelled,
)
from storage.dicom.pacs.model import CancelToken, ProgressCallback, SeriesMatch, call_on_cancel
from storage.dicom.pacs.settings import PacsNode
from storage.dicom.pacs.store import SeriesStaging

#: DIMSE status codes (PS3.7 Annex C).
PENDING = (0xFF00, 0xFF01)
SUCCESS, _WARNING, _CANCELLED = 0x0000, 0xB000, 0xFE00
_OUT_OF_RESOURCES, _CANNOT_UNDERSTAND = 0xA700, 0xC000
#: Uncompressed first; the compressed ones let a PACS send what it stored.
_GET_TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.1.99",
]


def text_of(ds: Dataset, keyword: str) -> str:
    """The value of `keyword` in `ds` as text (empty when absent)."""
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


class DimseRetrieveMixin:
    """The retrieve half of :class:`storage.dicom.pacs.dimse.DimsePacs`."""

    node: PacsNode
    where: str

    def _new_ae(self) -> AE:  # provided by DimsePacs
        raise NotImplementedError

    def _association(
        self, ae: AE, doing: str, **kwargs: Any
    ) -> AbstractContextManager[Association]:
        raise NotImplementedError  # provided by DimsePacs

    def _sop_classes(self, series: SeriesMatch) -> tuple[list[str], int]:
        raise NotImplementedError  # provided by DimsePacs

    def _store_handler(
        self,
        staging: SeriesStaging,
        total: int | None,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> Callable[[evt.Event], int]:
        series_uid = staging.series_instance_uid

        def handle(event: evt.Event) -> int:
            if cancel is not None and cancel.is_set():
                return _OUT_OF_RESOURCES
            ds = event.dataset
            if text_of(ds, "SeriesInstanceUID") != series_uid:
                return _CANNOT_UNDERSTAND  # not what we asked for: refuse it
            sop_uid = getattr(event.request, "AffectedSOPInstanceUID", None)  # a C-STORE request
            staging.write(str(sop_uid), event.encoded_dataset())
            if on_progress is not None:
                on_progress(staging.count, total)
            return SUCCESS

        return handle

    def _follow(
        self,
        responses: Iterator[tuple[Dataset, Dataset | None]],
        assoc: Association,
        staging: SeriesStaging,
        total: int | None,
        cancel: CancelToken | None,
    ) -> None:
        """Read C-GET/C-MOVE responses until the last one; raise on failure or cancel."""
        what = f"series {staging.series_instance_uid}"
        with call_on_cancel(cancel, assoc.abort, "caliper-pacs-cancel"):
            self._read_responses(responses, assoc, staging, total, cancel, what)

    def _read_responses(
        self,
        responses: Iterator[tuple[Dataset, Dataset | None]],
        assoc: Association,
        staging: SeriesStaging,
        total: int | None,
        cancel: CancelToken | None,
        what: str,
    ) -> None:
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
                raise PacsTimeout(
                    f"{self.where} did not answer within "
                    f"{self.node.timeout_s:g} s while retrieving {what}"
                )
            if code in PENDING:
                continue
            if code == _CANCELLED:
                raise RetrieveCancelled("retrieve cancelled; nothing was imported")
            if code not in (SUCCESS, _WARNING):
                raise PacsError(
                    f"{self.where} refused to send {what} (status 0x{code:04X}); "
                    "nothing was imported"
                )
            return

    def retrieve_series(
        self,
        series: SeriesMatch,
        staging: SeriesStaging,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
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

    def _get(
        self,
        series: SeriesMatch,
        staging: SeriesStaging,
        classes: list[str],
        total: int | None,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        ae = self._new_ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        classes = classes or [
            str(cx.abstract_syntax)
            for cx in AllStoragePresentationContexts[:100]
            if cx.abstract_syntax
        ]
        roles = []
        for uid in classes[:120]:
            ae.add_requested_context(uid, _GET_TRANSFER_SYNTAXES)
            roles.append(build_role(uid, scp_role=True))
        handler = self._store_handler(staging, total, on_progress, cancel)
        with self._association(
            ae,
            f"retrieving series {series.series_instance_uid}",
            ext_neg=roles,
            evt_handlers=[(evt.EVT_C_STORE, handler)],
        ) as assoc:
            responses = assoc.send_c_get(
                self._identifier(series), StudyRootQueryRetrieveInformationModelGet
            )
            self._follow(responses, assoc, staging, total, cancel)

    def _move(
        self,
        series: SeriesMatch,
        staging: SeriesStaging,
        total: int | None,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        scp = AE(ae_title=self.node.calling_aet)
        scp.network_timeout = scp.dimse_timeout = scp.acse_timeout = self.node.timeout_s
        scp.require_called_aet = True
        scp.require_calling_aet = [self.node.called_aet or ""]
        for cx in AllStoragePresentationContexts:
            if cx.abstract_syntax:
                scp.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        handler = self._store_handler(staging, total, on_progress, cancel)
        address = (self.node.scp_address, int(self.node.scp_port or 0))
        try:
            server = scp.start_server(
                address, block=False, evt_handlers=[(evt.EVT_C_STORE, handler)]
            )
        except OSError as exc:
            raise PacsError(
                f"Caliper cannot listen for C-MOVE on {address[0]}:{address[1]}: "
                f"{exc.strerror or exc}"
            ) from None
        try:
            ae = self._new_ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            with self._association(ae, f"retrieving series {series.series_instance_uid}") as assoc:
                responses = assoc.send_c_move(
                    self._identifier(series),
                    self.node.calling_aet,
                    StudyRootQueryRetrieveInformationModelMove,
                )
                self._follow(responses, assoc, staging, total, cancel)
        finally:
            if server is not None:
                server.shutdown()
