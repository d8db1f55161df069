"""Best overall response with and without confirmation (rules.md §6; Eisenhauer Table 3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recist.bor import BorInput, BorRules, best_overall_response
from recist.responses import Response as R

START = date(2026, 1, 5)


def _bor(pts: list[BorInput], rules: BorRules) -> tuple[R, str, bool]:
    return best_overall_response([p.response for p in pts], pts, rules)


def points(*items: tuple[str, int]) -> list[BorInput]:
    return [BorInput(R(code), day, START + timedelta(days=day), f"D{day}") for code, day in items]


UNCONFIRMED = [
    ("CR then PD -> CR", [("CR", 63), ("PD", 126)], "CR"),
    ("SD too early then PD -> PD", [("SD", 35), ("PD", 63)], "PD"),
    ("SD too early, nothing after -> NE", [("SD", 35)], "NE"),
    ("SD on day 42 counts (inclusive)", [("SD", 42)], "SD"),
    ("NE then PD -> PD", [("NE", 63), ("PD", 126)], "PD"),
    ("after PD is ignored", [("SD", 63), ("PD", 126), ("CR", 189)], "SD"),
    ("NED", [("NED", 63), ("NED", 126)], "NED"),
    ("non-CR/non-PD needs the SD window", [("non-CR/non-PD", 35)], "NE"),
    ("non-CR/non-PD after 42 days", [("non-CR/non-PD", 63)], "non-CR/non-PD"),
    ("PR early still counts without confirmation", [("PR", 35), ("NE", 63)], "PR"),
]


@pytest.mark.parametrize(("name", "seq", "bor"), UNCONFIRMED, ids=[r[0] for r in UNCONFIRMED])
def test_bor_without_confirmation(name: str, seq: list[tuple[str, int]], bor: str) -> None:
    got, reason, _ = _bor(points(*seq), BorRules(confirmation=False, min_sd_days=42))
    assert got == bor
    assert reason


CONFIRMED = [
    ("PR confirmed 28 days later", [("PR", 63), ("PR", 91)], "PR", True),
    ("PR 27 days later is not confirmation", [("PR", 63), ("PR", 90)], "SD", False),
    ("CR confirmed at 28 days", [("CR", 63), ("CR", 91)], "CR", True),
    ("early PR does not break the chain", [("PR", 63), ("PR", 70), ("PR", 95)], "PR", True),
    ("PR NE PR is confirmed", [("PR", 63), ("NE", 126), ("PR", 189)], "PR", True),
    ("PR NE NE PR is not", [("PR", 63), ("NE", 126), ("NE", 189), ("PR", 252)], "SD", False),
    ("PR SD PR is not", [("PR", 63), ("SD", 126), ("PR", 189)], "SD", False),
    ("early PR then NE -> NE", [("PR", 35), ("NE", 63)], "NE", False),
    ("PR then NE, minimum met -> SD", [("PR", 63), ("NE", 126)], "SD", False),
    ("PR then PD, minimum met -> SD", [("PR", 63), ("PD", 126)], "SD", False),
    ("early PR then PD -> PD", [("PR", 35), ("PD", 63)], "PD", False),
    ("CR then PD -> SD", [("CR", 63), ("PD", 126)], "SD", False),
    ("PR then CR confirms PR", [("PR", 63), ("CR", 126)], "PR", True),
    ("CR then PR is not a confirmed PR", [("CR", 63), ("PR", 126)], "SD", False),
    ("CR PR CR: CR unconfirmed, PR confirmed", [("CR", 63), ("PR", 70), ("CR", 126)], "PR", True),
    ("CR CR(<28) PD -> SD", [("CR", 63), ("CR", 80), ("PD", 126)], "SD", False),
]


@pytest.mark.parametrize(
    ("name", "seq", "bor", "confirmed"), CONFIRMED, ids=[r[0] for r in CONFIRMED]
)
def test_bor_with_confirmation(
    name: str, seq: list[tuple[str, int]], bor: str, confirmed: bool
) -> None:
    got, reason, was_confirmed = _bor(points(*seq), BorRules(confirmation=True, min_sd_days=42))
    assert (got, was_confirmed) == (bor, confirmed), reason


def test_accept_sd_between_is_configurable() -> None:
    seq = points(("PR", 63), ("SD", 126), ("PR", 189))
    assert _bor(seq, BorRules(True, 42, accept_sd=True))[0] is R.PR


def test_two_ne_allowed_when_configured() -> None:
    seq = points(("PR", 63), ("NE", 126), ("NE", 189), ("PR", 252))
    assert _bor(seq, BorRules(True, 42, max_ne=2))[0] is R.PR


IRECIST = [
    ("iCR, iUPD, iCPD -> iCR", [("iCR", 63), ("iCPD", 126), ("iCPD", 161)], "iCR"),
    ("iUPD, iSD, iCR -> iCR", [("iUPD", 63), ("iSD", 98), ("iCR", 126)], "iCR"),
    ("iUPD(confirmed), iCPD -> iCPD", [("iCPD", 63), ("iCPD", 98)], "iCPD"),
    ("iUPD, NE, NE -> iUPD", [("iUPD", 63), ("NE", 98), ("NE", 126)], "iUPD"),
    ("early iSD then iCPD", [("iSD", 35), ("iCPD", 63), ("iCPD", 98)], "iCPD"),
    ("unconfirmed iUPD ranks above iCPD", [("iUPD", 63), ("iSD", 20), ("iCPD", 126)], "iUPD"),
]


@pytest.mark.parametrize(("name", "seq", "bor"), IRECIST, ids=[r[0] for r in IRECIST])
def test_ibor_seymour_table3(name: str, seq: list[tuple[str, int]], bor: str) -> None:
    got, _, _ = _bor(points(*seq), BorRules(False, 42, irecist=True))
    assert got == bor


def test_ibor_with_confirmation_uses_i_categories() -> None:
    seq = points(("iPR", 63), ("iPR", 91))
    assert _bor(seq, BorRules(True, 42, irecist=True))[0] is R.IPR
    seq = points(("iPR", 63), ("iUPD", 91))
    assert _bor(seq, BorRules(True, 42, irecist=True))[0] is R.ISD
