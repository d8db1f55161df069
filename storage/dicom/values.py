"""Decoding header values quickly and tolerantly (numbers, codes, multi-values)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal, TypeAlias, overload

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from storage.dicom.fastheader import RawHeader

#: A header as pydicom parsed it, or as the fast walker kept it.
Header: TypeAlias = Dataset | RawHeader

_TEXT_VRS = frozenset({"DS", "IS", "UI", "CS", "DA", "TM", "AS"})
_INT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i"}


@lru_cache(maxsize=512)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag, dictionary_VR(tag)


def get_value(ds: Header, keyword: str) -> Any:
    """Value of *keyword*, decoding plain numbers and codes without pydicom's converters.

    pydicom's value conversion dominates header reading; ASCII numbers, UIDs
    and codes are decoded here directly, everything else (names and
    descriptions, which depend on the character set) goes through pydicom,
    or through the header's own ``decode_text`` when it has one.
    """
    if isinstance(ds, RawHeader):  # immutable once walked: each value is decoded once
        cache = ds.values
        if keyword in cache:
            return cache[keyword]
        value = cache[keyword] = _get_value(ds, keyword)
        return value
    return _get_value(ds, keyword)


def _get_value(ds: Header, keyword: str) -> Any:
    tag, dict_vr = _tag_and_vr(keyword)
    elem = ds.get_item(tag)
    if elem is None:
        return None
    if not isinstance(elem, RawDataElement):
        return elem.value
    vr = elem.VR or dict_vr
    raw = elem.value
    if raw is None or raw == b"":
        return None
    if vr in _TEXT_VRS:
        text = raw.decode("latin-1").strip("\x00 ")
        return text.split("\\") if "\\" in text else text
    fmt = _INT_FORMATS.get(vr)
    if fmt is not None and len(raw) % struct.calcsize(fmt) == 0:
        endian = "<" if elem.is_little_endian else ">"
        values = struct.unpack(f"{endian}{len(raw) // struct.calcsize(fmt)}{fmt}", raw)
        return values[0] if len(values) == 1 else list(values)
    if isinstance(ds, RawHeader):
        return ds.decode_text(elem)
    return ds[tag].value


def text(ds: Header, keyword: str) -> str:
    """The value as stripped text ('' when absent; several values joined by a backslash)."""
    value = get_value(ds, keyword)
    if value is None:
        return ""
    if type(value) is str:  # the common case, without the slower abstract Sequence check
        return value.strip()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "\\".join(str(v).strip() for v in value)
    return str(value).strip()


def int_or_none(ds: Header, keyword: str) -> int | None:
    """The (first) value as an int, or None when absent or not a number."""
    try:
        value = get_value(ds, keyword)
        if isinstance(value, list):
            value = value[0] if value else None
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def first_float(value: Any) -> float | None:
    """The first of one or more numeric values as a float, or None."""
    if value is None or value == "":
        return None
    if type(value) is not str and isinstance(value, Sequence):
        if len(value) == 0:
            return None
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@overload
def floats(value: Any, count: Literal[2], name: str) -> tuple[float, float] | None: ...
@overload
def floats(value: Any, count: Literal[3], name: str) -> tuple[float, float, float] | None: ...
@overload
def floats(
    value: Any, count: Literal[6], name: str
) -> tuple[float, float, float, float, float, float] | None: ...
@overload
def floats(value: Any, count: int, name: str) -> tuple[float, ...] | None: ...
def floats(value: Any, count: int, name: str) -> tuple[float, ...] | None:
    """Exactly *count* floats, None when absent; ValueError naming *name* otherwise."""
    if value is None or value == "":
        return None
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(items) != count:
        raise ValueError(f"{name} has {len(items)} values, expected {count}")
    return tuple(float(v) for v in items)
