"""Simulation: Pix-like banks, candidate populations, whole certifications and rule-change impact.

- :func:`pix_like_bank`, :func:`simulate_answers`: a Pix-like bank and sparse answer logs;
- :class:`Population` (and real profiles with :meth:`Population.from_frame`), :class:`Responder`;
- :func:`simulate`, :func:`replay_candidate`: whole v2/v3 certifications, vectorized
  (on a Dask cluster with ``client=``, written to a Parquet dataset:
  ``docs/distributed.md``; :meth:`SimulationResult.open` reads one back);
- :func:`replay`, :func:`counterfactual`: past sessions under other rules
  (:func:`read_sessions`, :func:`read_pix_export` from a Pix-like export,
  :func:`write_sessions`);
- :func:`compare`, :class:`Comparison`: what a rule change does, for the jury.
"""

from pixirt._answers import simulate_answers
from pixirt.simulation._bank import FEATURE_SHARES, framework, pix_like_bank
from pixirt.simulation._compare import compare
from pixirt.simulation._comparison import Comparison
from pixirt.simulation._pix_export import read_pix_export, write_sessions
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._replay import counterfactual, read_sessions, replay
from pixirt.simulation._responders import PIX_LIKE_INCIDENTS, Responder
from pixirt.simulation._results import SimulationResult
from pixirt.simulation._simulate import replay_candidate, simulate

__all__ = [
    "FEATURE_SHARES",
    "PIX_LIKE_INCIDENTS",
    "Comparison",
    "ObservedPopulation",
    "Population",
    "Responder",
    "SimulationResult",
    "compare",
    "counterfactual",
    "framework",
    "pix_like_bank",
    "read_pix_export",
    "read_sessions",
    "replay",
    "replay_candidate",
    "simulate",
    "simulate_answers",
    "write_sessions",
]
