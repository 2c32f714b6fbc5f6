"""Simulation results, in memory or in the Parquet dataset of a run on a Dask cluster.

:class:`SimulationResult` holds the rows of a local run, or reads a :class:`Dataset`
lazily.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pixirt._renamed import renamed
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    import pyarrow as pa


#: The manifest of a dataset (ignored by Parquet readers: its name starts with ``_``).
MANIFEST = "_pixirt.json"
_FORMAT = "pixirt-simulation-dataset"
_FORMAT_VERSION = 1


# ====================================================================== reading
@dataclass(frozen=True, slots=True)
class Dataset:
    """A finished simulation dataset: the manifest and the parts, read column by column.

    Attributes
    ----------
    path
        The directory.
    manifest
        The parsed ``_pixirt.json``.
    """

    path: Path
    manifest: dict[str, Any]

    @property
    def n(self) -> int:
        """Rows (candidates)."""
        return int(self.manifest["n"])

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in the order of the local run's frame."""
        return tuple(self.manifest["columns"])

    @property
    def parts(self) -> tuple[Path, ...]:
        """The part files, in candidate order."""
        return tuple(self.path / p["file"] for p in self.manifest["parts"])

    def tables(self, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """The parts one at a time as Arrow tables, holding only ``columns`` (all if None)."""
        import pyarrow.parquet as pq

        cols = self._check(columns)
        for part in self.parts:
            yield pq.read_table(part, columns=cols)

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows as a DataFrame, holding only ``columns``.

        Each part becomes the frame of its chunk (the pandas types recorded in the part)
        and the parts are concatenated as the local run concatenates its chunks: the
        result equals the local run's frame (same ``chunk_size``), types included.
        """
        frames = [_chunk_frame(table) for table in self.tables(columns)]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def list_counts(self, column: str) -> pd.Series:
        """Occurrences of each value of a list column (None left out), in order of first appearance."""
        import pyarrow.compute as pc

        counts: dict[Any, int] = {}
        for table in self.tables([column]):
            flat = pc.drop_null(pc.list_flatten(table.column(column)))
            if len(flat) == 0:
                continue
            vc = pc.value_counts(flat)
            for value, count in zip(
                vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
            ):
                counts[value] = counts.get(value, 0) + int(count)
        index = pd.Index(list(counts), name=column)
        return pd.Series(np.fromiter(counts.values(), np.int64, len(counts)), index=index)

    def result(self) -> SimulationResult:
        """The :class:`~pixirt.simulation.SimulationResult` reading this dataset lazily."""
        m = self.manifest
        return SimulationResult(
            None,
            rules_id=str(m["rules_id"]),
            rules_hash=str(m["rules_hash"]),
            bank_hash=str(m["bank_hash"]),
            seed=int(m["seed"]),
            pixirt_version=str(m["pixirt_version"]),
            path=self.path,
            seconds=float(m["seconds"]),
            dataset=self,
        )

    def _check(self, columns: Sequence[str] | None) -> list[str]:
        if columns is None:
            return list(self.columns)
        cols = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in cols if c not in self.columns]
        if unknown:
            raise DataError(
                f"no column {unknown[0]!r} in the simulation dataset", path=str(self.path)
            )
        return cols


def _chunk_frame(table: pa.Table) -> pd.DataFrame:
    """A part as the chunk's frame: object columns (strings or None) come back as such."""
    frame: pd.DataFrame = table.to_pandas()
    meta = (table.schema.metadata or {}).get(b"pandas")
    if meta is None:
        return frame
    for column in json.loads(meta)["columns"]:
        name = column.get("name")
        if column.get("numpy_type") == "object" and name in frame and frame[name].dtype != object:
            values = frame[name].astype(object)
            frame[name] = values.where(values.notna(), None)
    return frame


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a simulation dataset written by a run on a Dask cluster.

    Raises
    ------
    DataError
        No manifest (not a pixirt dataset, or a run that did not finish), or a part missing.
    """
    directory = Path(path)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise DataError(
            f"no {MANIFEST}: not a pixirt simulation dataset, or its run did not finish",
            path=str(directory),
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"unreadable manifest: {exc}", path=str(manifest_path)) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise DataError("not a pixirt simulation dataset manifest", path=str(manifest_path))
    if int(manifest.get("format_version", 0)) > _FORMAT_VERSION:
        raise DataError(
            f"dataset format {manifest['format_version']} is newer than this pixirt reads "
            f"({_FORMAT_VERSION})",
            path=str(manifest_path),
        )
    dataset = Dataset(directory, manifest)
    missing = [p.name for p in dataset.parts if not p.is_file()]
    if missing:
        raise DataError(f"part {missing[0]} is missing", path=str(directory))
    return dataset


@dataclass(frozen=True, slots=True, eq=False, init=False, repr=False)
class SimulationResult:
    """Simulated certifications, one row per candidate.

    A local run holds its rows in memory; a run on a Dask cluster (``client=``) leaves
    them in its Parquet dataset (:mod:`pixirt.simulation._distributed`) and reads them
    lazily: ``frame`` loads the whole dataset on first use (then keeps it), while
    ``len()``, :meth:`select` and the summaries read only the columns they need.

    Attributes
    ----------
    frame
        Columns: ``candidate_id``, ``index``, ``group``, ``true_theta``, ``theta_<code>``
        (16), for v2 the profile ``level_<code>``/``pix_<code>``, ``challenges`` and
        ``statuses`` (lists; status None for a withdrawn challenge), ``neutralized``
        (list), ``abort_reason``, ``fraud``, ``status``, ``comment``, ``pix_score``,
        ``n_answers``, ``cert_level_<code>`` (certified levels; −1 uncertified, NaN
        none), for v3 ``capacity``, ``error_rate``, ``mesh_index``; and on every row
        ``rules_id``, ``rules_hash``, ``bank_hash``, ``pixirt_version``.
    rules_id, rules_hash, bank_hash, seed, pixirt_version
        Provenance.
    path
        The Parquet file written (local run with ``out``), the dataset directory (run on
        a cluster), or None.
    seconds
        Wall time of the run.
    """

    rules_id: str
    rules_hash: str
    bank_hash: str
    seed: int
    pixirt_version: str
    path: Path | None
    seconds: float
    _frame: pd.DataFrame | None
    _dataset: Any  # pixirt.simulation._distributed.Dataset | None

    def __init__(
        self,
        frame: pd.DataFrame | None,
        rules_id: str,
        rules_hash: str,
        bank_hash: str,
        seed: int,
        pixirt_version: str,
        path: Path | None = None,
        seconds: float = 0.0,
        *,
        dataset: Any = None,
    ) -> None:
        if frame is None and dataset is None:
            raise DataError("a SimulationResult needs a frame or a dataset", field="frame")
        values = {
            "rules_id": rules_id,
            "rules_hash": rules_hash,
            "bank_hash": bank_hash,
            "seed": seed,
            "pixirt_version": pixirt_version,
            "path": path,
            "seconds": seconds,
            "_frame": frame,
            "_dataset": dataset,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SimulationResult:
        """Reopen the Parquet dataset of a run on a Dask cluster (read lazily)."""
        return open_dataset(path).result()

    @property
    def frame(self) -> pd.DataFrame:
        """Every row and column (a dataset is read on first use, then kept)."""
        if self._frame is None:
            object.__setattr__(self, "_frame", self._dataset.read())
        assert self._frame is not None
        return self._frame

    def select(self, columns: list[str]) -> pd.DataFrame:
        """Only these columns (from a dataset, without reading the others)."""
        if self._frame is not None:
            return self._frame[list(columns)]
        frame: pd.DataFrame = self._dataset.read(columns)
        return frame

    def __len__(self) -> int:
        return len(self._frame) if self._frame is not None else int(self._dataset.n)

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return (
            f"SimulationResult({len(self):,} candidates, rules_id={self.rules_id!r}, "
            f"seed={self.seed}{where}, seconds={self.seconds:.1f})"
        )

    def outcome_rates(self, by: str | None = None) -> pd.DataFrame:
        """Share of each status (and comment), overall or by a column such as ``group``."""
        keys = ["status"] if by is None else [by, "status"]
        counts = self.select(keys).groupby(keys, dropna=False).size()
        if by is None:
            return (counts / counts.sum()).rename("share").to_frame()
        return (counts / counts.groupby(level=0).transform("sum")).rename("share").to_frame()

    @renamed(bins="n_bins")
    def score_distribution(self, n_bins: int = 20) -> pd.DataFrame:
        """Counts of ``pix_score`` in ``n_bins`` equal-width bins (formerly ``bins``)."""
        scores = self.select(["pix_score"])["pix_score"].to_numpy()
        counts, edges = np.histogram(scores, bins=n_bins)
        return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": counts})

    @renamed(bins="n_bins")
    def capacity_recovery(self, n_bins: int = 10) -> pd.DataFrame:
        """v3: bias and RMSE of the capacity against the true ability, by ``n_bins`` true-ability bins."""
        columns = self.frame.columns if self._frame is not None else self._dataset.columns
        if "capacity" not in columns:
            raise DataError("capacity recovery needs a v3 simulation", field="capacity")
        df = self.select(["abort_reason", "true_theta", "capacity"])
        df = df[df["abort_reason"] == ""]
        cut = pd.qcut(df["true_theta"], n_bins, duplicates="drop")
        err = df["capacity"] - df["true_theta"]
        grouped = err.groupby(cut, observed=True)
        out = pd.DataFrame(
            {
                "bias": grouped.mean(),
                "rmse": grouped.apply(lambda e: float(np.sqrt(np.mean(np.square(e))))),
                "n": grouped.size(),
            }
        )
        out.index.name = "true_theta_bin"
        return out

    def exposure(self) -> pd.Series:
        """Share of candidates who were served each challenge, most exposed first."""
        if self._frame is not None:
            served = self._frame["challenges"].explode().dropna()
            counts = served.value_counts()
        else:  # part by part: the challenge lists of all candidates are never held at once
            counts = self._dataset.list_counts("challenges").sort_values(
                ascending=False, kind="stable"
            )
        return (counts / len(self)).rename("exposure")
