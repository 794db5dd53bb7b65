"""Signature enforcement (``FLOTILLA_ENFORCE_SIGV4=1``) through the gateway of a fleet of its own:
right credentials pass, a wrong secret, an unknown key and an unsigned request get each
service's own error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from flotilla.fleet import Fleet, free_port

AKID, SECRET = "AKIAFLOTILLATEST0001", "flotilla-secret"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("strict")
    env = {
        "FLOTILLA_ENFORCE_SIGV4": "1",
        "FLOTILLA_CREDENTIALS": f"{AKID}:{SECRET}",
        "FLOTILLA_LOG_LEVEL": "WARNING",
    }
    fleet = Fleet(
        port=free_port(),
        services=("s3", "sqs", "dynamodb"),
        data_dir=root / "data",
        log_dir=root / "logs",
        env=env,
    )
    fleet.start()
    yield fleet
    fleet.stop()


def _client(fleet: Fleet, service: str, key: str = AKID, secret: str = SECRET, **config: object):
    cfg = Config(retries={"max_attempts": 1}, **config)
    return boto3.client(
        service,
        endpoint_url=fleet.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=cfg,
    )


def _error(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_right_credentials_pass(strict: Fleet) -> None:
    s3 = _client(strict, "s3")
    s3.create_bucket(Bucket="strict-bucket")
    s3.put_object(Bucket="strict-bucket", Key="a b/ü+c", Body=b"signed")  # aws-chunked, signed
    assert s3.get_object(Bucket="strict-bucket", Key="a b/ü+c")["Body"].read() == b"signed"
    url = _client(strict, "sqs").create_queue(QueueName="strict-q")["QueueUrl"]
    _client(strict, "sqs").send_message(QueueUrl=url, MessageBody="x")
    assert _client(strict, "dynamodb").list_tables()["TableNames"] == []
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "strict-bucket", "Key": "a b/ü+c"})
    assert httpx.get(presigned).content == b"signed"


@pytest.mark.parametrize(
    ("service", "call", "wrong_secret", "unknown_key"),
    [
        ("s3", lambda c: c.list_buckets(), ("SignatureDoesNotMatch", 403), ("InvalidAccessKeyId", 403)),
        ("sqs", lambda c: c.list_queues(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
        (
            "dynamodb",
            lambda c: c.list_tables(),
            ("InvalidSignatureException", 400),
            ("UnrecognizedClientException", 400),
        ),
    ],
)
def test_bad_credentials_get_the_services_errors(strict, service, call, wrong_secret, unknown_key) -> None:
    assert _error(lambda: call(_client(strict, service, secret="wrong"))) == wrong_secret
    assert _error(lambda: call(_client(strict, service, key="AKIAUNKNOWN0000000000"))) == unknown_key


def test_unsigned_requests_are_refused(strict: Fleet) -> None:
    s3 = _client(strict, "s3", signature_version=UNSIGNED)
    assert _error(lambda: s3.list_objects_v2(Bucket="strict-bucket")) == ("AccessDenied", 403)
    response = httpx.post(f"{strict.url}/", data={"Action": "ListQueues", "Version": "2012-11-05"})
    assert response.status_code == 403
    assert "MissingAuthenticationToken" in response.text
