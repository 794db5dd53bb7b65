"""Flotilla, the local AWS cloud, in tests: one container or the compose fleet, and boto3 clients for it.

from flotilla_testcontainers import FlotillaContainer

with FlotillaContainer() as flotilla:
    s3 = flotilla.client("s3")
"""

from ._clients import make_client
from ._health import ALL_SERVICES, FlotillaError, FlotillaStartupError, read_health
from .container import FlotillaContainer
from .fleet import FlotillaFleet, compose_command

__all__ = [
    "ALL_SERVICES",
    "FlotillaContainer",
    "FlotillaError",
    "FlotillaFleet",
    "FlotillaStartupError",
    "compose_command",
    "make_client",
    "read_health",
]
