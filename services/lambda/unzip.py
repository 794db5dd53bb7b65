"""Unzipping code and layers as Lambda does: Unix modes kept, nothing written outside the target.

``zipfile.extractall`` drops the mode bits a zip keeps for each entry (``external_attr >> 16``), so a
``provided.al2023`` ``bootstrap`` or a shipped binary would lose its execute bit and could not run.
``extract`` applies them: a file gets its mode (owner read added, setuid/setgid/sticky dropped), a
directory its mode once everything in it is written (owner rwx added, so later layers can write in
it and the directory can be removed). Entries without Unix modes (zips made on Windows) get 0644 for
files and 0755 for directories. Symbolic links stored in the zip are recreated as links.

Safety (a zip is user input, extracted by the service): an entry whose name is absolute, has a
drive, or climbs out with ``..`` is skipped; a file is never written through a symbolic link (an
earlier entry's link at the same name is replaced; a parent directory that resolves outside the
target, through a link, makes the entry skipped). Skipped entries are logged and returned.
AWS Lambda does not document what it does with such entries; Flotilla accepts the zip at
CreateFunction and leaves them out when it unzips (as Info-ZIP's ``unzip`` does).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

log = logging.getLogger("flotilla.lambda")

DEFAULT_FILE_MODE = 0o644
DEFAULT_DIR_MODE = 0o755
UNIX = 3  # ZipInfo.create_system of zips made on Unix


def unix_mode(info: zipfile.ZipInfo) -> int:
    """The entry's full st_mode (type and permission bits), 0 when the zip did not record one."""
    return info.external_attr >> 16


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(unix_mode(info))


def safe_name(name: str) -> PurePosixPath | None:
    """The entry's relative path, or None when it is absolute or leaves the target (``..``)."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def extract(archive: zipfile.ZipFile, target: Path) -> list[str]:
    """Extract every safe entry into ``target`` with its mode; returns the names skipped as unsafe."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    skipped: list[str] = []
    dir_modes: dict[Path, int] = {}
    for info in archive.infolist():
        relative = safe_name(info.filename)
        if relative is None:
            skipped.append(info.filename)
            continue
        dest = root / relative
        if not _inside(root, dest.parent):
            skipped.append(info.filename)
            continue
        if info.is_dir():
            _make_dir(root, dest)
            dir_modes[dest] = _permissions(info, DEFAULT_DIR_MODE) | 0o700
        elif is_symlink(info):
            _replace(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(archive.read(info).decode("utf-8", "surrogateescape"), dest)
        else:
            _write_file(archive, info, dest)
    for path, mode in sorted(dir_modes.items(), key=lambda item: -len(item[0].parts)):  # deepest first
        if path.is_dir() and not path.is_symlink():
            path.chmod(mode)
    if skipped:
        log.warning("unsafe zip entries skipped", extra={"count": len(skipped), "first": skipped[0]})
    return skipped


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (which may not exist yet) resolves inside ``root``, links followed."""
    resolved = path.resolve()
    return resolved == root or root in resolved.parents


def _make_dir(root: Path, dest: Path) -> None:
    if dest.is_symlink():
        dest.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def _replace(dest: Path) -> None:
    """Make room for a new entry: a link or file is removed, a directory (from a layer) too."""
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.is_dir():
        shutil.rmtree(dest)


def _write_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    _replace(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(dest, flags, 0o600)
    with os.fdopen(fd, "wb") as out, archive.open(info) as source:
        shutil.copyfileobj(source, out, 1024 * 1024)
    dest.chmod(_permissions(info, DEFAULT_FILE_MODE) | 0o400)


def _permissions(info: zipfile.ZipInfo, default: int) -> int:
    """The entry's permission bits (no setuid/setgid/sticky), or ``default`` when it has none."""
    recorded = info.create_system == UNIX and unix_mode(info) != 0
    return unix_mode(info) & 0o777 if recorded else default
