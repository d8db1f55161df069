"""The controlled list of organs a lesion is recorded in, with SNOMED CT and CDISC terms.

Plain data, so that every layer can read it: the "Next caliper" bar offers
these organs (plus "other", with free text), the reading session stores the
canonical name, the DICOM SR writer codes the finding site with the SNOMED CT
body structure, and the SDTM writer puts the CDISC LOC term in ``TULOC``.
A lesion's ``organ`` is either one of :data:`ORGANS`' names or the reader's
free text for "other" (coded privately in SR, upper-cased in SDTM).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OTHER",
    "ORGANS",
    "Organ",
    "canonical_organ",
    "find_organ",
    "is_lymph_node",
]


@dataclass(frozen=True, slots=True)
class Organ:
    """One organ of the controlled list.

    Attributes
    ----------
    name : str
        What Caliper stores and shows (lower case, e.g. ``"lymph node"``).
    snomed_code, snomed_meaning : str
        The SNOMED CT body structure (SR finding site, TID 1500).
    cdisc_loc : str
        The CDISC SDTM LOC submission value (``TULOC``).
    nodal : bool
        Lesions here are lymph nodes: measured by their short axis (RECIST 1.1 §3.1.1).
    """

    name: str
    snomed_code: str
    snomed_meaning: str
    cdisc_loc: str
    nodal: bool = False


OTHER = "other"
"""The choice after the list: the reader types the organ (stored as typed)."""

ORGANS: tuple[Organ, ...] = (
    Organ("liver", "10200004", "Liver", "LIVER"),
    Organ("lung", "39607008", "Lung", "LUNG"),
    Organ("lymph node", "59441001", "Lymph node", "LYMPH NODE", nodal=True),
    Organ("peritoneum", "15425007", "Peritoneum", "PERITONEUM"),
    Organ("omentum", "27398004", "Omentum", "OMENTUM"),
    Organ("pleura", "3120008", "Pleura", "PLEURA"),
    Organ("bone", "272673000", "Bone", "BONE"),
    Organ("adrenal gland", "23451007", "Adrenal gland", "ADRENAL GLAND"),
    Organ("kidney", "64033007", "Kidney", "KIDNEY"),
    Organ("spleen", "78961009", "Spleen", "SPLEEN"),
    Organ("pancreas", "15776009", "Pancreas", "PANCREAS"),
    Organ("brain", "12738006", "Brain", "BRAIN"),
    Organ("soft tissue", "87784001", "Soft tissue", "SOFT TISSUE"),
    Organ("colon", "71854001", "Colon", "COLON"),
    Organ("rectum", "34402009", "Rectum", "RECTUM"),
    Organ("stomach", "69695003", "Stomach", "STOMACH"),
    Organ("esophagus", "32849002", "Esophagus", "ESOPHAGUS"),
    Organ("small intestine", "30315005", "Small intestine", "SMALL INTESTINE"),
    Organ("gallbladder", "28231008", "Gallbladder", "GALLBLADDER"),
    Organ("urinary bladder", "89837001", "Urinary bladder", "URINARY BLADDER"),
    Organ("ovary", "15497006", "Ovary", "OVARY"),
    Organ("uterus", "35039007", "Uterus", "UTERUS"),
    Organ("prostate", "41216001", "Prostate", "PROSTATE GLAND"),
    Organ("breast", "76752008", "Breast", "BREAST"),
    Organ("thyroid gland", "69748006", "Thyroid gland", "THYROID GLAND"),
    Organ("mediastinum", "72410000", "Mediastinum", "MEDIASTINUM"),
    Organ("skin", "39937001", "Skin", "SKIN"),
)
"""The organs offered, most frequent in solid-tumour trials first."""

_BY_NAME = {organ.name: organ for organ in ORGANS}
_BY_CODE = {organ.snomed_code: organ for organ in ORGANS}
_ALIASES = {
    "lymph nodes": "lymph node",
    "node": "lymph node",
    "nodes": "lymph node",
    "ln": "lymph node",
    "adrenal": "adrenal gland",
    "thyroid": "thyroid gland",
    "bladder": "urinary bladder",
    "oesophagus": "esophagus",
    "prostate gland": "prostate",
    "gall bladder": "gallbladder",
    "lungs": "lung",
    "bones": "bone",
}


def find_organ(text: str) -> Organ | None:
    """The listed organ *text* names (case, spacing and a few synonyms ignored), or None.

    Also accepts a SNOMED CT code of a listed organ.

    Examples
    --------
    >>> find_organ("Lymph Nodes").name
    'lymph node'
    >>> find_organ("gallbladder fossa") is None
    True
    """
    key = " ".join(text.split()).lower()
    key = _ALIASES.get(key, key)
    return _BY_NAME.get(key) or _BY_CODE.get(key)


def canonical_organ(text: str) -> str:
    """The stored form of an organ: the listed name if *text* names one, else *text* stripped."""
    organ = find_organ(text)
    return organ.name if organ is not None else " ".join(text.split())


def is_lymph_node(text: str) -> bool:
    """True when *text* names a nodal organ (a lesion there is measured by its short axis)."""
    organ = find_organ(text)
    return organ is not None and organ.nodal
