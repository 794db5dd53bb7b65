"""Per-call timings for the single-client parts (large objects, listing, query).

A boto3 call's time is the server's answer plus botocore's own work: signing, and parsing the
response (for a 1,000-key listing or a 1,000-item query, parsing alone takes several
milliseconds of client CPU). ``RoundTrips`` times the HTTP exchange alone, from the request
being sent to the response body read, via botocore's ``before-send`` and ``before-parse``
events, so a report can show both what the application sees and what the server costs.
"""

from __future__ import annotations

import time
from typing import Any

from bench.boto_load import percentile


class RoundTrips:
    """Records one HTTP round trip per call made with ``client`` (retries are off in the bench)."""

    def __init__(self, client: Any) -> None:
        self.samples: list[float] = []
        self._sent_at: float | None = None
        client.meta.events.register("before-send", self._sent)
        client.meta.events.register("before-parse", self._received)

    def _sent(self, **_: Any) -> None:  # returning None lets botocore send the request itself
        self._sent_at = time.perf_counter()

    def _received(self, **_: Any) -> None:
        if self._sent_at is not None:
            self.samples.append(time.perf_counter() - self._sent_at)
            self._sent_at = None


def summary(samples: list[float]) -> dict[str, float | int | None]:
    """``n``, ``p50_ms``, ``p99_ms``, ``max_ms`` of durations given in seconds (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``call(*args, **kwargs)`` and how long it took in seconds."""
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - start
