"""The AWS CLI v1 (``aws``, from the awscli package) against the fleet, as users run it.

The CLI is a second client besides boto3 with its own habits: shorthand and JSON arguments,
the high-level ``aws s3`` commands (multipart uploads, ranged downloads, their own listing),
its error printing and exit codes. Every command runs as a subprocess with a throw-away config
so that the user's ``~/.aws`` never leaks in; assertions are on the parsed ``--output json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

AWS = Path(sys.executable).parent / "aws"
pytestmark = pytest.mark.skipif(not AWS.exists(), reason="the awscli package is not installed")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """The parsed output; the CLI prints nothing at all for an empty response."""
        return json.loads(self.stdout) if self.stdout.strip() else {}


Cli = Callable[..., Run]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def together(cli: Cli, *commands: Sequence[str]) -> list[Run]:
    """Independent commands side by side: each CLI start costs most of a second of CPU."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda argv: cli(*argv), commands))


@pytest.fixture(scope="module")
def cli(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """``cli("sqs", "list-queues")`` -> Run; fails the test on a non-zero exit unless ``check=False``."""
    home = tmp_path_factory.mktemp("aws-cli")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",  # an error must show, not be retried away
        "HOME": str(home),
    }

    def run(*args: str, check: bool = True) -> Run:
        argv = [str(AWS), *args, "--endpoint-url", endpoint, "--output", "json"]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        result = Run(proc.returncode, proc.stdout, proc.stderr)
        if check and result.code != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.code}: {result.stderr.strip()}")
        return result

    return run


# -- SQS -------------------------------------------------------------------------------------


def test_sqs_queue_lifecycle(cli: Cli) -> None:
    name = unique("cli-q")
    url = cli(
        "sqs", "create-queue", "--queue-name", name,
        "--attributes", "VisibilityTimeout=45,MaximumMessageSize=2048", "--tags", "team=core",
    ).json["QueueUrl"]  # fmt: skip
    assert url.endswith(f"/000000000000/{name}")
    got_url, attributes = together(
        cli,
        ("sqs", "get-queue-url", "--queue-name", name),
        ("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All"),
    )
    assert got_url.json == {"QueueUrl": url}
    attributes = attributes.json
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    assert attributes["Attributes"]["MaximumMessageSize"] == "2048"
    assert attributes["Attributes"]["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"

    together(
        cli,
        (
            "sqs",
            "set-queue-attributes",
            "--queue-url",
            url,
            "--attributes",
            "VisibilityTimeout=60,DelaySeconds=2",
        ),
        ("sqs", "tag-queue", "--queue-url", url, "--tags", "env=ci,owner=cli"),
    )
    changed, tags, listed = together(
        cli,
        (
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            "VisibilityTimeout",
            "DelaySeconds",
        ),
        ("sqs", "list-queue-tags", "--queue-url", url),
        ("sqs", "list-queues", "--queue-name-prefix", name),
    )
    assert changed.json == {"Attributes": {"VisibilityTimeout": "60", "DelaySeconds": "2"}}
    assert tags.json == {"Tags": {"team": "core", "env": "ci", "owner": "cli"}}
    assert listed.json["QueueUrls"] == [url]

    cli("sqs", "delete-queue", "--queue-url", url)
    assert "QueueUrls" not in cli("sqs", "list-queues", "--queue-name-prefix", name).json


def test_sqs_messages(cli: Cli) -> None:
    """Two independent flows on two queues, side by side to halve the wall time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        flows = [pool.submit(flow, cli) for flow in (_receive_change_delete, _batch_and_purge)]
        for flow in flows:
            flow.result()


def _receive_change_delete(cli: Cli) -> None:
    url = cli("sqs", "create-queue", "--queue-name", unique("cli-m")).json["QueueUrl"]
    body = "hello from the CLI ✓"
    sent = cli(
        "sqs", "send-message", "--queue-url", url, "--message-body", body,
        "--message-attributes", '{"colour": {"DataType": "String", "StringValue": "blue"}}',
    ).json  # fmt: skip
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert len(sent["MD5OfMessageAttributes"]) == 32

    receive = (
        "sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
        "--message-attribute-names", "All", "--message-system-attribute-names", "All",
    )  # fmt: skip
    (message,) = cli(*receive).json["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MessageAttributes"]["colour"]["StringValue"] == "blue"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"

    # visible again at once: the next receive gets it a second time
    cli(
        "sqs", "change-message-visibility", "--queue-url", url,
        "--receipt-handle", message["ReceiptHandle"], "--visibility-timeout", "0",
    )  # fmt: skip
    (again,) = cli(*receive).json["Messages"]
    assert again["MessageId"] == sent["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", again["ReceiptHandle"])
    assert "Messages" not in cli(*receive).json
    cli("sqs", "delete-queue", "--queue-url", url)


def _batch_and_purge(cli: Cli) -> None:
    url = cli("sqs", "create-queue", "--queue-name", unique("cli-b")).json["QueueUrl"]
    batch = cli(
        "sqs", "send-message-batch", "--queue-url", url,
        "--entries", "Id=a,MessageBody=one", "Id=b,MessageBody=two,DelaySeconds=0",
    ).json  # fmt: skip
    assert sorted(entry["Id"] for entry in batch["Successful"]) == ["a", "b"]
    assert not batch.get("Failed")
    count = (
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        url,
        "--attribute-names",
        "ApproximateNumberOfMessages",
    )
    assert cli(*count).json["Attributes"]["ApproximateNumberOfMessages"] == "2"

    cli("sqs", "purge-queue", "--queue-url", url)
    assert cli(*count).json["Attributes"]["ApproximateNumberOfMessages"] == "0"
    cli("sqs", "delete-queue", "--queue-url", url)


def test_sqs_missing_queue_is_an_error(cli: Cli) -> None:
    run = cli("sqs", "get-queue-url", "--queue-name", unique("cli-missing"), check=False)
    assert run.code == 255  # CLI v1 exits 255 on any error answer from the service
    assert "AWS.SimpleQueueService.NonExistentQueue" in run.stderr
    assert run.stdout == ""


# -- S3 --------------------------------------------------------------------------------------


def test_s3_mb_cp_ls_head(cli: Cli, tmp_path: Path) -> None:
    bucket = unique("cli-bucket")
    assert f"make_bucket: {bucket}" in cli("s3", "mb", f"s3://{bucket}").stdout

    small = tmp_path / "small.txt"
    small.write_bytes(b"line one\nline two\n")
    big = tmp_path / "big.bin"  # above the CLI's 8 MiB threshold: a multipart upload, ranged download
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 7))
    together(
        cli,
        ("s3", "cp", str(small), f"s3://{bucket}/docs/small.txt"),
        ("s3", "cp", str(big), f"s3://{bucket}/big.bin"),
    )

    listing, recursive, buckets, head_big, head_small = together(
        cli,
        ("s3", "ls", f"s3://{bucket}/"),
        ("s3", "ls", f"s3://{bucket}", "--recursive"),
        ("s3", "ls"),
        ("s3api", "head-object", "--bucket", bucket, "--key", "big.bin"),
        ("s3api", "head-object", "--bucket", bucket, "--key", "docs/small.txt"),
    )
    lines = listing.stdout.splitlines()
    assert any(line.split() == ["PRE", "docs/"] for line in lines), lines
    assert any(line.split()[-2:] == [str(big.stat().st_size), "big.bin"] for line in lines), lines
    assert "docs/small.txt" in recursive.stdout and "big.bin" in recursive.stdout
    assert bucket in buckets.stdout
    assert head_big.json["ContentLength"] == big.stat().st_size
    assert head_big.json["ETag"].strip('"').endswith("-2")  # two parts: 8 MiB, and 1 MiB + 7
    assert head_small.json["ETag"] == f'"{hashlib.md5(small.read_bytes()).hexdigest()}"'

    downloads = {"docs/small.txt": small, "big.bin": big}
    together(
        cli,
        *(
            ("s3", "cp", f"s3://{bucket}/{key}", str(tmp_path / f"down-{f.name}"))
            for key, f in downloads.items()
        ),
    )
    for original in downloads.values():
        assert (tmp_path / f"down-{original.name}").read_bytes() == original.read_bytes()


# -- DynamoDB --------------------------------------------------------------------------------


def test_dynamodb_table_and_items(cli: Cli) -> None:
    table = unique("cli-table")
    created = cli(
        "dynamodb", "create-table", "--table-name", table,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST",
    ).json["TableDescription"]  # fmt: skip
    assert created["TableName"] == table
    assert created["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    cli("dynamodb", "wait", "table-exists", "--table-name", table)

    item = {
        "pk": {"S": "a"},
        "n": {"N": "42"},
        "tags": {"SS": ["x", "y"]},
        "nested": {"M": {"ok": {"BOOL": True}}},
    }
    cli("dynamodb", "put-item", "--table-name", table, "--item", json.dumps(item))
    got, missing = together(
        cli,
        ("dynamodb", "get-item", "--table-name", table, "--key", '{"pk": {"S": "a"}}', "--consistent-read"),
        ("dynamodb", "get-item", "--table-name", table, "--key", '{"pk": {"S": "b"}}'),
    )
    assert got.json["Item"]["n"] == {"N": "42"}
    assert sorted(got.json["Item"]["tags"]["SS"]) == ["x", "y"]
    assert got.json["Item"]["nested"] == item["nested"]
    assert missing.json == {}
