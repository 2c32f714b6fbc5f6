"""The simulations of a comparison.

Blocks of candidates (locally or on a Dask cluster) kept slim, challenge exposure
counted on the way, and the second sitting's responder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import _streams as streams
from pixirt._item_bank import ItemBank
from pixirt._progress import Progress
from pixirt.rules import RuleSet
from pixirt.simulation._comparison_names import _BLOCK, FloatArray, StageTick
from pixirt.simulation._exposure import _flatten
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._responders import Responder
from pixirt.simulation._sides import _Exposure


@dataclass(frozen=True, slots=True)
class _Run:
    frame: pd.DataFrame
    exposure: _Exposure | None


@dataclass(frozen=True, slots=True)
class _RetestResponder(Responder):
    """The same candidates answering again: new answer draws, everything else as the first time."""

    def answers(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike, p: FloatArray
    ) -> npt.NDArray[np.bool_]:
        """Whether each answer is right, from a stream of its own."""
        u = streams.uniform(seed, "compare.retest.answer", index, step)
        return np.asarray(u < self.probability(p), dtype=bool)


def _retest_responder(responder: Responder) -> Responder:
    return _RetestResponder(**{f.name: getattr(responder, f.name) for f in fields(responder)})


def _slim(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[_slim_columns(frame.columns)]


def _slim_columns(columns: Iterable[Any]) -> list[Any]:
    return [
        c
        for c in columns
        if c
        in (
            "index",
            "group",
            "true_theta",
            "status",
            "pix_score",
            "n_answers",
            "capacity",
            "global_level",
            "reproducibility_rate",
            "certification_id",
            "jury_review",
        )
        or str(c).startswith("cert_level_")
    ]


def _simulate_blocks(
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    seed: int,
    responder: Responder,
    workers: int,
    stage: str,
    progress: StageTick,
) -> _Run:
    """Simulate candidates ``0 .. n − 1`` in blocks (identical to one call), keeping what we need."""
    from pixirt.simulation._simulate import simulate

    block = max(_BLOCK, -(-n // 40))
    positions = pd.Index(bank.item_ids)
    counts = np.zeros(bank.n_items, dtype=np.int64)
    total_length = 0
    parts = []
    progress(stage, 0, n)
    for lo in range(0, n, block):
        size = min(block, n - lo)
        res = simulate(
            population,
            bank,
            rules,
            size,
            seed=seed,
            start=lo,
            responder=responder,
            workers=workers,
            chunk_size=min(size, 10_000),
        )
        frame = res.frame
        if rules.algorithm == "v3":
            lists = frame["challenges"].tolist()
            flat = _flatten(lists)
            pos = positions.get_indexer(pd.Index(flat)) if len(flat) else np.zeros(0, np.int64)
            counts += np.bincount(pos[pos >= 0], minlength=bank.n_items)
            total_length += int(frame["n_answers"].sum())
        parts.append(_slim(frame))
        progress(stage, lo + size, n)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    exposure = _Exposure(counts, n, total_length) if rules.algorithm == "v3" else None
    return _Run(frame, exposure)


def _simulate_on_cluster(
    client: Any,
    out: Path,
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    seed: int,
    responder: Responder,
    stage: str,
    progress: StageTick,
) -> _Run:
    """:func:`_simulate_blocks` on a Dask cluster: a dataset in ``out``, read column by column."""
    import pyarrow.compute as pc

    def relay(p: Progress) -> None:
        progress(stage, p.done, n if p.total is None else p.total)

    from pixirt.simulation._simulate import simulate

    res = simulate(
        population,
        bank,
        rules,
        n,
        seed=seed,
        responder=responder,
        out=out,
        chunk_size=min(_BLOCK, max(250, -(-n // 40))),
        client=client,
        progress=relay,
    )
    dataset = res._dataset
    frame = dataset.read(_slim_columns(dataset.columns))
    exposure = None
    if rules.algorithm == "v3":
        positions = pd.Index(bank.item_ids)
        counts = np.zeros(bank.n_items, dtype=np.int64)
        for table in dataset.tables(["challenges"]):  # one part at a time
            flat = pc.list_flatten(table.column("challenges")).to_numpy(zero_copy_only=False)
            if len(flat):
                pos = positions.get_indexer(pd.Index(flat))
                counts += np.bincount(pos[pos >= 0], minlength=bank.n_items)
        exposure = _Exposure(counts, n, int(frame["n_answers"].sum()))
    return _Run(frame, exposure)
