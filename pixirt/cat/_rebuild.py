"""A session's working state and its rebuilding from the record (:mod:`pixirt.cat._state`).

Knows nothing of :class:`~pixirt.cat.CatState`: :func:`rebuild_batch` takes the
record's fields, so that the state module can rebuild itself without the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pixirt.cat._batch import SessionBatch
from pixirt.cat._choice import ChallengeChoice
from pixirt.cat._runtime import Runtime

if TYPE_CHECKING:
    from pixirt.cat._capacity import CapacityState


class Work:
    """A session's working state, rebuilt from its record by :func:`rebuild`.

    ``batch`` is the v3 session as a :class:`~pixirt.cat._batch.SessionBatch` of one
    (None in v2), never modified once built (a step works on a copy); ``choice``
    memoizes :func:`next_challenge` (a pure function of the state), so that
    :func:`record` does not compute the served challenge twice.
    """

    __slots__ = ("batch", "choice", "computed")

    def __init__(self, batch: SessionBatch | None) -> None:
        self.batch = batch
        self.choice: ChallengeChoice | None = None
        self.computed = False

    @property
    def cap(self) -> CapacityState | None:
        """The capacity estimator's state (v3)."""
        return None if self.batch is None else self.batch.cap


def position(runtime: Runtime, cid: str) -> int:
    return int(runtime.structure.positions([cid])[0])


def step(batch: SessionBatch, pos: int, status: str | None) -> None:
    """One more challenge in a batch of one: answered (``status``) or withdrawn (None)."""
    if status is None:
        batch.withdraw([0], [pos])
    else:
        batch.record([0], [pos], [status == "ok"])


def rebuild_batch(
    runtime: Runtime,
    *,
    index: int,
    seed: int,
    accessibility: bool,
    asked: Sequence[str],
    statuses: Sequence[str | None],
    fast: bool = True,
) -> SessionBatch:
    """A v3 session as a batch of one, rebuilt by replaying its challenges and answers."""
    batch = SessionBatch.start(
        runtime, [index], seed=seed, accessibility=[accessibility], fast=fast
    )
    for cid, status in zip(asked, statuses, strict=True):
        step(batch, position(runtime, cid), status)
    return batch
