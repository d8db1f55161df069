"""Define-XML 2.1 describing the SDTM datasets Caliper writes (``caliper export sdtm --define``).

One ``ItemGroupDef`` per dataset (class, structure, keys, archive location of
its ``.xpt``), one ``ItemDef`` per variable (data type, length from the data,
label, origin), ``CodeList``\\ s for the test codes, test names and results the
datasets use, and ``MethodDef``\\ s for what the engine derives (sum of
diameters, responses, best overall response).  The supplemental qualifiers (SUPPTU's
TULOCDTL; SUPPTR's MEASMETH, MEASALG, MEASEDIT and MEASEDTL of a semi-automatic diameter) are
declared as value-level metadata of QVAL: a ``def:ValueListDef`` with one ``ItemDef`` per QNAM
(label, origin, codelist of MEASMETH and MEASEDIT), each selected by a ``def:WhereClauseDef``
on QNAM.  Element order and attributes
follow the Define-XML 2.1 schema (ODM 1.3.2 with the def: extension), which
``tests/storage/exchange/test_issue14_sdtm.py`` validates the file against.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from storage.exchange.sdtm import SdtmDatasets
from storage.exchange.sdtm_terms import (
    CORE,
    LABELS,
    NUMERIC,
    QUALIFIER_ORIGIN,
    QUALIFIER_TERMS,
    RS_TESTS,
    TR_QUALIFIERS,
    TR_TESTS,
    TU_QUALIFIERS,
    TU_TESTS,
)

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ODM)
ET.register_namespace("def", DEF)
ET.register_namespace("xlink", XLINK)

_CLASS = {
    "tu": "FINDINGS",
    "tr": "FINDINGS",
    "rs": "FINDINGS",
    "supptu": "RELATIONSHIP",
    "supptr": "RELATIONSHIP",
}
_STRUCTURE = {
    "tu": "One record per identified tumor per subject per assessor",
    "tr": "One record per tumor measurement/assessment per visit per subject per assessor",
    "rs": "One record per response assessment per visit per subject per assessor",
    "supptu": "One record per IDVAR, IDVARVAL, and QNAM value per subject",
    "supptr": "One record per IDVAR, IDVARVAL, and QNAM value per subject",
}
_KEYS = {
    "tu": ("STUDYID", "USUBJID", "TUEVAL", "TULNKID", "TUTESTCD"),
    "tr": ("STUDYID", "USUBJID", "TREVAL", "TRLNKID", "TRTESTCD", "VISITNUM"),
    "rs": ("STUDYID", "USUBJID", "RSEVAL", "RSCAT", "RSTESTCD", "VISITNUM"),
    "supptu": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
    "supptr": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
}
_DESCRIPTION = {
    "tu": "Tumor/Lesion Identification",
    "tr": "Tumor/Lesion Results",
    "rs": "Disease Response and Clin Classification",
    "supptu": "Supplemental Qualifiers for TU",
    "supptr": "Supplemental Qualifiers for TR",
}
#: The qualifiers (QNAM -> QLABEL) each SUPP-- dataset may hold.
_QUALIFIERS: dict[str, Mapping[str, str]] = {"supptu": TU_QUALIFIERS, "supptr": TR_QUALIFIERS}
_QUALIFIER_METHOD = (
    "MT.MEASEDIT",
    "Y when the reader changed the algorithm's proposal after it was stored with its "
    "contour: moved the caliper, edited the contour with the brush, or replaced the lines "
    "by a status (MEASEDTL says which); N when the diameter is the proposal as it was "
    "(an undone change is none). Not written when not known.",
)
_CODELISTS: dict[str, Mapping[str, str]] = {
    "TUTESTCD": {k: k for k in TU_TESTS},
    "TUTEST": {v: v for v in TU_TESTS.values()},
    "TRTESTCD": {k: k for k in TR_TESTS},
    "TRTEST": {v: v for v in TR_TESTS.values()},
    "RSTESTCD": {k: k for k in RS_TESTS},
    "RSTEST": {v: v for v in RS_TESTS.values()},
}
_DERIVED = {
    "TRSTRESN": (
        "MT.SUMDIAM",
        "Sum of the diameters of the target lesions (RECIST 1.1 "
        "section 4.3.2): long axes of non-nodal, short axes of nodal targets; 5 mm "
        "for a target too small to measure, 0 for one that disappeared or merged.",
    ),
    "RSORRES": (
        "MT.RESPONSE",
        "Responses computed by Caliper's RECIST 1.1 / iRECIST engine "
        "from the TR measurements (RECIST 1.1 Tables 1-3; best overall response "
        "section 4.4; iRECIST Seymour 2017).",
    ),
}


def _sub(parent: ET.Element, tag: str, attrs: Mapping[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, tag, dict(attrs or {}))


def _description(parent: ET.Element, text: str) -> None:
    desc = _sub(parent, f"{{{ODM}}}Description")
    translated = _sub(desc, f"{{{ODM}}}TranslatedText", {XML_LANG: "en"})
    translated.text = text


def _data_type(column: str, values: Iterable[str]) -> tuple[str, int | None]:
    """(Define DataType, Length) of a variable from its values."""
    present = [v for v in values if v != ""]
    if column in NUMERIC:
        if all(float(v).is_integer() for v in present) and column.endswith("SEQ"):
            return "integer", max((len(v) for v in present), default=1)
        return "float", max((len(v) for v in present), default=1)
    if column.endswith("DTC"):
        return "date", None
    return "text", max((len(v) for v in present), default=1)


def _value_lists(
    mdv: ET.Element, datasets: Mapping[str, list[dict[str, str]]]
) -> dict[str, list[str]]:
    """The QVAL value lists and where clauses of the SUPP-- datasets; QNAMs by dataset."""
    used: dict[str, list[str]] = {}
    for name, rows in datasets.items():
        if name in _QUALIFIERS:
            present = {r.get("QNAM", "") for r in rows}
            used[name] = [q for q in _QUALIFIERS[name] if q in present]
    for name, qnams in used.items():
        domain = name.upper()
        vl = _sub(mdv, f"{{{DEF}}}ValueListDef", {"OID": f"VL.{domain}.QVAL"})
        for order, qnam in enumerate(qnams, start=1):
            ref = {"ItemOID": f"IT.{domain}.QVAL.{qnam}", "OrderNumber": str(order)}
            ref["Mandatory"] = "No"
            if qnam in ("MEASEDIT", "MEASEDTL"):
                ref["MethodOID"] = _QUALIFIER_METHOD[0]
            item_ref = _sub(vl, f"{{{ODM}}}ItemRef", ref)
            _sub(item_ref, f"{{{DEF}}}WhereClauseRef", {"WhereClauseOID": f"WC.{domain}.{qnam}"})
    for name, qnams in used.items():
        domain = name.upper()
        for qnam in qnams:
            clause = _sub(mdv, f"{{{DEF}}}WhereClauseDef", {"OID": f"WC.{domain}.{qnam}"})
            check = _sub(
                clause,
                f"{{{ODM}}}RangeCheck",
                {"Comparator": "EQ", "SoftHard": "Soft", f"{{{DEF}}}ItemOID": f"IT.{domain}.QNAM"},
            )
            _sub(check, f"{{{ODM}}}CheckValue").text = qnam
    return used


def _qualifier_items(
    mdv: ET.Element, datasets: Mapping[str, list[dict[str, str]]], used: Mapping[str, list[str]]
) -> None:
    """One value-level ItemDef of QVAL per QNAM a SUPP-- dataset holds."""
    for name, qnams in used.items():
        domain = name.upper()
        for qnam in qnams:
            values = [r.get("QVAL", "") for r in datasets[name] if r.get("QNAM") == qnam]
            item = _sub(
                mdv,
                f"{{{ODM}}}ItemDef",
                {
                    "OID": f"IT.{domain}.QVAL.{qnam}",
                    "Name": "QVAL",
                    "DataType": "text",
                    "Length": str(max((len(v) for v in values), default=1)),
                    "SASFieldName": "QVAL",
                },
            )
            _description(item, _QUALIFIERS[name][qnam])
            if qnam in QUALIFIER_TERMS:
                _sub(item, f"{{{ODM}}}CodeListRef", {"CodeListOID": f"CL.{qnam}"})
            derived = QUALIFIER_ORIGIN.get(qnam) == "Derived"
            _sub(
                item,
                f"{{{DEF}}}Origin",
                {"Type": "Derived"} if derived else {"Type": "Collected", "Source": "Investigator"},
            )


def _origin(column: str) -> dict[str, str]:
    if column in ("STUDYID", "DOMAIN", "RDOMAIN", "IDVAR", "QNAM", "QLABEL", "QORIG"):
        return {"Type": "Assigned"}
    if column.endswith(("SEQ", "DRVFL", "LOBXFL", "BLFL")) or column in (
        "USUBJID",
        "VISITNUM",
        "VISIT",
        "TRLNKGRP",
        "RSLNKGRP",
        "TULNKID",
        "TRLNKID",
    ):
        return {"Type": "Derived"}
    if column in ("RSORRES", "RSSTRESC", "TRSTRESN", "TRSTRESC", "TUSTRESC"):
        return {"Type": "Derived"}
    return {"Type": "Collected", "Source": "Investigator"}


def build_define(
    data: SdtmDatasets,
    study: str,
    *,
    created: datetime | None = None,
    archive: Mapping[str, str] | None = None,
) -> ET.ElementTree:
    """The Define-XML 2.1 document of ``data``.

    Parameters
    ----------
    data
        The datasets (only those written: ``supptu`` when it has records).
    study
        STUDYID, also the study name.
    created
        CreationDateTime (default: now, UTC).
    archive
        File name per dataset (default ``tu.xpt``, ...).
    """
    when = (created or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    root = ET.Element(
        f"{{{ODM}}}ODM",
        {
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"DEFINE.{study}",
            "CreationDateTime": when,
            "Originator": "Caliper",
            "SourceSystem": "Caliper",
            f"{{{DEF}}}Context": "Submission",
        },
    )
    study_el = _sub(root, f"{{{ODM}}}Study", {"OID": f"STDY.{study}"})
    glob = _sub(study_el, f"{{{ODM}}}GlobalVariables")
    for tag, text in (
        ("StudyName", study),
        ("StudyDescription", f"{study} tumour response"),
        ("ProtocolName", study),
    ):
        _sub(glob, f"{{{ODM}}}{tag}").text = text
    mdv = _sub(
        study_el,
        f"{{{ODM}}}MetaDataVersion",
        {
            "OID": f"MDV.{study}.SDTMIG.{data.version}",
            "Name": f"{study} SDTM",
            "Description": f"SDTMIG {data.version} tumour domains written by Caliper",
            f"{{{DEF}}}DefineVersion": "2.1.0",
        },
    )
    standards = _sub(mdv, f"{{{DEF}}}Standards")
    _sub(
        standards,
        f"{{{DEF}}}Standard",
        {
            "OID": "STD.SDTMIG",
            "Name": "SDTMIG",
            "Type": "IG",
            "Version": data.version,
            "Status": "Final",
        },
    )
    columns = data.columns()
    datasets = data.datasets()
    qualifiers = _value_lists(mdv, datasets)
    items: dict[str, tuple[str, str, int | None, str]] = {}
    for name, rows in datasets.items():
        domain = name.upper()
        group = _sub(
            mdv,
            f"{{{ODM}}}ItemGroupDef",
            {
                "OID": f"IG.{domain}",
                "Name": domain,
                "Repeating": "Yes",
                "IsReferenceData": "No",
                "SASDatasetName": domain,
                "Purpose": "Tabulation",
                "Domain": domain[4:] if domain.startswith("SUPP") else domain,
                f"{{{DEF}}}Structure": _STRUCTURE[name],
                f"{{{DEF}}}StandardOID": "STD.SDTMIG",
                f"{{{DEF}}}ArchiveLocationID": f"LF.{domain}",
            },
        )
        _description(group, _DESCRIPTION[name])
        for order, column in enumerate(columns[name], start=1):
            oid = f"IT.{domain}.{column}"
            ref = {
                "ItemOID": oid,
                "OrderNumber": str(order),
                "Mandatory": "Yes" if CORE.get(column) == "Req" else "No",
            }
            if column in _KEYS[name]:
                ref["KeySequence"] = str(_KEYS[name].index(column) + 1)
            if column in _DERIVED and name in ("tr", "rs"):
                ref["MethodOID"] = _DERIVED[column][0]
            _sub(group, f"{{{ODM}}}ItemRef", ref)
            dtype, length = _data_type(column, (r.get(column, "") for r in rows))
            items[oid] = (column, dtype, length, domain)
        _sub(group, f"{{{DEF}}}Class", {"Name": _CLASS[name]})
        leaf = _sub(
            group,
            f"{{{DEF}}}leaf",
            {
                "ID": f"LF.{domain}",
                f"{{{XLINK}}}href": (archive or {}).get(name, f"{name}.xpt"),
            },
        )
        _sub(leaf, f"{{{DEF}}}title").text = (archive or {}).get(name, f"{name}.xpt")
    for oid, (column, dtype, length, item_domain) in items.items():
        attrs = {"OID": oid, "Name": column, "DataType": dtype, "SASFieldName": column}
        if length is not None:
            attrs["Length"] = str(length)
        if dtype == "float":
            attrs["SignificantDigits"] = "3"
        item = _sub(mdv, f"{{{ODM}}}ItemDef", attrs)
        _description(item, LABELS[column])
        if column in _CODELISTS:
            _sub(item, f"{{{ODM}}}CodeListRef", {"CodeListOID": f"CL.{column}"})
        _sub(item, f"{{{DEF}}}Origin", _origin(column))
        if column == "QVAL" and qualifiers.get(item_domain.lower()):
            _sub(item, f"{{{DEF}}}ValueListRef", {"ValueListOID": f"VL.{item_domain}.QVAL"})
    _qualifier_items(mdv, datasets, qualifiers)
    for column, terms in _CODELISTS.items():
        codelist = _sub(
            mdv,
            f"{{{ODM}}}CodeList",
            {
                "OID": f"CL.{column}",
                "Name": LABELS[column],
                "DataType": "text",
            },
        )
        for value in terms:
            _sub(codelist, f"{{{ODM}}}EnumeratedItem", {"CodedValue": value})
    used = {q for qnams in qualifiers.values() for q in qnams}
    for qnam in (q for q in QUALIFIER_TERMS if q in used):
        codelist = _sub(
            mdv,
            f"{{{ODM}}}CodeList",
            {"OID": f"CL.{qnam}", "Name": TR_QUALIFIERS[qnam], "DataType": "text"},
        )
        for value in QUALIFIER_TERMS[qnam]:
            _sub(codelist, f"{{{ODM}}}EnumeratedItem", {"CodedValue": value})
    methods = {v[0]: v[1] for v in _DERIVED.values()}
    if used & {"MEASEDIT", "MEASEDTL"}:
        methods[_QUALIFIER_METHOD[0]] = _QUALIFIER_METHOD[1]
    for oid, text in methods.items():
        method = _sub(
            mdv,
            f"{{{ODM}}}MethodDef",
            {
                "OID": oid,
                "Name": oid.split(".", 1)[1].title(),
                "Type": "Computation",
            },
        )
        _description(method, text)
    ET.indent(root)
    return ET.ElementTree(root)


def write_define(data: SdtmDatasets, study: str, path: str) -> None:
    """Write ``define.xml`` (UTF-8, XML declaration)."""
    build_define(data, study).write(path, encoding="UTF-8", xml_declaration=True)
