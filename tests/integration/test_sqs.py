"""SQS through the gateway, in both protocols it speaks: json (boto3's default) and query (form posts)."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
ATTRIBUTE_MD5 = "235c5c510d26fb653d073faed50ae77c"  # {"timestamp": Number 1493147359900}, as AWS digests it


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    yield url
    try:
        sqs.delete_queue(QueueUrl=url)
    except ClientError:
        pass


def error_of(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value


# -- json protocol (boto3) --------------------------------------------------------------------


def test_create_queue_url_and_idempotency(sqs, endpoint):
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"}, tags={"team": "a"})[
        "QueueUrl"
    ]
    assert url.endswith(f"/000000000000/{name}")
    assert url.startswith("http://localhost:")
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    err = error_of(sqs.create_queue, QueueName=name, Attributes={"VisibilityTimeout": "61"})
    assert isinstance(err, sqs.exceptions.QueueNameExists)
    assert err.response["Error"]["Code"] == "QueueAlreadyExists"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "VisibilityTimeout" in err.response["Error"]["Message"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "60"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    sqs.delete_queue(QueueUrl=url)
    assert isinstance(error_of(sqs.get_queue_url, QueueName=name), sqs.exceptions.QueueDoesNotExist)


def test_missing_queue_error_is_query_compatible(sqs):
    err = error_of(sqs.get_queue_url, QueueName=unique("missing"))
    assert isinstance(err, sqs.exceptions.QueueDoesNotExist)
    assert err.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert err.response["Error"]["Message"] == "The specified queue does not exist."
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


@pytest.mark.parametrize(
    "name, attributes",
    [("bad.name", {}), ("x" * 81, {}), ("plain.fifo", {}), ("nofifo", {"FifoQueue": "true"})],
)
def test_queue_name_rules(sqs, name, attributes):
    err = error_of(sqs.create_queue, QueueName=name, Attributes=attributes)
    assert err.response["Error"]["Code"] == "InvalidParameterValue"


def test_invalid_attribute(sqs):
    err = error_of(sqs.create_queue, QueueName=unique(), Attributes={"DelaySeconds": "901"})
    assert err.response["Error"]["Code"] == "InvalidAttributeValue"
    assert err.response["Error"]["Message"] == "Invalid value for the parameter DelaySeconds."


def test_send_receive_delete_with_digests(sqs, queue):
    body = "hello wörld"
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody=body,
        MessageAttributes={"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}},
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == ATTRIBUTE_MD5
    got = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert len(got) == 1
    message = got[0]
    assert (message["MessageId"], message["Body"]) == (sent["MessageId"], body)
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == ATTRIBUTE_MD5
    assert message["MessageAttributes"]["timestamp"] == {"DataType": "Number", "StringValue": "1493147359900"}
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert abs(int(message["Attributes"]["SentTimestamp"]) - time.time() * 1000) < 60_000
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    counts = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_binary_attributes_round_trip(sqs, queue):
    value = bytes(range(256))
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="b",
        MessageAttributes={"bin": {"DataType": "Binary", "BinaryValue": value}},
    )
    message = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["bin"])["Messages"][0]
    assert message["MessageAttributes"]["bin"] == {"DataType": "Binary", "BinaryValue": value}


def test_receipt_handle_unique_per_receive_and_receive_count(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    first = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, AttributeNames=["All"])["Messages"][0]
    second = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, AttributeNames=["All"])["Messages"][0]
    assert first["ReceiptHandle"] != second["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        first["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == second["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )


def test_max_number_of_messages(sqs, queue):
    for i in range(5):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=3)["Messages"]
    assert len(got) == 3
    err = error_of(sqs.receive_message, QueueUrl=queue, MaxNumberOfMessages=11)
    assert err.response["Error"]["Code"] == "InvalidParameterValue"
    assert "MaxNumberOfMessages" in err.response["Error"]["Message"]


def test_long_polling_returns_as_soon_as_a_message_arrives(aws, queue):
    receiver = aws("sqs", read_timeout=30)
    result: dict = {}

    def receive() -> None:
        started = time.monotonic()
        result["response"] = receiver.receive_message(QueueUrl=queue, WaitTimeSeconds=15)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=receive)
    thread.start()
    time.sleep(0.7)
    assert thread.is_alive()
    aws("sqs").send_message(QueueUrl=queue, MessageBody="ping")
    thread.join(10)
    assert not thread.is_alive()
    assert [m["Body"] for m in result["response"]["Messages"]] == ["ping"]
    assert result["elapsed"] < 5


def test_delete_message_with_invalid_handle(sqs, queue):
    err = error_of(sqs.delete_message, QueueUrl=queue, ReceiptHandle="garbage")
    assert isinstance(err, sqs.exceptions.ReceiptHandleIsInvalid)
    assert err.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert '"garbage"' in err.response["Error"]["Message"]


def test_localstack_style_url_is_accepted(sqs, queue, endpoint):
    port = endpoint.rsplit(":", 1)[1]
    name = queue.rsplit("/", 1)[1]
    other = f"http://sqs.us-east-1.localhost.localstack.cloud:{port}/000000000000/{name}"
    sqs.send_message(QueueUrl=other, MessageBody="via localstack url")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "via localstack url"


def test_accounts_and_regions_are_isolated(aws, endpoint):
    name = unique()
    home = aws("sqs")
    url = home.create_queue(QueueName=name)["QueueUrl"]
    west = aws("sqs", region="us-west-2")
    assert isinstance(error_of(west.get_queue_url, QueueName=name), west.exceptions.QueueDoesNotExist)
    other = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="111111111111",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    assert isinstance(error_of(other.get_queue_url, QueueName=name), other.exceptions.QueueDoesNotExist)
    other_url = other.create_queue(QueueName=name)["QueueUrl"]
    assert other_url.endswith(f"/111111111111/{name}") and other_url != url
    assert name not in " ".join(west.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
    assert home.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url]


def test_fifo_queue_basics(sqs):
    name = unique("f") + ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    err = error_of(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert err.response["Error"]["Code"] == "MissingParameter"
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"] and again["SequenceNumber"] == first["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["a"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    sqs.delete_queue(QueueUrl=url)


# -- query protocol (signed form posts) -------------------------------------------------------


def query(endpoint: str, params: dict[str, str], region: str = "us-east-1") -> httpx.Response:
    body = urlencode({**params, "Version": "2012-11-05"})
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", region).add_auth(request)
    return httpx.post(endpoint + "/", content=body, headers=dict(request.headers.items()), timeout=30)


def xml_text(response: httpx.Response, path: str) -> str | None:
    node = ET.fromstring(response.content).find(path, NS)
    return None if node is None else node.text


def test_query_protocol_full_cycle(endpoint, sqs):
    name = unique("query")
    created = query(
        endpoint,
        {
            "Action": "CreateQueue",
            "QueueName": name,
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "45",
        },
    )
    assert created.status_code == 200, created.text
    url = xml_text(created, "q:CreateQueueResult/q:QueueUrl")
    assert url == sqs.get_queue_url(QueueName=name)["QueueUrl"]
    body = "über <xml> & stuff"
    sent = query(
        endpoint,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": body,
            "MessageAttribute.1.Name": "timestamp",
            "MessageAttribute.1.Value.DataType": "Number",
            "MessageAttribute.1.Value.StringValue": "1493147359900",
        },
    )
    assert sent.status_code == 200, sent.text
    assert xml_text(sent, "q:SendMessageResult/q:MD5OfMessageBody") == hashlib.md5(body.encode()).hexdigest()
    assert xml_text(sent, "q:SendMessageResult/q:MD5OfMessageAttributes") == ATTRIBUTE_MD5
    message_id = xml_text(sent, "q:SendMessageResult/q:MessageId")
    received = query(
        endpoint,
        {
            "Action": "ReceiveMessage",
            "QueueUrl": url,
            "AttributeName.1": "All",
            "MessageAttributeName.1": "All",
            "WaitTimeSeconds": "1",
        },
    )
    assert received.status_code == 200, received.text
    message = "q:ReceiveMessageResult/q:Message"
    assert xml_text(received, f"{message}/q:MessageId") == message_id
    assert xml_text(received, f"{message}/q:Body") == body
    assert xml_text(received, f"{message}/q:MD5OfMessageAttributes") == ATTRIBUTE_MD5
    root = ET.fromstring(received.content)
    attributes = {
        a.find("q:Name", NS).text: a.find("q:Value", NS).text
        for a in root.iterfind(f"{message}/q:Attribute", NS)
    }
    assert attributes["ApproximateReceiveCount"] == "1"
    handle = xml_text(received, f"{message}/q:ReceiptHandle")
    deleted = query(endpoint, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle})
    assert deleted.status_code == 200, deleted.text
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.delete_queue(QueueUrl=url)


def test_query_protocol_errors(endpoint):
    missing = query(endpoint, {"Action": "GetQueueUrl", "QueueName": unique("missing")})
    assert missing.status_code == 400
    assert xml_text(missing, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert xml_text(missing, "q:Error/q:Type") == "Sender"
    assert (
        xml_text(missing, "q:Error/q:Message") == "The specified queue does not exist for this wsdl version."
    )
    bad = query(
        endpoint,
        {
            "Action": "DeleteMessage",
            "QueueUrl": "http://localhost/000000000000/" + unique(),
            "ReceiptHandle": "x",
        },
    )
    assert xml_text(bad, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"


def test_query_and_json_see_the_same_queue(endpoint, sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="from json")
    received = query(endpoint, {"Action": "ReceiveMessage", "QueueUrl": queue})
    assert xml_text(received, "q:ReceiveMessageResult/q:Message/q:Body") == "from json"
    handle = xml_text(received, "q:ReceiveMessageResult/q:Message/q:ReceiptHandle")
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    invalid = query(endpoint, {"Action": "DeleteMessage", "QueueUrl": queue, "ReceiptHandle": "garbage"})
    assert xml_text(invalid, "q:Error/q:Code") == "ReceiptHandleIsInvalid"
