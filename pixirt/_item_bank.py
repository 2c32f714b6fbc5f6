"""The :class:`~pixirt.ItemBank`: calibrated challenge parameters with their metadata.

An :class:`ItemBank` holds one row per item (challenge): ``item_id``, the parameters
``a`` (discrimination), ``b`` (difficulty) and ``c`` (lower asymptote, 0 unless 3PL),
their standard errors where known (``se_a``, ``se_b``, ``se_c``), the calibration
counts ``n_answers`` and ``p_correct``, and free metadata columns (competence, tube,
skill, level, type, ...) carried through untouched. It also carries the latent scale
it was calibrated on (``latent_mean``, ``latent_variance``) and the ``model``.

The parameterization is Pix's (see :mod:`pixirt.models`): ``P = c + (1 − c) /
(1 + exp(−a (θ − b)))``, no 1.7 constant. mirt's slope-intercept intercept is
``d = −a·b``.

A bank is immutable: every accessor returns a copy or a read-only view. Its ``hash``
is a SHA-256 of its canonical JSON content, so a session or a result can name the
exact bank it used.

File formats (:meth:`ItemBank.read`, :meth:`ItemBank.write`, chosen by suffix):

- ``.csv``: one header line, then one row per item, readable by ``pd.read_csv`` and
  R's ``read.csv`` with their defaults. The scale is carried in three last columns,
  ``irt_model``, ``latent_mean`` and ``latent_variance`` (the same value on every
  row; read back into the bank's scale, not kept as metadata); a CSV without them is
  read with the standard N(0, 1) scale and the model inferred from the parameters.
  The first line ``# pixirt-item-bank {...}`` of banks written before is still read.
  R's ``NA`` is a missing value. mirt's coefficient tables (``a1``/``d``/``g``/``u``
  or ``a``/``b``/``g``/``u``, item names in an unnamed first column as R's
  ``write.csv`` puts them) are read as such: see :meth:`ItemBank.from_mirt`,
  :meth:`ItemBank.to_mirt` and :meth:`ItemBank.write_mirt`. Floats are written with
  17 significant digits, so the round trip is exact. Codes such as ``competence``
  ``1.1`` stay strings.
- ``.parquet``: the columns with their types; the scale in the schema metadata.
- ``.json``: :meth:`ItemBank.to_dict`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import models
from pixirt._atomic_files import atomic_write
from pixirt._bank_columns import (
    _CSV_MAGIC,
    _FLOAT_COLUMNS,
    _INT_RE,
    PARAMETER_COLUMNS,
    SCALE_COLUMNS,
    STANDARD_COLUMNS,
    FloatArray,
    _from_mirt_columns,
    _infer_metadata_column,
    _is_mirt,
    _json_value,
    _numeric_ids,
    _parse_float_column,
    _restore_column,
    _scale_from_columns,
    _scale_kwargs,
    ids_as_given,
)
from pixirt.exceptions import DataError
from pixirt.models import Model


class ItemBank:
    """An immutable bank of calibrated items.

    Build one with :meth:`from_frame`, :meth:`from_dict` or :meth:`read`; calibration
    and :func:`pixirt.simulation.pix_like_bank` return one.

    Parameters
    ----------
    frame
        One row per item with at least ``item_id``, ``a`` and ``b`` (see
        :meth:`from_frame`, which this delegates to).
    model
        ``"Rasch"``, ``"1PL"``, ``"2PL"`` or ``"3PL"``; inferred when None.
    latent_mean, latent_variance
        The latent scale the parameters were calibrated on.
    """

    __slots__ = (
        "_a",
        "_b",
        "_c",
        "_derived",
        "_frame",
        "_hash",
        "_index",
        "_latent_mean",
        "_latent_variance",
        "_model",
    )

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        model: Model | None = None,
        latent_mean: float = 0.0,
        latent_variance: float = 1.0,
        path: str | None = None,
    ) -> None:
        clean = self._validate(frame, path=path)
        if model is None:
            model = self._infer_model(clean)
        if model not in get_args(Model):
            raise DataError(
                f"model must be one of {', '.join(get_args(Model))}, got {model!r}",
                path=path,
                field="model",
            )
        if not (
            math.isfinite(latent_mean) and math.isfinite(latent_variance) and latent_variance > 0
        ):
            raise DataError(
                f"latent scale must be finite with a positive variance, got mean {latent_mean!r}, variance {latent_variance!r}",
                path=path,
                field="latent_variance",
            )
        self._frame = clean
        self._model: Model = model
        self._latent_mean = float(latent_mean)
        self._latent_variance = float(latent_variance)
        arrays = {}
        for col in PARAMETER_COLUMNS:
            arr = clean[col].to_numpy(dtype=np.float64, copy=True)
            arr.setflags(write=False)
            arrays[col] = arr
        self._a, self._b, self._c = arrays["a"], arrays["b"], arrays["c"]
        self._index = pd.Index(clean["item_id"].to_numpy())
        self._derived: dict[str, Any] = {}
        self._hash = hashlib.sha256(
            json.dumps(self.to_dict(include_hash=False), sort_keys=True, allow_nan=False).encode()
        ).hexdigest()

    # ------------------------------------------------------------------ building
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        model: Model | None = None,
        latent_mean: float = 0.0,
        latent_variance: float = 1.0,
    ) -> ItemBank:
        """Build a bank from a DataFrame with one row per item.

        Parameters
        ----------
        df
            Columns ``item_id``, ``a``, ``b`` (required; ``a`` may be omitted for a Rasch
            bank, meaning 1), optionally ``c``, ``se_a``, ``se_b``, ``se_c``,
            ``n_answers``, ``p_correct``, and any metadata columns.
        model
            The IRT model; inferred when None (3PL if any c > 0, Rasch if every a is 1,
            else 2PL).
        latent_mean, latent_variance
            The latent scale of the calibration.

        Returns
        -------
        ItemBank
            The validated bank.

        Raises
        ------
        DataError
            On a missing column, a missing or non-numeric parameter, a non-finite ``a``
            or ``b``, ``c`` outside [0, 1) or duplicate ids, naming the row and field.
            A negative slope is held (mirt's estimates for a reversed item, for scoring
            and diagnostics); the v3 engine refuses it at ``start``.
        """
        return cls(df, model=model, latent_mean=latent_mean, latent_variance=latent_variance)

    @staticmethod
    def _validate(df: pd.DataFrame, *, path: str | None) -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}", path=path)
        if len(df.columns) != len(set(map(str, df.columns))):
            raise DataError("duplicate column names", path=path)
        df = df.reset_index(drop=True)
        if "item_id" not in df.columns:
            raise DataError(
                f"missing column; columns are {list(map(str, df.columns))}",
                path=path,
                field="item_id",
            )
        if "b" not in df.columns:
            raise DataError("missing column (item difficulty)", path=path, field="b")
        out: dict[str, Any] = {"item_id": ids_as_given(df["item_id"], path=path, field="item_id")}
        ids = pd.Series(out["item_id"])
        dup = ids.duplicated(keep="first").to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0]) + 1
            raise DataError(
                f"duplicate item id {ids.iloc[row - 1]!r}", path=path, row=row, field="item_id"
            )
        n = len(df)
        for col in _FLOAT_COLUMNS:
            if col in df.columns:
                out[col] = _parse_float_column(
                    df[col], path=path, field=col, required=col in ("a", "b")
                )
            elif col == "a":
                out[col] = np.ones(n)
            elif col == "c":
                out[col] = np.zeros(n)
            else:
                out[col] = np.full(n, np.nan)
        for col, ok, message in (
            ("a", np.isfinite, "discrimination a must be finite"),
            ("b", np.isfinite, "difficulty b must be finite"),
            (
                "c",
                lambda v: np.isfinite(v) & (v >= 0) & (v < 1),
                "lower asymptote c must be in [0, 1)",
            ),
        ):
            good = ok(out[col])
            if not good.all():
                row = int(np.flatnonzero(~good)[0]) + 1
                raise DataError(
                    f"{message}, got {out[col][row - 1]!r}", path=path, row=row, field=col
                )
        if "n_answers" in df.columns:
            counts = _parse_float_column(
                df["n_answers"], path=path, field="n_answers", required=False
            )
            bad = ~np.isnan(counts) & ((counts < 0) | (counts != np.round(counts)))
            if bad.any():
                row = int(np.flatnonzero(bad)[0]) + 1
                raise DataError(
                    f"expected a count, got {counts[row - 1]!r}",
                    path=path,
                    row=row,
                    field="n_answers",
                )
            out["n_answers"] = pd.array(
                [None if np.isnan(v) else int(v) for v in counts], dtype="Int64"
            )
        else:
            out["n_answers"] = pd.array([None] * n, dtype="Int64")
        frame = pd.DataFrame({col: out[col] for col in STANDARD_COLUMNS})
        for col in df.columns:
            if col not in STANDARD_COLUMNS:
                frame[str(col)] = df[col].to_numpy(copy=True)
        return frame

    @staticmethod
    def _infer_model(frame: pd.DataFrame) -> Model:
        if (frame["c"] > 0).any():
            return "3PL"
        a = frame["a"].to_numpy()
        if len(a) and np.all(a == 1.0):
            return "Rasch"
        return "2PL"

    # ------------------------------------------------------------------ accessors
    @property
    def item_ids(self) -> npt.NDArray[Any]:
        """Item ids as given (int64 or object strings), in bank order."""
        return cast(npt.NDArray[Any], self._frame["item_id"].to_numpy(copy=True))

    @property
    def a(self) -> FloatArray:
        """Discriminations (read-only)."""
        return self._a

    @property
    def b(self) -> FloatArray:
        """Difficulties (read-only)."""
        return self._b

    @property
    def c(self) -> FloatArray:
        """Lower asymptotes (read-only; 0 unless 3PL)."""
        return self._c

    @property
    def d(self) -> FloatArray:
        """Mirt's slope-intercept intercepts ``d = −a·b``."""
        return models.to_slope_intercept(self._a, self._b)[1]

    @property
    def model(self) -> Model:
        """The IRT model of the calibration."""
        return self._model

    @property
    def latent_mean(self) -> float:
        """Mean of the latent distribution the bank was calibrated on."""
        return self._latent_mean

    @property
    def latent_variance(self) -> float:
        """Variance of the latent distribution the bank was calibrated on."""
        return self._latent_variance

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self._frame)

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the bank's canonical JSON content."""
        return self._hash

    @property
    def metadata(self) -> pd.DataFrame:
        """The free metadata columns (a copy), in bank order, indexed by ``item_id``."""
        extra = [c for c in self._frame.columns if c not in STANDARD_COLUMNS]
        out = self._frame[extra].copy()
        out.index = pd.Index(self._frame["item_id"].to_numpy(), name="item_id")
        return out

    def __len__(self) -> int:
        return self.n_items

    def __getstate__(self) -> dict[str, Any]:
        # derived structures are rebuilt where the bank is unpickled (other processes)
        return {name: getattr(self, name) for name in self.__slots__ if name != "_derived"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_derived", {})

    def derived(self, key: str, build: Callable[[], Any]) -> Any:
        """A structure derived from this (immutable) bank, built once per bank object.

        Engines use it to keep what they derive from a bank (coded metadata, lookup
        tables) with the bank itself rather than in a module-level cache.

        Parameters
        ----------
        key
            Names the structure (include the hash of any other input it depends on).
        build
            Builds it on first use.

        Returns
        -------
        Any
            The structure (shared: treat it as read-only).
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    def __repr__(self) -> str:
        extra = [c for c in self._frame.columns if c not in STANDARD_COLUMNS]
        return (
            f"ItemBank({self.n_items} items, model={self._model!r}, latent N({self._latent_mean:g}, "
            f"{self._latent_variance:g}), metadata={extra}, hash={self._hash[:12]})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ItemBank) and other._hash == self._hash

    def __hash__(self) -> int:
        return hash(self._hash)

    def to_frame(self) -> pd.DataFrame:
        """All columns as a DataFrame (a copy): the standard ones, then the metadata.

        Returns
        -------
        pandas.DataFrame
            One row per item, columns ``item_id, a, b, c, se_a, se_b, se_c, n_answers,
            p_correct`` and the metadata columns.
        """
        return self._frame.copy()

    def index_of(self, item_ids: Iterable[Any] | Any) -> npt.NDArray[np.intp]:
        """Positions of the given ids in the bank.

        Parameters
        ----------
        item_ids
            One id or a sequence of ids.

        Returns
        -------
        numpy.ndarray
            Integer positions.

        Raises
        ------
        DataError
            If an id is not in the bank.
        """
        scalar = np.isscalar(item_ids)
        wanted = pd.Index([item_ids] if scalar else list(cast(Iterable[Any], item_ids)))
        pos = self._index.get_indexer(wanted)
        if (pos < 0).any():
            missing = wanted[pos < 0][0]
            raise DataError(f"item {missing!r} is not in the bank", field="item_id")
        return cast(npt.NDArray[np.intp], pos)

    def subset(self, items: Sequence[Any] | npt.NDArray[Any]) -> ItemBank:
        """A bank with only the given items, in the given order."""
        pos = self.index_of(items)
        return ItemBank(
            self._frame.iloc[pos],
            model=self._model,
            latent_mean=self._latent_mean,
            latent_variance=self._latent_variance,
        )

    def with_parameters(
        self,
        *,
        a: npt.ArrayLike | None = None,
        b: npt.ArrayLike | None = None,
        c: npt.ArrayLike | None = None,
        model: Model | None = None,
    ) -> ItemBank:
        """A copy of the bank with new parameters (metadata kept)."""
        frame = self._frame.copy()
        for name, value in (("a", a), ("b", b), ("c", c)):
            if value is not None:
                frame[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.n_items,))
        return ItemBank(
            frame,
            model=model or self._model,
            latent_mean=self._latent_mean,
            latent_variance=self._latent_variance,
        )

    # ------------------------------------------------------------------ model
    def probability(self, theta: npt.ArrayLike, items: Sequence[Any] | None = None) -> FloatArray:
        """Probability of a correct answer, shape ``theta.shape + (n_items,)``.

        Parameters
        ----------
        theta
            Abilities (scalar or array).
        items
            Item ids to restrict to (default: all, in bank order).

        Returns
        -------
        numpy.ndarray
            ``P(correct | θ)`` per ability and item.
        """
        sel = slice(None) if items is None else self.index_of(items)
        t = np.asarray(theta, dtype=np.float64)[..., None]
        return models.probability(t, self._a[sel], self._b[sel], self._c[sel])

    def information(self, theta: npt.ArrayLike, items: Sequence[Any] | None = None) -> FloatArray:
        """Item information, shape ``theta.shape + (n_items,)``; sum the last axis for the test.

        Parameters
        ----------
        theta
            Abilities (scalar or array).
        items
            Item ids to restrict to (default: all, in bank order).

        Returns
        -------
        numpy.ndarray
            Fisher information per ability and item.
        """
        sel = slice(None) if items is None else self.index_of(items)
        t = np.asarray(theta, dtype=np.float64)[..., None]
        return models.information(t, self._a[sel], self._b[sel], self._c[sel])

    # ------------------------------------------------------------------ serialization
    def to_dict(self, *, include_hash: bool = True) -> dict[str, Any]:
        """A JSON-safe dict: model, latent scale, column types and one record per item.

        NaN and missing values become ``None``; :meth:`from_dict` restores them and
        the column types exactly.
        """
        columns = {str(col): str(self._frame[col].dtype) for col in self._frame.columns}
        records = []
        for row in self._frame.itertuples(index=False, name=None):
            records.append([_json_value(v) for v in row])
        out: dict[str, Any] = {
            "format": "pixirt-item-bank/1",
            "model": self._model,
            "latent_mean": self._latent_mean,
            "latent_variance": self._latent_variance,
            "columns": columns,
            "items": records,
        }
        if include_hash:
            out["hash"] = self._hash
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> ItemBank:
        """Rebuild a bank from :meth:`to_dict` output.

        Raises
        ------
        DataError
            If a key is missing or the content does not validate; if a ``hash`` is given
            and differs from the content's.
        """
        for key in ("model", "columns", "items"):
            if key not in data:
                raise DataError("missing key", path=path, field=key)
        columns = dict(data["columns"])
        names = list(columns)
        records = data["items"]
        for i, rec in enumerate(records):
            if len(rec) != len(names):
                raise DataError(
                    f"expected {len(names)} values, got {len(rec)}",
                    path=path,
                    row=i + 1,
                    field="items",
                )
        raw = (
            pd.DataFrame.from_records(records, columns=names)
            if records
            else pd.DataFrame(columns=names)
        )
        frame = pd.DataFrame(
            {name: _restore_column(raw[name], dtype) for name, dtype in columns.items()}
        )
        bank = cls(
            frame,
            model=data["model"],
            latent_mean=float(data.get("latent_mean", 0.0)),
            latent_variance=float(data.get("latent_variance", 1.0)),
            path=path,
        )
        expected = data.get("hash")
        if expected is not None and expected != bank.hash:
            raise DataError(
                f"content hash {bank.hash} differs from the stored hash {expected}: the bank was edited",
                path=path,
                field="hash",
            )
        return bank

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ItemBank:
        """Read a bank from ``.csv``, ``.parquet`` or ``.json`` (by suffix).

        Raises
        ------
        DataError
            If the file is missing, empty or invalid, naming the file, row and field.
        """
        p = Path(path)
        where = str(p)
        if not p.exists():
            raise DataError("no such file", path=where)
        suffix = p.suffix.lower()
        if suffix == ".json":
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", path=where, row=exc.lineno) from None
            if not isinstance(data, dict):
                raise DataError("expected a JSON object", path=where)
            return cls.from_dict(data, path=where)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            try:
                table = pq.read_table(p)
            except Exception as exc:  # pyarrow raises several types for bad files
                raise DataError(f"cannot read Parquet: {exc}", path=where) from None
            meta = json.loads((table.schema.metadata or {}).get(b"pixirt", b"{}"))
            return cls(table.to_pandas(), path=where, **_scale_kwargs(meta, where))
        if suffix == ".csv":
            return cls._read_csv(p)
        raise DataError(f"unknown bank format {suffix!r}: use .csv, .parquet or .json", path=where)

    @classmethod
    def _read_csv(cls, p: Path) -> ItemBank:
        where = str(p)
        text = p.read_text(encoding="utf-8-sig")
        if not text.strip():
            raise DataError("empty file", path=where)
        meta: dict[str, Any] = {}
        skip = 0
        first = text.split("\n", 1)[0]
        if first.startswith(_CSV_MAGIC):
            try:
                meta = json.loads(first[len(_CSV_MAGIC) :])
            except json.JSONDecodeError:
                raise DataError("unreadable pixirt header line", path=where, row=0) from None
            skip = 1
        import io

        try:
            raw = pd.read_csv(
                io.StringIO(text),
                skiprows=skip,
                dtype=str,
                keep_default_na=False,
            )
        except pd.errors.EmptyDataError:
            raise DataError("empty file", path=where) from None
        except pd.errors.ParserError as exc:
            raise DataError(f"malformed CSV: {exc}", path=where) from None
        frame = raw.copy()
        if (
            "item_id" not in frame.columns
            and len(frame.columns)
            and (str(frame.columns[0]) == "" or str(frame.columns[0]).startswith("Unnamed: 0"))
        ):
            # R's write.csv: the row names (mirt's item names) in an unnamed first column
            frame = frame.rename(columns={frame.columns[0]: "item_id"})
        scale = [col for col in SCALE_COLUMNS if col in frame.columns]
        if scale:
            meta = {**meta, **_scale_from_columns(frame, scale, where)}
            frame = frame.drop(columns=scale)
        if _is_mirt(frame.columns):
            frame = _from_mirt_columns(frame, path=where)
            for col in frame.columns:
                if col not in STANDARD_COLUMNS:
                    frame[col] = _infer_metadata_column(str(col), frame[col].astype(str))
            frame["item_id"] = _numeric_ids(frame["item_id"].astype(str))
            return cls(frame, path=where, **_scale_kwargs(meta, where))
        if "item_id" in frame.columns:
            ids = frame["item_id"]
            numeric = ids.map(lambda v: bool(_INT_RE.match(v)) and (v == str(int(v))))
            if len(ids) and numeric.all():
                frame["item_id"] = ids.map(int).astype(np.int64)
        if "n_answers" in frame.columns:
            frame["n_answers"] = frame["n_answers"].replace("", None)
        for col in frame.columns:
            if col not in STANDARD_COLUMNS:
                frame[col] = _infer_metadata_column(str(col), frame[col])
        return cls(frame, path=where, **_scale_kwargs(meta, where))

    @classmethod
    def from_mirt(
        cls,
        table: pd.DataFrame,
        *,
        model: Model | None = None,
        latent_mean: float = 0.0,
        latent_variance: float = 1.0,
    ) -> ItemBank:
        """Build a bank from mirt's item coefficients.

        Parameters
        ----------
        table
            ``coef(mod, IRTpars = TRUE, simplify = TRUE)$items`` (columns ``a``, ``b``,
            ``g``, ``u``) or the slope-intercept table (``a1``, ``d``, ``g``, ``u``;
            ``b = −d / a1``), with the item names as index or in an ``item_id``
            column, e.g. ``pd.read_csv("coef.csv", index_col=0)``. ``g`` is the lower
            asymptote ``c`` (missing: 0); ``u``, the upper asymptote, must be 1
            (missing: 1). Other columns (``se_a``, ...) are kept.
        model
            The model; inferred when None (3PL if any ``g > 0``).
        latent_mean, latent_variance
            The latent scale of the calibration (mirt's ``GroupPars``).

        Returns
        -------
        ItemBank
            The bank.

        Raises
        ------
        DataError
            On a missing or non-numeric parameter, ``u ≠ 1`` (pixirt has no 4PL), naming
            the row and field.
        """
        if not isinstance(table, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(table).__name__}")
        frame = table.copy()
        if "item_id" not in frame.columns:
            frame = frame.reset_index(names="item_id")
        return cls(
            _from_mirt_columns(frame, path=None),
            model=model,
            latent_mean=latent_mean,
            latent_variance=latent_variance,
        )

    def to_mirt(self, *, irt_pars: bool = True) -> pd.DataFrame:
        """The item parameters as mirt's coefficient table, indexed by item id.

        Parameters
        ----------
        irt_pars
            True: ``a``, ``b``, ``g``, ``u`` (``coef(mod, IRTpars = TRUE)``); False: the
            slope-intercept ``a1``, ``d = −a·b``, ``g``, ``u`` (mirt's own form, e.g.
            for ``mirt(..., pars = )``).

        Returns
        -------
        pandas.DataFrame
            One row per item; ``g`` is ``c``, ``u`` is 1.
        """
        index = pd.Index(self.item_ids, name=None)
        first, second = ("a", "b") if irt_pars else ("a1", "d")
        return pd.DataFrame(
            {
                first: self._a,
                second: self._b if irt_pars else -self._a * self._b,
                "g": self._c,
                "u": np.ones(self.n_items),
            },
            index=index,
        )

    def write_mirt(self, path: str | os.PathLike[str], *, irt_pars: bool = True) -> Path:
        """Write :meth:`to_mirt` as R's ``write.csv`` would (atomically).

        The item names fill an unnamed first column: ``read.csv(path, row.names = 1)``
        in R, ``pd.read_csv(path, index_col=0)`` or :meth:`read` here.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        p = Path(path)
        table = self.to_mirt(irt_pars=irt_pars)

        def write_csv(tmp: Path) -> None:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                table.to_csv(fh, index_label="", float_format="%.17g", lineterminator="\n")

        atomic_write(p, write_csv)
        return p

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the bank atomically (temporary file, then rename); format by suffix.

        Parameters
        ----------
        path
            Destination ending in ``.csv``, ``.parquet`` or ``.json``.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        p = Path(path)
        suffix = p.suffix.lower()
        meta = {
            "model": self._model,
            "latent_mean": self._latent_mean,
            "latent_variance": self._latent_variance,
        }
        if suffix == ".json":
            payload = json.dumps(self.to_dict(), indent=1, allow_nan=False)
            atomic_write(p, lambda tmp: tmp.write_text(payload + "\n", encoding="utf-8"))
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self._frame, preserve_index=False)
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"pixirt": json.dumps(meta).encode()}
            )
            atomic_write(p, lambda tmp: pq.write_table(table, tmp))
        elif suffix == ".csv":
            out = self._frame.copy()
            out["irt_model"] = self._model
            out["latent_mean"] = self._latent_mean
            out["latent_variance"] = self._latent_variance

            def write_csv(tmp: Path) -> None:
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    out.to_csv(fh, index=False, float_format="%.17g", lineterminator="\n")

            atomic_write(p, write_csv)
        else:
            raise DataError(
                f"unknown bank format {suffix!r}: use .csv, .parquet or .json", path=str(p)
            )
        return p
