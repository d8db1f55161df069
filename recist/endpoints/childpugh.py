"""Child-Pugh score and class from its five components (Pugh et al., Br J Surg 1973;60:646).

| component | 1 point | 2 points | 3 points |
|---|---|---|---|
| total bilirubin | < 2 mg/dL (< 34.2 µmol/L) | 2–3 mg/dL (34.2–51.3 µmol/L) | > 3 mg/dL (> 51.3 µmol/L) |
| serum albumin | > 3.5 g/dL (> 35 g/L) | 2.8–3.5 g/dL (28–35 g/L) | < 2.8 g/dL (< 28 g/L) |
| INR | < 1.7 | 1.7–2.3 | > 2.3 |
| ascites | none | mild (slight) | moderate to severe |
| hepatic encephalopathy | none | grade 1–2 | grade 3–4 |

Class A: 5–6 points, B: 7–9, C: 10–15.  Pugh's 1973 table graded the prothrombin
time (seconds prolonged); the INR row is the modern substitute used in current
guidelines.  The band edges belong to the middle band (2.0 and 3.0 mg/dL bilirubin,
2.8 and 3.5 g/dL albumin, 1.7 and 2.3 INR score 2 points).

Bilirubin in µmol/L is converted with 1 mg/dL = 17.1 µmol/L and albumin in g/L
with 1 g/dL = 10 g/L, exactly (:class:`~fractions.Fraction`), so 34.2 µmol/L is
exactly 2 mg/dL; no float ever meets a band edge.  Values are given as
:class:`~decimal.Decimal`, ``int`` or decimal text.
"""  # noqa: E501 - a Markdown table row is one line

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from recist.errors import InvalidRecordError

__all__ = [
    "AlbuminUnit",
    "Ascites",
    "BilirubinUnit",
    "ChildPughInputs",
    "ChildPughResult",
    "Encephalopathy",
    "child_pugh",
    "to_decimal",
]

#: µmol/L per mg/dL of bilirubin (the clinical convention; molar mass 584.7 g/mol).
BILIRUBIN_UMOL_PER_MG_DL = Fraction(171, 10)


class BilirubinUnit(StrEnum):
    """Unit of a total bilirubin value."""

    UMOL_L = "umol/L"
    """Micromoles per litre (SI)."""
    MG_DL = "mg/dL"
    """Milligrams per decilitre (conventional)."""


class AlbuminUnit(StrEnum):
    """Unit of a serum albumin value."""

    G_L = "g/L"
    """Grams per litre (SI)."""
    G_DL = "g/dL"
    """Grams per decilitre (conventional)."""


class Ascites(StrEnum):
    """Ascites grade of the Child-Pugh score."""

    NONE = "none"
    """No ascites: 1 point."""
    MILD = "mild"
    """Slight / mild, controlled with diuretics: 2 points."""
    MODERATE_SEVERE = "moderate-severe"
    """Moderate to severe or refractory: 3 points."""


class Encephalopathy(StrEnum):
    """Hepatic encephalopathy grade (West Haven) of the Child-Pugh score."""

    NONE = "none"
    """None: 1 point."""
    GRADE_1_2 = "grade 1-2"
    """Grade 1–2 (mild, controlled with medication): 2 points."""
    GRADE_3_4 = "grade 3-4"
    """Grade 3–4 (severe, refractory): 3 points."""


_POINTS_BY_GRADE = {
    Ascites.NONE: 1,
    Ascites.MILD: 2,
    Ascites.MODERATE_SEVERE: 3,
    Encephalopathy.NONE: 1,
    Encephalopathy.GRADE_1_2: 2,
    Encephalopathy.GRADE_3_4: 3,
}

#: Plausible ranges (inclusive) per unit: outside them the value is refused, which
#: catches a value typed in the other unit (albumin 35 "g/dL" is 35 g/L).
_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    BilirubinUnit.UMOL_L: (Decimal(0), Decimal(1000)),
    BilirubinUnit.MG_DL: (Decimal(0), Decimal(60)),
    AlbuminUnit.G_L: (Decimal(5), Decimal(80)),
    AlbuminUnit.G_DL: (Decimal("0.5"), Decimal(8)),
    "INR": (Decimal("0.5"), Decimal(20)),
}


def to_decimal(name: str, value: object) -> Decimal | None:
    """A number given as Decimal, int or decimal text, exactly; None stays None.

    A float is read through its shortest text (``0.1`` -> ``Decimal('0.1')``).

    Raises
    ------
    InvalidRecordError
        Not a finite number (the message names *name*).
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRecordError(f"{name} must be a number, got {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidRecordError(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise InvalidRecordError(f"{name} must be a finite number, got {value!r}")
    return number


def _check_range(name: str, value: Decimal, unit: str) -> None:
    low, high = _RANGES[unit]
    if not low <= value <= high:
        shown = "" if unit == "INR" else f" {unit}"
        raise InvalidRecordError(
            f"{name} {value}{shown} is outside the plausible range {low}–{high}{shown}"
            + (" (is the unit right?)" if unit != "INR" else "")
        )


@dataclass(frozen=True, slots=True)
class ChildPughInputs:
    """The five Child-Pugh components as entered; any may be missing (None).

    Raises
    ------
    InvalidRecordError
        A value that is not a number, or implausible for its unit (names the field).
    """

    bilirubin: Decimal | None = None
    bilirubin_unit: BilirubinUnit = BilirubinUnit.UMOL_L
    albumin: Decimal | None = None
    albumin_unit: AlbuminUnit = AlbuminUnit.G_L
    inr: Decimal | None = None
    ascites: Ascites | None = None
    encephalopathy: Encephalopathy | None = None

    def __post_init__(self) -> None:
        for name in ("bilirubin", "albumin", "inr"):
            object.__setattr__(self, name, to_decimal(name, getattr(self, name)))
        object.__setattr__(self, "bilirubin_unit", BilirubinUnit(self.bilirubin_unit))
        object.__setattr__(self, "albumin_unit", AlbuminUnit(self.albumin_unit))
        if self.ascites is not None:
            object.__setattr__(self, "ascites", Ascites(self.ascites))
        if self.encephalopathy is not None:
            object.__setattr__(self, "encephalopathy", Encephalopathy(self.encephalopathy))
        if self.bilirubin is not None:
            _check_range("bilirubin", self.bilirubin, self.bilirubin_unit)
        if self.albumin is not None:
            _check_range("albumin", self.albumin, self.albumin_unit)
        if self.inr is not None:
            _check_range("INR", self.inr, "INR")


@dataclass(frozen=True, slots=True)
class ChildPughResult:
    """Points per component, the score and the class, or what is missing.

    Attributes
    ----------
    points : tuple of (str, int or None)
        ``(component, points)`` in the order bilirubin, albumin, INR, ascites,
        encephalopathy; None where the component is missing.
    score : int or None
        5–15; None while any component is missing.
    child_class : str or None
        ``"A"``, ``"B"`` or ``"C"``; None while any component is missing.
    missing : tuple of str
        The missing components.
    reason : str
        The arithmetic in words, e.g. ``"bilirubin 20 umol/L (1.17 mg/dL) 1 + ... = 5: class A"``.
    """

    points: tuple[tuple[str, int | None], ...]
    score: int | None
    child_class: str | None
    missing: tuple[str, ...]
    reason: str


def _bilirubin_points(mg_dl: Fraction) -> int:
    if mg_dl < 2:
        return 1
    return 2 if mg_dl <= 3 else 3


def _albumin_points(g_dl: Fraction) -> int:
    if g_dl > Fraction(7, 2):
        return 1
    return 2 if g_dl >= Fraction(14, 5) else 3


def _inr_points(inr: Fraction) -> int:
    if inr < Fraction(17, 10):
        return 1
    return 2 if inr <= Fraction(23, 10) else 3


def _fmt(value: Fraction) -> str:
    """A converted value for the reason text, to 2 decimals."""
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def child_pugh(inputs: ChildPughInputs) -> ChildPughResult:
    """Score and class the Child-Pugh components (module table; exact at every band edge).

    Examples
    --------
    >>> r = child_pugh(ChildPughInputs(Decimal("34.2"), "umol/L", Decimal(35), "g/L",
    ...                Decimal("1.1"), Ascites.NONE, Encephalopathy.NONE))
    >>> r.score, r.child_class
    (7, 'B')
    """
    points: list[tuple[str, int | None]] = []
    words: list[str] = []
    if inputs.bilirubin is None:
        points.append(("bilirubin", None))
    else:
        value = Fraction(inputs.bilirubin)
        mg_dl = (
            value
            if inputs.bilirubin_unit is BilirubinUnit.MG_DL
            else value / BILIRUBIN_UMOL_PER_MG_DL
        )
        p = _bilirubin_points(mg_dl)
        points.append(("bilirubin", p))
        shown = f"bilirubin {inputs.bilirubin} {inputs.bilirubin_unit}"
        if inputs.bilirubin_unit is not BilirubinUnit.MG_DL:
            shown += f" ({_fmt(mg_dl)} mg/dL)"
        words.append(f"{shown}: {p}")
    if inputs.albumin is None:
        points.append(("albumin", None))
    else:
        value = Fraction(inputs.albumin)
        g_dl = value if inputs.albumin_unit is AlbuminUnit.G_DL else value / 10
        p = _albumin_points(g_dl)
        points.append(("albumin", p))
        shown = f"albumin {inputs.albumin} {inputs.albumin_unit}"
        if inputs.albumin_unit is not AlbuminUnit.G_DL:
            shown += f" ({_fmt(g_dl)} g/dL)"
        words.append(f"{shown}: {p}")
    if inputs.inr is None:
        points.append(("INR", None))
    else:
        p = _inr_points(Fraction(inputs.inr))
        points.append(("INR", p))
        words.append(f"INR {inputs.inr}: {p}")
    for name, grade in (("ascites", inputs.ascites), ("encephalopathy", inputs.encephalopathy)):
        if grade is None:
            points.append((name, None))
        else:
            p = _POINTS_BY_GRADE[grade]
            points.append((name, p))
            words.append(f"{name} {grade.value}: {p}")
    missing = tuple(name for name, p in points if p is None)
    if missing:
        return ChildPughResult(
            tuple(points),
            None,
            None,
            missing,
            "Child-Pugh not computable: missing " + ", ".join(missing),
        )
    score = sum(p for _, p in points if p is not None)
    child_class = "A" if score <= 6 else ("B" if score <= 9 else "C")
    reason = "; ".join(words) + f" -> score {score}: class {child_class}"
    return ChildPughResult(tuple(points), score, child_class, (), reason)
