"""Shared cases of the simulation tests (imported by the test modules, not collected)."""

from pixirt.simulation.population import Population
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

#: Two groups apart by one standard deviation: the property tests' population.
TWO_GROUPS = Population(groups={"a": (0.5, -0.5), "b": (0.5, 0.5)})


def incidents_at(rates):
    """A responder with these rates: ``(live alert, neutralize, abandon, technical, fraud)``.

    Aborts come after 0 to 40 answers, so before, during and after any test length.
    """
    alert, neutral, abandon, technical, fraud = rates
    return Responder(
        live_alert_rate=alert,
        neutralize_rate=neutral,
        abandon_rate=abandon,
        technical_abort_rate=technical,
        fraud_rate=fraud,
        abandon_after=(0, 40),
    )
