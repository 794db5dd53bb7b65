"""The account's concurrency limit, on a small fleet of its own with ``FLOTILLA_LAMBDA_CONCURRENCY=2``:
a third simultaneous invocation, of any function of the account, is throttled with Lambda's 429."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from flotilla.fleet import Fleet, free_port
from tests.integration.lambda_support import create_function, unique, wait_for

SLEEPER = """
import time


def handler(event, context):
    print("running", event.get("n"))
    time.sleep(event.get("sleep", 0))
    return event.get("n")
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("concurrency-fleet")
    fleet = Fleet(
        port=free_port(),
        services=("lambda",),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={"FLOTILLA_LAMBDA_EXECUTOR": "local", "FLOTILLA_LAMBDA_CONCURRENCY": "2"},
    )
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
def lam(fleet: Fleet) -> Any:
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
    return boto3.client(
        "lambda",
        endpoint_url=fleet.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )


def running(fleet: Fleet, name: str) -> int:
    resp = httpx.get(f"{fleet.url}/_flotilla/lambda/logs/{name}", timeout=5)
    return resp.text.count("running ") if resp.status_code == 200 else 0


def test_account_limit_throttles_the_third_invocation(fleet: Fleet, lam: Any) -> None:
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2
    busy, other = unique(), unique()
    create_function(lam, busy, SLEEPER, Timeout=30)
    create_function(lam, other, SLEEPER, Timeout=30)
    results: list[Any] = []

    def slow(n: int) -> None:
        out = lam.invoke(FunctionName=busy, Payload=json.dumps({"n": n, "sleep": 4}).encode())
        results.append(json.loads(out["Payload"].read()))

    threads = [threading.Thread(target=slow, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: running(fleet, busy) == 2)
        for name in (busy, other):  # the limit is the account's: another function is throttled too
            with pytest.raises(ClientError) as throttled:
                lam.invoke(FunctionName=name, Payload=b'{"n": 3}')
            response = throttled.value.response
            assert response["Error"] == {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}
            assert response["Reason"] == "ConcurrentInvocationLimitExceeded"
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        for thread in threads:
            thread.join(30)
    assert sorted(results) == [1, 2]
    assert (
        json.loads(lam.invoke(FunctionName=other, Payload=b'{"n": 4}')["Payload"].read()) == 4
    )  # free again
