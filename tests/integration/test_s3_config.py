"""S3 bucket configuration through the gateway with boto3: every Put/Get/Delete round trip, its
NoSuch* error, the checks S3 makes on Put, and NoSuchBucket."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from .s3_support import unique


def error_of(call, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


def body(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "read",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::BUCKET/*",  # S3 refuses resources outside the bucket
            }
        ],
    }
)

# (name, put, put kwargs, get, expected Get output, delete, NoSuch* code)
CASES = [
    (
        "public-access-block",
        "put_public_access_block",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": False,
            }
        },
        "get_public_access_block",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": False,
            }
        },
        "delete_public_access_block",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    (
        "cors",
        "put_bucket_cors",
        {
            "CORSConfiguration": {
                "CORSRules": [
                    {
                        "ID": "web",
                        "AllowedHeaders": ["*"],
                        "AllowedMethods": ["GET", "PUT"],
                        "AllowedOrigins": ["https://example.com", "http://*.example.org"],
                        "ExposeHeaders": ["ETag", "x-amz-request-id"],
                        "MaxAgeSeconds": 3000,
                    },
                    {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]},
                ]
            }
        },
        "get_bucket_cors",
        None,  # = the CORSConfiguration put
        "delete_bucket_cors",
        "NoSuchCORSConfiguration",
    ),
    (
        "tagging",
        "put_bucket_tagging",
        {"Tagging": {"TagSet": [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]}},
        "get_bucket_tagging",
        {"TagSet": [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]},
        "delete_bucket_tagging",
        "NoSuchTagSet",
    ),
    (
        "website",
        "put_bucket_website",
        {
            "WebsiteConfiguration": {
                "IndexDocument": {"Suffix": "index.html"},
                "ErrorDocument": {"Key": "error.html"},
                "RoutingRules": [
                    {
                        "Condition": {"KeyPrefixEquals": "docs/"},
                        "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"},
                    }
                ],
            }
        },
        "get_bucket_website",
        None,
        "delete_bucket_website",
        "NoSuchWebsiteConfiguration",
    ),
    (
        "ownership",
        "put_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
        "delete_bucket_ownership_controls",
        "OwnershipControlsNotFoundError",
    ),
    (
        "encryption",
        "put_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": "arn:aws:kms:us-east-1:000000000000:key/k1",
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        "get_bucket_encryption",
        None,
        "delete_bucket_encryption",
        None,  # reverts to SSE-S3 (tested below)
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_round_trip_and_delete(s3, bucket, case):
    name, put, put_kwargs, get, expected, delete, missing = case
    if missing and name != "ownership":  # new buckets have ownership controls (tested below)
        assert error_of(getattr(s3, get), Bucket=bucket)[:2] == (missing, 404)
    getattr(s3, put)(Bucket=bucket, **put_kwargs)
    expected = expected if expected is not None else next(iter(put_kwargs.values()))
    if get in ("get_bucket_encryption",):
        expected = {"ServerSideEncryptionConfiguration": expected}
    assert body(getattr(s3, get)(Bucket=bucket)) == expected
    getattr(s3, delete)(Bucket=bucket)
    if missing:
        code, status, error = error_of(getattr(s3, get), Bucket=bucket)
        assert (code, status, error["BucketName"]) == (missing, 404, bucket)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_of_a_missing_bucket(s3, case):
    _name, put, put_kwargs, get, _expected, delete, _missing = case
    name = unique("nobucket")
    for call, kwargs in ((put, put_kwargs), (get, {}), (delete, {})):
        code, status, error = error_of(getattr(s3, call), Bucket=name, **kwargs)
        assert (code, status, error["BucketName"]) == ("NoSuchBucket", 404, name)


def test_policy_round_trip_status_and_malformed(s3, bucket):
    assert error_of(s3.get_bucket_policy, Bucket=bucket)[:2] == ("NoSuchBucketPolicy", 404)
    doc = POLICY.replace("BUCKET", bucket)
    put = s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == doc
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    public = json.loads(doc)
    public["Statement"][0]["Principal"] = "*"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
    for bad in ("not json", "[1]", '{"Version": "2012-10-17"}', '{"Statement": [{"Effect": "Maybe"}]}'):
        assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=bad)[:2] == ("MalformedPolicy", 400)
    s3.delete_bucket_policy(Bucket=bucket)
    assert error_of(s3.get_bucket_policy, Bucket=bucket)[:2] == ("NoSuchBucketPolicy", 404)


def test_lifecycle_rules_stored_exactly(s3, bucket):
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)[:2] == (
        "NoSuchLifecycleConfiguration",
        404,
    )
    rules = [
        {
            "ID": "expire-logs",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        },
        {
            "ID": "archive",
            "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
            "Status": "Disabled",
            "Transitions": [{"Date": datetime(2030, 1, 1, tzinfo=UTC), "StorageClass": "GLACIER"}],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        },
    ]
    out = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert out["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)[0] == "NoSuchLifecycleConfiguration"


def test_lifecycle_rejects_what_s3_rejects(s3, bucket):
    def put(*rules):
        return error_of(
            s3.put_bucket_lifecycle_configuration,
            Bucket=bucket,
            LifecycleConfiguration={"Rules": list(rules)},
        )[:2]

    no_action = {"ID": "a", "Filter": {}, "Status": "Enabled"}
    assert put(no_action) == ("InvalidRequest", 400)
    zero = {"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}
    assert put(zero) == ("InvalidArgument", 400)
    ok = {"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    assert put(ok, ok) == ("InvalidArgument", 400)  # duplicate ID


def test_encryption_defaults_to_sse_s3(s3, bucket):
    default = {
        "Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
        ]
    }
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    bad = {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]
    }
    code, status, _ = error_of(s3.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration=bad)
    assert (code, status) == ("InvalidArgument", 400)


def test_ownership_defaults_to_bucket_owner_enforced(s3, bucket):
    got = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert got == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_tagging_and_cors_checks(s3, bucket):
    dup = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}
    assert error_of(s3.put_bucket_tagging, Bucket=bucket, Tagging=dup)[:2] == ("InvalidTag", 400)
    system = {"TagSet": [{"Key": "aws:x", "Value": "1"}]}
    assert error_of(s3.put_bucket_tagging, Bucket=bucket, Tagging=system)[:2] == ("InvalidTag", 400)
    cors = {"CORSRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}
    assert error_of(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration=cors)[:2] == ("InvalidRequest", 400)


def test_website_checks(s3, bucket):
    code, status, _ = error_of(
        s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}}
    )
    assert (code, status) == ("InvalidArgument", 400)
    redirect = {"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=redirect)
    assert body(s3.get_bucket_website(Bucket=bucket)) == redirect


def test_versioning_status(s3, bucket):
    assert body(s3.get_bucket_versioning(Bucket=bucket)) == {}
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert body(s3.get_bucket_versioning(Bucket=bucket)) == {"Status": "Enabled"}
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended", "MFADelete": "Disabled"}
    )
    assert body(s3.get_bucket_versioning(Bucket=bucket)) == {"Status": "Suspended", "MFADelete": "Disabled"}


def test_replication_needs_versioning(s3, bucket):
    conf = {
        "Role": "arn:aws:iam::000000000000:role/replication",
        "Rules": [
            {
                "ID": "all",
                "Priority": 1,
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::elsewhere", "StorageClass": "STANDARD"},
            }
        ],
    }
    assert error_of(s3.get_bucket_replication, Bucket=bucket)[:2] == (
        "ReplicationConfigurationNotFoundError",
        404,
    )
    assert error_of(s3.put_bucket_replication, Bucket=bucket, ReplicationConfiguration=conf)[:2] == (
        "InvalidRequest",
        400,
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=conf)
    assert s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"] == conf
    s3.delete_bucket_replication(Bucket=bucket)
    assert error_of(s3.get_bucket_replication, Bucket=bucket)[0] == "ReplicationConfigurationNotFoundError"


def test_logging(s3, bucket):
    assert body(s3.get_bucket_logging(Bucket=bucket)) == {}
    status = {"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "logs/"}}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    assert body(s3.get_bucket_logging(Bucket=bucket)) == status
    missing = {"LoggingEnabled": {"TargetBucket": unique("none"), "TargetPrefix": ""}}
    code, status_code, _ = error_of(s3.put_bucket_logging, Bucket=bucket, BucketLoggingStatus=missing)
    assert (code, status_code) == ("InvalidTargetBucketForLogging", 400)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert body(s3.get_bucket_logging(Bucket=bucket)) == {}


def test_request_payment_and_accelerate(s3, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"


def test_location(s3, aws, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    eu = aws("s3", region="eu-west-1")
    name = unique()
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    finally:
        eu.delete_bucket(Bucket=name)


def test_a_recreated_bucket_starts_without_configuration(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert error_of(s3.get_bucket_tagging, Bucket=name)[0] == "NoSuchTagSet"
    finally:
        s3.delete_bucket(Bucket=name)


def test_another_accounts_bucket_is_access_denied(s3, aws, endpoint, bucket):
    import boto3

    other = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="111111111111",
        aws_secret_access_key="test",
    )
    assert error_of(other.get_bucket_tagging, Bucket=bucket)[:2] == ("AccessDenied", 403)
