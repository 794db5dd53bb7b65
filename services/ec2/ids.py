"""EC2 resource ids: a prefix and 17 lowercase hex digits (``vpc-0a1b2c3d4e5f67890``)."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"
