"""Shared cases of the simulation tests (imported by the test modules, not collected)."""

from pixirt.simulation import Population, Responder

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


def played_v3(bank, rule_set, n, *, seed, right=lambda i, k: (k + i) % 3 != 0):
    """``n`` complete v3 sessions run through the engine; candidate ``i`` answers question
    ``k`` right when ``right(i, k)``. Returns their certifications."""
    from pixirt.cat import Candidate
    from pixirt.cat import _engine as engine

    certs = []
    for i in range(n):
        state = engine.start(bank, rule_set, candidate=Candidate(f"c{i}", i), seed=seed)
        while (ch := engine.next_challenge(state)) is not None:
            status = "ok" if right(i, state.n_answers) else "ko"
            state = engine.record(state, ch.challenge_id, status)
        certs.append(engine.certification(state))
    return certs
