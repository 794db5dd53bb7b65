"""DescribeRegions and DescribeAvailabilityZones: fixed lists, filtered."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import regions
from ..filters import compile_filters
from .common import check_dry_run

handles = Handlers("ec2")

REGION_FILTERS = {
    "region-name": lambda r: [r["RegionName"]],
    "endpoint": lambda r: [r["Endpoint"]],
    "opt-in-status": lambda r: [r["OptInStatus"]],
}
ZONE_FILTERS = {
    "zone-name": lambda z: [z["ZoneName"]],
    "zone-id": lambda z: [z["ZoneId"]],
    "state": lambda z: [z["State"]],
    "region-name": lambda z: [z["RegionName"]],
    "zone-type": lambda z: [z["ZoneType"]],
    "group-name": lambda z: [z["GroupName"]],
    "network-border-group": lambda z: [z["NetworkBorderGroup"]],
    "opt-in-status": lambda z: [z["OptInStatus"]],
}


@handles("DescribeRegions")
async def describe_regions(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_dry_run(req)
    matches = compile_filters(req.get("Filters"), REGION_FILTERS)
    names = req.get("RegionNames") or regions.all_regions()
    found = [regions.describe_region(n) for n in names if n in regions.all_regions()]
    return {"Regions": [r for r in found if matches(r)]}


@handles("DescribeAvailabilityZones")
async def describe_availability_zones(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_dry_run(req)
    matches = compile_filters(req.get("Filters"), ZONE_FILTERS)
    names, ids = req.get("ZoneNames"), req.get("ZoneIds")
    zones = [
        z
        for z in regions.describe_zones(ctx.region)
        if (not names or z["ZoneName"] in names) and (not ids or z["ZoneId"] in ids) and matches(z)
    ]
    return {"AvailabilityZones": zones}
