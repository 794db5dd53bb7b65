"""Memory under a large object: does a 64 MiB PutObject / GetObject stream, or land in RAM?

For each server process we reset its peak RSS (``echo 5 > /proc/<pid>/clear_refs``, Linux >= 4.0),
do the transfer, and read ``VmHWM`` (peak) and ``VmRSS`` (now) from ``/proc/<pid>/status``. The
peak minus the RSS before is what the transfer cost. Where the reset is refused, the peak is only
an upper bound since the process started, and the result says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.boto_load import BUCKET

MiB = 1024 * 1024
KEY = "memory-64m"


def measure(client: Any, pids: dict[str, int], size: int = 64 * MiB) -> dict[str, Any]:
    """PutObject then GetObject of ``size`` bytes; per process in ``pids``, the peak RSS growth in MiB.

    Returns ``{"size_mib", "processes": {name: {"put_peak_mib", "get_peak_mib", "rss_after_mib",
    "peak_reset"}}, "error"?}``; a failed transfer sets ``error`` and stops there.
    """
    body = os.urandom(size)

    def put() -> None:
        client.put_object(Bucket=BUCKET, Key=KEY, Body=body)

    def get() -> None:
        stream = client.get_object(Bucket=BUCKET, Key=KEY)["Body"]
        received = sum(len(chunk) for chunk in stream.iter_chunks(1 * MiB))
        if received != size:
            raise RuntimeError(f"GetObject returned {received} bytes, expected {size}")

    out: dict[str, Any] = {"size_mib": size // MiB, "processes": {name: {} for name in pids}}
    for op, call in (("put", put), ("get", get)):
        reset = {name: reset_peak(pid) for name, pid in pids.items()}
        before = {name: rss(pid) for name, pid in pids.items()}
        try:
            call()
        except Exception as err:  # noqa: BLE001 - reported in the table, not fatal
            out["error"] = f"{op}: {type(err).__name__}: {err}"[:300]
            break
        for name, pid in pids.items():
            after = rss(pid)
            out["processes"][name].update(
                {
                    f"{op}_peak_mib": round(after["VmHWM"] - before[name]["VmRSS"], 1),
                    "rss_after_mib": after["VmRSS"],
                    "peak_reset": reset[name] and out["processes"][name].get("peak_reset", True),
                }
            )
    return out


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields
