"""Best overall response with and without confirmation (rules.md §6; Eisenhauer Table 3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recist import Settings, case_from_dict, evaluate
from recist.bor import BorInput, BorRules, best_overall_response
from recist.responses import Response as R

from .helpers import sums_case

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


# admiralonco derive_param_confirmed_bor(accept_sd = TRUE) accepts ONE SD between a PR and the
# assessment that confirms it (its test 2: subject 4, PR SD SD PR -> SD; subject 5, PR SD PR -> PR)
ACCEPT_SD = [
    ("PR SD SD PR is not", [("PR", 63), ("SD", 91), ("SD", 126), ("PR", 154)], 1, "SD", False),
    ("PR SD PR is confirmed", [("PR", 63), ("SD", 77), ("PR", 91)], 1, "PR", True),
    ("PR NE SD PR, max_ne 1", [("PR", 63), ("NE", 91), ("SD", 126), ("PR", 154)], 1, "PR", True),
    ("PR SD NE PR, max_ne 1", [("PR", 63), ("SD", 91), ("NE", 126), ("PR", 154)], 1, "PR", True),
    ("PR NE SD PR, max_ne 0", [("PR", 63), ("NE", 91), ("SD", 126), ("PR", 154)], 0, "SD", False),
    ("PR SD CR confirms the PR", [("PR", 63), ("SD", 91), ("CR", 126)], 1, "PR", True),
    ("CR SD CR: SD never accepted for CR", [("CR", 63), ("SD", 91), ("CR", 126)], 1, "SD", False),
    (
        "second PR after SD SD can still be confirmed",
        [("PR", 63), ("SD", 91), ("SD", 126), ("PR", 154), ("PR", 189)],
        1,
        "PR",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "seq", "max_ne", "bor", "confirmed"), ACCEPT_SD, ids=[r[0] for r in ACCEPT_SD]
)
def test_accept_sd_allows_one_sd(
    name: str, seq: list[tuple[str, int]], max_ne: int, bor: str, confirmed: bool
) -> None:
    rules = BorRules(True, 42, max_ne=max_ne, accept_sd=True)
    got, reason, was_confirmed = _bor(points(*seq), rules)
    assert (got, was_confirmed) == (bor, confirmed), reason


def test_accept_sd_between_setting_reaches_the_engine() -> None:
    """The issue's case end to end: PR, SD, SD, PR with Settings(accept_sd_between=True)."""
    data = sums_case([100, 65, 72, 72, 65], days=[0, 63, 91, 126, 154], confirm=True)
    result = evaluate(case_from_dict(data), Settings(accept_sd_between=True))
    assert [tp.overall for tp in result.timepoints[1:]] == [R.PR, R.SD, R.SD, R.PR]
    assert (result.best_overall_response, result.recist.confirmed) == (R.SD, False)
    one_sd = sums_case([100, 65, 72, 65], days=[0, 63, 91, 126], confirm=True)
    result = evaluate(case_from_dict(one_sd), Settings(accept_sd_between=True))
    assert (result.best_overall_response, result.recist.confirmed) == (R.PR, True)


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
