"""Simulated answer logs: persons drawn from a latent distribution answer random items of a bank.

Used by calibration (the DIF power study), simulation, the demo, the tests and the
benchmarks: ground floor, it imports only numpy and ground modules
(:func:`pixirt.simulation.simulate_answers` re-exports it). Generation runs in fixed
blocks of 65,536 persons, each with its own random stream derived from ``(seed, block)``:
a block's persons depend only on the seed and the block number, so a log can be
produced block by block (or in parallel) and extended without changing its start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pixirt import models
from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt._validation import check_in_range
from pixirt.exceptions import DataError

__all__ = ["SimulatedAnswers", "simulate_answers"]

_BLOCK = 65_536


@dataclass(frozen=True, slots=True)
class SimulatedAnswers:
    """A simulated log with the truth it was drawn from.

    Attributes
    ----------
    log
        The answers.
    theta
        True ability of each person (in ``log.person_ids`` order).
    bank
        The bank whose parameters generated the answers.
    seed
        The seed used.
    """

    log: ResponseLog
    theta: npt.NDArray[np.float64]
    bank: ItemBank
    seed: int


def _draw_items(rng: np.random.Generator, n: int, k: int, n_items: int) -> npt.NDArray[np.int64]:
    """``k`` distinct items per person, uniformly, vectorized (redraw duplicates until none)."""
    items = rng.integers(0, n_items, size=(n, k))
    while True:
        items.sort(axis=1)
        dup = np.zeros_like(items, dtype=bool)
        dup[:, 1:] = items[:, 1:] == items[:, :-1]
        n_dup = int(dup.sum())
        if n_dup == 0:
            return items
        items[dup] = rng.integers(0, n_items, size=n_dup)


def simulate_answers(
    bank: ItemBank,
    n_persons: int,
    *,
    answers_per_person: int = 30,
    theta_mean: float = 0.0,
    theta_sd: float = 1.0,
    seed: int = 0,
) -> SimulatedAnswers:
    """Simulate a sparse log: each person answers ``answers_per_person`` distinct random items.

    Parameters
    ----------
    bank
        Item parameters generating the answers (its model's probability).
    n_persons
        Number of persons (ids ``0 .. n_persons − 1``).
    answers_per_person
        Distinct items per person (all items when ≥ the bank size: a dense log).
    theta_mean, theta_sd
        Normal latent distribution.
    seed
        Non-negative int; persons are generated in fixed blocks from ``(seed, block)``.

    Returns
    -------
    SimulatedAnswers
        The log, true abilities, bank and seed.
    """
    if not isinstance(n_persons, int | np.integer) or n_persons <= 0:
        raise DataError(f"n_persons must be a positive int, got {n_persons!r}", field="n_persons")
    if not isinstance(answers_per_person, int | np.integer) or answers_per_person <= 0:
        raise DataError(
            f"answers_per_person must be a positive int, got {answers_per_person!r}",
            field="answers_per_person",
        )
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    check_in_range(theta_sd, "theta_sd", 0.0, np.inf, low_open=True)
    k = min(int(answers_per_person), bank.n_items)
    n = int(n_persons)
    theta = np.empty(n)
    indices = np.empty(n * k, dtype=np.int32)
    answers = np.empty(n * k, dtype=np.int8)
    for start in range(0, n, _BLOCK):  # fixed blocks: a loop over chunks, not persons
        stop = min(start + _BLOCK, n)
        m = stop - start
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(start // _BLOCK,)))
        )
        th = rng.normal(theta_mean, theta_sd, m)
        if k == bank.n_items:
            items = np.broadcast_to(np.arange(k), (m, k)).copy()
        else:
            items = _draw_items(rng, m, k, bank.n_items)
        p = models.probability(th[:, None], bank.a[items], bank.b[items], bank.c[items])
        y = (rng.random((m, k)) < p).astype(np.int8)
        theta[start:stop] = th
        indices[start * k : stop * k] = items.ravel()
        answers[start * k : stop * k] = y.ravel()
    log = ResponseLog(
        np.arange(n + 1, dtype=np.int64) * k,
        indices,
        answers,
        np.arange(n, dtype=np.int64),
        bank.item_ids,
    )
    return SimulatedAnswers(log=log, theta=theta, bank=bank, seed=int(seed))
