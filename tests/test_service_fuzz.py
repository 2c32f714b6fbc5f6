"""Fuzzing the service: schemathesis against /openapi.json (valid and invalid requests for
every operation) and hypothesis on the request bodies, raw bytes included — never a 5xx;
every 422 names the fields."""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixirt import rules
from pixirt.simulation import pix_like_bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pixirt.service import Settings, create_app

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BANK = pix_like_bank(seed=0)
RULES = [rules.load("pix-v3"), rules.load("pix-v2")]
TMP = Path(tempfile.mkdtemp(prefix="pixirt-fuzz-"))
APP = create_app(Settings(db=TMP / "fuzz.sqlite", log_requests=False), bank=BANK, rule_sets=RULES)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
SCHEMA.config.generation.update(
    modes=list(schemathesis.GenerationMode), max_examples=10, deterministic=True
)
ALLOWED = {200, 201, 400, 404, 405, 409, 413, 415, 422}


@pytest.fixture(scope="module")
def client():
    with TestClient(APP) as tc:  # runs the lifespan: bank, rules, store
        yield tc
    shutil.rmtree(TMP, ignore_errors=True)


def new_session(client) -> tuple[str, str]:
    """A v3 session with one answer recorded: its id and the challenge served."""
    r = client.post("/v1/sessions", json={"rules": "pix-v3", "candidate_id": "fuzz"})
    assert r.status_code == 201, r.text
    created = r.json()
    sid, ch = created["session_id"], created["challenge"]["challenge_id"]
    reply = client.post(f"/v1/sessions/{sid}/answers", json={"challenge_id": ch, "status": "ok"})
    return sid, reply.json()["challenge"]["challenge_id"]


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_operations_never_answer_5xx(client, case):
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = new_session(client)[0]
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
    assert response.status_code in ALLOWED, (case.method, case.path, response.status_code)
    if response.status_code >= 400:
        problem = response.json()
        assert problem["status"] == response.status_code and problem["code"]
        if response.status_code == 422 and problem["code"] == "invalid_request":
            assert problem["errors"] and all(e["field"] for e in problem["errors"])


# ------------------------------------------------------------------ hypothesis on bodies
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

VALID = {
    "answers": {"challenge_id": "c", "status": "ok", "idempotency_key": "k"},
    "neutralize": {"challenge_id": "c"},
    "deneutralize": {"challenge_id": "c"},
    "live-alerts": {"challenge_id": "c"},
    "abort": {"reason": "technical"},
}


@st.composite
def mutated(draw, valid):
    """A valid body with one field replaced, removed or added, or any JSON at all."""
    kind = draw(st.sampled_from(["replace", "remove", "add", "any"]))
    body = dict(valid)
    if kind == "any":
        return draw(json_values)
    key = draw(st.sampled_from(sorted(body)))
    if kind == "replace":
        body[key] = draw(json_values)
    elif kind == "remove":
        body.pop(key)
    else:
        body[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    return body


def check(response):
    assert response.status_code in ALLOWED, response.text[:300]
    if response.status_code == 422:
        problem = response.json()
        assert problem["errors"] or problem["code"] != "invalid_request"
        assert all(e["field"].startswith("body") for e in problem["errors"])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_session_operations_with_bad_bodies(client, data):
    sid, served = new_session(client)
    action = data.draw(st.sampled_from(sorted(VALID)))
    valid = {**VALID[action]}
    if "challenge_id" in valid:
        valid["challenge_id"] = served
    body = data.draw(mutated(valid))
    check(client.post(f"/v1/sessions/{sid}/{action}", json=body))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=mutated(
        {
            "rules": "pix-v3",
            "candidate_id": "c",
            "seed": 1,
            "candidate_index": 2,
            "accessibility": False,
            "locale": "fr-FR",
            "profile": {"competences": {"1.1": {"level": 2, "pix": 10}}},
        }
    )
)
def test_session_start_with_bad_bodies(client, body):
    check(client.post("/v1/sessions", json=body))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    challenge=mutated(
        {
            "challenge_id": "ch00001",
            "competence": "1.1",
            "tube": "t",
            "discriminant": 1.0,
            "difficulty": 0.0,
            "status": "ok",
        }
    ),
    extra=mutated({"abort_reason": "candidate", "fraud": False, "id": "x"}),
    rules_id=st.sampled_from(["pix-v3", "pix-v2", "nope"]),
)
def test_scoring_with_bad_certifications(client, challenge, extra, rules_id):
    cert = {"challenges": [challenge]}
    if isinstance(extra, dict):
        cert.update(extra)
    check(client.post("/v1/score", json={"rules": rules_id, "certification": cert}))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_raw_bytes_never_answer_5xx(client, raw, content_type):
    sid, _ = new_session(client)
    headers = {"content-type": content_type} if content_type else {}
    for path in (f"/v1/sessions/{sid}/answers", "/v1/sessions", "/v1/score"):
        check(client.post(path, content=raw, headers=headers))


def test_deeply_nested_json_is_refused_cleanly(client):
    nested: list = []
    for _ in range(30):
        nested = [nested]
    body = json.dumps({"challenge_id": "a", "status": "ok", "x": nested})
    sid, _ = new_session(client)
    r = client.post(
        f"/v1/sessions/{sid}/answers", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    deep = "[" * 20_000 + "]" * 20_000  # under 64 KiB, deeper than the JSON parser's stack
    r = client.post(
        f"/v1/sessions/{sid}/answers", content=deep, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
