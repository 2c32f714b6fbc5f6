"""Shared cases of the simulation tests (imported by the test modules, not collected)."""

from pixirt.simulation.responders import Responder

#: Every kind of incident at once, often enough to appear in a few hundred candidates.
INCIDENTS = Responder(
    live_alert_rate=0.05,
    neutralize_rate=0.02,
    abandon_rate=0.06,
    technical_abort_rate=0.04,
    fraud_rate=0.01,
    abandon_after=(10, 31),
)
