"""The AWS CLI v1's ``aws s3`` and ``aws s3api`` commands against the fleet.

The high-level ``s3`` commands are the other big S3 client besides the SDKs: ``sync`` decides
what to send from ListObjectsV2 sizes and timestamps, ``cp`` switches to multipart uploads and
ranged downloads above 8 MiB, ``presign`` makes SigV2/SigV4 URLs. Commands run as in
test_aws_cli.py (a subprocess with a throw-away config); boto3 sets up and checks what is not
under test, because each CLI start costs most of a second of CPU. Independent commands run side
by side.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.s3_support import remove_bucket
from tests.integration.test_aws_cli import AWS, Cli, cli, together, unique

__all__ = ["cli"]  # the fixture, imported to be used here

pytestmark = pytest.mark.skipif(not AWS.exists(), reason="the awscli package is not installed")

MiB = 1024 * 1024

# names the CLI must carry through listing, URL encoding and local paths unchanged
TREE = {
    "top.txt": b"top level\n",
    "nested/deeper/deepest/leaf.bin": bytes(range(256)) * 40,
    "with space/a file name.txt": b"spaces in both names\n",
    "unicodé/naïve café ✓.txt": "unicode body ✓\n".encode(),
    "unicodé/日本語/ファイル.json": b'{"ok": true}\n',
    "empty.txt": b"",
}


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket, emptied and removed afterwards (every version, so versioned tests clean up)."""
    name = unique("cli-s3")
    s3.create_bucket(Bucket=name)
    yield name
    remove_bucket(s3, name)


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def remote_keys(s3: Any, bucket: str, prefix: str = "") -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def actions(stdout: str, verb: str) -> list[str]:
    """What the CLI said it did for one kind of transfer (``upload``, ``delete`` ...): the
    destination of each, or the object itself for a delete (local paths print relative)."""
    lines = (line.removeprefix(f"{verb}: ") for line in stdout.splitlines() if line.startswith(f"{verb}: "))
    return sorted(line.rsplit(" to ", 1)[-1] for line in lines)


# -- sync --------------------------------------------------------------------------------------


def test_sync_up_again_changed_delete_and_down(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "up"
    write_tree(local, TREE)
    target = f"s3://{bucket}/tree"

    first = cli("s3", "sync", str(local), target)
    assert len(actions(first.stdout, "upload")) == len(TREE), first.stdout
    assert remote_keys(s3, bucket) == {f"tree/{name}" for name in TREE}

    assert cli("s3", "sync", str(local), target).stdout.strip() == ""  # nothing changed, nothing sent

    changed = local / "with space/a file name.txt"
    changed.write_bytes(b"a longer body than before\n")
    again = cli("s3", "sync", str(local), target)
    assert actions(again.stdout, "upload") == [f"{target}/with space/a file name.txt"]

    s3.put_object(Bucket=bucket, Key="tree/unicodé/extra ✗.txt", Body=b"only remote")
    s3.put_object(Bucket=bucket, Key="outside/kept.txt", Body=b"not under the synced prefix")
    pruned = cli("s3", "sync", str(local), target, "--delete")
    assert actions(pruned.stdout, "delete") == [f"{target}/unicodé/extra ✗.txt"]
    assert actions(pruned.stdout, "upload") == []
    assert "outside/kept.txt" in remote_keys(s3, bucket)

    down = tmp_path / "down"
    cli("s3", "sync", target, str(down))
    assert read_tree(down) == read_tree(local)


# -- cp --recursive, mv, rm --recursive --------------------------------------------------------


def test_cp_recursive_mv_rm(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "src"
    write_tree(local, TREE)
    cli("s3", "cp", str(local), f"s3://{bucket}/copied/", "--recursive")
    assert remote_keys(s3, bucket) == {f"copied/{name}" for name in TREE}

    moved_key = "moved/café ✓.txt"
    copied_back = tmp_path / "back"
    together(
        cli,
        ("s3", "mv", f"s3://{bucket}/copied/unicodé/naïve café ✓.txt", f"s3://{bucket}/{moved_key}"),
        (
            "s3",
            "cp",
            f"s3://{bucket}/copied/",
            str(copied_back),
            "--recursive",
            "--exclude",
            "unicodé/naïve*",
        ),
    )  # the download leaves out the object being moved at the same time
    assert read_tree(copied_back) == {k: v for k, v in TREE.items() if not k.startswith("unicodé/naïve")}
    keys = remote_keys(s3, bucket)
    assert moved_key in keys and "copied/unicodé/naïve café ✓.txt" not in keys
    assert s3.get_object(Bucket=bucket, Key=moved_key)["Body"].read() == TREE["unicodé/naïve café ✓.txt"]

    local_moved = tmp_path / "moved-down.txt"
    removed, _ = together(
        cli,
        ("s3", "rm", f"s3://{bucket}/copied/", "--recursive"),
        ("s3", "mv", f"s3://{bucket}/{moved_key}", str(local_moved)),
    )
    assert len(actions(removed.stdout, "delete")) == len(TREE) - 1
    assert remote_keys(s3, bucket) == set()
    assert local_moved.read_bytes() == TREE["unicodé/naïve café ✓.txt"]


# -- multipart ---------------------------------------------------------------------------------


def test_large_cp_round_trip(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))
    cli("s3", "cp", str(big), f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].strip('"').endswith("-3")  # 8 + 8 + 4 MiB parts
    down = tmp_path / "down.bin"
    cli("s3", "cp", f"s3://{bucket}/big.bin", str(down))  # ranged GETs in parallel
    assert hashlib.sha256(down.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()


def test_s3api_multipart_by_hand(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    key = "by hand/ü.bin"
    parts = {1: os.urandom(5 * MiB), 2: b"the short last part"}
    for number, body in parts.items():
        (tmp_path / f"part{number}").write_bytes(body)
    upload_id = cli("s3api", "create-multipart-upload", "--bucket", bucket, "--key", key).json["UploadId"]

    uploaded = together(
        cli,
        *(
            ("s3api", "upload-part", "--bucket", bucket, "--key", key, "--upload-id", upload_id,
             "--part-number", str(number), "--body", str(tmp_path / f"part{number}"))
            for number in parts
        ),
    )  # fmt: skip
    etags = {n: run.json["ETag"] for n, run in zip(parts, uploaded, strict=True)}
    for number, body in parts.items():
        assert etags[number] == f'"{hashlib.md5(body).hexdigest()}"'

    listed = cli("s3api", "list-parts", "--bucket", bucket, "--key", key, "--upload-id", upload_id).json
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (n, etags[n], len(body)) for n, body in parts.items()
    ]

    manifest = {"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in parts]}
    done = cli(
        "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", key, "--upload-id", upload_id,
        "--multipart-upload", json.dumps(manifest),
    ).json  # fmt: skip
    joined = hashlib.md5(b"".join(hashlib.md5(body).digest() for body in parts.values())).hexdigest()
    assert done["ETag"] == f'"{joined}-2"'
    assert done["Key"] == key
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(parts.values())
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


# -- versioning, ranges, presign ---------------------------------------------------------------


def _versions(cli: Cli, s3: Any, bucket: str) -> None:
    cli(
        "s3api", "put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled",
    )  # fmt: skip
    ids = [
        s3.put_object(Bucket=bucket, Key="v.txt", Body=text)["VersionId"] for text in (b"first", b"second")
    ]
    listed = cli("s3api", "list-object-versions", "--bucket", bucket, "--prefix", "v.txt").json
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in listed["Versions"]] == [
        (ids[1], True, 6),
        (ids[0], False, 5),
    ]


def _range(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="range.txt", Body=b"0123456789abcdef")
    out = tmp_path / "range.out"
    got = cli(
        "s3api", "get-object", "--bucket", bucket, "--key", "range.txt", "--range", "bytes=2-5", str(out)
    ).json
    assert out.read_bytes() == b"2345"
    assert got["ContentRange"] == "bytes 2-5/16"
    assert got["ContentLength"] == 4


def _presign(cli: Cli, s3: Any, bucket: str) -> None:
    key = "shared/a b ✓.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"presigned body")
    url = cli("s3", "presign", f"s3://{bucket}/{key}", "--expires-in", "120").stdout.strip()
    assert url.startswith("http") and "Signature" in url
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert response.content == b"presigned body"


def test_versions_range_and_presign(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    """Three independent flows in one bucket (disjoint keys), side by side to save wall time."""
    flows = (
        lambda: _versions(cli, s3, bucket),
        lambda: _range(cli, s3, bucket, tmp_path),
        lambda: _presign(cli, s3, bucket),
    )
    with ThreadPoolExecutor(max_workers=len(flows)) as pool:
        for future in [pool.submit(flow) for flow in flows]:
            future.result()
