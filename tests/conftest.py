"""Session-wide fixtures: the fleet as local processes, and boto3 clients pointed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flotilla.fleet import Fleet, free_port

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


def fleet_test_env() -> dict[str, str]:
    """Shorter waits than a user's fleet, so that tests of retries do not wait minutes (the caller's
    environment still wins): Lambda async retries after 1 s and 2 s (AWS: about 1 and 2 minutes)."""
    defaults = {"FLOTILLA_LAMBDA_ASYNC_RETRY_SECONDS": "1"}
    return {name: os.environ.get(name, value) for name, value in defaults.items()}


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Every service and the gateway, started once per test session on free ports."""
    root: Path = tmp_path_factory.mktemp("fleet")
    fleet = Fleet(port=free_port(), data_dir=root / "data", log_dir=root / "logs", env=fleet_test_env())
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()
        if os.environ.get("FLOTILLA_SHOW_LOGS"):
            for log in sorted((root / "logs").glob("*.log")):
                print(f"---- {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def endpoint(fleet: Fleet) -> str:
    return fleet.url


@pytest.fixture(scope="session")
def redis_url(fleet: Fleet) -> str:
    """The fleet's Redis (for tests that publish to the bus or read the registry)."""
    assert fleet.redis_in_use is not None
    return fleet.redis_in_use


@pytest.fixture(scope="session")
def aws(endpoint: str) -> Callable[..., object]:
    """``aws("s3")`` -> a boto3 client for the fleet (account 000000000000, us-east-1)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    made: dict[tuple, object] = {}

    def client(service: str, region: str = "us-east-1", **config: object) -> object:
        key = (service, region, tuple(sorted(config.items())))
        if key not in made:
            cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
            made[key] = session.client(service, endpoint_url=endpoint, region_name=region, config=cfg)
        return made[key]

    return client
