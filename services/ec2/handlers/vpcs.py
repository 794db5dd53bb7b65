"""VPC operations: CreateVpc, DescribeVpcs, DeleteVpc."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, vpcs
from ..filters import compile_filters
from .common import check_dry_run, check_max_results, paginate, store

handles = Handlers("ec2")


@handles("CreateVpc")
async def create_vpc(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("Ipv4IpamPoolId"):
        raise errors.invalid_parameter_value("Flotilla does not support IPAM pools yet.")
    if not req.get("CidrBlock"):
        raise errors.missing_parameter("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
    cidr = vpcs.check_cidr(req["CidrBlock"])
    tags = vpcs.tags_for("vpc", req.get("TagSpecifications"))
    check_dry_run(req)
    vpc = vpcs.new_vpc(
        ctx.account_id, ctx.region, cidr, tags=tags, tenancy=req.get("InstanceTenancy") or "default"
    )
    store(ctx).put_vpc(ctx.account_id, ctx.region, vpc)
    return {"Vpc": vpcs.output(vpc)}


@handles("DescribeVpcs")
async def describe_vpcs(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_dry_run(req)
    ids, max_results = req.get("VpcIds") or [], req.get("MaxResults")
    if ids and max_results is not None:
        raise errors.invalid_combination("vpcIds", "maxResults")
    check_max_results(max_results)
    matches = compile_filters(req.get("Filters"), vpcs.VPC_FILTERS)
    every = store(ctx).vpcs(ctx.account_id, ctx.region)
    if ids:
        known = {v["VpcId"] for v in every}
        missing = [i for i in dict.fromkeys(ids) if i not in known]
        if missing:
            raise errors.vpc_not_found(missing)
        every = [v for v in every if v["VpcId"] in ids]
    page, token = paginate(
        [v for v in every if matches(v)], lambda v: v["VpcId"], max_results, req.get("NextToken")
    )
    out: dict[str, Any] = {"Vpcs": [vpcs.output(v) for v in page]}
    if token:
        out["NextToken"] = token
    return out


@handles("DeleteVpc")
async def delete_vpc(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if store(ctx).vpc(ctx.account_id, ctx.region, req["VpcId"]) is None:
        raise errors.vpc_not_found([req["VpcId"]])
    check_dry_run(req)
    store(ctx).delete_vpc(ctx.account_id, ctx.region, req["VpcId"])
    return {}
