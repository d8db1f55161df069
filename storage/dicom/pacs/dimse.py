"""A PACS over DIMSE: C-ECHO, C-FIND and C-STORE here, C-GET / C-MOVE in
:mod:`storage.dicom.pacs.dimse_retrieve` (pynetdicom).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # pynetdicom makes its SOP class names at import time
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

from storage.dicom.pacs.dimse_retrieve import PENDING, SUCCESS, DimseRetrieveMixin, text_of
from storage.dicom.pacs.errors import (
    PacsAssociationRejected,
    PacsConnectionError,
    PacsError,
    PacsTimeout,
)
from storage.dicom.pacs.model import (
    SeriesMatch,
    StudyMatch,
    StudyQuery,
    iso_date,
    to_int,
)
from storage.dicom.pacs.settings import PacsNode


class DimsePacs(DimseRetrieveMixin):
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
            return PacsTimeout(
                f"{self.where} did not answer within {node.timeout_s:g} s while {doing}"
            )
        except OSError as exc:
            return PacsConnectionError(
                f"cannot connect to {self.where} while {doing}: {exc.strerror or exc}"
            )
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
        assoc = ae.associate(
            self.node.host or "",  # PacsNode checks that a DIMSE node has host, port and AE title
            int(self.node.port or 0),
            ae_title=self.node.called_aet or "",
            evt_handlers=handlers,
            **kwargs,
        )
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
            if not status or status.get("Status") != SUCCESS:
                raise PacsError(f"{self.where} did not confirm the C-ECHO")

    # -- queries --------------------------------------------------------

    def _find(self, identifier: Dataset, doing: str) -> list[Dataset]:
        ae = self._new_ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        found: list[Dataset] = []
        with self._association(ae, doing) as assoc:
            for status, answer in assoc.send_c_find(
                identifier, StudyRootQueryRetrieveInformationModelFind
            ):
                code = status.get("Status") if status else None
                if code is None:
                    raise PacsTimeout(f"{self.where} stopped answering while {doing}")
                if code in PENDING and answer is not None:
                    found.append(answer)
                elif code not in PENDING and code != SUCCESS:
                    raise PacsError(
                        f"{self.where} refused the query while {doing} (status 0x{code:04X})"
                    )
        return found

    def find_studies(self, query: StudyQuery) -> list[StudyMatch]:
        """C-FIND at STUDY level."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.PatientID = query.patient_id.strip()
        ds.PatientName = query.name_pattern
        ds.StudyDate = query.date_range
        ds.ModalitiesInStudy = query.modality.strip()
        for keyword in (
            "StudyInstanceUID",
            "StudyDescription",
            "AccessionNumber",
            "NumberOfStudyRelatedSeries",
            "NumberOfStudyRelatedInstances",
        ):
            setattr(ds, keyword, "")
        matches = []
        for ans in self._find(ds, "searching for studies"):
            modalities = ans.get("ModalitiesInStudy", [])
            modalities = [modalities] if isinstance(modalities, str) else list(modalities or [])
            matches.append(
                StudyMatch(
                    study_instance_uid=text_of(ans, "StudyInstanceUID"),
                    patient_id=text_of(ans, "PatientID"),
                    patient_name=text_of(ans, "PatientName"),
                    study_date=iso_date(text_of(ans, "StudyDate")),
                    study_description=text_of(ans, "StudyDescription"),
                    accession_number=text_of(ans, "AccessionNumber"),
                    modalities=tuple(str(m) for m in modalities if m),
                    n_series=to_int(ans.get("NumberOfStudyRelatedSeries")),
                    n_instances=to_int(ans.get("NumberOfStudyRelatedInstances")),
                )
            )
        return matches

    def find_series(
        self, study_instance_uid: str = "", series_instance_uid: str = "", modality: str = ""
    ) -> list[SeriesMatch]:
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
                study_instance_uid=text_of(ans, "StudyInstanceUID") or study_instance_uid,
                series_instance_uid=text_of(ans, "SeriesInstanceUID"),
                modality=text_of(ans, "Modality"),
                series_number=to_int(ans.get("SeriesNumber")),
                series_description=text_of(ans, "SeriesDescription"),
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
        classes = sorted({text_of(a, "SOPClassUID") for a in found if text_of(a, "SOPClassUID")})
        return classes, len(found)

    # -- push -------------------------------------------------------------

    def store(self, paths: Sequence[Path]) -> int:
        """C-STORE the files; returns how many the PACS accepted."""
        headers = [pydicom.dcmread(str(p), stop_before_pixels=True) for p in paths]
        ae = self._new_ae()
        for key in sorted(
            {(str(h.SOPClassUID), str(h.file_meta.TransferSyntaxUID)) for h in headers}
        ):
            ae.add_requested_context(key[0], [key[1]])
        failed = []
        with self._association(ae, "storing instances") as assoc:
            for path in paths:
                status = assoc.send_c_store(str(path))
                code = status.get("Status") if status else None
                if code is None:
                    raise PacsTimeout(f"{self.where} did not confirm storing {Path(path).name}")
                if code not in (SUCCESS, 0xB000, 0xB007, 0xB006):
                    failed.append(f"{Path(path).name} (status 0x{code:04X})")
        if failed:
            raise PacsError(
                f"{self.where} refused {len(failed)} of {len(paths)} files: {', '.join(failed)}"
            )
        return len(paths)
