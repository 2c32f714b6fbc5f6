"""Simulated answer logs (re-exported from the ground floor, :mod:`pixirt._answers`).

The answer simulation from a bank is used by calibration, simulation, the demo, the tests
and the benchmarks: it lives in :mod:`pixirt._answers`, which imports no package above it.
"""

from __future__ import annotations

from pixirt._answers import SimulatedAnswers, simulate_answers

__all__ = ["SimulatedAnswers", "simulate_answers"]
