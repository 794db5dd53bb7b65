"""shared.aws.client: one service calling another's public API through the gateway."""

from __future__ import annotations

import pytest

from shared.aws.client import AwsCallError, AwsClient

from .s3_support import unique


@pytest.mark.anyio
async def test_calls_json_and_rest_xml_services_and_reads_errors(endpoint, aws):
    s3 = aws("s3")
    bucket = unique("internal")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="code.zip", Body=b"\x00zip bytes")
    client = AwsClient(endpoint)
    try:
        got = await client.call("s3", "GetObject", {"Bucket": bucket, "Key": "code.zip"})
        assert got["Body"] == b"\x00zip bytes" and got["ContentLength"] == 10
        url = (await client.call("sqs", "CreateQueue", {"QueueName": unique("internal")}))["QueueUrl"]
        await client.call("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": "hi"})
        received = await client.call("sqs", "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 1})
        assert [m["Body"] for m in received["Messages"]] == ["hi"]
        with pytest.raises(AwsCallError) as err:
            await client.call("s3", "GetObject", {"Bucket": bucket, "Key": "missing"})
        assert (err.value.code, err.value.status) == ("NoSuchKey", 404)
        other = await client.call("sqs", "ListQueues", {}, account="111111111111")
        assert url not in other.get("QueueUrls", [])  # another account sees its own queues
    finally:
        await client.close()
        s3.delete_object(Bucket=bucket, Key="code.zip")
        s3.delete_bucket(Bucket=bucket)
