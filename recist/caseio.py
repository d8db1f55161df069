"""Reading and writing the case format of rules.md §10 (``cases-public.json``).

Reading is strict about structure and values (every problem is a
:class:`~recist.errors.CaseFormatError` naming the field) and tolerant of
unknown keys such as ``source`` or ``expected``, which are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from recist.case import (
    UM_PER_MM,
    Case,
    CaseTimepoint,
    LesionStatus,
    NewLesionEntry,
    NonTargetEntry,
    TargetEntry,
)
from recist.caseimage import image_from_dict
from recist.errors import CaseFormatError
from recist.limits import MAX_LENGTH, text_problem
from recist.model import Criteria

TSTM = "TSTM"
_MAX_MM = 2000
_CRITERIA = {
    "recist1.1": Criteria.RECIST11,
    "recist": Criteria.RECIST11,
    "irecist": Criteria.IRECIST,
}


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what json.loads gives: no ABC check
        return value
    if not isinstance(value, Mapping):
        raise CaseFormatError(where, f"expected an object, got {type(value).__name__}")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = data.get(key, [])
    if type(value) is list:  # what json.loads gives
        return value
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise CaseFormatError(_join(where, key), f"expected a list, got {type(value).__name__}")
    return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _text(
    data: Mapping[str, Any], key: str, where: str, kind: str, *, default: str | None = None
) -> str:
    value = data.get(key, default)
    try:  # the common case in one test; anything else is described below
        if value.isprintable() and value.strip() and len(value) <= MAX_LENGTH[kind]:
            return value  # type: ignore[no-any-return]  # JSON is Any; the caller checks its shape
    except AttributeError:  # not a string
        pass
    if value is None:
        raise CaseFormatError(_join(where, key), "is required (a non-empty string)")
    if not isinstance(value, str) or not value.strip():
        raise CaseFormatError(_join(where, key), f"expected a non-empty string, got {value!r}")
    raise CaseFormatError(_join(where, key), text_problem(value, kind) or "")


def _location(data: Mapping[str, Any], where: str) -> str:
    """The free-text location of a lesion ('' when absent); limits as any stored text."""
    value = data.get("location")
    text = value if type(value) is str else str(value or "")
    problem = text_problem(text, "location")
    if problem is not None:
        raise CaseFormatError(_join(where, "location"), problem)
    return text


def _bool(data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if value is True or value is False:
        return value
    if value is None:
        return default
    if not isinstance(value, bool):
        raise CaseFormatError(_join(where, key), f"expected true or false, got {value!r}")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CaseFormatError(_join(where, key), f"expected a whole number >= 0, got {value!r}")
    return value


def _date(data: Mapping[str, Any], key: str, where: str, *, required: bool) -> date | None:
    value = data.get(key)
    if value is None:
        if required:
            raise CaseFormatError(_join(where, key), "is required (ISO date YYYY-MM-DD)")
        return None
    if not isinstance(value, str):
        raise CaseFormatError(_join(where, key), f"expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CaseFormatError(
            _join(where, key), f"expected an ISO date YYYY-MM-DD, got {value!r}"
        ) from None


def parse_mm(value: object, field: str) -> int:
    """Parse a length in millimetres into integer micrometres (exact for 0.1 mm input).

    Parameters
    ----------
    value : object
        A JSON number (int, float) or a numeric string.
    field : str
        The field path used in the error message.

    Returns
    -------
    int
        The length in micrometres, rounded half-even to 1 µm.

    Raises
    ------
    CaseFormatError
        When the value is not a finite number between 0 and 2000 mm.
    """
    # fast path (type() is, not isinstance: bool is refused below); NaN fails the range test
    if (type(value) is float or type(value) is int) and 0 <= value <= _MAX_MM:
        return round(value * UM_PER_MM)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise CaseFormatError(field, f"expected a number of millimetres, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CaseFormatError(field, f"expected a finite number of millimetres, got {value!r}")
    try:
        number = Decimal(str(value)) if not isinstance(value, int) else Decimal(value)
    except InvalidOperation:
        raise CaseFormatError(field, f"expected a number of millimetres, got {value!r}") from None
    if not number.is_finite():
        raise CaseFormatError(field, f"expected a finite number of millimetres, got {value!r}")
    if number < 0:
        raise CaseFormatError(field, f"must be >= 0 mm, got {value!r}")
    if number > _MAX_MM:
        raise CaseFormatError(field, f"must be <= {_MAX_MM} mm, got {value!r}")
    return int((number * UM_PER_MM).to_integral_value())


def _size(data: Mapping[str, Any], key: str, where: str) -> tuple[int | None, bool]:
    """(micrometres or None, is_tstm) of a diameter field that may be "TSTM" or null."""
    value = data.get(key)
    if (type(value) is float or type(value) is int) and 0 <= value <= _MAX_MM:
        return round(value * UM_PER_MM), False  # parse_mm's fast path, inlined
    if value is None:
        return None, False
    if isinstance(value, str) and value.strip().upper() == TSTM:
        return None, True
    if isinstance(value, str):
        raise CaseFormatError(
            _join(where, key), f'expected a number, "TSTM" or null, got {value!r}'
        )
    return parse_mm(value, _join(where, key)), False


def _optional_mm(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    return None if value is None else parse_mm(value, _join(where, key))


def _status(data: Mapping[str, Any], where: str, default: LesionStatus | None) -> LesionStatus:
    value = data.get("status")
    if value is None:
        if default is None:
            raise CaseFormatError(_join(where, "status"), _status_hint("is required"))
        return default
    try:
        return LesionStatus(value)
    except ValueError:
        raise CaseFormatError(_join(where, "status"), _status_hint(f"got {value!r}")) from None


def _status_hint(prefix: str) -> str:
    allowed = ", ".join(s.value for s in LesionStatus)
    return f"{prefix}; expected one of {allowed}"


def _dataclass_params(cls: type) -> Any:
    """The ``@dataclass(...)`` parameters of *cls* (``frozen``, ...)."""
    return cls.__dataclass_params__  # type: ignore[attr-defined]  # set by @dataclass


# -- the common target, fast -------------------------------------------------------------
# Most targets are {"id", "organ", "nodal", "diameter_mm"} with plain values.  Those are
# checked inline (the same checks as the general path below, which takes every other
# target and says what is wrong) and built without the dataclass's __init__: a frozen
# dataclass's __init__ sets each field through object.__setattr__, which costs more than
# all the checks.  The fast paths fill an instance of a "builder", a plain class with the
# same slots (plain attribute stores), and then make it an instance of the real class by
# assigning __class__ (allowed because the two have the same layout; checked at import).
# The result is an ordinary instance of the frozen class, equal to what __init__ builds
# (tests/recist/test_case_parse_fast.py).  No __post_init__ is skipped: the guard below
# gives None (use __init__) if a class ever gets one or other fields.
_TARGET_OTHER_KEYS = frozenset(
    ("fragments_mm", "coalesced_into", "short_axis_mm", "long_axis_mm", "location", "image")
)
_TARGET_FIELDS = (
    "id",
    "organ",
    "nodal",
    "diameter_um",
    "tstm",
    "fragments_um",
    "coalesced_into",
    "location",
    "short_axis_um",
    "long_axis_um",
    "image",
)
_LESION_ID_MAX = MAX_LENGTH["lesion_id"]
_ORGAN_MAX = MAX_LENGTH["organ"]


_TIMEPOINT_FIELDS = (
    "label",
    "date",
    "targets",
    "non_targets",
    "new_lesions",
    "slice_thickness_um",
    "modality",
    "contrast_phase",
    "cycle",
)


def _builder(cls: type, names: tuple[str, ...], *, derived: tuple[str, ...] = ()) -> Any:
    """A plain class with the slots of *cls* (see above), or None if *cls* is not as expected.

    Only for a frozen, slotted dataclass whose init fields are exactly *names*, in order,
    whose other fields are exactly *derived* (set by its ``__post_init__``, which it must have
    exactly when there are some), and whose instances can take the builder's place.
    """
    params = _dataclass_params(cls)
    slots = vars(cls).get("__slots__")
    if (
        not params.frozen
        or slots is None
        or tuple(f.name for f in fields(cls) if f.init) != names
        or tuple(f.name for f in fields(cls) if not f.init) != derived
        or hasattr(cls, "__post_init__") != bool(derived)
        or tuple(slots) != names + derived
    ):
        return None  # pragma: no cover - the class changed: use its __init__
    builder = type(f"_{cls.__name__}Builder", (), {"__slots__": tuple(slots)})
    probe: Any = _new(builder)
    try:
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - another layout (e.g. a __weakref__ slot)
        return None
    return builder


_new = object.__new__
_TARGET_BUILDER = _builder(TargetEntry, _TARGET_FIELDS)
_TIMEPOINT_BUILDER = _builder(
    CaseTimepoint, _TIMEPOINT_FIELDS, derived=("target_ids", "non_target_ids")
)
_NON_TARGET_BUILDER = _builder(
    NonTargetEntry,
    ("id", "organ", "status", "nodal", "short_axis_um", "location", "long_axis_um", "image"),
)
_CASE_BUILDER = _builder(
    Case,
    ("id", "timepoints", "criteria", "confirmation_required", "min_sd_days", "first_dose_date"),
)
_SUBJECT_ID_MAX = MAX_LENGTH["subject_id"]


#: What :func:`_plain_um` gives for a value the fast paths leave to the general path.
_NOT_PLAIN: Any = object()


def _plain_um(value: object) -> Any:
    """A plain millimetre value (number in range, or None) in µm; ``_NOT_PLAIN`` otherwise
    (TSTM, a string, out of range, NaN...: the general path says what is wrong)."""
    if type(value) is float and 0 <= value <= _MAX_MM:
        return round(value * UM_PER_MM)
    if type(value) is int and 0 <= value <= _MAX_MM:
        return value * UM_PER_MM
    return None if value is None else _NOT_PLAIN


def _plain_lesion(ident: object, organ: object, nodal: object) -> bool:
    """Whether a lesion's id, organ and nodal flag pass the general path's checks as they are."""
    return bool(
        type(ident) is str
        and len(ident) <= _LESION_ID_MAX
        and ident.isprintable()
        and ident.strip()
        and type(organ) is str
        and len(organ) <= _ORGAN_MAX
        and organ.isprintable()
        and organ.strip()
        and (nodal is False or nodal is True)
    )


def _simple_target(data: dict[str, Any]) -> TargetEntry | None:
    """The target of a plain ``{id, organ, nodal, diameter_mm}`` object, or None (general path)."""
    if not _TARGET_OTHER_KEYS.isdisjoint(data):
        return None
    ident: Any = data.get("id")  # checked by _plain_lesion
    organ = data.get("organ", "unspecified")
    nodal = data.get("nodal", False)
    diameter = data.get("diameter_mm")
    if not (
        _plain_lesion(ident, organ, nodal)
        and (type(diameter) is float or type(diameter) is int)
        and 0 <= diameter <= _MAX_MM
    ):
        return None
    return _fast_target(ident, organ, nodal, round(diameter * UM_PER_MM))


def _fast_target(ident: str, organ: str, nodal: bool, diameter_um: int | None) -> TargetEntry:
    """A plain target whose values the caller checked, built without ``__init__`` (see _builder)."""
    if _TARGET_BUILDER is None:  # pragma: no cover - see _builder
        return TargetEntry(ident, organ, nodal, diameter_um)
    target = _new(_TARGET_BUILDER)
    target.id = ident
    target.organ = organ
    target.nodal = nodal
    target.diameter_um = diameter_um
    target.tstm = False
    target.fragments_um = ()
    target.coalesced_into = None
    target.location = ""
    target.short_axis_um = None
    target.long_axis_um = None
    target.image = None
    target.__class__ = TargetEntry
    return target  # type: ignore[no-any-return]  # a TargetEntry now (see _builder)


def _target(data: Mapping[str, Any], where: str) -> TargetEntry:
    diameter, tstm = _size(data, "diameter_mm", where)
    fragments = (
        tuple(
            parse_mm(v, f"{where}.fragments_mm[{i}]")
            for i, v in enumerate(_list(data, "fragments_mm", where))
        )
        if "fragments_mm" in data
        else ()
    )
    coalesced = data.get("coalesced_into")
    if coalesced is not None and (not isinstance(coalesced, str) or not coalesced.strip()):
        raise CaseFormatError(
            _join(where, "coalesced_into"), f"expected a lesion id, got {coalesced!r}"
        )
    if fragments and coalesced:
        raise CaseFormatError(where, "a target cannot be both split (fragments_mm) and coalesced")
    if tstm and (fragments or coalesced):
        raise CaseFormatError(
            _join(where, "diameter_mm"),
            "TSTM cannot be combined with fragments_mm or coalesced_into",
        )
    nodal = _bool(data, "nodal", where, False)
    short = long = None
    if "short_axis_mm" in data or "long_axis_mm" in data:
        short, long = _other_axis(data, where, nodal, diameter)
    return TargetEntry(
        id=_text(data, "id", where, "lesion_id"),
        organ=_text(data, "organ", where, "organ", default="unspecified"),
        nodal=nodal,
        diameter_um=diameter,
        tstm=tstm,
        fragments_um=fragments,
        coalesced_into=coalesced,
        location=_location(data, where) if data.get("location") else "",
        short_axis_um=short,
        long_axis_um=long,
        image=image_from_dict(data, where) if "image" in data else None,
    )


def _other_axis(
    data: Mapping[str, Any], where: str, nodal: bool, diameter: int | None
) -> tuple[int | None, int | None]:
    """(short, long) axis of a target besides its diameter: the short one of a non-nodal
    target, the long one of a node; the axis that is the diameter must not differ from it."""
    short = _optional_mm(data, "short_axis_mm", where)
    long = _optional_mm(data, "long_axis_mm", where)
    if nodal:
        same, same_key, other, other_key = short, "short_axis_mm", long, "long_axis_mm"
    else:
        same, same_key, other, other_key = long, "long_axis_mm", short, "short_axis_mm"
    if same is not None and same != diameter:
        kind = "nodal target's short" if nodal else "non-nodal target's long"
        raise CaseFormatError(
            _join(where, same_key),
            f"a {kind} axis is its diameter_mm; leave {same_key} out or make it equal",
        )
    if other is not None and diameter is not None:
        if nodal and other < diameter:
            raise CaseFormatError(
                _join(where, other_key), "is shorter than the short axis (diameter_mm)"
            )
        if not nodal and other > diameter:
            raise CaseFormatError(
                _join(where, other_key), "is longer than the long axis (diameter_mm)"
            )
    return (None, other) if nodal else (other, None)


_NON_TARGET_OTHER_KEYS = frozenset(("short_axis_mm", "long_axis_mm", "location", "image"))
_STATUS = {s.value: s for s in LesionStatus}


def _simple_non_target(data: dict[str, Any]) -> NonTargetEntry | None:
    """The non-target of a plain ``{id, organ, status, nodal}`` object, or None (general path)."""
    if not _NON_TARGET_OTHER_KEYS.isdisjoint(data):
        return None
    ident: Any = data.get("id")  # checked by _plain_lesion
    organ = data.get("organ", "unspecified")
    nodal = data.get("nodal", False)
    status = data.get("status")
    status = _STATUS.get(status) if type(status) is str else None
    if not (status is not None and _plain_lesion(ident, organ, nodal)):
        return None
    return _fast_non_target(ident, organ, status, nodal, None)


def _fast_non_target(
    ident: str, organ: str, status: LesionStatus, nodal: bool, short_axis_um: int | None
) -> NonTargetEntry:
    """A plain non-target whose values the caller checked, built without ``__init__``."""
    if _NON_TARGET_BUILDER is None:  # pragma: no cover - see _builder
        return NonTargetEntry(ident, organ, status, nodal, short_axis_um)
    entry = _new(_NON_TARGET_BUILDER)
    entry.id = ident
    entry.organ = organ
    entry.status = status
    entry.nodal = nodal
    entry.short_axis_um = short_axis_um
    entry.location = ""
    entry.long_axis_um = None
    entry.image = None
    entry.__class__ = NonTargetEntry
    return entry  # type: ignore[no-any-return]  # a NonTargetEntry now (see _builder)


def _non_target(data: Mapping[str, Any], where: str) -> NonTargetEntry:
    return NonTargetEntry(
        id=_text(data, "id", where, "lesion_id"),
        organ=_text(data, "organ", where, "organ", default="unspecified"),
        status=_status(data, where, None),
        nodal=_bool(data, "nodal", where, False),
        short_axis_um=_optional_mm(data, "short_axis_mm", where),
        location=_location(data, where) if data.get("location") else "",
        long_axis_um=_optional_mm(data, "long_axis_mm", where),
        image=image_from_dict(data, where) if "image" in data else None,
    )


def _new_lesion(data: Mapping[str, Any], where: str) -> NewLesionEntry:
    diameter, tstm = _size(data, "diameter_mm", where)
    status = _status(data, where, LesionStatus.PRESENT)
    if tstm and status is not LesionStatus.PRESENT:
        raise CaseFormatError(_join(where, "diameter_mm"), "TSTM needs status present")
    return NewLesionEntry(
        id=_text(data, "id", where, "lesion_id"),
        organ=_text(data, "organ", where, "organ", default="unspecified"),
        nodal=_bool(data, "nodal", where, False),
        equivocal=_bool(data, "equivocal", where, False),
        diameter_um=diameter,
        tstm=tstm,
        status=status,
        short_axis_um=_optional_mm(data, "short_axis_mm", where),
        location=_location(data, where) if data.get("location") else "",
        image=image_from_dict(data, where) if "image" in data else None,
    )


def _entries(
    data: Mapping[str, Any], key: str, where: str, parse: Any, fast: Any = None
) -> tuple[Any, ...]:
    """Parse a list of lesions; ``fast(item)`` (or None) is tried first on plain objects."""
    items = _list(data, key, where)
    if not items:
        return ()
    entries = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        entry = fast(item) if fast is not None and type(item) is dict else None
        if entry is None:
            item_where = f"{where}.{key}[{i}]"
            entry = parse(_mapping(item, item_where), item_where)
        if entry.id in seen:
            raise CaseFormatError(f"{where}.{key}[{i}].id", f"lesion {entry.id!r} is listed twice")
        seen.add(entry.id)
        entries.append(entry)
    return tuple(entries)


# -- the common timepoint, fast ----------------------------------------------------------
# A timepoint whose lesions are plain (targets {id, organ, nodal, diameter_mm} with a number
# or null, non-targets {id, organ, status, nodal, short_axis_mm}, new lesions {id, organ,
# nodal, equivocal, diameter_mm, status}) is checked and built in this one function: the
# checks of the general path inline, no helper call per lesion or field, the objects made
# by the builders (see _builder), and the ids collected on the way (they are the derived
# target_ids and non_target_ids, so no __post_init__ walk) and checked for duplicates at
# the end.  Anything else, or any value the general path would refuse, gives None and the
# general path parses the timepoint again from the start (and says what is wrong): the fast
# path never raises, and builds only what the general path builds
# (tests/recist/test_case_parse_fast.py checks both ways).
_NON_TARGET_FAST_OTHER_KEYS = frozenset(("long_axis_mm", "location", "image"))
_NEW_LESION_OTHER_KEYS = frozenset(("short_axis_mm", "location", "image"))
_NEW_LESION_FIELDS = (
    "id",
    "organ",
    "nodal",
    "equivocal",
    "diameter_um",
    "tstm",
    "status",
    "short_axis_um",
    "location",
    "image",
)
_LABEL_MAX = MAX_LENGTH["label"]
_MODALITY_MAX = MAX_LENGTH["modality"]
_CONTRAST_PHASE_MAX = MAX_LENGTH["contrast_phase"]
_PRESENT = LesionStatus.PRESENT
_fromisoformat = date.fromisoformat
_NEW_LESION_BUILDER = _builder(NewLesionEntry, _NEW_LESION_FIELDS)
_FAST_TIMEPOINTS = None not in (
    _TARGET_BUILDER,
    _NON_TARGET_BUILDER,
    _NEW_LESION_BUILDER,
    _TIMEPOINT_BUILDER,
)


def _simple_timepoint(data: dict[str, Any]) -> CaseTimepoint | None:
    """The timepoint of a plain object (see above), or None (general path)."""
    if not _FAST_TIMEPOINTS:  # pragma: no cover - see _builder
        return None
    get = data.get
    label = get("label")
    if not (
        type(label) is str and len(label) <= _LABEL_MAX and label.isprintable() and label.strip()
    ):
        return None
    when = get("date")
    if when is not None:
        if type(when) is not str:
            return None
        try:
            when = _fromisoformat(when)
        except ValueError:
            return None
    thickness = get("slice_thickness_mm")
    if thickness is not None:
        if type(thickness) is int and 0 <= thickness <= _MAX_MM:
            thickness *= UM_PER_MM
        elif type(thickness) is float and 0 <= thickness <= _MAX_MM:
            thickness = round(thickness * UM_PER_MM)
        else:
            return None
    modality = get("modality")
    if modality is not None and not (
        type(modality) is str and len(modality) <= _MODALITY_MAX and modality.isprintable()
    ):
        return None
    phase = get("contrast_phase")
    if phase is not None and not (
        type(phase) is str and len(phase) <= _CONTRAST_PHASE_MAX and phase.isprintable()
    ):
        return None
    cycle = get("cycle")
    if cycle is not None and not (type(cycle) is int and cycle >= 0):
        return None
    raw_targets = get("targets")
    raw_non_targets = get("non_targets")
    raw_new = get("new_lesions")
    if not (
        (raw_targets is None or type(raw_targets) is list)
        and (raw_non_targets is None or type(raw_non_targets) is list)
        and (raw_new is None or type(raw_new) is list)
    ):
        return None
    new = _new
    targets = []
    target_ids = []
    if raw_targets:
        fast_target = _fast_target
        other = _TARGET_OTHER_KEYS
        for item in raw_targets:
            if type(item) is not dict or not other.isdisjoint(item):
                return None
            ident: Any = item.get("id")  # checked by _plain_lesion
            organ = item.get("organ", "unspecified")
            nodal = item.get("nodal", False)
            diameter = item.get("diameter_mm")
            if not _plain_lesion(ident, organ, nodal):
                return None
            diameter = _plain_um(diameter)
            if diameter is _NOT_PLAIN:
                return None
            targets.append(fast_target(ident, organ, nodal, diameter))
            target_ids.append(ident)
    non_targets = []
    non_target_ids = []
    if raw_non_targets:
        fast_non_target = _fast_non_target
        other = _NON_TARGET_FAST_OTHER_KEYS
        for item in raw_non_targets:
            if type(item) is not dict or not other.isdisjoint(item):
                return None
            ident = item.get("id")
            organ = item.get("organ", "unspecified")
            nodal = item.get("nodal", False)
            status = item.get("status")
            short = item.get("short_axis_mm")
            if not (type(status) is str and _plain_lesion(ident, organ, nodal)):
                return None
            status = _STATUS.get(status)
            if status is None:
                return None
            short = _plain_um(short)
            if short is _NOT_PLAIN:
                return None
            non_targets.append(fast_non_target(ident, organ, status, nodal, short))
            non_target_ids.append(ident)
    new_lesions = []
    new_ids = []
    if raw_new:
        builder = _NEW_LESION_BUILDER
        other = _NEW_LESION_OTHER_KEYS
        for item in raw_new:
            if type(item) is not dict or not other.isdisjoint(item):
                return None
            ident = item.get("id")
            organ = item.get("organ", "unspecified")
            nodal = item.get("nodal", False)
            equivocal = item.get("equivocal", False)
            diameter = item.get("diameter_mm")
            status = item.get("status")
            if not (
                _plain_lesion(ident, organ, nodal) and (equivocal is False or equivocal is True)
            ):
                return None
            if status is None:
                status = _PRESENT
            else:
                status = _STATUS.get(status) if type(status) is str else None
                if status is None:
                    return None
            diameter = _plain_um(diameter)
            if diameter is _NOT_PLAIN:
                return None
            lesion = new(builder)
            lesion.id = ident
            lesion.organ = organ
            lesion.nodal = nodal
            lesion.equivocal = equivocal
            lesion.diameter_um = diameter
            lesion.tstm = False
            lesion.status = status
            lesion.short_axis_um = None
            lesion.location = ""
            lesion.image = None
            lesion.__class__ = NewLesionEntry
            new_lesions.append(lesion)
            new_ids.append(ident)
    if (
        (len(target_ids) > 1 and len(set(target_ids)) != len(target_ids))
        or (len(non_target_ids) > 1 and len(set(non_target_ids)) != len(non_target_ids))
        or (len(new_ids) > 1 and len(set(new_ids)) != len(new_ids))
    ):
        return None  # a lesion listed twice: the general path names it
    timepoint = new(_TIMEPOINT_BUILDER)
    timepoint.label = label
    timepoint.date = when
    timepoint.targets = tuple(targets)
    timepoint.non_targets = tuple(non_targets)
    timepoint.new_lesions = tuple(new_lesions)
    timepoint.slice_thickness_um = thickness
    timepoint.modality = modality
    timepoint.contrast_phase = phase
    timepoint.cycle = cycle
    timepoint.target_ids = tuple(target_ids)  # what __post_init__ derives
    timepoint.non_target_ids = tuple(non_target_ids)
    timepoint.__class__ = CaseTimepoint
    return timepoint  # type: ignore[no-any-return]  # a CaseTimepoint now (see _builder)


def _timepoint(data: Mapping[str, Any], where: str) -> CaseTimepoint:
    cycle = data.get("cycle")
    values = (
        _text(data, "label", where, "label"),
        _date(data, "date", where, required=False),
        _entries(data, "targets", where, _target, _simple_target),
        _entries(data, "non_targets", where, _non_target, _simple_non_target),
        _entries(data, "new_lesions", where, _new_lesion),
        _optional_mm(data, "slice_thickness_mm", where),
        _optional_text(data, "modality", where) if "modality" in data else None,
        _optional_text(data, "contrast_phase", where) if "contrast_phase" in data else None,
        None if cycle is None else _int(data, "cycle", where, None),
    )
    return CaseTimepoint(*values)


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CaseFormatError(_join(where, key), f"expected a string, got {value!r}")
    problem = text_problem(value, key)
    if problem is not None:
        raise CaseFormatError(_join(where, key), problem)
    return value


def _check_categories(timepoints: Sequence[CaseTimepoint]) -> None:
    """Once target always target: a lesion keeps the category it was given first."""
    base = timepoints[0]
    if base.new_lesions:
        raise CaseFormatError(
            "timepoints[0].new_lesions[0].id", "the baseline cannot have new lesions"
        )
    kind_of = dict.fromkeys(base.target_ids, "targets")
    kind_of.update(dict.fromkeys(base.non_target_ids, "non_targets"))
    if len(kind_of) != len(base.target_ids) + len(base.non_target_ids):
        both = sorted(set(base.target_ids) & set(base.non_target_ids))
        index = base.non_target_ids.index(both[0])
        raise CaseFormatError(
            f"timepoints[0].non_targets[{index}].id",
            f"lesion {both[0]!r} is listed as a target and as a non-target",
        )
    base_targets, base_non_targets = base.target_ids, base.non_target_ids
    for t in range(1, len(timepoints)):
        tp = timepoints[t]
        new_ids = [n.id for n in tp.new_lesions]
        if tp.target_ids == base_targets and tp.non_target_ids == base_non_targets:
            # the usual follow-up: the baseline's lesions, each in its baseline category
            if not new_ids:
                continue
            lists: tuple[tuple[str, Sequence[str]], ...] = (("new_lesions", new_ids),)
        else:
            lists = (
                ("targets", tp.target_ids),
                ("non_targets", tp.non_target_ids),
                ("new_lesions", new_ids),
            )
        for key, ids in lists:
            for i, lesion in enumerate(ids):
                first = kind_of.setdefault(lesion, key)
                if first == key:
                    continue
                raise CaseFormatError(
                    f"timepoints[{t}].{key}[{i}].id",
                    f"lesion {lesion!r} was first listed under {first}; a lesion keeps "
                    "its category at every timepoint (once target, always target)",
                )
            if key != "new_lesions" and ids != base_ids(base, key):
                for i, lesion in enumerate(ids):
                    if kind_of.get(lesion) == key and lesion not in base_ids(base, key):
                        raise CaseFormatError(
                            f"timepoints[{t}].{key}[{i}].id",
                            f"{key[:-1].replace('_', '-')} {lesion!r} is not in the baseline; "
                            "targets and non-targets are chosen at baseline "
                            "(list it under new_lesions)",
                        )


def timepoint_problem(
    timepoints: Sequence[tuple[str, date | None]],
) -> tuple[int, str, str] | None:
    """The first timepoint a timeline cannot hold, as ``(index, field, message)``.

    The first entry is the baseline.  A timepoint dated before the baseline is
    refused (it would be read as a follow-up of a later scan), and so is a
    label used twice, compared without case and surrounding spaces (the two
    would be confused in reports and exports).  Dates out of order after the
    baseline stay a warning (W20, rules.md §11 item 20).

    Parameters
    ----------
    timepoints : sequence of (label, date or None)
        In timeline order, baseline first.

    Returns
    -------
    tuple of (int, str, str) or None
        Index of the timepoint, the field at fault (``"label"`` or ``"date"``)
        and what is wrong with what to do instead; None when all is well.
    """
    if not timepoints:
        return None
    base_label, base_date = timepoints[0]
    first_use: dict[str, int] = {}
    for i, (label, when) in enumerate(timepoints):
        key = label.strip().casefold()
        if key in first_use:
            return (
                i,
                "label",
                (
                    f"label {label.strip()!r} is already used by timepoints[{first_use[key]}]; "
                    "give each timepoint its own label (e.g. C3, C6)"
                ),
            )
        first_use[key] = i
        if i and when is not None and base_date is not None and when < base_date:
            return (
                i,
                "date",
                (
                    f"{when} is before the baseline {base_date} ({base_label.strip()}); "
                    "correct the date, or record this scan as the baseline"
                ),
            )
    return None


def base_ids(tp: CaseTimepoint, key: str) -> tuple[str, ...]:
    """Ids of the baseline targets or non-targets."""
    return tp.target_ids if key == "targets" else tp.non_target_ids


def _plain_case_fields(data: dict[str, Any]) -> tuple[str, bool, int, date | None] | None:
    """The case's id, confirmation_required, min_sd_days and first_dose_date when all are
    plain values the general path takes as they are (_case_fields), else None."""
    case_id = data.get("id")
    confirmation = data.get("confirmation_required", False)
    min_sd_days = data.get("min_sd_days", 42)
    first_dose = data.get("first_dose_date")
    if not (
        type(case_id) is str
        and len(case_id) <= _SUBJECT_ID_MAX
        and case_id.isprintable()
        and case_id.strip()
        and (confirmation is False or confirmation is True)
        and type(min_sd_days) is int
        and min_sd_days >= 0
    ):
        return None
    if first_dose is not None:
        if type(first_dose) is not str:
            return None
        try:
            first_dose = _fromisoformat(first_dose)
        except ValueError:
            return None
    return case_id, confirmation, min_sd_days, first_dose


def _case_fields(data: Mapping[str, Any]) -> tuple[str, bool, int, date | None]:
    """The case's id, confirmation_required, min_sd_days and first_dose_date, checked in
    this order (the first problem is the one reported)."""
    case_id = data.get("id")
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        case_id = str(case_id)
    return (
        _text({"id": case_id}, "id", "", "subject_id"),
        _bool(data, "confirmation_required", "", False),
        _int(data, "min_sd_days", "", 42) or 0,
        _date(data, "first_dose_date", "", required=False),
    )


def case_from_dict(data: Mapping[str, Any]) -> Case:
    """Build a :class:`Case` from the JSON case format of rules.md §10.

    Parameters
    ----------
    data : Mapping
        One case object (``id``, ``criteria``, ``confirmation_required``,
        ``min_sd_days``, ``timepoints`` with ``label``, ``date``,
        ``slice_thickness_mm``, ``targets``, ``non_targets``, ``new_lesions``).
        Unknown keys (``source``, ``expected``) are ignored.

    Returns
    -------
    Case
        The validated case.

    Raises
    ------
    CaseFormatError
        When a field is missing or has a value that is not allowed; ``.field``
        names it, e.g. ``"timepoints[2].targets[0].diameter_mm"``.
    """
    data = _mapping(data, "")
    criteria_text = data.get("criteria", "RECIST1.1")
    criteria = _CRITERIA.get(criteria_text.strip().lower()) if type(criteria_text) is str else None
    if criteria is None:
        raise CaseFormatError("criteria", f"expected RECIST1.1 or iRECIST, got {criteria_text!r}")
    raw_timepoints = _list(data, "timepoints", "")
    if not raw_timepoints:
        raise CaseFormatError("timepoints", "at least the baseline timepoint is required")
    built: list[CaseTimepoint] = []
    for tp in raw_timepoints:
        timepoint = _simple_timepoint(tp) if type(tp) is dict else None
        if timepoint is None:
            where = f"timepoints[{len(built)}]"
            timepoint = _timepoint(_mapping(tp, where), where)
        built.append(timepoint)
    timepoints = tuple(built)
    problem = timepoint_problem([(tp.label, tp.date) for tp in timepoints])
    if problem is not None:
        index, key, message = problem
        raise CaseFormatError(f"timepoints[{index}].{key}", message)
    _check_categories(timepoints)
    case_id, confirmation, min_sd_days, first_dose = (
        type(data) is dict and _plain_case_fields(data)
    ) or _case_fields(data)
    if _CASE_BUILDER is None:  # pragma: no cover - see _builder
        return Case(case_id, timepoints, criteria, confirmation, min_sd_days, first_dose)
    case = _new(_CASE_BUILDER)  # Case(...) without its __init__ (see _builder)
    case.id = case_id
    case.timepoints = timepoints
    case.criteria = criteria
    case.confirmation_required = confirmation
    case.min_sd_days = min_sd_days
    case.first_dose_date = first_dose
    case.__class__ = Case
    return case  # type: ignore[no-any-return]  # a Case now (see _builder)
