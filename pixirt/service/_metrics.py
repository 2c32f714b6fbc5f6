"""Prometheus metrics in the text exposition format (version 0.0.4), without a client library.

Exposed at ``GET /metrics``:

- ``pixirt_http_requests_total{method,route,status}``: requests served (``route`` is the
  route template, so session ids never make series);
- ``pixirt_http_request_duration_seconds{route}``: histogram of request latency;
- ``pixirt_sessions_started_total``, ``pixirt_answers_recorded_total``,
  ``pixirt_sessions_finished_total``, ``pixirt_sessions_aborted_total``,
  ``pixirt_idempotent_replays_total``, ``pixirt_conflicts_total``: what happened;
- ``pixirt_sessions_replayed_total``, ``pixirt_sessions_caught_up_total``: sessions
  rebuilt from the store, warm copies brought up to date (several replicas);
- ``pixirt_sessions{status}``: sessions in the store by status (``active``,
  ``finished``, ``aborted``, ``expired``), counted when scraped;
- ``pixirt_sessions_cached``, ``pixirt_store_commits_total``, ``pixirt_store_writes_total``,
  ``pixirt_store_commit_seconds_total``: the store (writes per commit = group commit);
- ``pixirt_info{version,bank_hash}``: always 1.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping

__all__ = ["LATENCY_BUCKETS", "Metrics"]

#: Upper bounds (seconds) of the latency histogram's buckets (``+Inf`` added).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip

COUNTERS: dict[str, str] = {
    "sessions_started": "Sessions started.",
    "answers_recorded": "Answers recorded (idempotent replays excluded).",
    "sessions_finished": "Sessions that reached the end of the test.",
    "sessions_aborted": "Sessions aborted.",
    "idempotent_replays": "Requests answered with a stored reply (same idempotency key).",
    "conflicts": "Requests refused with 409.",
    "sessions_replayed": "Sessions rebuilt from the store (not warm here, or could not catch up).",
    "sessions_caught_up": "Warm sessions brought up to date with steps another replica recorded.",
}


class _Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0


class Metrics:
    """Thread-safe counters and histograms, rendered as Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = {}
        self._latency: dict[str, _Histogram] = {}
        self._counters = dict.fromkeys(COUNTERS, 0)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        with self._lock:
            key = (method, route, status)
            self._requests[key] = self._requests.get(key, 0) + 1
            hist = self._latency.get(route)
            if hist is None:
                hist = self._latency[route] = _Histogram()
            hist.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            hist.sum += seconds

    def inc(self, name: str, n: int = 1) -> None:
        """Add ``n`` to a counter of :data:`COUNTERS`."""
        with self._lock:
            self._counters[name] += n

    def value(self, name: str) -> int:
        """A counter's value."""
        with self._lock:
            return self._counters[name]

    def render(
        self,
        *,
        sessions: Mapping[str, int],
        gauges: Mapping[str, tuple[str, float]],
        info: Mapping[str, str],
    ) -> str:
        """The exposition text.

        Parameters
        ----------
        sessions
            Sessions by status (``pixirt_sessions{status}``).
        gauges
            Name (without the ``pixirt_`` prefix) → (help, value); names ending in
            ``_total`` are typed as counters.
        info
            Labels of ``pixirt_info``.
        """
        with self._lock:
            requests = dict(self._requests)
            latency = {r: (list(h.counts), h.sum) for r, h in self._latency.items()}
            counters = dict(self._counters)
        out: list[str] = []
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(info.items()))
        out += [
            "# HELP pixirt_info The service.",
            "# TYPE pixirt_info gauge",
            f"pixirt_info{{{labels}}} 1",
        ]
        out += [
            "# HELP pixirt_http_requests_total Requests served.",
            "# TYPE pixirt_http_requests_total counter",
        ]
        for (method, route, status), n in sorted(requests.items()):
            out.append(
                f'pixirt_http_requests_total{{method="{method}",route="{_escape(route)}",status="{status}"}} {n}'
            )
        out += [
            "# HELP pixirt_http_request_duration_seconds Request latency.",
            "# TYPE pixirt_http_request_duration_seconds histogram",
        ]
        for route, (counts, total) in sorted(latency.items()):
            r = _escape(route)
            cumulative = 0
            for bound, n in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    f'pixirt_http_request_duration_seconds_bucket{{route="{r}",le="{le}"}} {cumulative}'
                )
            out.append(f'pixirt_http_request_duration_seconds_sum{{route="{r}"}} {total!r}')
            out.append(f'pixirt_http_request_duration_seconds_count{{route="{r}"}} {cumulative}')
        for name, text in COUNTERS.items():
            out += [
                f"# HELP pixirt_{name}_total {text}",
                f"# TYPE pixirt_{name}_total counter",
                f"pixirt_{name}_total {counters[name]}",
            ]
        out += [
            "# HELP pixirt_sessions Sessions in the store by status.",
            "# TYPE pixirt_sessions gauge",
        ]
        for label, n in sorted(sessions.items()):
            out.append(f'pixirt_sessions{{status="{label}"}} {n}')
        for name, (text, value) in gauges.items():
            kind = "counter" if name.endswith("_total") else "gauge"
            out += [
                f"# HELP pixirt_{name} {text}",
                f"# TYPE pixirt_{name} {kind}",
                f"pixirt_{name} {_number(value)}",
            ]
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
