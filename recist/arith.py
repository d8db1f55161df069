"""Exact arithmetic on integer micrometres: thresholds as products, display rounding.

Every comparison of rules.md §4.1 is an integer comparison (``10·SOD ≤ 7·baseline``,
``5·SOD ≥ 6·nadir``), so boundaries such as 19.6/28 or 32.4/27 are exact.
Percentages are rounded only for display, to 0.1, half away from zero.
"""

from __future__ import annotations

from decimal import Decimal

MM = 1000
"""Micrometres per millimetre."""
PD_ABSOLUTE_UM = 5 * MM
"""The 5 mm absolute increase of the PD rule."""
NODE_NORMAL_UM = 10 * MM
"""A node with short axis below 10 mm is normal."""
NODE_MEASURABLE_UM = 15 * MM
"""A node is a measurable (target) node from 15 mm short axis."""
LESION_MEASURABLE_UM = 10 * MM
"""Non-nodal lesions are measurable from 10 mm (or twice the slice thickness)."""

_DECIMALS: dict[int, Decimal] = {}


def mm(value_um: int | None) -> Decimal | None:
    """Micrometres as exact decimal millimetres (e.g. 32400 -> Decimal('32.4'))."""
    if value_um is None:
        return None
    cached = _DECIMALS.get(value_um)
    if cached is None:
        if value_um % MM == 0:
            cached = Decimal(value_um // MM)
        else:
            cached = Decimal(value_um).scaleb(-3).normalize()
        if len(_DECIMALS) < 100_000:
            _DECIMALS[value_um] = cached
    return cached


_TEXTS: dict[int, str] = {}
_PCTS: dict[int, Decimal] = {}


def fmt_mm(value_um: int) -> str:
    """Micrometres as a short millimetre text: 72000 -> '72', 32400 -> '32.4'."""
    text = _TEXTS.get(value_um)
    if text is None:
        if value_um % MM == 0:
            text = str(value_um // MM)
        else:
            text = format(Decimal(value_um).scaleb(-3).normalize(), "f")
        if len(_TEXTS) < 100_000:
            _TEXTS[value_um] = text
    return text


def pct_tenths(delta: int, base: int) -> int:
    """``100·delta/base`` in tenths of a percent, rounded half away from zero (base > 0)."""
    q, r = divmod(abs(delta) * 1000, base)
    if 2 * r >= base:
        q += 1
    return -q if delta < 0 else q


def pct(delta: int, base: int | None) -> Decimal | None:
    """Percent change rounded to 0.1 half away from zero; None when base is None or 0."""
    if not base:
        return None
    q, r = divmod(abs(delta) * 1000, base)  # pct_tenths inlined: called twice per timepoint
    if 2 * r >= base:
        q += 1
    tenths = -q if delta < 0 else q
    value = _PCTS.get(tenths)
    if value is None:
        value = Decimal(tenths).scaleb(-1)
        if len(_PCTS) < 100_000:
            _PCTS[tenths] = value
    return value


def fmt_pct(delta: int, base: int) -> str:
    """Signed display text of a percent change, e.g. '-38.0 %' or '+20.0 %'."""
    tenths = pct_tenths(delta, base)
    sign = "-" if tenths < 0 else "+"
    q, r = divmod(abs(tenths), 10)
    return f"{sign}{q}.{r} %"


def meets_pd(total: int, nadir: int) -> bool:
    """RECIST 1.1 sum rule (§4.2 step 4): +5 mm over the nadir and (nadir 0 or ≥ 1.2 × nadir)."""
    return total - nadir >= PD_ABSOLUTE_UM and (nadir == 0 or 5 * total >= 6 * nadir)


def meets_pr(total: int, baseline: int) -> bool:
    """RECIST 1.1 PR rule (§4.2 step 5): sum ≤ 0.7 × baseline, as ``10·sum ≤ 7·baseline``."""
    return baseline > 0 and 10 * total <= 7 * baseline
