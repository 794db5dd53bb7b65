"""The regions and availability zones EC2 describes: a fixed list of real AWS regions.

Every region is usable locally, so regions AWS makes you opt in to are reported as
``opted-in`` rather than ``not-opted-in``. Each region has zones ``a``, ``b`` and ``c``,
with zone ids ``<abbreviation>-az1..3`` (``use1-az1``); in AWS the letter-to-id mapping
differs per account, here it is fixed.
"""

from __future__ import annotations

from typing import Any

OPT_IN_NOT_REQUIRED = "opt-in-not-required"
OPTED_IN = "opted-in"

DEFAULT_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-south-1", "sa-east-1",
)  # fmt: skip
OPT_IN_REGIONS = (
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ca-west-1", "eu-south-1", "eu-south-2", "eu-central-2", "il-central-1", "me-south-1", "me-central-1",
    "mx-central-1",
)  # fmt: skip

_DIRECTIONS = {
    "east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}  # fmt: skip
ZONE_LETTERS = ("a", "b", "c")


def all_regions() -> tuple[str, ...]:
    return DEFAULT_REGIONS + OPT_IN_REGIONS


def region_abbreviation(region: str) -> str:
    """``us-east-1`` -> ``use1``, ``ap-southeast-2`` -> ``apse2``, ``us-gov-west-1`` -> ``usgw1``."""
    parts = region.split("-")
    prefix, number, middle = parts[0], parts[-1], parts[1:-1]
    letters = "".join(_DIRECTIONS.get(p, p[0]) for p in middle)
    return f"{prefix}{letters}{number}"


def describe_region(name: str) -> dict[str, Any]:
    return {
        "RegionName": name,
        "Endpoint": f"ec2.{name}.amazonaws.com",
        "OptInStatus": OPT_IN_NOT_REQUIRED if name in DEFAULT_REGIONS else OPTED_IN,
    }


def describe_zones(region: str) -> list[dict[str, Any]]:
    opt_in = OPT_IN_NOT_REQUIRED
    abbreviation = region_abbreviation(region)
    return [
        {
            "State": "available",
            "OptInStatus": opt_in,
            "Messages": [],
            "RegionName": region,
            "ZoneName": f"{region}{letter}",
            "ZoneId": f"{abbreviation}-az{i}",
            "GroupName": region,
            "NetworkBorderGroup": region,
            "ZoneType": "availability-zone",
        }
        for i, letter in enumerate(ZONE_LETTERS, start=1)
    ]
