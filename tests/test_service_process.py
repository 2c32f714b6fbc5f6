"""The service as a real process (uvicorn on 127.0.0.1): kill -9 and restart loses no
acknowledged answer; racing clients record one answer; 50 sessions in parallel."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from pixirt import _streams as streams
from pixirt import rules
from pixirt.cat import Candidate
from pixirt.cat import _engine as engine
from pixirt.simulation import Population, pix_like_bank

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ------------------------------------------------------------------ the server process
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m pixirt.cli._serve`` on loopback, started and stopped by the test."""

    def __init__(self, db, log_path, port: int | None = None) -> None:
        self.db = db
        self.log_path = log_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIRT_")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "pixirt.cli._serve", "--db", str(self.db),
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--rules", "pix-v3", "--rules", "pix-v2",
                ],
                stdout=log,
                stderr=log,
                env=env,
            )  # fmt: skip
        # wait for readiness; the bound is a safety net against a hung start, not a check
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("server not ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def answer_for(seed, index, step, challenge_id, bank, theta=0.0):
    pos = bank.index_of([challenge_id])[0]
    p = 1 / (1 + np.exp(-bank.a[pos] * (theta - bank.b[pos])))
    return "ok" if streams.uniform(seed, "test.process", index, step) < p else "ko"


def reference(bank, rs, *, seed, index, candidate_id, profile=None):
    state = engine.start(
        bank, rs, profile=profile, candidate=Candidate(candidate_id, index), seed=seed
    )
    served = []
    while (ch := engine.next_challenge(state)) is not None:
        served.append(ch.challenge_id)
        state = engine.record(
            state, ch.challenge_id, answer_for(seed, index, ch.step, ch.challenge_id, bank)
        )
    return served, engine.result(state).to_dict()


def certifiable_profile(bank):
    cands = Population().sample(30, seed=5, bank=bank)
    for row in range(len(cands)):
        if cands.profile(row).is_certifiable():
            return cands.profile(row), int(cands.index[row])
    raise AssertionError("no certifiable profile")


class Candidate_:
    """A client taking one session, able to resume from the server's state."""

    def __init__(self, body, seed, index, bank) -> None:
        self.body, self.seed, self.index, self.bank = body, seed, index, bank
        self.sid: str | None = None

    def create(self, http: httpx.Client) -> None:
        r = http.post("/v1/sessions", json=self.body)
        assert r.status_code == 201, r.text
        self.sid = r.json()["session_id"]

    def state(self, http):
        r = http.get(f"/v1/sessions/{self.sid}")
        assert r.status_code == 200, r.text
        return r.json()

    def answer_body(self, challenge):
        status = answer_for(
            self.seed, self.index, challenge["step"], challenge["challenge_id"], self.bank
        )
        return {
            "challenge_id": challenge["challenge_id"],
            "status": status,
            "idempotency_key": f"{self.sid}:{challenge['step']}",
        }

    def answer_until(self, http, n_answers):
        """Answer until ``n_answers`` are acknowledged (or the test ends)."""
        s = self.state(http)
        challenge, answered = s["challenge"], s["answered"]
        while challenge is not None and answered < n_answers:
            r = http.post(f"/v1/sessions/{self.sid}/answers", json=self.answer_body(challenge))
            assert r.status_code == 200, r.text
            challenge, answered = r.json()["challenge"], r.json()["answered"]
        return answered

    def served(self, http):
        return [e["challenge_id"] for e in self.state(http)["history"] if e["kind"] == "answer"]


# ------------------------------------------------------------------ durability
def test_sigkill_and_restart_lose_no_acknowledged_answer(tmp_path, bank):
    v3, v2 = rules.load("pix-v3"), rules.load("pix-v2")
    profile, v2_index = certifiable_profile(bank)
    exp3 = reference(bank, v3, seed=21, index=3, candidate_id="k3")
    exp2 = reference(bank, v2, seed=4, index=v2_index, candidate_id="k2", profile=profile)
    c3 = Candidate_(
        {"rules": "pix-v3", "candidate_id": "k3", "seed": 21, "candidate_index": 3}, 21, 3, bank
    )
    c2 = Candidate_(
        {
            "rules": "pix-v2", "candidate_id": "k2", "seed": 4, "candidate_index": v2_index,
            "profile": profile.to_dict(),
        },
        4, v2_index, bank,
    )  # fmt: skip
    db, log = tmp_path / "sessions.sqlite", tmp_path / "server.log"
    server = Server(db, log).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            c3.create(http)
            c2.create(http)
            assert c3.answer_until(http, 5) == 5 and c2.answer_until(http, 5) == 5

        # kill point 1: idle, right after acknowledged answers
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            s3 = c3.state(http)
            assert s3["answered"] == 5 and s3["challenge"]["challenge_id"] == exp3[0][5]
            assert c2.state(http)["challenge"]["challenge_id"] == exp2[0][5]
            c3.answer_until(http, 12)
            c2.answer_until(http, 8)

        # kill point 2: while an answer is in flight (before, during or after its commit)
        for delay, n3 in [(0.002, 22)]:
            pending = {}
            with httpx.Client(base_url=server.url, timeout=30) as http:
                challenge = c3.state(http)["challenge"]
            pending["body"] = c3.answer_body(challenge)

            def fire(pending=pending):
                try:
                    with httpx.Client(base_url=server.url, timeout=30) as h:
                        pending["reply"] = h.post(
                            f"/v1/sessions/{c3.sid}/answers", json=pending["body"]
                        )
                except httpx.HTTPError as exc:
                    pending["error"] = exc

            thread = threading.Thread(target=fire)
            thread.start()
            time.sleep(delay)
            server.kill()
            thread.join()
            server.start()
            with httpx.Client(base_url=server.url, timeout=30) as http:
                before = c3.state(http)["answered"]
                # the client retries with the same key: recorded exactly once either way
                r = http.post(f"/v1/sessions/{c3.sid}/answers", json=pending["body"])
                assert r.status_code == 200, r.text
                assert r.json()["answered"] == before + (
                    0 if r.headers.get("idempotent-replayed") else 1
                )
                if "reply" in pending and pending["reply"].status_code == 200:
                    # acknowledged before the kill: the stored reply is the same reply
                    assert r.content == pending["reply"].content
                c3.answer_until(http, n3)
                c2.answer_until(http, n3 // 2)

        # kill point 3: both sessions answering as fast as they can, killed mid-burst
        def burst(candidate, n):
            try:
                with httpx.Client(base_url=server.url, timeout=30) as h:
                    candidate.answer_until(h, n)
            except (httpx.HTTPError, AssertionError):
                pass

        threads = [
            threading.Thread(target=burst, args=(c3, 32)),
            threading.Thread(target=burst, args=(c2, 99)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.03)
        server.kill()
        for thread in threads:
            thread.join()
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for c, exp in ((c3, exp3), (c2, exp2)):
                s = c.state(http)
                assert s["answered"] == len(c.served(http))
                assert (
                    s["challenge"] is None
                    or s["challenge"]["challenge_id"] == exp[0][s["answered"]]
                )
            c3.answer_until(http, 32)
            c2.answer_until(http, 99)
            assert c3.served(http) == exp3[0]
            assert c2.served(http) == exp2[0]

        # kill point 4: after the end; the results survive
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get(f"/v1/sessions/{c3.sid}/result").json() == exp3[1]
            assert http.get(f"/v1/sessions/{c2.sid}/result").json() == exp2[1]
            history = c3.state(http)["history"]
            assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    finally:
        server.stop()


# ------------------------------------------------------------------ concurrency
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("svc")
    srv = Server(tmp / "sessions.sqlite", tmp / "server.log").start()
    yield srv
    srv.stop()


async def _request(reader, writer, method, path, body=None):
    """One HTTP/1.1 keep-alive request (a minimal client: 50 of them cost little CPU)."""
    data = b"" if body is None else json.dumps(body).encode()
    writer.write(
        f"{method} {path} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n".encode()
        + data
    )
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, json.loads(await reader.readexactly(length))


def race(server, sid, bodies):
    """Send every body at once, each on its own open connection; the replies."""

    async def main():
        conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in bodies]
        replies = await asyncio.gather(
            *(
                _request(r, w, "POST", f"/v1/sessions/{sid}/answers", body)
                for (r, w), body in zip(conns, bodies, strict=True)
            )
        )
        for _, w in conns:
            w.close()
        return replies

    return asyncio.run(main())


def test_twenty_clients_answering_the_same_challenge_record_one(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        created = http.post(
            "/v1/sessions", json={"rules": "pix-v3", "candidate_id": "race", "seed": 1}
        ).json()
    sid, ch = created["session_id"], created["challenge"]
    replies = race(
        server, sid, [{"challenge_id": ch["challenge_id"], "status": "ok"} for _ in range(20)]
    )
    codes = sorted(status for status, _ in replies)
    assert codes == [200] + [409] * 19
    assert {body["code"] for status, body in replies if status == 409} == {"wrong_challenge"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        s = http.get(f"/v1/sessions/{sid}").json()
    assert s["answered"] == 1
    assert [e["kind"] for e in s["history"]] == ["start", "answer"]

    # the same idempotency key from 20 clients: one record, 20 identical replies
    body = {
        "challenge_id": s["challenge"]["challenge_id"],
        "status": "ko",
        "idempotency_key": "same",
    }
    replies = race(server, sid, [body] * 20)
    assert {status for status, _ in replies} == {200}
    assert all(reply == replies[0][1] for _, reply in replies)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get(f"/v1/sessions/{sid}").json()["answered"] == 2


def test_fifty_sessions_in_parallel_all_finish_correctly(server, bank):
    v3 = rules.load("pix-v3")

    async def session(i):
        seed = 100 + i
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        body = {"rules": "pix-v3", "candidate_id": f"p{i}", "seed": seed, "candidate_index": i}
        status, created = await _request(reader, writer, "POST", "/v1/sessions", body)
        assert status == 201
        sid, ch, served = created["session_id"], created["challenge"], []
        while ch is not None:
            served.append(ch["challenge_id"])
            answer = {
                "challenge_id": ch["challenge_id"],
                "status": answer_for(seed, i, ch["step"], ch["challenge_id"], bank),
            }
            status, reply = await _request(
                reader, writer, "POST", f"/v1/sessions/{sid}/answers", answer
            )
            assert status == 200, reply
            ch = reply["challenge"]
        status, result = await _request(reader, writer, "GET", f"/v1/sessions/{sid}/result")
        writer.close()
        return served, result

    async def main():
        return await asyncio.gather(*(session(i) for i in range(50)))

    got = asyncio.run(main())
    for i in range(50):
        assert got[i] == reference(bank, v3, seed=100 + i, index=i, candidate_id=f"p{i}"), i
    with httpx.Client(base_url=server.url, timeout=30) as http:
        metrics = http.get("/metrics").text
    assert 'pixirt_sessions{status="finished"} 50' in metrics
