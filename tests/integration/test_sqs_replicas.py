"""Two SQS replicas on one Redis, hammered from 8 threads: each message once, FIFO order per group.

Each boto3 client talks to one replica directly (no gateway), alternating between them, so
sends, receives and deletes of the same queue race across processes.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator

import boto3
import httpx
import pytest
from botocore.config import Config

from flotilla.fleet import ROOT, free_port, uvicorn_command
from tests import redis_server

pytestmark = pytest.mark.skipif(not redis_server.available(), reason="redis-server is not on PATH")

THREADS = 8


def _wait_healthy(procs: list[subprocess.Popen], urls: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        for proc in procs:
            assert proc.poll() is None, f"an SQS replica exited with {proc.returncode}"
        for url in list(pending):
            try:
                if httpx.get(url + "/_flotilla/health", timeout=1).status_code == 200:
                    pending.remove(url)
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, f"replicas not healthy: {pending}"
        if pending:
            time.sleep(0.05)  # polling interval, bounded by the deadline


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The URLs of two SQS service processes sharing one throwaway redis-server."""
    with redis_server.redis_server() as redis:
        data = tmp_path_factory.mktemp("replicas")
        env = {
            **os.environ,
            "FLOTILLA_REDIS_URL": redis.url,
            "FLOTILLA_DATA_DIR": str(data),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        ports = [free_port(), free_port()]
        procs = [
            subprocess.Popen(
                uvicorn_command("services.sqs.app:create_app", "127.0.0.1", port),
                env={**env, "FLOTILLA_EXTERNAL_URL": f"http://127.0.0.1:{port}"},
                cwd=ROOT,
                stdout=(data / f"sqs-{port}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            for port in ports
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            _wait_healthy(procs, urls)
            yield urls
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def client(url: str):
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4, read_timeout=30),
    )


def run_threads(targets: list) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)


def _receiver(urls: list[str], queue_url: str, record, done, errors: list) -> object:
    def receive() -> None:
        clients = [client(u) for u in urls]
        calls = 0
        deadline = time.monotonic() + 40
        try:
            while not done() and time.monotonic() < deadline:
                c = clients[calls % 2]
                calls += 1
                got = c.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                messages = got.get("Messages", [])
                if not messages:
                    continue
                record(messages)
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                ]
                deleted = clients[calls % 2].delete_message_batch(QueueUrl=queue_url, Entries=entries)
                assert not deleted.get("Failed"), deleted["Failed"]
        except Exception as exc:  # surfaced by the test, not lost in the thread
            errors.append(exc)

    return receive


def test_every_message_received_exactly_once(replicas):
    total, senders = 2000, THREADS // 2
    queue_url = client(replicas[0]).create_queue(QueueName="replicated")["QueueUrl"]
    sent: list[str] = []
    received: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[Exception] = []

    def sender(index: int):
        def send() -> None:
            clients = [client(u) for u in replicas]
            try:
                for n, start in enumerate(range(index, total, senders * 10)):
                    bodies = range(start, min(start + senders * 10, total), senders)
                    entries = [{"Id": str(b), "MessageBody": f"m{b}"} for b in bodies]
                    result = clients[n % 2].send_message_batch(QueueUrl=queue_url, Entries=entries)
                    assert not result.get("Failed"), result["Failed"]
                    with lock:
                        sent.extend(e["MessageId"] for e in result["Successful"])
            except Exception as exc:
                errors.append(exc)

        return send

    def record(messages) -> None:
        with lock:
            received.update(m["MessageId"] for m in messages)

    def done() -> bool:
        with lock:
            return sum(received.values()) >= total

    receivers = [_receiver(replicas, queue_url, record, done, errors) for _ in range(THREADS - senders)]
    run_threads([sender(i) for i in range(senders)] + receivers)
    assert not errors, errors
    assert len(sent) == total == len(set(sent))
    assert set(received) == set(sent)
    assert [mid for mid, n in received.items() if n > 1] == []


def test_fifo_order_per_group_across_replicas(replicas):
    groups, per_group, senders = 8, 40, THREADS // 2
    queue_url = client(replicas[1]).create_queue(
        QueueName="replicated.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    errors: list[Exception] = []

    def sender(index: int):
        def send() -> None:
            clients = [client(u) for u in replicas]
            try:
                for n, i in enumerate(range(per_group)):
                    for group in range(index, groups, senders):  # each group has one sender: a defined order
                        c = clients[(n + group) % 2]
                        c.send_message(
                            QueueUrl=queue_url, MessageBody=f"{group}:{i}", MessageGroupId=f"g{group}"
                        )
            except Exception as exc:
                errors.append(exc)

        return send

    def record(messages) -> None:
        with lock:
            for m in messages:
                group, index = m["Body"].split(":")
                seen[group].append(int(index))

    def done() -> bool:
        with lock:
            return sum(len(v) for v in seen.values()) >= groups * per_group

    receivers = [_receiver(replicas, queue_url, record, done, errors) for _ in range(THREADS - senders)]
    run_threads([sender(i) for i in range(senders)] + receivers)
    assert not errors, errors
    assert {g: seen[str(g)] for g in range(groups)} == {g: list(range(per_group)) for g in range(groups)}
