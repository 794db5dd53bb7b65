"""EC2 without I/O (ids, CIDRs, tags, filters, regions) and the VPC/region handlers on a real store."""

from __future__ import annotations

import asyncio
import re

import pytest

from services.ec2 import filters, regions, vpcs
from services.ec2.handlers import handles
from services.ec2.ids import new_id
from services.ec2.storage import Ec2Store
from shared.aws.errors import AwsError
from shared.context import RequestContext


def test_ids_are_prefix_and_17_hex():
    ids = {new_id("vpc") for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"vpc-[0-9a-f]{17}", i) for i in ids)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "192.168.1.0/24", "172.16.0.0/28"])
def test_check_cidr_accepts_canonical_networks(cidr):
    assert vpcs.check_cidr(cidr) == cidr


@pytest.mark.parametrize(
    "cidr", ["10.0.0.0", "banana", "10.0.0.1/16", "300.0.0.0/16", "2001:db8::/56", "10.0.0.0/33"]
)
def test_check_cidr_refuses_what_is_not_an_ipv4_cidr(cidr):
    with pytest.raises(AwsError) as err:
        vpcs.check_cidr(cidr)
    assert (err.value.code, err.value.status) == ("InvalidParameterValue", 400)
    assert (
        err.value.message
        == f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
    )


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "10.0.0.0/15", "10.0.0.0/29"])
def test_check_cidr_refuses_masks_outside_16_to_28(cidr):
    with pytest.raises(AwsError) as err:
        vpcs.check_cidr(cidr)
    assert (err.value.code, err.value.message) == ("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")


def test_tags_for_takes_matching_specifications_and_refuses_others():
    specs = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}]
    assert vpcs.tags_for("vpc", specs) == [{"Key": "Name", "Value": "main"}]
    with pytest.raises(AwsError) as err:
        vpcs.tags_for("vpc", [{"ResourceType": "instance", "Tags": []}])
    assert err.value.code == "InvalidParameterValue"


def test_filters_match_attributes_tags_and_wildcards():
    vpc = vpcs.new_vpc("000000000000", "us-east-1", "10.1.0.0/16", tags=[{"Key": "Env", "Value": "prod-1"}])
    match = lambda fs: filters.compile_filters(fs, vpcs.VPC_FILTERS)(vpc)  # noqa: E731
    assert match([{"Name": "cidr", "Values": ["10.1.0.0/16"]}])
    assert match(
        [{"Name": "state", "Values": ["pending", "available"]}, {"Name": "is-default", "Values": ["false"]}]
    )
    assert match([{"Name": "tag:Env", "Values": ["prod-*"]}])
    assert match([{"Name": "tag-key", "Values": ["Env"]}])
    assert match([{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    assert not match([{"Name": "tag:Env", "Values": ["prod-?2"]}])
    assert not match([{"Name": "tag-key", "Values": ["Name"]}])
    assert not match(
        [{"Name": "cidr", "Values": ["10.1.0.0/16"]}, {"Name": "is-default", "Values": ["true"]}]
    )
    with pytest.raises(AwsError) as err:
        match([{"Name": "colour", "Values": ["red"]}])
    assert err.value.message == "The filter 'colour' is invalid"


@pytest.mark.parametrize(
    ("region", "abbreviation"),
    [("us-east-1", "use1"), ("eu-west-2", "euw2"), ("ap-southeast-2", "apse2"), ("ap-northeast-1", "apne1"),
     ("ca-central-1", "cac1"), ("sa-east-1", "sae1"), ("us-gov-west-1", "usgw1")],
)  # fmt: skip
def test_region_abbreviation(region, abbreviation):
    assert regions.region_abbreviation(region) == abbreviation


# -- handlers against a real store ---------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path):
    store = Ec2Store(tmp_path / "ec2.db")
    yield RequestContext("ec2", "", "req", account_id="000000000000", region="eu-west-1", state=store)
    store.close()


def call(ctx, op: str, req: dict) -> dict:
    return asyncio.run(handles.get(op)(ctx, req))


def test_describe_regions_and_zones(ctx):
    found = call(ctx, "DescribeRegions", {})["Regions"]
    by_name = {r["RegionName"]: r for r in found}
    assert by_name["us-east-1"] == {
        "RegionName": "us-east-1", "Endpoint": "ec2.us-east-1.amazonaws.com", "OptInStatus": "opt-in-not-required",
    }  # fmt: skip
    assert by_name["af-south-1"]["OptInStatus"] == "opted-in"
    some = call(ctx, "DescribeRegions", {"RegionNames": ["eu-west-1", "nowhere-1"]})["Regions"]
    assert [r["RegionName"] for r in some] == ["eu-west-1"]
    filtered = call(ctx, "DescribeRegions", {"Filters": [{"Name": "region-name", "Values": ["eu-*"]}]})
    assert filtered["Regions"] and all(r["RegionName"].startswith("eu-") for r in filtered["Regions"])
    zones = call(ctx, "DescribeAvailabilityZones", {})["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones] == [
        ("eu-west-1a", "euw1-az1"), ("eu-west-1b", "euw1-az2"), ("eu-west-1c", "euw1-az3"),
    ]  # fmt: skip
    only = call(ctx, "DescribeAvailabilityZones", {"ZoneIds": ["euw1-az2"]})["AvailabilityZones"]
    assert [z["ZoneName"] for z in only] == ["eu-west-1b"]


def test_default_vpc_exists_once_per_account_and_region(ctx):
    first = call(ctx, "DescribeVpcs", {})["Vpcs"]
    assert len(first) == 1 and first[0]["IsDefault"] and first[0]["CidrBlock"] == "172.31.0.0/16"
    assert call(ctx, "DescribeVpcs", {})["Vpcs"] == first
    other = RequestContext("ec2", "", "req", account_id="111111111111", region="eu-west-1", state=ctx.state)
    assert call(other, "DescribeVpcs", {})["Vpcs"][0]["VpcId"] != first[0]["VpcId"]


def test_create_describe_delete_vpc(ctx):
    spec = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}]
    vpc = call(ctx, "CreateVpc", {"CidrBlock": "10.0.0.0/16", "TagSpecifications": spec})["Vpc"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc["VpcId"]) and vpc["State"] == "available"
    assert vpc["Tags"] == [{"Key": "Name", "Value": "main"}] and vpc["IsDefault"] is False
    got = call(ctx, "DescribeVpcs", {"VpcIds": [vpc["VpcId"]]})["Vpcs"]
    assert got == [vpc]
    by_tag = call(ctx, "DescribeVpcs", {"Filters": [{"Name": "tag:Name", "Values": ["main"]}]})["Vpcs"]
    assert [v["VpcId"] for v in by_tag] == [vpc["VpcId"]]
    with pytest.raises(AwsError) as err:
        call(ctx, "DescribeVpcs", {"VpcIds": [vpc["VpcId"], "vpc-00000000000000000"]})
    assert (err.value.code, err.value.message) == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-00000000000000000' does not exist",
    )  # fmt: skip
    assert call(ctx, "DeleteVpc", {"VpcId": vpc["VpcId"]}) == {}
    with pytest.raises(AwsError) as err:
        call(ctx, "DeleteVpc", {"VpcId": vpc["VpcId"]})
    assert err.value.code == "InvalidVpcID.NotFound"


def test_describe_vpcs_pages_and_dry_run(ctx):
    made = [call(ctx, "CreateVpc", {"CidrBlock": f"10.{i}.0.0/16"})["Vpc"]["VpcId"] for i in range(6)]
    seen, token = [], None
    while True:
        page = call(ctx, "DescribeVpcs", {"MaxResults": 5, **({"NextToken": token} if token else {})})
        seen += [v["VpcId"] for v in page["Vpcs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen[1:] == made and len(seen) == 7
    with pytest.raises(AwsError) as err:
        call(ctx, "DescribeVpcs", {"MaxResults": 3})
    assert (
        err.value.message
        == "Value ( 3 ) for parameter maxResults is invalid. Expecting a value greater than 5."
    )
    with pytest.raises(AwsError) as err:
        call(ctx, "CreateVpc", {"CidrBlock": "10.9.0.0/16", "DryRun": True})
    assert (err.value.code, err.value.status) == ("DryRunOperation", 412)
