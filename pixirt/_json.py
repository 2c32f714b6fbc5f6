"""The one JSON convention of pixirt, and a generic ``to_dict``/``from_dict`` for dataclasses.

Writing (:func:`json_value`, :func:`to_dict`):

- finite floats are numbers; ``+inf``/``-inf`` are the strings ``"inf"``/``"-inf"``;
  NaN is ``null``;
- numpy scalars and arrays become Python numbers and lists; tuples become lists;
- dates and datetimes are ISO strings; enums their value;
- a dataclass becomes an object of its fields, in declaration order (or its own
  ``to_dict()`` when it has one).

Reading (:func:`decode_float`, :func:`from_dict`) is the inverse, and also accepts what
older versions wrote: ``null`` for an infinite value read as NaN as before, and the
spellings ``"Infinity"``/``"-Infinity"``/``"+inf"``/``"NaN"`` (and the bare ``Infinity``
and ``NaN`` tokens of Python's :mod:`json`, which arrive as floats).

:func:`from_dict` follows the field annotations: ``float`` (the convention above),
``int``, ``bool``, ``str``, ``X | None``, ``Literal[...]``, ``tuple[X, ...]``,
``tuple[X, Y]``, ``Mapping[str, X]``, ``date``/``datetime`` and nested dataclasses (their
own ``from_dict`` when they have one). Errors are :class:`~pixirt.exceptions.DataError`
naming the field path (``history[3][1]``, ``profile.1.1.level``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, TypeVar, get_args, get_origin

import numpy as np

from pixirt.exceptions import DataError

__all__ = ["decode_float", "encode_float", "from_dict", "json_value", "to_dict"]

T = TypeVar("T")

#: Strings read as floats (case-insensitive), beside numbers and ``null``.
_FLOAT_WORDS = {
    "inf": math.inf,
    "+inf": math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-inf": -math.inf,
    "-infinity": -math.inf,
    "nan": math.nan,
}


def encode_float(value: float) -> float | str | None:
    """A float in the one convention: a number, ``"inf"``/``"-inf"``, or None for NaN.

    Examples
    --------
    >>> encode_float(1.5), encode_float(float("inf")), encode_float(float("-inf"))
    (1.5, 'inf', '-inf')
    >>> encode_float(float("nan")) is None
    True
    """
    v = float(value)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def decode_float(value: Any, *, field: str | None = None, path: str | None = None) -> float:
    """Read a float written by :func:`encode_float` (or by an older version).

    ``None`` is NaN; ``"inf"``, ``"-inf"``, ``"Infinity"``, ``"NaN"`` ... are read;
    numbers (not booleans) are converted.

    Raises
    ------
    DataError
        Naming ``field`` (and ``path``) when the value is none of these.

    Examples
    --------
    >>> decode_float("inf"), decode_float("-Infinity"), decode_float(2)
    (inf, -inf, 2.0)
    """
    if value is None:
        return math.nan
    if isinstance(value, str):
        word = _FLOAT_WORDS.get(value.strip().lower())
        if word is not None:
            return word
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return float(value)
    raise DataError(
        f'expected a number, "inf", "-inf" or null, got {value!r}', path=path, field=field
    )


def json_value(value: Any) -> Any:
    """``value`` made JSON-safe by the one convention (recursively).

    Examples
    --------
    >>> json_value({"se": (0.5, float("inf")), "n": np.int64(3), "x": float("nan")})
    {'se': [0.5, 'inf'], 'n': 3, 'x': None}
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, bool | str):
            return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        own = getattr(value, "to_dict", None)
        return own() if callable(own) else to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if type(value).__name__ == "NAType":  # pandas.NA
        return None
    return value


def to_dict(obj: Any, *, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """A dataclass instance as a JSON-safe dict of its fields, in declaration order.

    Parameters
    ----------
    obj
        A dataclass instance.
    exclude
        Field names left out.

    Returns
    -------
    dict
        ``{field: json_value(value)}``; accepted back by :func:`from_dict`.
    """
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"expected a dataclass instance, got {type(obj).__name__}")
    return {
        f.name: json_value(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in exclude
    }


def _where(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _hints(cls: type) -> dict[str, Any]:
    """Field annotations, resolved; an annotation that cannot be resolved is ``Any``."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        pass
    module = sys.modules.get(cls.__module__)
    namespace = dict(vars(module)) if module is not None else {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = f.type
        if isinstance(tp, str):
            try:
                tp = eval(tp, namespace)
            except Exception:  # a TYPE_CHECKING-only name: read as is
                tp = Any
        out[f.name] = tp
    return out


def from_dict(
    cls: type[T],
    data: Any,
    *,
    path: str | None = None,
    where: str = "",
    exclude: Sequence[str] = (),
) -> T:
    """Build the dataclass ``cls`` from a mapping (the inverse of :func:`to_dict`).

    Parameters
    ----------
    cls
        A dataclass.
    data
        ``{field: value}``; fields with a default may be missing; unknown fields are an
        error.
    path
        The file the data came from, for error messages.
    where
        The field path of ``data`` inside a larger document, prefixed to error fields.
    exclude
        Fields never read (they keep their default).

    Returns
    -------
    cls
        The instance (its ``__post_init__`` checks run as usual).

    Raises
    ------
    DataError
        On a missing, unknown or ill-typed field, naming it.
    """
    if not isinstance(data, Mapping):
        raise DataError(
            f"expected an object, got {type(data).__name__}", path=path, field=where or None
        )
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name not in exclude]  # type: ignore[arg-type]
    names = {f.name for f in fields}
    unknown = sorted(str(k) for k in data if k not in names)
    if unknown:
        raise DataError(f"unknown field(s) {unknown}", path=path, field=_where(where, unknown[0]))
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields:
        name = _where(where, f.name)
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DataError("missing required field", path=path, field=name)
            continue
        kwargs[f.name] = _decode(hints.get(f.name, Any), data[f.name], name, path)
    try:
        return cls(**kwargs)
    except DataError as exc:
        if exc.path is None and where:
            field = _where(where, exc.field) if exc.field else where
            raise DataError(exc.message, path=path, row=exc.row, field=field) from None
        if exc.path is None and path is not None:
            raise DataError(exc.message, path=path, row=exc.row, field=exc.field) from None
        raise
    except (TypeError, ValueError) as exc:
        raise DataError(str(exc), path=path, field=where or None) from None


def _fail(expected: str, value: Any, field: str, path: str | None) -> DataError:
    return DataError(f"expected {expected}, got {value!r}", path=path, field=field)


def _decode(tp: Any, value: Any, field: str, path: str | None) -> Any:
    if tp is Any or tp is object:
        return value
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        error: DataError | None = None
        for option in options:
            try:
                return _decode(option, value, field, path)
            except DataError as exc:
                error = error or exc
        assert error is not None
        raise error
    if origin is Literal:
        if value not in args:
            raise _fail("one of " + "/".join(map(str, args)), value, field, path)
        return value
    if origin in (tuple, Sequence, list) or tp in (tuple, list):
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise _fail("a list", value, field, path)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _fail(f"a list of {len(args)} values", value, field, path)
            return tuple(
                _decode(a, v, f"{field}[{i}]", path)
                for i, (a, v) in enumerate(zip(args, value, strict=True))
            )
        item = args[0] if args else Any
        items = [_decode(item, v, f"{field}[{i}]", path) for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _fail("an object", value, field, path)
        item = args[1] if len(args) == 2 else Any
        return {k: _decode(item, v, f"{field}.{k}", path) for k, v in value.items()}
    if tp is float:
        return decode_float(value, field=field, path=path)
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail("true or false", value, field, path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail("an integer", value, field, path)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _fail("a string", value, field, path)
        return value
    if tp is datetime or tp is date:
        if isinstance(value, tp):
            return value
        try:
            return tp.fromisoformat(value)
        except (TypeError, ValueError):
            raise _fail("an ISO date", value, field, path) from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if "from_dict" in tp.__dict__:  # its own reader (extra checks, other shapes)
            reader: Any = tp
            try:
                return reader.from_dict(value)
            except DataError as exc:
                if exc.path is not None:
                    raise
                sub = _where(field, exc.field) if exc.field else field
                raise DataError(exc.message, path=path, row=exc.row, field=sub) from None
        return from_dict(tp, value, path=path, where=field)
    return value
