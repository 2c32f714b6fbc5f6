"""Simulation: Pix-like banks, candidate populations, whole certifications and rule-change impact.

- :func:`pix_like_bank`, :func:`simulate_answers`: a Pix-like bank and sparse answer logs;
- :class:`Population` (and real profiles with :meth:`Population.from_frame`), :class:`Responder`;
- :func:`simulate`, :func:`replay_candidate`: whole v2/v3 certifications, vectorized
  (on a Dask cluster with ``client=``, written to a Parquet dataset:
  :mod:`pixirt.simulation.distributed`; :meth:`SimulationResult.open` reads one back);
- :func:`replay`, :func:`counterfactual`: past sessions under other rules;
- :func:`compare`, :class:`Comparison`: what a rule change does, for the jury.
"""

from pixirt.simulation.answers import simulate_answers
from pixirt.simulation.bank import framework, pix_like_bank
from pixirt.simulation.population import ObservedPopulation, Population
from pixirt.simulation.replay import counterfactual, replay
from pixirt.simulation.responders import Responder
from pixirt.simulation.rule_comparison import Comparison, compare
from pixirt.simulation.runner import SimulationResult, replay_candidate, simulate

__all__ = [
    "Comparison",
    "ObservedPopulation",
    "Population",
    "Responder",
    "SimulationResult",
    "compare",
    "counterfactual",
    "framework",
    "pix_like_bank",
    "replay",
    "replay_candidate",
    "simulate",
    "simulate_answers",
]
