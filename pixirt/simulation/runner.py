"""Whole certifications for simulated populations, vectorized across candidates.

:func:`simulate` draws candidates, their answers and incidents, and runs them through
the engine's own rules over arrays — nothing here selects, estimates or scores:

- **v3**: a chunk is a :class:`pixirt.cat._batch.SessionBatch` stepped together (pool
  rules, ranking, pick, EAP update) with the very draws the engine uses for the same
  ``(seed, candidate index, step)`` (:mod:`pixirt.streams`), then scored by
  :meth:`~pixirt.cat._batch.SessionBatch.results`;
- **v2**: the chunk's profiles are planned by :func:`pixirt.cat._v2_plan.plan` and scored by
  :func:`pixirt.cat._v2_batch_scoring.score_batch`; a certification Pix's scoring refuses (the sanity
  contract, a missing level rule, ...) is an ``error`` row with its reason in
  ``comment``: the run never stops on one candidate.

The engine (:mod:`pixirt.cat._engine`) runs a session as a batch of one of the same
functions, so any simulated candidate replays one by one through it
(:func:`replay_candidate`) with the identical challenges and result, and the results
are identical bit for bit whatever ``chunk_size``.

Outputs: :class:`SimulationResult` holds one row per candidate (a pandas DataFrame
with Arrow list columns for the challenges and statuses); with ``out`` it is written to
Parquet in fixed row groups, so the file is byte-identical for any ``chunk_size``. On a
Dask cluster (``client=``) the workers write the rows to a Parquet dataset instead
(:mod:`pixirt.simulation.distributed`), read back lazily.
"""

from __future__ import annotations

from pixirt.simulation._chunks import _ROW_GROUP as _ROW_GROUP
from pixirt.simulation._chunks import _chunks as _chunks
from pixirt.simulation._chunks import _run_chunk as _run_chunk
from pixirt.simulation._results import SimulationResult
from pixirt.simulation._simulate import replay_candidate, simulate
from pixirt.simulation._v3_chunk import _run_v3 as _run_v3

__all__ = ["SimulationResult", "replay_candidate", "simulate"]
