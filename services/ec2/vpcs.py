"""VPCs without I/O: CIDR checks, new VPC documents, tags from TagSpecifications, filters."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .filters import Reader, flag
from .ids import new_id

DEFAULT_VPC_CIDR = "172.31.0.0/16"
MIN_PREFIX, MAX_PREFIX = 16, 28


def check_cidr(cidr: str) -> str:
    """An IPv4 network in canonical form with a /16 to /28 mask, as EC2 accepts for a VPC."""
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise errors.invalid_cidr(cidr) from None
    if "/" not in cidr:
        raise errors.invalid_cidr(cidr)
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise errors.vpc_range(cidr)
    return str(network)


def tags_for(resource_type: str, specs: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """The tags TagSpecifications give a new resource of ``resource_type``."""
    tags: list[dict[str, str]] = []
    for spec in specs or ():
        kind = spec.get("ResourceType")
        if kind != resource_type:
            raise errors.invalid_parameter_value(
                f"'{kind}' is not a valid taggable resource type for this operation."
            )
        tags.extend({"Key": t["Key"], "Value": t.get("Value", "")} for t in spec.get("Tags") or ())
    return tags


def dhcp_options_id(account: str, region: str) -> str:
    """One DHCP options set per account and region, named stably without storing it."""
    return "dopt-" + hashlib.sha256(f"{account}:{region}".encode()).hexdigest()[:17]


def new_vpc(
    account: str,
    region: str,
    cidr: str,
    *,
    tags: list[dict[str, str]] | None = None,
    tenancy: str = "default",
    is_default: bool = False,
) -> dict[str, Any]:
    return {
        "VpcId": new_id("vpc"),
        "OwnerId": account,
        "InstanceTenancy": tenancy,
        "CidrBlock": cidr,
        "CidrBlockAssociationSet": [
            {
                "AssociationId": new_id("vpc-cidr-assoc"),
                "CidrBlock": cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "IsDefault": is_default,
        "State": "available",
        "DhcpOptionsId": dhcp_options_id(account, region),
        "Tags": tags or [],
    }


def _cidrs(vpc: Mapping[str, Any]) -> list[str]:
    return [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or ()]


VPC_FILTERS: dict[str, Reader] = {
    "vpc-id": lambda v: [v["VpcId"]],
    "cidr": lambda v: [v["CidrBlock"]],
    "cidr-block-association.cidr-block": _cidrs,
    "cidr-block-association.association-id": lambda v: [
        a["AssociationId"] for a in v["CidrBlockAssociationSet"]
    ],
    "cidr-block-association.state": lambda v: [
        a["CidrBlockState"]["State"] for a in v["CidrBlockAssociationSet"]
    ],
    "state": lambda v: [v["State"]],
    "is-default": lambda v: flag(v["IsDefault"]),
    "owner-id": lambda v: [v["OwnerId"]],
    "dhcp-options-id": lambda v: [v["DhcpOptionsId"]],
    "instance-tenancy": lambda v: [v["InstanceTenancy"]],
}


def output(vpc: Mapping[str, Any]) -> dict[str, Any]:
    """The Vpc shape: Tags left out when there are none, as EC2 does."""
    out = dict(vpc)
    if not out.get("Tags"):
        out.pop("Tags", None)
    return out
