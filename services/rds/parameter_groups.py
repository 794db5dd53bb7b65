"""DB parameter groups without I/O: families, names, default groups, ARNs.

Parameter group names are case-insensitive in RDS and stored in lower case. Each family has
a default group ``default.<family>`` that every account and region has without creating it
(it is not stored; it cannot be deleted).
"""

from __future__ import annotations

import re
from typing import Any

from shared.context import RequestContext

from . import errors

FAMILIES = (
    "postgres11", "postgres12", "postgres13", "postgres14", "postgres15", "postgres16", "postgres17",
    "mysql5.7", "mysql8.0", "mysql8.4",
    "mariadb10.4", "mariadb10.5", "mariadb10.6", "mariadb10.11", "mariadb11.4", "mariadb11.8",
    "aurora-mysql5.7", "aurora-mysql8.0",
    "aurora-postgresql11", "aurora-postgresql12", "aurora-postgresql13", "aurora-postgresql14",
    "aurora-postgresql15", "aurora-postgresql16", "aurora-postgresql17",
    "oracle-ee-19", "oracle-ee-21", "oracle-se2-19", "oracle-se2-21", "oracle-ee-cdb-19", "oracle-se2-cdb-19",
    "sqlserver-ee-15.0", "sqlserver-ee-16.0", "sqlserver-se-15.0", "sqlserver-se-16.0",
    "sqlserver-ex-15.0", "sqlserver-ex-16.0", "sqlserver-web-15.0", "sqlserver-web-16.0",
    "db2-ae-11.5", "db2-se-11.5",
)  # fmt: skip

DEFAULT_PREFIX = "default."
_NAME = re.compile(r"[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*")
MAX_NAME = 255


def check_name(name: str) -> str:
    """The name as RDS keeps it (lower case); raises InvalidParameterValue for an invalid one."""
    if not 1 <= len(name) <= MAX_NAME or _NAME.fullmatch(name) is None or name.endswith("-"):
        raise errors.invalid_group_name()
    return name.lower()


def check_family(family: str) -> str:
    if family not in FAMILIES:
        raise errors.invalid_family(family)
    return family


def group_arn(ctx: RequestContext, name: str) -> str:
    return ctx.arn("rds", f"pg:{name}")


def new_group(ctx: RequestContext, name: str, family: str, description: str) -> dict[str, Any]:
    return {
        "DBParameterGroupName": name,
        "DBParameterGroupFamily": family,
        "Description": description,
        "DBParameterGroupArn": group_arn(ctx, name),
    }


def default_group(ctx: RequestContext, name: str) -> dict[str, Any] | None:
    """The default group ``name`` names (``default.postgres16``), or None."""
    family = name[len(DEFAULT_PREFIX) :] if name.startswith(DEFAULT_PREFIX) else None
    if family not in FAMILIES:
        return None
    return new_group(ctx, name, family, f"Default parameter group for {family}")


def default_groups(ctx: RequestContext) -> list[dict[str, Any]]:
    return [new_group(ctx, DEFAULT_PREFIX + f, f, f"Default parameter group for {f}") for f in FAMILIES]
