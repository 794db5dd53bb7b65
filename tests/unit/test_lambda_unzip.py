"""Unzipping code and layers (services/lambda/unzip.py): modes kept, nothing written outside the target."""

from __future__ import annotations

import importlib
import io
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

unzip = importlib.import_module("services.lambda.unzip")


def entry(name: str, mode: int | None = None, *, kind: int = stat.S_IFREG) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.create_system = unzip.UNIX
        info.external_attr = (kind | mode) << 16
    else:
        info.create_system = 0  # as a Windows zip tool writes it: no Unix mode
    return info


def make_zip(*entries: tuple[zipfile.ZipInfo, bytes]) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    buf.seek(0)
    return zipfile.ZipFile(buf)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_execute_bits_survive(tmp_path: Path) -> None:
    archive = make_zip(
        (entry("bootstrap", 0o755), b"#!/bin/sh\necho ran-$1\n"),
        (entry("lib/tool", 0o700), b"#!/bin/sh\n"),
        (entry("handler.py", 0o644), b"x = 1\n"),
    )
    assert unzip.extract(archive, tmp_path / "task") == []
    task = tmp_path / "task"
    assert mode_of(task / "bootstrap") == 0o755
    assert mode_of(task / "lib" / "tool") == 0o700
    assert mode_of(task / "handler.py") == 0o644
    out = subprocess.run([str(task / "bootstrap"), "ok"], capture_output=True, text=True, check=True)
    assert out.stdout == "ran-ok\n"


def test_defaults_without_unix_modes(tmp_path: Path) -> None:
    archive = make_zip((entry("a/b.txt"), b"b"), (entry("a/"), b""))
    unzip.extract(archive, tmp_path)
    assert mode_of(tmp_path / "a" / "b.txt") == 0o644
    assert mode_of(tmp_path / "a") == 0o755


def test_owner_can_always_read_and_special_bits_are_dropped(tmp_path: Path) -> None:
    archive = make_zip(
        (entry("secret", 0o000), b"s"),
        (entry("suid", 0o4755), b"x"),
        (entry("ro/", 0o555, kind=stat.S_IFDIR), b""),
        (entry("ro/inside", 0o444), b"i"),
    )
    unzip.extract(archive, tmp_path)
    assert mode_of(tmp_path / "secret") == 0o400
    assert mode_of(tmp_path / "suid") == 0o755
    assert mode_of(tmp_path / "ro") == 0o755  # owner rwx added: later layers can write, cleanup works
    assert (tmp_path / "ro" / "inside").read_bytes() == b"i"


def test_directory_modes(tmp_path: Path) -> None:
    archive = make_zip((entry("bin/", 0o750, kind=stat.S_IFDIR), b""), (entry("bin/x", 0o755), b"x"))
    unzip.extract(archive, tmp_path)
    assert mode_of(tmp_path / "bin") == 0o750


@pytest.mark.parametrize(
    "name",
    ["../escape.txt", "a/../../escape.txt", "/abs/escape.txt", "..\\escape.txt", "C:/escape.txt", "..", "./"],
)
def test_traversal_entries_are_skipped(tmp_path: Path, name: str) -> None:
    target = tmp_path / "deep" / "task"
    archive = make_zip((entry(name, 0o644), b"bad"), (entry("ok.txt", 0o644), b"ok"))
    skipped = unzip.extract(archive, target)
    assert skipped == [name]
    assert (target / "ok.txt").read_bytes() == b"ok"
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {target / "ok.txt"}


def test_symlinks_are_kept(tmp_path: Path) -> None:
    archive = make_zip(
        (entry("lib/real.so.1", 0o755), b"elf"),
        (entry("lib/real.so", 0o777, kind=stat.S_IFLNK), b"real.so.1"),
    )
    unzip.extract(archive, tmp_path)
    link = tmp_path / "lib" / "real.so"
    assert link.is_symlink() and os.readlink(link) == "real.so.1"
    assert link.read_bytes() == b"elf"


def test_nothing_is_written_through_a_link_that_leaves(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "task"
    archive = make_zip(
        (entry("up", 0o777, kind=stat.S_IFLNK), b"../outside"),
        (entry("up/pwned.txt", 0o644), b"bad"),
        (entry("abs", 0o777, kind=stat.S_IFLNK), str(outside).encode()),
        (entry("abs/pwned.txt", 0o644), b"bad"),
    )
    skipped = unzip.extract(archive, target)
    assert skipped == ["up/pwned.txt", "abs/pwned.txt"]
    assert list(outside.iterdir()) == []


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_file_replaces_a_link_of_the_same_name(tmp_path: Path) -> None:
    outside = tmp_path / "victim.txt"
    outside.write_text("safe")
    target = tmp_path / "task"
    archive = make_zip(
        (entry("f", 0o777, kind=stat.S_IFLNK), b"../victim.txt"),
        (entry("f", 0o644), b"new"),
    )
    unzip.extract(archive, target)
    assert outside.read_text() == "safe"
    assert not (target / "f").is_symlink() and (target / "f").read_bytes() == b"new"


def test_later_layers_replace_earlier_files(tmp_path: Path) -> None:
    first = make_zip((entry("python/mod.py", 0o644), b"one"), (entry("bin/tool", 0o644), b"1"))
    second = make_zip((entry("python/mod.py", 0o644), b"two"), (entry("bin/tool", 0o755), b"2"))
    unzip.extract(first, tmp_path)
    unzip.extract(second, tmp_path)
    assert (tmp_path / "python" / "mod.py").read_bytes() == b"two"
    assert mode_of(tmp_path / "bin" / "tool") == 0o755


def test_safe_name() -> None:
    assert str(unzip.safe_name("a/./b//c")) == "a/b/c"
    assert unzip.safe_name("a/../b") is None
    assert unzip.safe_name("/etc/passwd") is None
    assert unzip.safe_name("") is None
