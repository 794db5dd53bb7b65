"""SQS queue management through the gateway: attributes, purge, tags, permissions, dead-letter
queues, message move tasks, the registry and the ``sqs.deliver`` bus topic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from shared.bus import Bus
from shared.registry import Registry

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
ACCOUNT = "000000000000"


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def make_queue(sqs):
    made: list[str] = []

    def make(name: str | None = None, **attributes: str) -> str:
        name = name or unique()
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture(scope="module")
def redis_url(fleet) -> str:
    """The fleet's Redis (Fleet does not expose it when it started its own redis-server)."""
    if fleet.redis_url:
        return fleet.redis_url
    proc = next(p for p in fleet.processes if p.name == "redis")
    return proc.url.replace("http://", "redis://") + "/0"


def error_of(call: Callable, **kwargs) -> dict:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def query(endpoint: str, params: dict[str, str]) -> httpx.Response:
    body = urlencode({**params, "Version": "2012-11-05"})
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    return httpx.post(endpoint + "/", content=body, headers=dict(request.headers.items()), timeout=30)


def xml_text(response: httpx.Response, path: str) -> str | None:
    node = ET.fromstring(response.content).find(path, NS)
    return None if node is None else node.text


# -- attributes ----------------------------------------------------------------------------


def test_all_attributes_of_a_standard_queue(sqs, make_queue):
    before = int(time.time())
    url = make_queue(VisibilityTimeout="45", DelaySeconds="3")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == arn(name_of(url))
    assert (attrs["VisibilityTimeout"], attrs["DelaySeconds"]) == ("45", "3")
    assert attrs["MaximumMessageSize"] == "1048576" and attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "0" and attrs["SqsManagedSseEnabled"] == "true"
    assert before - 1 <= int(attrs["CreatedTimestamp"]) <= time.time() + 1
    assert attrs["LastModifiedTimestamp"] == attrs["CreatedTimestamp"]
    for counter in ("", "NotVisible", "Delayed"):
        assert attrs[f"ApproximateNumberOfMessages{counter}"] == "0"
    assert "FifoQueue" not in attrs and "Policy" not in attrs and "RedrivePolicy" not in attrs
    one = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert one == {"QueueArn": attrs["QueueArn"]}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)


def test_fifo_attributes(sqs, make_queue):
    url = make_queue(unique("f") + ".fifo", FifoQueue="true", ContentBasedDeduplication="true")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "true"
    assert (attrs["DeduplicationScope"], attrs["FifoThroughputLimit"]) == ("queue", "perQueue")
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"},
    )
    err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert err["Code"] == "InvalidAttributeValue"
    err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert err == {**err, "Code": "InvalidAttributeValue"}
    assert "Modifying queue type is not supported" in err["Message"]


def test_unknown_and_fifo_only_attribute_names(sqs, make_queue):
    url = make_queue()
    for name in ("Nope", "FifoQueue", "ContentBasedDeduplication"):
        err = error_of(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=[name])
        assert (err["Code"], err["Message"]) == ("InvalidAttributeName", f"Unknown Attribute {name}.")
    err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert (err["Code"], err["Message"]) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"QueueArn": "x"})
    assert err["Code"] == "InvalidAttributeName"


@pytest.mark.parametrize(
    "name, bad, good",
    [
        ("DelaySeconds", ["-1", "901", "x"], "900"),
        ("MaximumMessageSize", ["1023", "1048577"], "1024"),
        ("MessageRetentionPeriod", ["59", "1209601"], "60"),
        ("ReceiveMessageWaitTimeSeconds", ["21"], "20"),
        ("VisibilityTimeout", ["43201", ""], "43200"),
        ("KmsDataKeyReusePeriodSeconds", ["59", "86401"], "86400"),
        ("SqsManagedSseEnabled", ["yes"], "false"),
        ("Policy", ["not json", "[1]"], '{"Version":"2012-10-17","Statement":[]}'),
    ],
)
def test_set_queue_attributes_ranges(sqs, make_queue, name, bad, good):
    url = make_queue()
    for value in bad:
        err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={name: value})
        assert err["Code"] == "InvalidAttributeValue"
        assert err["Message"].startswith(f"Invalid value for the parameter {name}.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={name: good})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"] == {name: good}


def test_set_attributes_updates_last_modified_and_removes_with_empty(sqs, make_queue):
    url = make_queue()
    created = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["CreatedTimestamp"])["Attributes"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    wait_for(lambda: int(time.time()) > int(created["CreatedTimestamp"]))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy, "VisibilityTimeout": "7"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["Policy"] == policy and attrs["VisibilityTimeout"] == "7"
    assert int(attrs["LastModifiedTimestamp"]) > int(attrs["CreatedTimestamp"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_create_queue_conflict_codes(sqs, endpoint, make_queue):
    url = make_queue(DelaySeconds="1")
    err = error_of(sqs.create_queue, QueueName=name_of(url), Attributes={"DelaySeconds": "2"})
    assert err["Code"] == "QueueAlreadyExists"
    response = query(endpoint, {"Action": "CreateQueue", "QueueName": name_of(url), "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "2"})  # fmt: skip
    assert response.status_code == 400
    assert xml_text(response, "q:Error/q:Code") == "QueueAlreadyExists"


# -- dead-letter queues ----------------------------------------------------------------------


def redrive(target: str, count: object = 3) -> str:
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count})


def test_redrive_policy_rules(sqs, make_queue):
    dlq = make_queue()
    fifo_dlq = make_queue(unique("f") + ".fifo", FifoQueue="true")
    url = make_queue()
    cases = [
        ("{}", "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."),
        (json.dumps({"deadLetterTargetArn": arn(name_of(dlq))}), "mandatory attribute: maxReceiveCount."),
        (redrive(arn(name_of(dlq)), 0), "Invalid value for maxReceiveCount: 0"),
        (redrive(arn(name_of(dlq)), 1001), "valid values are from 1 to 1000 both inclusive."),
        (redrive(arn("missing-" + uuid.uuid4().hex)), "Dead letter target does not exist."),
        (redrive(arn(name_of(fifo_dlq))), "must be same type of queue as the source"),
    ]
    for value, reason in cases:
        err = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": value})
        assert err["Code"] == "InvalidParameterValue", value
        assert err["Message"].startswith(f"Value {value} for parameter RedrivePolicy is invalid. Reason:")
        assert reason in err["Message"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive(arn(name_of(dlq)), "5")})
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(stored["RedrivePolicy"]) == {
        "deadLetterTargetArn": arn(name_of(dlq)),
        "maxReceiveCount": 5,
    }


def test_redrive_allow_policy(sqs, make_queue):
    dlq = make_queue()
    source = make_queue()
    deny = json.dumps({"redrivePermission": "denyAll"})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": deny})
    got = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(got["RedriveAllowPolicy"]) == {"redrivePermission": "denyAll"}
    err = error_of(
        sqs.set_queue_attributes, QueueUrl=source, Attributes={"RedrivePolicy": redrive(arn(name_of(dlq)))}
    )
    assert err["Code"] == "InvalidParameterValue"
    by_queue = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn(name_of(source))]})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": by_queue})
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": redrive(arn(name_of(dlq)))})
    for bad in ('{"redrivePermission": "byQueue"}', '{"redrivePermission": "sometimes"}', "[]"):
        err = error_of(sqs.set_queue_attributes, QueueUrl=dlq, Attributes={"RedriveAllowPolicy": bad})
        assert err["Code"] in ("InvalidParameterValue", "InvalidAttributeValue")


def test_list_dead_letter_source_queues_pages(sqs, make_queue):
    dlq = make_queue()
    sources = sorted(
        make_queue(f"src{i}-{uuid.uuid4().hex[:6]}", RedrivePolicy=redrive(arn(name_of(dlq))))
        for i in range(3)
    )
    make_queue()  # not a source
    assert sorted(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == sources
    first = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert len(first["queueUrls"]) == 2 and first["NextToken"]
    rest = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert sorted(first["queueUrls"] + rest["queueUrls"]) == sources
    assert sqs.list_dead_letter_source_queues(QueueUrl=sources[0])["queueUrls"] == []


# -- list, purge, delete ---------------------------------------------------------------------


def test_list_queues_prefix_and_paging(sqs, make_queue):
    prefix = unique("list")
    urls = [make_queue(f"{prefix}-{i}") for i in range(5)]
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
    seen, token = [], None
    while True:
        page = sqs.list_queues(
            QueueNamePrefix=prefix, MaxResults=2, **({"NextToken": token} if token else {})
        )
        seen += page["QueueUrls"]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == urls
    for bad in (0, 1001):
        assert error_of(sqs.list_queues, MaxResults=bad)["Code"] == "InvalidParameterValue"
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))


def test_purge_queue_and_its_60_second_rule(sqs, endpoint, make_queue):
    url = make_queue()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    err = error_of(sqs.purge_queue, QueueUrl=url)
    assert err["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert err["Message"] == f"Only one PurgeQueue operation on {name_of(url)} is allowed every 60 seconds."
    response = query(endpoint, {"Action": "PurgeQueue", "QueueUrl": url})
    assert response.status_code == 403
    assert xml_text(response, "q:Error/q:Code") == "AWS.SimpleQueueService.PurgeQueueInProgress"
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "after"


def test_delete_queue_then_it_does_not_exist_and_can_be_recreated(sqs):
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    for call, kwargs in (
        (sqs.delete_queue, {"QueueUrl": url}),
        (sqs.get_queue_attributes, {"QueueUrl": url}),
        (sqs.purge_queue, {"QueueUrl": url}),
        (sqs.get_queue_url, {"QueueName": name}),
    ):
        assert error_of(call, **kwargs)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    again = sqs.create_queue(QueueName=name)["QueueUrl"]  # no 60-second wait in Flotilla
    assert again == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {
        "DelaySeconds": "0"
    }
    sqs.delete_queue(QueueUrl=url)


def test_get_queue_url_of_another_account(aws, endpoint, make_queue):
    import boto3

    url = make_queue()
    other = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="222222222222", aws_secret_access_key="x")  # fmt: skip
    assert other.get_queue_url(QueueName=name_of(url), QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url
    assert (
        error_of(other.get_queue_url, QueueName=name_of(url))["Code"]
        == "AWS.SimpleQueueService.NonExistentQueue"
    )


# -- tags and permissions --------------------------------------------------------------------


def test_tags(sqs, endpoint):
    name = unique()
    url = sqs.create_queue(QueueName=name, tags={"team": "a", "env": "dev"})["QueueUrl"]
    try:
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
        sqs.tag_queue(QueueUrl=url, Tags={"team": "b", "cost": "1"})
        sqs.untag_queue(QueueUrl=url, TagKeys=["env", "absent"])
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "cost": "1"}
        too_many = {f"k{i}": "v" for i in range(49)}
        err = error_of(sqs.tag_queue, QueueUrl=url, Tags=too_many)
        assert (err["Code"], err["Message"]) == (
            "InvalidParameterValue",
            f"Too many tags added for queue {name}.",
        )
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "cost": "1"}
        assert error_of(sqs.tag_queue, QueueUrl=url, Tags={"k" * 129: "v"})["Code"] == "InvalidParameterValue"
        assert error_of(sqs.tag_queue, QueueUrl=url, Tags={"k": "v" * 257})["Code"] == "InvalidParameterValue"
        assert error_of(sqs.tag_queue, QueueUrl=url, Tags={})["Code"] == "MissingParameter"
        assert error_of(sqs.untag_queue, QueueUrl=url, TagKeys=[])["Code"] == "InvalidParameterValue"
        listed = query(endpoint, {"Action": "ListQueueTags", "QueueUrl": url})
        tags = {t.find("q:Key", NS).text: t.find("q:Value", NS).text for t in ET.fromstring(listed.content).iterfind(".//q:Tag", NS)}  # fmt: skip
        assert tags == {"team": "b", "cost": "1"}
        sqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost"])
        assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_permissions_build_the_queue_policy(sqs, endpoint, make_queue):
    url = make_queue()
    queue_arn = arn(name_of(url))
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sent = query(endpoint, {"Action": "AddPermission", "QueueUrl": url, "Label": "two", "AWSAccountId.1": "111111111111", "AWSAccountId.2": "222222222222", "ActionName.1": "ReceiveMessage", "ActionName.2": "DeleteMessage"})  # fmt: skip
    assert sent.status_code == 200, sent.text
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert policy["Version"] == "2012-10-17" and policy["Id"] == f"{queue_arn}/SQSDefaultPolicy"
    assert policy["Statement"] == [
        {
            "Sid": "one",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "SQS:SendMessage",
            "Resource": queue_arn,
        },  # fmt: skip
        {
            "Sid": "two",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
            "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
            "Resource": queue_arn,
        },  # fmt: skip
    ]
    err = error_of(sqs.add_permission, QueueUrl=url, Label="one", AWSAccountIds=["111111111111"], Actions=["SendMessage"])  # fmt: skip
    assert err["Code"] == "InvalidParameterValue" and "Already exists" in err["Message"]
    bad = [
        ({"Label": "bad label"}, "InvalidParameterValue"),
        ({"Actions": ["CreateQueue"]}, "InvalidParameterValue"),
        ({"Actions": ["Frobnicate"]}, "InvalidParameterValue"),
        ({"Actions": ["SendMessage"] * 8}, "OverLimit"),
        ({"AWSAccountIds": []}, "MissingParameter"),
    ]
    for change, code in bad:
        kwargs = {
            "QueueUrl": url,
            "Label": "x",
            "AWSAccountIds": ["111111111111"],
            "Actions": ["SendMessage"],
            **change,
        }
        assert error_of(sqs.add_permission, **kwargs)["Code"] == code, change
    sqs.remove_permission(QueueUrl=url, Label="one")
    err = error_of(sqs.remove_permission, QueueUrl=url, Label="one")
    assert err["Code"] == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=url, Label="two")
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


# -- message move tasks ----------------------------------------------------------------------


def dlq_pair(sqs, make_queue, count: int = 1) -> tuple[str, str]:
    dlq = make_queue()
    source = make_queue(RedrivePolicy=redrive(arn(name_of(dlq)), count))
    return source, dlq


def visible(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def tasks_of(sqs, dlq: str, **kwargs) -> list[dict]:
    return sqs.list_message_move_tasks(SourceArn=arn(name_of(dlq)), **kwargs)["Results"]


def test_move_task_to_a_destination(sqs, make_queue):
    _, dlq = dlq_pair(sqs, make_queue)
    target = make_queue()
    for i in range(12):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"m{i}", MessageAttributes={"n": {"DataType": "Number", "StringValue": str(i)}})  # fmt: skip
    handle = sqs.start_message_move_task(SourceArn=arn(name_of(dlq)), DestinationArn=arn(name_of(target)))[
        "TaskHandle"
    ]
    assert handle
    done = wait_for(lambda: (t := tasks_of(sqs, dlq)) and t[0]["Status"] == "COMPLETED" and t)
    assert (
        done[0]["ApproximateNumberOfMessagesMoved"] == 12
        and done[0]["ApproximateNumberOfMessagesToMove"] == 12
    )
    assert done[0]["DestinationArn"] == arn(name_of(target)) and "TaskHandle" not in done[0]
    assert visible(sqs, target) == 12 and visible(sqs, dlq) == 0
    got = sqs.receive_message(QueueUrl=target, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert all(m["MessageAttributes"]["n"]["StringValue"] == m["Body"][1:] for m in got)


def test_move_task_back_to_the_sources_after_redrive(sqs, make_queue):
    source, dlq = dlq_pair(sqs, make_queue, count=1)
    other = make_queue(RedrivePolicy=redrive(arn(name_of(dlq)), 1))
    for url, prefix in ((source, "s"), (other, "o")):
        for i in range(2):
            sqs.send_message(QueueUrl=url, MessageBody=f"{prefix}{i}")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)  # redrives
    wait_for(lambda: visible(sqs, dlq) == 4)
    sqs.start_message_move_task(SourceArn=arn(name_of(dlq)))
    done = wait_for(lambda: (t := tasks_of(sqs, dlq)) and t[0]["Status"] == "COMPLETED" and t)
    assert done[0]["ApproximateNumberOfMessagesMoved"] == 4 and "DestinationArn" not in done[0]
    for url, prefix in ((source, "s"), (other, "o")):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        assert sorted(m["Body"] for m in got) == [f"{prefix}0", f"{prefix}1"]
        assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in got)


def test_move_task_rate_cancel_and_one_at_a_time(sqs, make_queue):
    _, dlq = dlq_pair(sqs, make_queue)
    target = make_queue()
    for i in range(10):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(i))
    source_arn = arn(name_of(dlq))
    handle = sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=arn(name_of(target)), MaxNumberOfMessagesPerSecond=2)["TaskHandle"]  # fmt: skip
    running = tasks_of(sqs, dlq)[0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 2 and running["ApproximateNumberOfMessagesToMove"] == 10
    err = error_of(sqs.start_message_move_task, SourceArn=source_arn)
    assert err["Message"].startswith("There is already a task running.")
    time.sleep(1.2)  # let the rate show: about 2 messages a second
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved <= 6
    cancelled = tasks_of(sqs, dlq)[0]
    assert cancelled["Status"] == "CANCELLED" and "TaskHandle" not in cancelled
    time.sleep(0.6)
    assert visible(sqs, target) + visible(sqs, dlq) == 10 and visible(sqs, target) <= 7
    assert error_of(sqs.cancel_message_move_task, TaskHandle=handle)["Code"] == "ResourceNotFoundException"
    again = sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=arn(name_of(target)))[
        "TaskHandle"
    ]
    wait_for(lambda: tasks_of(sqs, dlq)[0]["Status"] == "COMPLETED")
    assert [t["Status"] for t in tasks_of(sqs, dlq, MaxResults=10)] == ["COMPLETED", "CANCELLED"]
    assert again != handle and visible(sqs, target) == 10


def test_move_task_errors(sqs, make_queue):
    plain = make_queue()
    _, dlq = dlq_pair(sqs, make_queue)
    missing = arn("missing-" + uuid.uuid4().hex)
    err = error_of(sqs.start_message_move_task, SourceArn=arn(name_of(plain)))
    assert err == {**err, "Code": "InvalidParameterValue", "Message": "Source queue must be configured as a Dead Letter Queue."}  # fmt: skip
    err = error_of(sqs.start_message_move_task, SourceArn=missing)
    assert err["Code"] == "ResourceNotFoundException" and "SourceArn" in err["Message"]
    err = error_of(sqs.start_message_move_task, SourceArn=arn(name_of(dlq)), DestinationArn=missing)
    assert err["Message"] == "The resource that you specified for the DestinationArn parameter doesn't exist."
    err = error_of(sqs.start_message_move_task, SourceArn=arn(name_of(dlq)), MaxNumberOfMessagesPerSecond=501)
    assert err["Code"] == "InvalidParameterValue"
    err = error_of(sqs.cancel_message_move_task, TaskHandle="garbage")
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValue",
        "Value for parameter TaskHandle is invalid.",
    )
    assert error_of(sqs.list_message_move_tasks, SourceArn=missing)["Code"] == "ResourceNotFoundException"
    assert error_of(sqs.list_message_move_tasks, SourceArn=arn(name_of(dlq)), MaxResults=11)["Code"] == "InvalidParameterValue"  # fmt: skip
    assert tasks_of(sqs, dlq) == []


# -- registry and bus ------------------------------------------------------------------------


def test_queues_are_published_in_the_registry(sqs, redis_url):
    name = unique()

    async def entry() -> dict | None:
        registry = Registry(redis_url)
        try:
            return await registry.get(arn(name))
        finally:
            await registry.close()

    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert asyncio.run(entry()) == {
        "url": url,
        "name": name,
        "fifo": False,
        "account": ACCOUNT,
        "region": "us-east-1",
    }
    sqs.delete_queue(QueueUrl=url)
    assert asyncio.run(entry()) is None


def test_deliver_events_from_the_bus(sqs, make_queue, redis_url):
    url = make_queue()
    fifo = make_queue(unique("f") + ".fifo", FifoQueue="true")

    async def publish(*events: dict) -> None:
        bus = Bus(redis_url)
        try:
            for event in events:
                await bus.publish("sqs.deliver", event)
        finally:
            await bus.close()

    event_id = uuid.uuid4().hex
    asyncio.run(
        publish(
            {"QueueArn": arn("missing-" + uuid.uuid4().hex), "MessageBody": "lost"},
            {"QueueArn": arn(name_of(url)), "MessageBody": ""},  # invalid: dropped, not retried forever
            {
                "QueueArn": arn(name_of(url)),
                "MessageBody": "hello",
                "EventId": event_id,
                "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAE="}},
            },  # fmt: skip
            {"QueueArn": arn(name_of(url)), "MessageBody": "hello", "EventId": event_id},  # a duplicate
            {
                "QueueArn": arn(name_of(fifo)),
                "MessageBody": "f",
                "MessageGroupId": "g",
                "MessageDeduplicationId": "d",
            },
        )
    )
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1).get("Messages"))  # fmt: skip
    assert [m["Body"] for m in got] == ["hello"]
    assert got[0]["MessageAttributes"]["b"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    fifo_got = wait_for(lambda: sqs.receive_message(QueueUrl=fifo, AttributeNames=["All"], WaitTimeSeconds=1).get("Messages"))  # fmt: skip
    assert fifo_got[0]["Attributes"]["MessageGroupId"] == "g"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
