"""Response categories of RECIST 1.1, iRECIST and CDISC (NED)."""

from __future__ import annotations

from enum import StrEnum


class Response(StrEnum):
    """A response category, as written in outputs (rules.md §10)."""

    CR = "CR"
    """Complete response."""
    PR = "PR"
    """Partial response."""
    SD = "SD"
    """Stable disease."""
    PD = "PD"
    """Progressive disease."""
    NE = "NE"
    """Not evaluable."""
    NON_CR_NON_PD = "non-CR/non-PD"
    """Non-target disease neither gone nor progressed (never written "SD")."""
    NED = "NED"
    """No evidence of disease (CDISC; no disease at baseline)."""
    ICR = "iCR"
    """iRECIST complete response (new lesions resolved as well)."""
    IPR = "iPR"
    """iRECIST partial response."""
    ISD = "iSD"
    """iRECIST stable disease."""
    INON_CR_NON_PD = "non-iCR/non-iUPD"
    """iRECIST non-target-only disease neither gone nor progressed."""
    IUPD = "iUPD"
    """iRECIST unconfirmed progression."""
    ICPD = "iCPD"
    """iRECIST confirmed progression."""


#: RECIST 1.1 category -> the iRECIST category with the same meaning.
TO_IRECIST: dict[Response, Response] = {
    Response.CR: Response.ICR,
    Response.PR: Response.IPR,
    Response.SD: Response.ISD,
    Response.NON_CR_NON_PD: Response.INON_CR_NON_PD,
    Response.NE: Response.NE,
    Response.NED: Response.NED,
    Response.PD: Response.IUPD,
}


# Module-level names for the engine's hot loops: a module that imports them holds them
# as globals, and a global lookup costs about an eighth of an enum attribute lookup.
CR, PR, SD, PD, NE, NON_CR_NON_PD, NED = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
    Response.NON_CR_NON_PD,
    Response.NED,
)
ICR, IPR, ISD, INON_CR_NON_PD, IUPD, ICPD = (
    Response.ICR,
    Response.IPR,
    Response.ISD,
    Response.INON_CR_NON_PD,
    Response.IUPD,
    Response.ICPD,
)
