"""Server-side throughput: wrk (a C load generator) against each target.

Two kinds of run. ``run`` loads one unsigned path-style GET of a 1 KiB object (issue 2). ``run_scenario``
loads one request kind of a ``Scenario`` (S3 PutObject/GetObject, DynamoDB PutItem/GetItem) from a
generated Lua script: keys vary per wrk thread and request, every response is checked (status and
body) in the script, and the counts come back in wrk's output, so a row against an erroring server
is flagged instead of reported as fast.

No Python on the client side: wrk costs 40-300 µs of CPU per request where boto3 costs
milliseconds, so the figure is what the server can answer. wrk shares the machine's cores with
the server under test; on a 2-core box that understates every target alike.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.boto_load import BUCKET, GET_KEY, PAYLOAD, TABLE, ddb_item

WRK = shutil.which("wrk") or "/usr/bin/wrk"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
KEY = "{key}"  # in a Scenario's path or body: replaced by a key new to every request
CHECK_TAG = "flotilla-check"  # the lines the generated Lua's done() writes after wrk's report
FIRST_TAG = "flotilla-first-failure"


# moto server picks the service of a signed request from its credential scope (an unsigned
# DynamoDB request has no route there), and the gateway does the same; signatures are not verified
# by either unless asked to (FLOTILLA_ENFORCE_SIGV4), so a fixed fake one serves every request.
_DYNAMODB_HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Date": "20260101T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000",
}
_S3_PUT = f"/{BUCKET}/wrk/{KEY}"


@dataclass
class WrkResult:
    requests_per_s: float | None = None
    requests: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float | None = None
    non_2xx: int = 0
    bad_body: int = 0  # 2xx answers whose body failed the scenario's check
    first_failure: str | None = None  # status and start of the body of the first failed answer
    socket_errors: str | None = None
    client_cpu_us: float | None = None  # wrk's own CPU (user + system) per request
    error: str | None = None
    command: str = ""

    @property
    def failed(self) -> bool:
        """Whether the figure is suspect: some answers were wrong, or connections failed."""
        return bool(self.non_2xx or self.bad_body or self.socket_errors or self.error)


@dataclass(frozen=True)
class Scenario:
    """One request kind that every wrk thread repeats, and what a correct answer looks like.

    ``path`` and ``body`` may hold ``{key}``, replaced per request by ``<prefix><thread>-<n>`` (``n``
    counts per wrk thread from 1), so every write lands on a new key. An answer is correct when its
    status is 2xx and, if set, its body is ``expect_len`` bytes long or contains ``expect_text``:
    ``check`` (the httpx probe) and the generated Lua's ``response`` apply the same rule.
    """

    name: str
    service: str
    method: str
    path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    expect_len: int | None = None
    expect_text: str | None = None

    def request(self, key: str) -> tuple[str, str, dict[str, str], str]:
        """``(method, path, headers, body)`` of the request for ``key``."""
        return self.method, self.path.replace(KEY, key), dict(self.headers), self.body.replace(KEY, key)

    def check(self, status: int, body: bytes) -> str | None:
        """Why an answer is wrong, or None when it is what the operation should return."""
        if not 200 <= status <= 299:
            return f"HTTP {status}: {body[:200].decode(errors='replace')}"
        if self.expect_len is not None and len(body) != self.expect_len:
            return f"HTTP {status} with {len(body)} bytes, expected {self.expect_len}"
        if self.expect_text is not None and self.expect_text.encode() not in body:
            return f"HTTP {status} without {self.expect_text!r}: {body[:200].decode(errors='replace')}"
        return None


def lua_script(scenario: Scenario, prefix: str = "") -> str:
    """The wrk script for ``scenario``: per-thread keys, every answer checked, totals printed by done()."""
    method, path, headers, body = scenario.request(KEY)
    header_items = ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in headers.items())
    return _LUA.format(
        name=scenario.name,
        prefix=_lua_str(prefix),
        method=_lua_str(method),
        path=_lua_concat(path),
        body=_lua_concat(body) if body else "nil",
        headers=header_items,
        bad=_lua_bad_body(scenario),
        check_tag=CHECK_TAG,
        first_tag=FIRST_TAG,
    )


_LUA = """\
-- Generated by bench/wrk_load.py for {name}: keys vary per thread and request; every answer is checked.
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  n, non2xx, bad, first = 0, 0, 0, ""
end

local headers = {{{headers}}}

function request()
  n = n + 1
  local key = {prefix} .. id .. "-" .. n
  return wrk.format({method}, {path}, headers, {body})
end

local function note(status, body)
  if first == "" then
    first = status .. " " .. (string.gsub(string.sub(body, 1, 200), "%s+", " "))
  end
end

function response(status, hdrs, body)
  body = body or ""
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    note(status, body)
  elseif {bad} then
    bad = bad + 1
    note(status, body)
  end
end

function done(summary, latency, requests)
  local total_non2xx, total_bad, failure = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + thread:get("non2xx")
    total_bad = total_bad + thread:get("bad")
    if failure == "" then failure = thread:get("first") end
  end
  io.write(string.format("{check_tag} non2xx=%d bad=%d\\n", total_non2xx, total_bad))
  if failure ~= "" then io.write("{first_tag} " .. failure .. "\\n") end
end
"""


def _lua_bad_body(scenario: Scenario) -> str:
    """The Lua condition that a 2xx ``body`` is wrong for ``scenario``."""
    if scenario.expect_len is not None:
        return f"#body ~= {scenario.expect_len}"
    if scenario.expect_text is not None:
        return f"not string.find(body, {_lua_str(scenario.expect_text)}, 1, true)"
    return "false"


def _lua_concat(template: str) -> str:
    """A Lua expression for ``template`` with each ``{key}`` replaced by the variable ``key``."""
    terms: list[str] = []
    for n, part in enumerate(template.split(KEY)):
        terms += (["key"] if n else []) + ([_lua_str(part)] if part else [])
    return " .. ".join(terms) or '""'


def _lua_str(text: str) -> str:
    """A double-quoted Lua string literal; anything but printable ASCII becomes a ``\\ddd`` escape."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def probe(base_url: str, scenario: Scenario, key: str) -> str | None:
    """Send one request of ``scenario`` with httpx; why its answer is wrong, or None."""
    method, path, headers, body = scenario.request(key)
    try:
        answer = httpx.request(method, base_url + path, headers=headers, content=body.encode(), timeout=5.0)
    except httpx.HTTPError as err:
        return f"{type(err).__name__}: {err}"
    return scenario.check(answer.status_code, answer.content)


def run_scenario(
    base_url: str, scenario: Scenario, prefix: str, threads: int = 8, connections: int = 8, duration: int = 5
) -> WrkResult:
    """Probe ``scenario`` once, then load it with wrk; keys start with ``prefix`` (one per target)."""
    with tempfile.TemporaryDirectory(prefix="flotilla-wrk-") as tmp:
        script = Path(tmp) / "scenario.lua"
        script.write_text(lua_script(scenario, prefix))
        cmd = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            base_url,
        ]
        result = WrkResult(command=" ".join(cmd).replace(str(script), "<scenario>.lua"))
        if reason := probe(base_url, scenario, prefix + "probe"):
            result.error = f"probe: {reason}"
            return result
        return _execute(cmd, duration, result)


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
    return _execute(cmd, duration, result)


def _execute(cmd: list[str], duration: int, result: WrkResult) -> WrkResult:
    """Run wrk, read its report, and note its own CPU time per request (from the children's rusage)."""
    before = _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    cpu = _children_cpu() - before
    if proc.returncode != 0:
        result.error = f"wrk exited {proc.returncode}: {proc.stderr.strip()[:300]}"
        return result
    parse(proc.stdout, result)
    if result.requests:
        result.client_cpu_us = round(cpu / result.requests * 1e6, 1)
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    if m := re.search(rf"^{CHECK_TAG} non2xx=(\d+) bad=(\d+)$", out, re.M):
        result.non_2xx, result.bad_body = int(m.group(1)), int(m.group(2))  # exact, where wrk counts >= 400
    if m := re.search(rf"^{FIRST_TAG} (.*)$", out, re.M):
        result.first_failure = m.group(1)[:300]
    if result.requests_per_s is None:
        result.error = "could not read wrk output: " + out[-300:]
    return result


def _ms(value: str, unit: str) -> float:
    return round(float(value) * UNITS[unit], 3)


def _dynamodb(name: str, operation: str, body: dict) -> Scenario:
    headers = {**_DYNAMODB_HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    expect = '"Item"' if operation == "GetItem" else None
    return Scenario(name, "dynamodb", "POST", "/", json.dumps(body), headers, expect_text=expect)


# The same operations as boto_load's rows: a 1 KiB object to a new key / read back; an item to a new
# key / the item boto_load's setup wrote (the bucket, object, table and item come from that setup).
SCENARIOS: list[Scenario] = [
    Scenario("S3 PutObject 1 KiB", "s3", "PUT", _S3_PUT, PAYLOAD.decode()),
    Scenario("S3 GetObject 1 KiB", "s3", "GET", f"/{BUCKET}/{GET_KEY}", expect_len=len(PAYLOAD)),
    _dynamodb("DynamoDB PutItem", "PutItem", {"TableName": TABLE, "Item": ddb_item(KEY)}),
    _dynamodb("DynamoDB GetItem", "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "get"}}}),
]
