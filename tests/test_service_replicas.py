"""Several replicas on one store (SQLite file or PostgreSQL database), in-process: any
replica serves any candidate, racing clients record one answer, retention and listing."""

from __future__ import annotations

import io
import threading
import warnings

import pytest

from pixirt import rules
from pixirt.cat import engine
from pixirt.cat.state import Candidate
from pixirt.simulation import pix_like_bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pixirt.service import Settings, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def rule_sets():
    return [rules.load("pix-v3"), rules.load("pix-v2")]


def replica(url, bank, rule_sets, **settings):
    app = create_app(
        Settings(db=url, log_requests=False, **settings),
        bank=bank,
        rule_sets=rule_sets,
        log_stream=io.StringIO(),
    )
    return TestClient(app)


def status_for(step: int) -> str:
    return "ok" if step % 3 else "ko"


def test_two_replicas_serve_one_session_in_turn(store_url, bank, rule_sets):
    """Answers alternate between two replicas: none is refused, the session is the engine's."""
    with replica(store_url, bank, rule_sets) as a, replica(store_url, bank, rule_sets) as b:
        r = a.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "c1", "seed": 3})
        assert r.status_code == 201, r.text
        sid, ch = r.json()["session_id"], r.json()["challenge"]
        index = int(r.json()["candidate_index"])
        asked = []
        clients = (a, b)
        turn = 0
        # each replica reads the session once first, so both hold it warm
        assert b.get(f"/v1/sessions/{sid}").status_code == 200
        while ch is not None:
            asked.append(ch["challenge_id"])
            r = clients[turn % 2].post(
                f"/v1/sessions/{sid}/answers",
                json={"challenge_id": ch["challenge_id"], "status": status_for(ch["step"])},
            )
            assert r.status_code == 200, r.text
            ch = r.json()["challenge"]
            turn += 1
        for c in clients:
            got = c.get(f"/v1/sessions/{sid}").json()
            assert got["status"] == "finished" and got["answered"] == len(asked)
    state = engine.start(bank, rule_sets[0], candidate=Candidate("c1", index), seed=3)
    expected = []
    while (nxt := engine.next_challenge(state)) is not None:
        expected.append(nxt.challenge_id)
        state = engine.record(state, nxt.challenge_id, status_for(nxt.step))
    assert asked == expected


def test_twenty_racing_clients_on_two_replicas_record_one_answer(store_url, bank, rule_sets):
    with replica(store_url, bank, rule_sets) as a, replica(store_url, bank, rule_sets) as b:
        r = a.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "c2", "seed": 5})
        sid, ch = r.json()["session_id"], r.json()["challenge"]
        assert b.get(f"/v1/sessions/{sid}").status_code == 200
        codes: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(20)

        def go(i: int) -> None:
            barrier.wait()
            resp = (a, b)[i % 2].post(
                f"/v1/sessions/{sid}/answers",
                json={"challenge_id": ch["challenge_id"], "status": "ok"},
            )
            with lock:
                codes.append(resp.status_code)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200] + [409] * 19
        for c in (a, b):
            got = c.get(f"/v1/sessions/{sid}").json()
            assert got["answered"] == 1
            assert [e["kind"] for e in got["history"]] == ["start", "answer"]
