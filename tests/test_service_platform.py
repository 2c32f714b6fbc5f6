"""The service as a platform runs it: mounted under a prefix, a full disk, listing sessions,
per-session time limits, the ``Idempotency-Key`` header, 64-bit ids as strings, a v2
profile matching nothing, erasure of any candidate id, retention, constant-time counts."""

from __future__ import annotations

import io
import warnings

import pytest

from pixirt import rules
from pixirt.cat import Profile
from pixirt.simulation import pix_like_bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

from pg_server import execute_sql

from pixirt.service import Settings, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BIG = 5525173659568565574  # > 2**53: a JavaScript number cannot hold it


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def rule_sets():
    return [rules.load("pix-v3"), rules.load("pix-v2")]


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_app(db, bank, rule_sets, clock=None, **settings):
    return create_app(
        Settings(db=str(db), log_requests=False, **settings),
        bank=bank,
        rule_sets=rule_sets,
        clock=clock,
        log_stream=io.StringIO(),
    )


@pytest.fixture()
def client(tmp_path, bank, rule_sets):
    with TestClient(make_app(tmp_path / "s.sqlite", bank, rule_sets)) as tc:
        yield tc


def start(client, candidate_id="c1", seed=1, **extra):
    r = client.post(
        "/v1/sessions",
        json={"rules": "pix-v3", "candidate_id": candidate_id, "seed": seed, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


# ------------------------------------------------------------------ mounting
def test_mounted_under_a_prefix(tmp_path, bank, rule_sets):
    inner = make_app(tmp_path / "m.sqlite", bank, rule_sets, token="s3cret")
    outer = FastAPI()
    outer.mount("/certification", inner)
    auth = {"Authorization": "Bearer s3cret"}
    with TestClient(outer) as tc:
        assert tc.get("/certification/health").status_code == 200
        assert tc.get("/certification/ready").status_code == 200
        r = tc.post(
            "/certification/v1/sessions",
            json={"rules": "pix-v3", "candidate_id": "m1", "seed": 1},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        sid = r.json()["session_id"]
        assert r.headers["location"] == f"/certification/v1/sessions/{sid}"
        assert tc.get(r.headers["location"], headers=auth).status_code == 200
        assert tc.get(f"/certification/v1/sessions/{sid}").status_code == 401


# ------------------------------------------------------------------ disk full
def test_ready_is_false_when_the_store_cannot_write(tmp_path, bank, rule_sets):
    app = make_app(tmp_path / "full.sqlite", bank, rule_sets)
    with TestClient(app) as tc:
        assert tc.get("/ready").status_code == 200
        conn = app.state.store._write_conn  # a full disk, as SQLite sees it (SQLITE_FULL)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        codes = set()
        for i in range(200):
            r = tc.post(
                "/v1/sessions", json={"rules": "pix-v3", "candidate_id": f"f{i}" * 40, "seed": i}
            )
            codes.add(r.status_code)
            if r.status_code == 503:
                break
        assert 503 in codes
        ready = tc.get("/ready")
        assert ready.status_code == 503 and ready.json()["store"] is False
        conn.execute("PRAGMA max_page_count = 1073741823")  # space again
        assert tc.get("/ready").status_code == 200


# ------------------------------------------------------------------ listing, time limits
def test_list_expired_sessions_paginated(tmp_path, bank, rule_sets):
    clock = Clock()
    with TestClient(make_app(tmp_path / "l.sqlite", bank, rule_sets, clock=clock)) as tc:
        ids = {start(tc, f"c{i}", seed=i)["session_id"] for i in range(5)}
        extra = start(tc, "slow", seed=9, time_limit_minutes=140)["session_id"]
        clock.t += 106 * 60  # past the 105 minutes, not past 140
        seen, after = [], None
        while True:
            params = {"status": "expired", "limit": 2, **({"after": after} if after else {})}
            r = tc.get("/v1/sessions", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["sessions"]) <= 2
            seen += [s["session_id"] for s in page["sessions"]]
            assert all(s["status"] == "expired" for s in page["sessions"])
            after = page["next"]
            if after is None:
                break
        assert set(seen) == ids and len(seen) == 5
        active = tc.get("/v1/sessions", params={"status": "active"}).json()["sessions"]
        assert [s["session_id"] for s in active] == [extra]
        bad = tc.get("/v1/sessions", params={"status": "lost"})
        assert bad.status_code == 422 and "query.status" in bad.text


def test_per_session_time_limit(tmp_path, bank, rule_sets):
    clock = Clock()
    with TestClient(make_app(tmp_path / "t.sqlite", bank, rule_sets, clock=clock)) as tc:
        s = start(tc, "extra", time_limit_minutes=140)
        clock.t += 120 * 60
        r = tc.post(
            f"/v1/sessions/{s['session_id']}/answers",
            json={"challenge_id": s["challenge"]["challenge_id"], "status": "ok"},
        )
        assert r.status_code == 200, r.text
        bad = tc.post(
            "/v1/sessions",
            json={"rules": "pix-v3", "candidate_id": "x", "time_limit_minutes": 0},
        )
        assert bad.status_code == 422 and "body.time_limit_minutes" in bad.text


# ------------------------------------------------------------------ idempotency header
def test_idempotency_key_header_on_session_start(client):
    body = {"rules": "pix-v3", "candidate_id": "h1", "seed": 4}
    a = client.post("/v1/sessions", json=body, headers={"Idempotency-Key": "k1"})
    b = client.post("/v1/sessions", json=body, headers={"Idempotency-Key": "k1"})
    assert a.status_code == b.status_code == 201
    assert a.json()["session_id"] == b.json()["session_id"]
    assert b.headers["idempotent-replayed"] == "true"


def test_idempotency_key_header_on_answers_and_jury_actions(client):
    s = start(client, "h2")
    sid, ch = s["session_id"], s["challenge"]
    body = {"challenge_id": ch["challenge_id"], "status": "ok"}
    a = client.post(f"/v1/sessions/{sid}/answers", json=body, headers={"Idempotency-Key": "a1"})
    b = client.post(f"/v1/sessions/{sid}/answers", json=body, headers={"Idempotency-Key": "a1"})
    assert a.status_code == b.status_code == 200 and a.content == b.content
    both = client.post(
        f"/v1/sessions/{sid}/answers",
        json={**body, "idempotency_key": "other"},
        headers={"Idempotency-Key": "a1"},
    )
    assert both.status_code == 422 and "idempotency" in both.text
    reused = client.post(
        f"/v1/sessions/{sid}/answers",
        json={**body, "status": "ko"},
        headers={"Idempotency-Key": "a1"},
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_mismatch"
    assert reused.json()["errors"][0]["field"] == "header.idempotency-key"
    jury = {"challenge_id": ch["challenge_id"]}
    n1 = client.post(f"/v1/sessions/{sid}/neutralize", json=jury, headers={"Idempotency-Key": "j"})
    n2 = client.post(f"/v1/sessions/{sid}/neutralize", json=jury, headers={"Idempotency-Key": "j"})
    assert n1.status_code == n2.status_code == 200 and n1.content == n2.content
    ab = {"reason": "technical"}
    x1 = client.post(f"/v1/sessions/{sid}/abort", json=ab, headers={"Idempotency-Key": "x"})
    x2 = client.post(f"/v1/sessions/{sid}/abort", json=ab, headers={"Idempotency-Key": "x"})
    assert x1.status_code == x2.status_code == 200 and x1.content == x2.content
    history = client.get(f"/v1/sessions/{sid}").json()["history"]
    assert [e["kind"] for e in history] == ["start", "answer", "neutralize", "abort"]


# ------------------------------------------------------------------ 64-bit ids
def test_64_bit_seeds_and_indexes_are_strings(client):
    r = client.post(
        "/v1/sessions",
        json={"rules": "pix-v3", "candidate_id": "big", "seed": str(BIG), "candidate_index": BIG},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["seed"] == str(BIG) and created["candidate_index"] == str(BIG)
    got = client.get(f"/v1/sessions/{created['session_id']}").json()
    assert got["seed"] == str(BIG) and got["candidate_index"] == str(BIG)
    bad = client.post(
        "/v1/sessions", json={"rules": "pix-v3", "candidate_id": "big", "seed": "12a"}
    )
    assert bad.status_code == 422 and "body.seed" in bad.text


# ------------------------------------------------------------------ v2 profile matching nothing
def test_v2_profile_matching_no_challenge_is_422(client):
    # five certifiable competences (v2 needs them), no skill of the bank
    profile = {
        "competences": {
            c: {"level": 3, "pix": 24, "skills": ["nowhere"]}
            for c in ("1.1", "1.2", "1.3", "2.1", "2.2")
        }
    }
    r = client.post(
        "/v1/sessions",
        json={"rules": "pix-v2", "candidate_id": "p0", "seed": 1, "profile": profile},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.profile"
    assert Profile  # the engine's profile type is what the body maps to


# ------------------------------------------------------------------ erasure
@pytest.mark.parametrize("candidate_id", ["line\nbreak", "tab\there", "a/b/../c", " x ", "é?#&"])
def test_erasure_reaches_every_id_creation_accepts(client, candidate_id):
    start(client, candidate_id)
    r = client.request("DELETE", "/v1/candidates/" + _quote(candidate_id))
    assert r.status_code == 200, r.text
    assert r.json()["sessions_deleted"] == 1
    assert r.json()["candidate_id"] == candidate_id


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# ------------------------------------------------------------------ retention, counts
def test_retention_purges_old_replies_and_finished_sessions(store_url, bank, rule_sets):
    clock = Clock()
    app = make_app(
        store_url,
        bank,
        rule_sets,
        clock=clock,
        reply_retention_hours=24,
        session_retention_days=30,
    )
    with TestClient(app) as tc:
        s = start(tc, "r1", idempotency_key="k")
        sid = s["session_id"]
        tc.post(f"/v1/sessions/{sid}/abort", json={"reason": "candidate"})
        live = start(tc, "r2")["session_id"]
        metrics = tc.get("/metrics").text
        assert 'pixirt_sessions{status="aborted"} 1' in metrics
        assert 'pixirt_sessions{status="active"} 1' in metrics
        clock.t += 25 * 3600
        assert app.state.service.purge(clock()) == (1, 0)  # the reply went, not the session
        again = start(tc, "r1", idempotency_key="k")  # the key is free again
        assert again["session_id"] != sid
        clock.t += 31 * 86400
        replies, sessions = app.state.service.purge(clock())
        assert replies == 1  # the second key
        assert sessions == 1  # the aborted one; the active ones stay
        assert tc.get(f"/v1/sessions/{sid}").status_code == 404
        assert tc.get(f"/v1/sessions/{live}").status_code == 200
        metrics = tc.get("/metrics").text
        assert 'pixirt_sessions{status="aborted"} 0' in metrics
        # the counts (kept by triggers, no scan at scrape) follow erasures too
        assert 'pixirt_sessions{status="expired"} 2' in metrics  # r1's second, r2
        assert tc.delete("/v1/candidates/r2").json()["sessions_deleted"] == 1
        metrics = tc.get("/metrics").text
        assert 'pixirt_sessions{status="expired"} 1' in metrics
        assert 'pixirt_sessions{status="active"} 0' in metrics
    # the purged and the erased sessions left no history behind (the events are deleted
    # with their session, not by a foreign key's cascade)
    for gone in (sid, live):
        assert execute_sql(
            store_url, "SELECT COUNT(*) FROM events WHERE session_id = ?", (gone,)
        ) == [(0,)]
    assert execute_sql(store_url, "SELECT COUNT(*) FROM events")[0][0] > 0  # r1's second session
