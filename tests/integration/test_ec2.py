"""EC2 through the gateway with boto3: regions, zones, VPCs, filters, paging and EC2's errors."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError


def error_of(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    e = err.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


@pytest.fixture
def ec2(aws):
    return aws("ec2")


def test_describe_regions(ec2):
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)
    assert regions["us-east-1"]["Endpoint"] == "ec2.us-east-1.amazonaws.com"
    assert regions["us-east-1"]["OptInStatus"] == "opt-in-not-required"
    only = ec2.describe_regions(RegionNames=["eu-west-1"])["Regions"]
    assert [r["RegionName"] for r in only] == ["eu-west-1"]
    eu = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-*"]}])["Regions"]
    assert eu and all(r["RegionName"].startswith("eu-") for r in eu)


def test_describe_availability_zones_follow_the_region(aws):
    zones = aws("ec2", region="ap-southeast-2").describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"], z["State"]) for z in zones] == [
        ("ap-southeast-2a", "apse2-az1", "available"),
        ("ap-southeast-2b", "apse2-az2", "available"),
        ("ap-southeast-2c", "apse2-az3", "available"),
    ]
    use1 = aws("ec2").describe_availability_zones(ZoneNames=["us-east-1b"])["AvailabilityZones"]
    assert [z["ZoneId"] for z in use1] == ["use1-az2"]


def test_default_vpc(ec2):
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(default) == 1
    assert default[0]["CidrBlock"] == "172.31.0.0/16" and default[0]["IsDefault"] is True
    assert default[0]["OwnerId"] == "000000000000"


def test_create_describe_filter_delete_vpc(ec2):
    tags = [
        {
            "ResourceType": "vpc",
            "Tags": [{"Key": "Name", "Value": "integration"}, {"Key": "env", "Value": "ci"}],
        }
    ]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=tags)["Vpc"]
    vpc_id = vpc["VpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id)
    assert vpc["State"] == "available" and vpc["CidrBlock"] == "10.20.0.0/16" and vpc["IsDefault"] is False
    assert {t["Key"]: t["Value"] for t in vpc["Tags"]} == {"Name": "integration", "env": "ci"}
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"] == "associated"
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]] == [vpc_id]
    for f in (
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "cidr", "Values": ["10.20.0.0/16"]},
        {"Name": "tag:Name", "Values": ["integration"]},
        {"Name": "tag-key", "Values": ["env"]},
    ):
        found = ec2.describe_vpcs(Filters=[f, {"Name": "state", "Values": ["available"]}])["Vpcs"]
        assert vpc_id in [v["VpcId"] for v in found], f
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["nope"]}])["Vpcs"] == []
    ec2.delete_vpc(VpcId=vpc_id)
    assert error_of(ec2.describe_vpcs, VpcIds=[vpc_id]) == (
        "InvalidVpcID.NotFound", 400, f"The vpc ID '{vpc_id}' does not exist",
    )  # fmt: skip
    assert error_of(ec2.delete_vpc, VpcId=vpc_id)[:2] == ("InvalidVpcID.NotFound", 400)


@pytest.mark.parametrize(
    ("cidr", "code", "message"),
    [
        ("banana", "InvalidParameterValue", "Value (banana) for parameter cidrBlock is invalid. This is not a valid CIDR block."),
        ("10.0.0.0/8", "InvalidVpc.Range", "The CIDR '10.0.0.0/8' is invalid."),
    ],
)  # fmt: skip
def test_create_vpc_refuses_bad_cidrs(ec2, cidr, code, message):
    assert error_of(ec2.create_vpc, CidrBlock=cidr) == (code, 400, message)


def test_describe_vpcs_pages_and_refuses_unknown_filters(aws):
    ec2 = aws("ec2", region="sa-east-1")  # a region of its own: the listing is exactly ours
    made = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(6)]
    seen, token = [], None
    while True:
        page = ec2.describe_vpcs(MaxResults=5, **({"NextToken": token} if token else {}))
        assert len(page["Vpcs"]) <= 5
        seen += [v["VpcId"] for v in page["Vpcs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 7 and set(made) < set(seen)
    assert error_of(ec2.describe_vpcs, Filters=[{"Name": "colour", "Values": ["red"]}]) == (
        "InvalidParameterValue", 400, "The filter 'colour' is invalid",
    )  # fmt: skip
    for vpc_id in made:
        ec2.delete_vpc(VpcId=vpc_id)


def test_dry_run(ec2):
    assert error_of(ec2.create_vpc, CidrBlock="10.30.0.0/16", DryRun=True)[:2] == ("DryRunOperation", 412)
