"""A conformance check of the SDTM tumour datasets, written from the SDTMIG rules that apply.

Not a replacement for a validator such as Pinnacle 21; the rules checked, each
with the SDTMIG section it comes from:

* variable names ≤ 8 characters, letters/digits/underscore, starting with a
  letter; labels ≤ 40 characters; dataset names ≤ 8 (SDTMIG 4.1.2, SAS V5
  transport);
* character values ≤ 200 characters (4.1.2);
* required variables present and never empty, expected variables present
  (the Core column of each domain's specification, 6.3);
* ``DOMAIN`` equals the dataset; ``--TESTCD`` ≤ 8 characters, no leading digit,
  letters/digits/underscore only; ``--TEST`` ≤ 40 (4.5.1);
* controlled terms: TUTESTCD, TRTESTCD, RSTESTCD and their test names, TUORRES of
  TUMIDENT, TUMSTATE results, RS results (ONCRSR), --EVAL (EVAL), TRSTAT
  (ND), units, baseline flags ``Y`` or empty, --DRVFL ``Y`` or empty;
* --SEQ unique within each subject (4.1.5);
* --DTC ISO 8601 (4.4.1);
* a numeric result has a unit and its standard numeric value (4.5.1);
* VISITNUM consistent across subjects: one VISITNUM per VISIT and one VISIT
  per VISITNUM in the study (4.4.5);
* SUPP-- records point at an existing parent record (8.4): SUPPTU at a TU record by TUSEQ,
  SUPPTR at a TR record by TRSEQ; QNAM ≤ 8 characters and QLABEL ≤ 40 (8.4.1), each QNAM one
  of those Caliper declares in Define-XML, with its label, and a value of its codelist
  (MEASMETH, MEASEDIT); no QNAM twice for one parent record.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from storage.exchange.sdtm import SdtmDatasets
from storage.exchange.sdtm_terms import (
    CORE,
    EVALUATORS,
    LABELS,
    NUMERIC,
    QUALIFIER_TERMS,
    RS_RESULTS,
    RS_TESTS,
    TOO_SMALL,
    TR_QUALIFIERS,
    TR_TESTS,
    TU_QUALIFIERS,
    TU_RESULT,
    TU_TESTS,
    TUMSTATE_RESULTS,
    VOLUME_UNIT,
)

_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_ISO8601 = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?$")
_TERMS: dict[str, Mapping[str, str]] = {"TU": TU_TESTS, "TR": TR_TESTS, "RS": RS_TESTS}


def check_sdtm(data: SdtmDatasets) -> list[str]:
    """Every rule a dataset breaks, as ``"TR row 12 TRSTRESU: ..."``; empty when conformant."""
    problems: list[str] = []
    columns = data.columns()
    datasets = data.datasets()
    for name, rows in datasets.items():
        problems += _names(name, columns[name])
        problems += _rows(name, columns[name], rows)
    for name in ("tu", "tr", "rs"):
        problems += _seq(name.upper(), datasets[name])
    problems += _visits([*datasets["tu"], *datasets["tr"], *datasets["rs"]])
    problems += _supp("TU", datasets.get("supptu", []), datasets["tu"])
    problems += _supp("TR", datasets.get("supptr", []), datasets["tr"])
    return problems


def _names(dataset: str, columns: Sequence[str]) -> list[str]:
    out = []
    if not _NAME.match(dataset.upper()):
        out.append(f"dataset name {dataset!r}: at most 8 letters/digits")
    for column in columns:
        if not _NAME.match(column):
            out.append(f"{dataset.upper()}.{column}: a variable name is 1-8 letters/digits/_")
        label = LABELS.get(column)
        if not label:
            out.append(f"{dataset.upper()}.{column}: no label")
        elif len(label) > 40:
            out.append(f"{dataset.upper()}.{column}: label longer than 40 ({label!r})")
    domain = dataset.upper()
    for column, core in CORE.items():
        applies = (
            column.startswith(domain[:2])
            or column in ("STUDYID", "USUBJID")
            or (
                domain.startswith("SUPP")
                and column in ("RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG")
            )
            or (column in ("DOMAIN", "VISITNUM") and not domain.startswith("SUPP"))
        )
        if domain.startswith("SUPP") and column[:2] in ("TU", "TR", "RS"):
            applies = False
        if applies and core in ("Req", "Exp") and column not in columns:
            if column in ("TRBLFL", "TRLOBXFL") and ({"TRBLFL", "TRLOBXFL"} & set(columns)):
                continue
            out.append(f"{domain}.{column}: {core} variable missing")
    return out


def _rows(dataset: str, columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> list[str]:
    out = []
    domain = dataset.upper()
    for n, row in enumerate(rows, start=1):
        where = f"{domain} row {n}"
        for column in columns:
            value = row.get(column, "")
            if CORE.get(column) == "Req" and value == "":
                out.append(f"{where} {column}: required, empty")
            if len(value) > 200:
                out.append(f"{where} {column}: longer than 200 characters")
            if column in NUMERIC and value:
                try:
                    float(value)
                except ValueError:
                    out.append(f"{where} {column}: {value!r} is not a number")
            if column.endswith("DTC") and value and not _ISO8601.match(value):
                out.append(f"{where} {column}: {value!r} is not ISO 8601")
        if "DOMAIN" in columns and row.get("DOMAIN") != domain:
            out.append(f"{where} DOMAIN: {row.get('DOMAIN')!r}, expected {domain!r}")
        if domain in _TERMS:
            out += _terms(domain, where, row)
    return out


def _terms(domain: str, where: str, row: Mapping[str, str]) -> list[str]:  # noqa: C901
    out = []
    code, name = row.get(f"{domain}TESTCD", ""), row.get(f"{domain}TEST", "")
    tests = _TERMS[domain]
    if code not in tests:
        out.append(f"{where} {domain}TESTCD: {code!r} is not a term of the codelist")
    elif tests[code] != name:
        out.append(f"{where} {domain}TEST: {name!r} does not match {code} ({tests[code]!r})")
    if len(name) > 40:
        out.append(f"{where} {domain}TEST: longer than 40")
    evaluator = row.get(f"{domain}EVAL", "")
    if evaluator and evaluator not in EVALUATORS:
        out.append(f"{where} {domain}EVAL: {evaluator!r} is not an EVAL term")
    evalid = row.get(f"{domain}EVALID", "")
    if evalid and not re.fullmatch(r"RADIOLOGIST \d+", evalid):
        out.append(f"{where} {domain}EVALID: {evalid!r} is not a MEDEVAL term (RADIOLOGIST n)")
    for flag in (f"{domain}DRVFL", "TRBLFL", "TRLOBXFL"):
        if row.get(flag, "") not in ("", "Y"):
            out.append(f"{where} {flag}: {row.get(flag)!r}, expected Y or empty")
    if domain == "TU" and code == "TUMIDENT" and row.get("TUORRES") not in set(TU_RESULT.values()):
        out.append(f"{where} TUORRES: {row.get('TUORRES')!r} is not a TUMIDENT result")
    if domain == "TR":
        out += _tr_result(where, code, row)
    if domain == "RS" and row.get("RSORRES") not in RS_RESULTS:
        out.append(f"{where} RSORRES: {row.get('RSORRES')!r} is not an ONCRSR term")
    return out


def _tr_result(where: str, code: str, row: Mapping[str, str]) -> list[str]:
    out = []
    stat, result = row.get("TRSTAT", ""), row.get("TRORRES", "")
    if stat not in ("", "NOT DONE"):
        out.append(f"{where} TRSTAT: {stat!r} is not an ND term")
    if stat and (result or row.get("TRSTRESC")):
        out.append(f"{where} TRSTAT NOT DONE with a result")
    if stat and not row.get("TRREASND"):
        out.append(f"{where} TRREASND: empty although NOT DONE")
    if not stat and not result:
        out.append(f"{where} TRORRES: empty without TRSTAT")
    if code == "TUMSTATE" and result and result not in TUMSTATE_RESULTS:
        out.append(f"{where} TRORRES: {result!r} is not a tumour state")
    if code in ("LDIAM", "LPERP", "SUMDIAM") and result:
        if row.get("TRSTRESU") != "mm" or not row.get("TRSTRESN"):
            out.append(f"{where} {code}: a diameter needs TRSTRESN in mm")
        if result != TOO_SMALL and row.get("TRORRESU") != "mm":
            out.append(f"{where} TRORRESU: {row.get('TRORRESU')!r}, expected mm")
    if code == "VOLUME" and result:
        units = (row.get("TRORRESU"), row.get("TRSTRESU"))
        if units != (VOLUME_UNIT, VOLUME_UNIT) or not row.get("TRSTRESN"):
            out.append(f"{where} VOLUME: a volume needs TRSTRESN and units in {VOLUME_UNIT}")
    return out


def _seq(domain: str, rows: Iterable[Mapping[str, str]]) -> list[str]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for n, row in enumerate(rows, start=1):
        key = (row.get("USUBJID", ""), row.get(f"{domain}SEQ", ""))
        if key in seen:
            out.append(
                f"{domain} row {n} {domain}SEQ: {key[1]} repeats row {seen[key]} of {key[0]}"
            )
        seen.setdefault(key, n)
    return out


def _visits(rows: Iterable[Mapping[str, str]]) -> list[str]:
    numbers: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        visit, number = row.get("VISIT", ""), row.get("VISITNUM", "")
        if visit or number:
            numbers[visit].add(number)
            names[number].add(visit)
    out = [
        f"VISIT {visit!r} has several VISITNUM values {sorted(nums)}"
        for visit, nums in numbers.items()
        if len(nums) > 1
    ]
    out += [
        f"VISITNUM {num} names several visits {sorted(visits)}"
        for num, visits in names.items()
        if len(visits) > 1
    ]
    return out


_QUALIFIERS = {"TU": TU_QUALIFIERS, "TR": TR_QUALIFIERS}


def _supp(
    parent_domain: str, supp: Iterable[Mapping[str, str]], parent: Iterable[Mapping[str, str]]
) -> list[str]:
    seq = f"{parent_domain}SEQ"
    keys = {(r.get("USUBJID"), r.get(seq)) for r in parent}
    qualifiers = _QUALIFIERS[parent_domain]
    name = f"SUPP{parent_domain}"
    seen: set[tuple[str | None, str | None, str | None]] = set()
    out = []
    for n, row in enumerate(supp, start=1):
        qnam = row.get("QNAM", "")
        if row.get("RDOMAIN") != parent_domain or row.get("IDVAR") != seq:
            out.append(f"{name} row {n}: RDOMAIN/IDVAR must be {parent_domain}/{seq}")
        elif (row.get("USUBJID"), row.get("IDVARVAL")) not in keys:
            out.append(
                f"{name} row {n}: no {parent_domain} record {row.get('IDVARVAL')} "
                f"of {row.get('USUBJID')}"
            )
        if not _NAME.match(qnam) or len(row.get("QLABEL", "")) > 40:
            out.append(f"{name} row {n}: QNAM ≤ 8 characters, QLABEL ≤ 40")
        if qnam not in qualifiers:
            out.append(f"{name} row {n} QNAM: {qnam!r} is not declared")
        elif row.get("QLABEL") != qualifiers[qnam]:
            out.append(
                f"{name} row {n} QLABEL: {row.get('QLABEL')!r}, expected {qualifiers[qnam]!r}"
            )
        if qnam in QUALIFIER_TERMS and row.get("QVAL") not in QUALIFIER_TERMS[qnam]:
            out.append(f"{name} row {n} QVAL: {row.get('QVAL')!r} is not a {qnam} term")
        key = (row.get("USUBJID"), row.get("IDVARVAL"), qnam)
        if key in seen:
            out.append(f"{name} row {n}: {qnam} twice for {seq} {row.get('IDVARVAL')}")
        seen.add(key)
    return out
