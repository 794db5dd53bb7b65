"""Service settings: read from the environment in exactly one place, then passed in.

| variable | default | meaning |
|---|---|---|
| `FLOTILLA_DATA_DIR` | `./.data` | where a service keeps its files (`<data dir>/<service>/`) |
| `PERSISTENCE` | `0` | `1` keeps state across restarts; `0` wipes the service's data dir at start |
| `FLOTILLA_REDIS_URL` | `redis://127.0.0.1:6379/0` | the fleet's Redis (bus, registry, SQS state) |
| `FLOTILLA_DEFAULT_REGION` | `us-east-1` | region of unsigned requests |
| `FLOTILLA_ENFORCE_SIGV4` | `0` | `1` verifies SigV4 signatures against `FLOTILLA_CREDENTIALS` |
| `FLOTILLA_CREDENTIALS` | `test:test` | `AKID:SECRET[,AKID:SECRET...]` accepted when signatures are enforced |
| `FLOTILLA_LOG_LEVEL` | `INFO` | log level of the service's structured logs |
| `FLOTILLA_EXTERNAL_URL` | `http://localhost:4566` | the endpoint users reach (used in queue URLs, Location headers ...) |
| `FLOTILLA_INTERNAL_URL` | the external URL | where services reach the gateway to call each other's API (`http://gateway:4566` in compose) |
| `FLOTILLA_DOCKER_NETWORK` | (the engine's default bridge) | Docker network of the containers Lambda, EC2 and RDS start |
| `FLOTILLA_DOCKER_LABELS` | (none) | `k=v[,k=v...]` labels of those containers (compose: `flotilla.fleet=<fleet>`) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _credentials(value: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in value.split(",") if ":" in item)
    return {k.strip(): v.strip() for k, v in pairs}


def _labels(value: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}


@dataclass(frozen=True)
class Settings:
    service: str
    data_dir: Path = Path(".data")
    persistence: bool = False
    redis_url: str = "redis://127.0.0.1:6379/0"
    default_region: str = "us-east-1"
    enforce_sigv4: bool = False
    credentials: Mapping[str, str] = field(default_factory=lambda: {"test": "test"})
    log_level: str = "INFO"
    external_url: str = "http://localhost:4566"
    internal_url: str = ""  # empty: the external URL (see ``gateway_url``)
    docker_network: str = ""  # empty: the engine's default bridge
    docker_labels: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        prefix = f"FLOTILLA_{service.upper()}_"
        return cls(
            service=service,
            data_dir=Path(env.get("FLOTILLA_DATA_DIR", ".data")),
            persistence=_flag(env.get("PERSISTENCE") or env.get("FLOTILLA_PERSISTENCE")),
            redis_url=env.get("FLOTILLA_REDIS_URL", "redis://127.0.0.1:6379/0"),
            default_region=env.get("FLOTILLA_DEFAULT_REGION", "us-east-1"),
            enforce_sigv4=_flag(env.get("FLOTILLA_ENFORCE_SIGV4")),
            credentials=_credentials(env.get("FLOTILLA_CREDENTIALS", "test:test")),
            log_level=env.get("FLOTILLA_LOG_LEVEL", "INFO").upper(),
            external_url=env.get("FLOTILLA_EXTERNAL_URL", "http://localhost:4566").rstrip("/"),
            internal_url=env.get("FLOTILLA_INTERNAL_URL", "").rstrip("/"),
            docker_network=env.get("FLOTILLA_DOCKER_NETWORK", ""),
            docker_labels=_labels(env.get("FLOTILLA_DOCKER_LABELS", "")),
            extra={k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)},
        )

    @property
    def gateway_url(self) -> str:
        """Where this service reaches the gateway to call another service's API (shared.aws.client)."""
        return self.internal_url or self.external_url

    @property
    def service_dir(self) -> Path:
        """This service's own data directory."""
        return self.data_dir / self.service
