"""Chunks of candidates.

Their bounds, running one (in this process or a worker process), column types
independent of chunking, and the Parquet output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.cat._engine import Runtime, build_runtime
from pixirt.rules import RuleSet
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._responders import Responder
from pixirt.simulation._v2_chunk import _run_v2
from pixirt.simulation._v3_chunk import _run_v3

_ROW_GROUP = 65_536
_PROCESS_RUNTIMES: dict[tuple[str, str], Runtime] = {}  # a worker process's runtimes


def _run_chunk_task(
    args: tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder, int, int, int],
) -> pd.DataFrame:
    bank, rules, population, responder, seed, lo, n = args
    # each task brings its own unpickled bank: keep the runtime (and its shortlists) per
    # content hash, so a worker process builds them once, not once per chunk
    key = (bank.hash, rules.hash)
    runtime = _PROCESS_RUNTIMES.get(key)
    if runtime is None:
        if len(_PROCESS_RUNTIMES) >= 4:
            _PROCESS_RUNTIMES.clear()
        runtime = _PROCESS_RUNTIMES[key] = build_runtime(bank, rules)
    return _run_chunk(runtime, population, responder, seed, lo, n)


def _run_chunk(
    runtime: Runtime,
    population: Population | ObservedPopulation,
    responder: Responder,
    seed: int,
    lo: int,
    n: int,
) -> pd.DataFrame:
    v2 = runtime.rules.algorithm == "v2"
    cands = population.sample(n, seed=seed, start=lo, bank=runtime.bank if v2 else None)
    if v2:
        return _fixed_types(_run_v2(runtime, cands, responder, seed))
    return _fixed_types(_run_v3(runtime, cands, responder, seed))


def _fixed_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types that do not depend on which candidates share a chunk.

    Left to inference, a chunk without any comment has an object column of None and one
    with a comment a string column, and a chunk whose certified levels are all whole
    numbers an int column: the frame would then depend on ``chunk_size``.
    """
    if "comment" in frame.columns:
        values = frame["comment"].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        frame["comment"] = pd.Series(values, index=frame.index, dtype=object)
    for col in frame.columns:
        if col.startswith("cert_level_"):
            frame[col] = frame[col].astype(np.float64)
    return frame


# ---------------------------------------------------------------------- output
def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write in fixed row groups (independent of chunking) through a temporary file, then rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixirt._atomic_files import atomic_write

    table = pa.Table.from_pandas(frame, preserve_index=False)

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, row_group_size=_ROW_GROUP, compression="zstd")

    atomic_write(path, write)
    return path


def _chunks(start: int, n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(start, start + n, size):
        yield lo, min(size, start + n - lo)
