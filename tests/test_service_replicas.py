"""Several replicas on one store (SQLite file or PostgreSQL database), in-process: any
replica serves any candidate, racing clients record one answer, retention and listing."""

from __future__ import annotations

import io
import threading
import time
import warnings

import pytest

from pixirt import rules
from pixirt.cat import Candidate
from pixirt.cat import _engine as engine
from pixirt.simulation import pix_like_bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pg_server import execute_sql

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
            # each replica brought its warm copy up to date with the other's answers
            # instead of replaying the whole session from the store each time
            metrics = dict(
                line.rsplit(" ", 1)
                for line in c.get("/metrics").text.splitlines()
                if line.startswith("pixirt_sessions_")
            )
            assert float(metrics["pixirt_sessions_caught_up_total"]) >= len(asked) // 2 - 1
            assert float(metrics["pixirt_sessions_replayed_total"]) <= 1
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


def test_jury_steps_on_one_replica_are_seen_by_the_other(store_url, bank, rule_sets):
    with replica(store_url, bank, rule_sets) as a, replica(store_url, bank, rule_sets) as b:
        r = a.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "j1", "seed": 8})
        sid, ch = r.json()["session_id"], r.json()["challenge"]
        assert b.get(f"/v1/sessions/{sid}").status_code == 200  # warm on both
        first = ch["challenge_id"]
        for _ in range(3):
            r = a.post(
                f"/v1/sessions/{sid}/answers",
                json={"challenge_id": ch["challenge_id"], "status": "ok"},
            )
            ch = r.json()["challenge"]
        assert b.post(f"/v1/sessions/{sid}/neutralize", json={"challenge_id": first}).is_success
        r = b.post(f"/v1/sessions/{sid}/live-alerts", json={"challenge_id": ch["challenge_id"]})
        assert r.status_code == 200, r.text
        ch = r.json()["challenge"]
        r = a.post(
            f"/v1/sessions/{sid}/answers", json={"challenge_id": ch["challenge_id"], "status": "ko"}
        )
        assert r.status_code == 200, r.text
        assert b.post(f"/v1/sessions/{sid}/abort", json={"reason": "technical"}).is_success
        seen = [c.get(f"/v1/sessions/{sid}").json() for c in (a, b)]
        assert seen[0] == seen[1]
        assert seen[0]["status"] == "aborted" and seen[0]["neutralized"] == [first]
        assert [e["kind"] for e in seen[0]["history"]] == [
            "start", "answer", "answer", "answer", "neutralize", "live_alert", "answer", "abort",
        ]  # fmt: skip
        assert (
            a.get(f"/v1/sessions/{sid}/result").json() == b.get(f"/v1/sessions/{sid}/result").json()
        )


def test_schema_migrations_on_both_stores(store_url, tmp_path):
    from pixirt.service import StoreError, open_store
    from pixirt.service._store_migrations import MIGRATIONS
    from pixirt.service._store_pg import PG_MIGRATIONS

    assert [m.version for m in MIGRATIONS] == [m.version for m in PG_MIGRATIONS] == [1, 2, 3]
    first = open_store(store_url)
    second = open_store(store_url)  # a second replica: nothing left to migrate
    assert first.schema_version == second.schema_version == 3
    second.close()
    first.close()
    if store_url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
    else:
        import sqlite3

        with sqlite3.connect(store_url) as db:
            db.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
    with pytest.raises(StoreError, match="newer"):
        open_store(store_url)
    # the URL forms
    sqlite_url = "sqlite:///" + str(tmp_path / "u.sqlite").lstrip("/")
    store = open_store(sqlite_url)
    assert store.schema_version == 3 and (tmp_path / "u.sqlite").exists()
    store.close()
    with pytest.raises(StoreError):
        open_store("sqlite://relative.sqlite")


def test_schema_3_keeps_retention_of_sessions_ended_under_schema_2(store_url, monkeypatch):
    """Upgrading a store at schema 2 (retention by updated_at) to 3 (by ended_at): the
    sessions that ended before the upgrade are still purged, the active ones are kept."""
    from pixirt.service import _store_pg, _store_sqlite, open_store

    monkeypatch.setattr(_store_sqlite, "MIGRATIONS", _store_sqlite.MIGRATIONS[:2])
    monkeypatch.setattr(_store_pg, "PG_MIGRATIONS", _store_pg.PG_MIGRATIONS[:2])
    old = open_store(store_url)
    assert old.schema_version == 2
    old.close()
    for sid, status, updated in (("ended", "finished", 100.0), ("live", "active", 100.0)):
        execute_sql(
            store_url,
            "INSERT INTO sessions (session_id, candidate_id, algorithm, rules_id, rules_hash, "
            "bank_hash, status, version, state, result, created_at, updated_at, expires_at) "
            "VALUES (?, 'c', 'v3', 'pix-v3', 'h', 'b', ?, 1, '{}', NULL, 50.0, ?, 9e9)",
            (sid, status, updated),
        )
    monkeypatch.undo()
    store = open_store(store_url)
    assert store.schema_version == 3
    assert store.purge(1000.0, replies_older_than=None, sessions_older_than=10.0) == (0, 1)
    left = execute_sql(store_url, "SELECT session_id FROM sessions")
    assert [r[0] for r in left] == ["live"]
    store.close()


def test_answers_to_an_active_session_update_its_row_in_place(pg_server):
    """PostgreSQL: an answer changes no indexed column, so the update is heap-only (no
    index entry written); the ending update moves the session into the retention index."""
    from pixirt.service import open_store
    from pixirt.service._store_records import Event, SessionRow

    url = pg_server.new_database()
    store = open_store(url)
    row = SessionRow("s1", "c", "v3", "pix-v3", "h", "b", "active", 0, "{}", None, 1.0, 1.0, 9e9)
    store.create_session(row, [Event(seq=0, at=1.0, kind="start")])
    version = 0
    for k in range(20):
        version = store.update_session(
            "s1",
            expected_version=version,
            status="active",
            state=f'{{"k": {k}}}',
            result=None,
            updated_at=2.0 + k,
            events=[
                Event(seq=version + 1, at=2.0 + k, kind="answer", challenge_id="x", status="ok")
            ],
        )
    store.update_session(
        "s1", expected_version=version, status="finished", state="{}", result="{}",
        updated_at=30.0, events=[Event(seq=version + 1, at=30.0, kind="answer")],
    )  # fmt: skip
    store.close()  # its backends exit, flushing their statistics
    deadline = time.monotonic() + 10
    while True:
        ((n_upd, n_hot),) = execute_sql(
            url,
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'sessions'",
        )
        if n_upd >= 21 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert n_upd == 21
    assert n_hot >= 19, f"only {n_hot} of 20 answer updates were heap-only"
    assert execute_sql(url, "SELECT ended_at FROM sessions") == [(30.0,)]
