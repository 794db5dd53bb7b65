"""Server-side throughput: wrk (a C load generator) doing unsigned path-style GETs of a 1 KiB object.

No Python on the client side, so the figure is what the server can answer. wrk shares the
machine's cores with the server under test; on a 2-core box that understates every target alike.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import httpx

WRK = shutil.which("wrk") or "/usr/bin/wrk"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkResult:
    requests_per_s: float | None = None
    requests: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float | None = None
    non_2xx: int = 0
    socket_errors: str | None = None
    error: str | None = None
    command: str = ""


def run(url: str, threads: int = 2, connections: int = 8, duration: int = 10) -> WrkResult:
    """Check that ``url`` answers 200 with 1 KiB unsigned, then load it with wrk."""
    cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    result = WrkResult(command=" ".join(cmd))
    try:
        probe = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as err:
        result.error = f"probe failed: {type(err).__name__}: {err}"
        return result
    if probe.status_code != 200 or len(probe.content) != 1024:
        result.error = f"probe: HTTP {probe.status_code}, {len(probe.content)} bytes: {probe.text[:200]}"
        return result
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    if proc.returncode != 0:
        result.error = f"wrk exited {proc.returncode}: {proc.stderr.strip()[:300]}"
        return result
    return parse(proc.stdout, result)


def parse(out: str, result: WrkResult) -> WrkResult:
    """Read wrk's text report (``--latency``) into a WrkResult."""
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result.requests_per_s = float(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        result.requests = int(m.group(1))
    if m := re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", out):
        result.avg_ms = _ms(m.group(1), m.group(2))
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
            setattr(result, attr, _ms(m.group(1), m.group(2)))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        result.non_2xx = int(m.group(1))
    if m := re.search(r"Socket errors:\s+(.+)", out):
        result.socket_errors = m.group(1).strip()
    if result.requests_per_s is None:
        result.error = "could not read wrk output: " + out[-300:]
    return result


def _ms(value: str, unit: str) -> float:
    return round(float(value) * UNITS[unit], 3)
