"""Asynchronous invocations (services/lambda/async_events.py): throttle backoff and the DLQ's ErrorCode."""

from __future__ import annotations

import importlib

async_events = importlib.import_module("services.lambda.async_events")


def test_throttle_backoff_doubles_from_one_second_to_five_minutes() -> None:
    delays = [async_events.throttle_delay(n) for n in range(1, 12)]
    assert delays[:5] == [1, 2, 4, 8, 16]
    assert delays[-1] == 300 and max(delays) == 300
    assert all(a <= b for a, b in zip(delays, delays[1:], strict=False))
    assert async_events.throttle_delay(10_000) == 300  # no overflow however long it was throttled


def test_throttle_backoff_is_configurable() -> None:
    assert [async_events.throttle_delay(n, 0.5, 3) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]
    assert async_events.throttle_delay(0, 2, 10) == 2


def test_dead_letter_error_code_is_the_last_http_status() -> None:
    assert async_events.error_code({"Attempt": 2}) == "200"  # function errors: Invoke answers 200
    assert async_events.error_code({"Attempt": 0, "Throttles": 4}) == "429"
    assert async_events.error_code({"Attempt": 1, "Throttles": 0}) == "200"
