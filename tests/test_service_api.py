"""The HTTP service in-process (FastAPI TestClient): same sessions as the engine, the contract
of every endpoint, bad input, idempotency, expiry, authentication, logs, metrics."""

from __future__ import annotations

import io
import json
import sqlite3
import warnings

import numpy as np
import pytest

from pixirt import _streams as streams
from pixirt import rules
from pixirt.cat import Candidate
from pixirt.cat import _engine as engine
from pixirt.simulation import Population, pix_like_bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pixirt.service import Settings, SQLiteStore, StoreError, create_app, derive_candidate_index
from pixirt.service._session_views import score_session
from pixirt.service._store_migrations import MIGRATIONS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ------------------------------------------------------------------ fixtures and helpers
@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def rule_sets():
    return [rules.load(name) for name in rules.available()]


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_client(tmp_path, bank, rule_sets, *, name="s.sqlite", clock=None, **settings):
    log = io.StringIO()
    app = create_app(
        Settings(db=tmp_path / name, **settings),
        bank=bank,
        rule_sets=rule_sets,
        clock=clock,
        log_stream=log,
    )
    return TestClient(app), log


@pytest.fixture()
def client(tmp_path, bank, rule_sets):
    tc, log = make_client(tmp_path, bank, rule_sets)
    with tc:
        tc.log = log
        yield tc


def answer_for(seed: int, index: int, step: int, challenge_id: str, bank, theta=0.3) -> str:
    """A deterministic simulated answer (the same in-process and over HTTP)."""
    pos = bank.index_of([challenge_id])[0]
    p = 1 / (1 + np.exp(-bank.a[pos] * (theta - bank.b[pos])))
    return "ok" if streams.uniform(seed, "test.service", index, step) < p else "ko"


def run_in_process(bank, rs, *, seed, index, candidate_id, profile=None):
    state = engine.start(
        bank, rs, profile=profile, candidate=Candidate(candidate_id, index), seed=seed
    )
    challenges = []
    while (ch := engine.next_challenge(state)) is not None:
        challenges.append(ch.challenge_id)
        status = answer_for(seed, index, ch.step, ch.challenge_id, bank)
        state = engine.record(state, ch.challenge_id, status)
    return challenges, engine.result(state).to_dict(), state


def run_over_http(client, bank, body, *, seed, index):
    r = client.post("/v1/sessions", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    sid, ch = created["session_id"], created["challenge"]
    assert r.headers["location"] == f"/v1/sessions/{sid}"
    challenges, last = [], None
    while ch is not None:
        challenges.append(ch["challenge_id"])
        status = answer_for(seed, index, ch["step"], ch["challenge_id"], bank)
        r = client.post(
            f"/v1/sessions/{sid}/answers",
            json={"challenge_id": ch["challenge_id"], "status": status},
        )
        assert r.status_code == 200, r.text
        last = r.json()
        assert last["answered"] == len(challenges)
        ch = last["challenge"]
    return sid, challenges, last


def certifiable_profile(bank):
    cands = Population().sample(30, seed=5, bank=bank)
    for row in range(len(cands)):
        profile = cands.profile(row)
        if profile.is_certifiable():
            return profile, int(cands.index[row])
    raise AssertionError("no certifiable profile in the sample")


# ------------------------------------------------------------------ same as the engine
def test_v3_session_over_http_is_the_in_process_session(client, bank, rule_sets):
    v3 = rules.load("pix-v3")
    expected, result, _ = run_in_process(bank, v3, seed=11, index=7, candidate_id="c-v3")
    body = {"rules": "pix-v3", "candidate_id": "c-v3", "seed": 11, "candidate_index": 7}
    sid, challenges, last = run_over_http(client, bank, body, seed=11, index=7)
    assert len(challenges) == 32
    assert challenges == expected
    assert last["finished"] is True and last["challenge"] is None
    assert last["result"] == result
    assert client.get(f"/v1/sessions/{sid}/result").json() == result
    assert last["capacity"] == result["capacity"] and last["error_rate"] is not None


def test_v2_session_over_http_is_the_in_process_session(client, bank):
    v2 = rules.load("pix-v2")
    profile, index = certifiable_profile(bank)
    expected, result, _ = run_in_process(
        bank, v2, seed=3, index=index, candidate_id="c-v2", profile=profile
    )
    body = {
        "rules": "pix-v2",
        "candidate_id": "c-v2",
        "seed": 3,
        "candidate_index": index,
        "profile": profile.to_dict(),
    }
    sid, challenges, last = run_over_http(client, bank, body, seed=3, index=index)
    assert challenges == expected and len(challenges) >= 15
    assert last["result"] == result and last["capacity"] is None
    session = client.get(f"/v1/sessions/{sid}").json()
    assert session["status"] == "finished" and session["algorithm"] == "v2"


def test_default_candidate_index_is_derived_from_the_candidate_id(client, bank):
    r = client.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "alice", "seed": 5})
    created = r.json()
    index = derive_candidate_index("alice")
    assert created["candidate_index"] == str(index)  # 64-bit ids are strings
    state = engine.start(bank, rules.load("pix-v3"), candidate=Candidate("alice", index), seed=5)
    assert created["challenge"]["challenge_id"] == engine.next_challenge(state).challenge_id
    # without a seed one is drawn and reported
    r = client.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "bob"})
    assert r.json()["seed"].isdigit()


def test_fast_scoring_equals_the_engine_result(bank):
    """score_session skips the bank when no degradation can apply: same result."""
    v3 = rules.load("pix-v3")
    for seed in range(3):
        _, result, state = run_in_process(bank, v3, seed=seed, index=seed, candidate_id="x")
        assert score_session(state).to_dict() == result
        for reason in ("candidate", "technical"):
            s = engine.start(bank, v3, candidate=Candidate("y", seed), seed=seed)
            for _ in range(12 + seed):
                ch = engine.next_challenge(s)
                s = engine.record(s, ch.challenge_id, "ok")
            s = engine.abort(s, reason)
            assert score_session(s).to_dict() == engine.result(s).to_dict()


# ------------------------------------------------------------------ session resource
def start_v3(client, candidate_id="c1", seed=1, **extra):
    r = client.post(
        "/v1/sessions",
        json={"rules": "pix-v3", "candidate_id": candidate_id, "seed": seed, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_get_session_reports_state_and_history(client):
    created = start_v3(client)
    sid, ch = created["session_id"], created["challenge"]
    client.post(
        f"/v1/sessions/{sid}/answers", json={"challenge_id": ch["challenge_id"], "status": "ok"}
    )
    s = client.get(f"/v1/sessions/{sid}").json()
    assert s["status"] == "active" and s["answered"] == 1 and s["seed"] == "1"
    assert s["rules"]["id"] == "pix-v3" and len(s["rules"]["hash"]) == 64
    assert [e["kind"] for e in s["history"]] == ["start", "answer"]
    assert s["history"][1] == {
        "seq": 2,
        "at": s["history"][1]["at"],
        "kind": "answer",
        "challenge_id": ch["challenge_id"],
        "status": "ok",
        "reason": None,
    }
    assert s["challenge"]["step"] == 1 and s["capacity"] is not None
    assert client.get(f"/v1/sessions/{sid}/result").status_code == 409


def test_conflicts_are_409_with_a_code(client):
    created = start_v3(client)
    sid, ch = created["session_id"], created["challenge"]
    r = client.post(f"/v1/sessions/{sid}/answers", json={"challenge_id": "nope", "status": "ok"})
    assert r.status_code == 409 and r.json()["code"] == "wrong_challenge"
    assert r.headers["content-type"] == "application/problem+json"
    assert ch["challenge_id"] in r.json()["detail"]
    r = client.post(f"/v1/sessions/{sid}/abort", json={"reason": "technical"})
    assert r.status_code == 200 and r.json()["status"] == "aborted"
    assert r.json()["result"]["status"] == "cancelled"  # too few answers, technical abort
    r = client.post(
        f"/v1/sessions/{sid}/answers", json={"challenge_id": ch["challenge_id"], "status": "ok"}
    )
    assert r.status_code == 409 and r.json()["code"] == "session_aborted"
    r = client.post(f"/v1/sessions/{sid}/abort", json={"reason": "candidate"})
    assert r.status_code == 409 and r.json()["code"] == "session_aborted"
    assert client.get(f"/v1/sessions/{sid}/result").status_code == 200


def test_finished_session_refuses_answers(client, bank):
    body = {"rules": "pix-v3", "candidate_id": "f", "seed": 2, "candidate_index": 2}
    sid, challenges, _ = run_over_http(client, bank, body, seed=2, index=2)
    r = client.post(
        f"/v1/sessions/{sid}/answers", json={"challenge_id": challenges[-1], "status": "ok"}
    )
    assert r.status_code == 409 and r.json()["code"] == "session_finished"
    r = client.post(f"/v1/sessions/{sid}/abort", json={"reason": "candidate"})
    assert r.status_code == 409 and r.json()["code"] == "session_finished"


def test_unknown_session_is_404(client):
    for method, path, body in [
        ("GET", "/v1/sessions/nope", None),
        ("GET", "/v1/sessions/nope/result", None),
        ("POST", "/v1/sessions/nope/answers", {"challenge_id": "a", "status": "ok"}),
        ("POST", "/v1/sessions/nope/neutralize", {"challenge_id": "a"}),
        ("POST", "/v1/sessions/nope/abort", {"reason": "candidate"}),
    ]:
        r = client.request(method, path, json=body)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] == "session_not_found"


def test_idempotency_key_replays_the_stored_reply(client):
    created = start_v3(client)
    sid, ch = created["session_id"], created["challenge"]
    body = {"challenge_id": ch["challenge_id"], "status": "ko", "idempotency_key": "k1"}
    first = client.post(f"/v1/sessions/{sid}/answers", json=body)
    again = client.post(f"/v1/sessions/{sid}/answers", json=body)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers.get("idempotent-replayed") == "true"
    assert client.get(f"/v1/sessions/{sid}").json()["answered"] == 1
    other = client.post(f"/v1/sessions/{sid}/answers", json={**body, "status": "ok"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_mismatch"
    # keys are scoped to the session: the same key elsewhere records normally
    created2 = start_v3(client, candidate_id="c2")
    r = client.post(
        f"/v1/sessions/{created2['session_id']}/answers",
        json={
            "challenge_id": created2["challenge"]["challenge_id"],
            "status": "ok",
            "idempotency_key": "k1",
        },
    )
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    metrics = client.get("/metrics").text
    assert "pixirt_idempotent_replays_total 1" in metrics


def test_idempotent_session_start(client):
    body = {"rules": "pix-v3", "candidate_id": "c9", "seed": 4, "idempotency_key": "start-1"}
    a = client.post("/v1/sessions", json=body)
    b = client.post("/v1/sessions", json=body)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = client.post("/v1/sessions", json={**body, "seed": 5})
    assert c.status_code == 409 and c.json()["code"] == "idempotency_mismatch"


def test_expired_session_refuses_answers_but_can_be_aborted(tmp_path, bank, rule_sets):
    clock = Clock()
    tc, _ = make_client(tmp_path, bank, rule_sets, clock=clock, session_ttl_minutes=105)
    with tc as client:
        created = start_v3(client)
        sid, ch = created["session_id"], created["challenge"]
        clock.t += 105 * 60 - 1
        r = client.post(
            f"/v1/sessions/{sid}/answers", json={"challenge_id": ch["challenge_id"], "status": "ok"}
        )
        assert r.status_code == 200
        ch = r.json()["challenge"]
        clock.t += 2
        r = client.post(
            f"/v1/sessions/{sid}/answers", json={"challenge_id": ch["challenge_id"], "status": "ok"}
        )
        assert r.status_code == 409 and r.json()["code"] == "session_expired"
        assert "105 minutes" in r.json()["detail"]
        assert client.get(f"/v1/sessions/{sid}").json()["status"] == "expired"
        r = client.get(f"/v1/sessions/{sid}/result")
        assert r.status_code == 409 and "abort" in r.json()["detail"]
        r = client.post(f"/v1/sessions/{sid}/abort", json={"reason": "technical"})
        assert r.status_code == 200 and r.json()["result"] is not None
        assert 'pixirt_sessions{status="aborted"} 1' in client.get("/metrics").text


def test_session_ttl_is_configurable(tmp_path, bank, rule_sets):
    clock = Clock()
    tc, _ = make_client(tmp_path, bank, rule_sets, clock=clock, session_ttl_minutes=1)
    with tc as client:
        created = start_v3(client)
        clock.t += 61
        r = client.post(
            f"/v1/sessions/{created['session_id']}/answers",
            json={"challenge_id": created["challenge"]["challenge_id"], "status": "ok"},
        )
        assert r.status_code == 409 and r.json()["code"] == "session_expired"


def test_jury_neutralization_rescores(client, bank):
    v3 = rules.load("pix-v3")
    body = {"rules": "pix-v3", "candidate_id": "j", "seed": 8, "candidate_index": 8}
    sid, challenges, last = run_over_http(client, bank, body, seed=8, index=8)
    r = client.post(f"/v1/sessions/{sid}/neutralize", json={"challenge_id": challenges[3]})
    assert r.status_code == 200
    out = r.json()
    assert out["neutralized"] == [challenges[3]] and out["status"] == "finished"
    _, _, state = run_in_process(bank, v3, seed=8, index=8, candidate_id="j")
    expected = engine.result(engine.neutralize(state, challenges[3])).to_dict()
    assert out["result"] == expected
    assert client.get(f"/v1/sessions/{sid}/result").json() == expected
    r = client.post(f"/v1/sessions/{sid}/neutralize", json={"challenge_id": challenges[3]})
    assert r.status_code == 409 and r.json()["code"] == "already_neutralized"
    r = client.post(f"/v1/sessions/{sid}/neutralize", json={"challenge_id": "never-asked"})
    assert r.status_code == 409 and r.json()["code"] == "not_asked"
    r = client.post(f"/v1/sessions/{sid}/deneutralize", json={"challenge_id": challenges[3]})
    assert r.status_code == 200 and r.json()["result"] == last["result"]
    r = client.post(f"/v1/sessions/{sid}/deneutralize", json={"challenge_id": challenges[3]})
    assert r.status_code == 409 and r.json()["code"] == "not_neutralized"
    kinds = [e["kind"] for e in client.get(f"/v1/sessions/{sid}").json()["history"]]
    assert kinds[-2:] == ["neutralize", "deneutralize"]


def test_live_alert_replaces_the_challenge(client, bank):
    created = start_v3(client, seed=6)
    sid, ch = created["session_id"], created["challenge"]
    r = client.post(f"/v1/sessions/{sid}/live-alerts", json={"challenge_id": ch["challenge_id"]})
    assert r.status_code == 200
    new = r.json()["challenge"]
    state = engine.start(
        bank, rules.load("pix-v3"), candidate=Candidate("c1", derive_candidate_index("c1")), seed=6
    )
    state = engine.flag_live_alert(state, ch["challenge_id"])
    assert new["challenge_id"] == engine.next_challenge(state).challenge_id != ch["challenge_id"]
    r = client.post(f"/v1/sessions/{sid}/live-alerts", json={"challenge_id": ch["challenge_id"]})
    assert r.status_code == 409 and r.json()["code"] == "wrong_challenge"


def test_v2_specific_refusals(client, bank):
    profile, _ = certifiable_profile(bank)
    r = client.post("/v1/sessions", json={"rules": "pix-v2", "candidate_id": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.profile"
    r = client.post(
        "/v1/sessions",
        json={"rules": "pix-v3", "candidate_id": "x", "profile": profile.to_dict()},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.profile"
    weak = {"competences": {"1.1": {"level": 3, "pix": 20}}, "answered_challenges": []}
    r = client.post("/v1/sessions", json={"rules": "pix-v2", "candidate_id": "x", "profile": weak})
    assert r.status_code == 422 and "certifiable" in r.json()["detail"]
    sid = client.post(
        "/v1/sessions", json={"rules": "pix-v2", "candidate_id": "x", "profile": profile.to_dict()}
    ).json()["session_id"]
    ch = client.get(f"/v1/sessions/{sid}").json()["challenge"]
    r = client.post(f"/v1/sessions/{sid}/live-alerts", json={"challenge_id": ch["challenge_id"]})
    assert r.status_code == 409 and r.json()["code"] == "v3_only"


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "ok"}, "body.challenge_id"),
        ({"challenge_id": "a", "status": "maybe"}, "body.status"),
        ({"challenge_id": 12, "status": "ok"}, "body.challenge_id"),
        ({"challenge_id": "a", "status": "ok", "extra": 1}, "body.extra"),
        ({"challenge_id": "a", "status": "ok", "idempotency_key": ""}, "body.idempotency_key"),
        ([], "body"),
        ("text", "body"),
    ],
)
def test_bad_answer_bodies_are_422_naming_the_field(client, body, field):
    sid = start_v3(client)["session_id"]
    r = client.post(f"/v1/sessions/{sid}/answers", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "invalid_request"
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"candidate_id": "a"}, "body.rules"),
        ({"rules": "pix-v9", "candidate_id": "a"}, "body.rules"),
        ({"rules": "pix-v3", "candidate_id": ""}, "body.candidate_id"),
        ({"rules": "pix-v3", "candidate_id": "a", "seed": -1}, "body.seed"),
        ({"rules": "pix-v3", "candidate_id": "a", "seed": "1x2"}, "body.seed"),
        ({"rules": "pix-v3", "candidate_id": "a", "seed": 12.0}, "body.seed"),
        ({"rules": "pix-v3", "candidate_id": "a", "seed": 2**64}, "body.seed"),
        ({"rules": "pix-v3", "candidate_id": "a", "accessibility": "yes"}, "body.accessibility"),
        ({"rules": "pix-v3", "candidate_id": "a", "candidate_index": 1.5}, "body.candidate_index"),
        (
            {
                "rules": "pix-v2",
                "candidate_id": "a",
                "profile": {"competences": {"1.1": {"level": 9, "pix": 1}}},
            },
            "body.profile.competences.1.1.level",
        ),
        (
            {
                "rules": "pix-v2",
                "candidate_id": "a",
                "profile": {"competences": {"x": {"level": 1, "pix": 1}}},
            },
            "body.profile.competences.x.[key]",
        ),
    ],
)
def test_bad_session_bodies_are_422_naming_the_field(client, body, field):
    r = client.post("/v1/sessions", json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_malformed_json_oversized_body_and_media_type(client):
    sid = start_v3(client)["session_id"]
    url = f"/v1/sessions/{sid}/answers"
    r = client.post(url, content=b'{"challenge_id": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    assert "malformed JSON" in r.json()["detail"]
    big = json.dumps({"challenge_id": "a" * 70_000, "status": "ok"}).encode()
    r = client.post(url, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"

    def chunks():  # no Content-Length: the limit holds on the stream
        for _ in range(20):
            yield b" " * 4096

    r = client.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post(url, content=b'{"challenge_id": "a", "status": "ok"}')
    assert r.status_code == 415
    assert client.get("/v1/nothing").status_code == 404
    assert client.delete("/v1/rules").status_code == 405


def test_stateless_scoring(client, bank):
    v3 = rules.load("pix-v3")
    _, result, state = run_in_process(bank, v3, seed=4, index=4, candidate_id="s")
    cert = engine.certification(state).to_dict()
    r = client.post("/v1/score", json={"rules": "pix-v3", "certification": cert})
    assert r.status_code == 200 and r.json() == result
    bad = {**cert, "challenges": [*cert["challenges"], cert["challenges"][0]]}
    r = client.post("/v1/score", json={"rules": "pix-v3", "certification": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith(
        "body.certification.challenges["
    )
    r = client.post("/v1/score", json={"rules": "pix-v3", "certification": {"challenges": "x"}})
    assert (
        r.status_code == 422 and r.json()["errors"][0]["field"] == "body.certification.challenges"
    )


def test_rules_endpoints(client, rule_sets):
    listed = client.get("/v1/rules").json()
    assert [r["id"] for r in listed] == sorted(r.id for r in rule_sets)
    one = client.get("/v1/rules/pix-v3").json()
    assert one["hash"] == rules.load("pix-v3").hash
    assert rules.RuleSet.from_dict(one["content"]).hash == one["hash"]
    assert client.get("/v1/rules/none").status_code == 404


def test_erasing_a_candidate_deletes_every_session(client, tmp_path):
    a = start_v3(client, candidate_id="erase-me", seed=1)
    b = start_v3(client, candidate_id="erase-me", seed=2, idempotency_key="k")
    keep = start_v3(client, candidate_id="keep-me", seed=3)
    sid = a["session_id"]
    client.post(
        f"/v1/sessions/{sid}/answers",
        json={
            "challenge_id": a["challenge"]["challenge_id"],
            "status": "ok",
            "idempotency_key": "x",
        },
    )
    r = client.delete("/v1/candidates/erase-me")
    assert r.status_code == 200 and r.json() == {"candidate_id": "erase-me", "sessions_deleted": 2}
    for s in (a, b):
        assert client.get(f"/v1/sessions/{s['session_id']}").status_code == 404
    assert client.get(f"/v1/sessions/{keep['session_id']}").status_code == 200
    assert client.delete("/v1/candidates/erase-me").json()["sessions_deleted"] == 0
    start_v3(client, candidate_id="org/42")  # ids with a slash can be erased too
    r = client.delete("/v1/candidates/org%2F42")
    assert r.json() == {"candidate_id": "org/42", "sessions_deleted": 1}
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        for table, column in [
            ("sessions", "session_id"),
            ("events", "session_id"),
            ("replies", "scope"),
        ]:
            n = db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} IN (?, ?, ?)",
                (sid, b["session_id"], "candidate:erase-me"),
            ).fetchone()[0]
            assert n == 0, table


# ------------------------------------------------------------------ operations
def test_token_is_required_except_for_health_and_ready(tmp_path, bank, rule_sets):
    tc, log = make_client(tmp_path, bank, rule_sets, token="s3cret-token")
    with tc as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
        for path in ("/v1/rules", "/metrics", "/openapi.json"):
            r = client.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/v1/rules", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert (
            client.get("/v1/rules", headers={"authorization": "Basic s3cret-token"}).status_code
            == 401
        )
        # refused before the body is read or validated
        r = client.post(
            "/v1/sessions", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 401
        ok = {"authorization": "Bearer s3cret-token"}
        assert client.get("/v1/rules", headers=ok).status_code == 200
        r = client.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "t"}, headers=ok)
        assert r.status_code == 201
        schema = client.get("/openapi.json", headers=ok).json()
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "s3cret-token" not in log.getvalue()


def test_one_json_log_line_per_request(client):
    created = start_v3(client)
    sid = created["session_id"]
    client.get(f"/v1/sessions/{sid}", headers={"x-request-id": "req-42"})
    client.post(f"/v1/sessions/{sid}/answers", json={"challenge_id": "zz", "status": "ok"})
    client.get("/health")
    lines = [json.loads(line) for line in client.log.getvalue().splitlines()]
    assert len(lines) == 4
    assert lines[0]["route"] == "/v1/sessions" and lines[0]["status"] == 201
    assert lines[0]["session_id"] == sid
    assert lines[1]["route"] == "/v1/sessions/{session_id}" and lines[1]["request_id"] == "req-42"
    assert lines[2]["status"] == 409 and lines[2]["session_id"] == sid
    assert all(isinstance(x["latency_ms"], float) for x in lines)
    assert set(lines[3]) == {
        "ts", "level", "event", "method", "route", "status", "latency_ms", "session_id", "request_id"
    }  # fmt: skip


def test_health_ready_metrics_openapi(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["store"] is True and "pix-v3" in ready["rules"]
    start_v3(client)
    text = client.get("/metrics").text
    assert 'pixirt_http_requests_total{method="POST",route="/v1/sessions",status="201"} 1' in text
    assert 'pixirt_http_request_duration_seconds_bucket{route="/v1/sessions",le="+Inf"} 1' in text
    assert "pixirt_sessions_started_total 1" in text
    assert 'pixirt_sessions{status="active"} 1' in text
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/v1/sessions",
        "/v1/sessions/{session_id}",
        "/v1/sessions/{session_id}/answers",
        "/v1/sessions/{session_id}/result",
        "/v1/sessions/{session_id}/neutralize",
        "/v1/sessions/{session_id}/deneutralize",
        "/v1/sessions/{session_id}/abort",
        "/v1/score",
        "/v1/rules",
        "/v1/rules/{rules_id}",
        "/v1/candidates/{candidate_id}",
        "/health",
        "/ready",
        "/metrics",
    ):
        assert path in paths, path
    answer_schema = schema["components"]["schemas"]["AnswerIn"]
    assert answer_schema["additionalProperties"] is False
    assert set(answer_schema["properties"]) == {"challenge_id", "status", "idempotency_key"}


def test_settings_from_environment(tmp_path):
    env = {
        "PIXIRT_DB": str(tmp_path / "x.sqlite"),
        "PIXIRT_TOKEN": "t",
        "PIXIRT_RULES": "pix-v3, pix-v2",
        "PIXIRT_SESSION_TTL_MINUTES": "90",
        "PIXIRT_LOG_REQUESTS": "false",
        "PIXIRT_PORT": "9000",
    }
    s = Settings.from_env(env, port=9100)
    assert s.db == str(tmp_path / "x.sqlite") and s.token == "t" and s.rules == ("pix-v3", "pix-v2")
    assert s.session_ttl_seconds == 5400 and s.log_requests is False and s.port == 9100
    assert "t'" not in repr(s) and "token" not in repr(s)
    with pytest.raises(Exception, match="PIXIRT_PORT"):
        Settings.from_env({"PIXIRT_PORT": "eighty"})
    with pytest.raises(Exception, match="session_ttl_minutes"):
        Settings(session_ttl_minutes=0)


def test_store_schema_is_versioned(tmp_path):
    path = tmp_path / "v.sqlite"
    store = SQLiteStore(path).open()
    assert store.schema_version == MIGRATIONS[-1].version
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path).open()


def test_sessions_stay_pinned_to_their_bank_and_rules(tmp_path, rule_sets):
    """A restart with a new bank serves new sessions with it; old sessions go on with theirs."""
    old_bank, new_bank = pix_like_bank(seed=0), pix_like_bank(seed=1)
    v3 = rules.load("pix-v3")
    expected, result, _ = run_in_process(old_bank, v3, seed=9, index=9, candidate_id="p")
    tc, _ = make_client(tmp_path, old_bank, rule_sets)
    with tc as client:
        created = client.post(
            "/v1/sessions",
            json={"rules": "pix-v3", "candidate_id": "p", "seed": 9, "candidate_index": 9},
        ).json()
        sid, ch = created["session_id"], created["challenge"]
        served = []
        for step in range(10):
            served.append(ch["challenge_id"])
            status = answer_for(9, 9, step, ch["challenge_id"], old_bank)
            ch = client.post(
                f"/v1/sessions/{sid}/answers",
                json={"challenge_id": ch["challenge_id"], "status": status},
            ).json()["challenge"]
    tc, _ = make_client(tmp_path, new_bank, [rules.load("pix-v3")])
    with tc as client:
        assert client.get("/ready").json()["bank_hash"] == new_bank.hash
        s = client.get(f"/v1/sessions/{sid}").json()
        assert s["bank_hash"] == old_bank.hash and s["answered"] == 10
        last = None
        while ch is not None:
            served.append(ch["challenge_id"])
            status = answer_for(9, 9, ch["step"], ch["challenge_id"], old_bank)
            last = client.post(
                f"/v1/sessions/{sid}/answers",
                json={"challenge_id": ch["challenge_id"], "status": status},
            ).json()
            ch = last["challenge"]
        assert served == expected and last["result"] == result
        fresh = client.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "q"}).json()
        assert fresh["bank_hash"] == new_bank.hash


def test_serve_command_line(tmp_path, capsys):
    import argparse

    from pixirt.cli._serve import add_serve_parser, main, serve_command

    parser = argparse.ArgumentParser(prog="pixirt")
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["serve", "--bank", "b.csv", "--rules", "pix-v3,pix-v2", "--rules", "x.toml", "--port", "9"]
    )
    assert args.func is serve_command and args.rules == ["pix-v3,pix-v2", "x.toml"]
    assert args.port == 9 and args.log_requests is None
    # a bad bank is one line and exit status 2, before any server starts
    assert main(["--bank", str(tmp_path / "missing.csv"), "--db", str(tmp_path / "d.sqlite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pixirt serve: error:")


def test_metric_labels_stay_bounded(client):
    for method in ("FOO", "BAR"):
        client.request(method, "/v1/rules")
    text = client.get("/metrics").text
    assert 'method="OTHER"' in text and "FOO" not in text and "BAR" not in text
