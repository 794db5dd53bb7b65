"""The pure parts of the wrk bench: Lua script generation, reading wrk's report, and the verdicts
drawn from wrk -t8 rows (no server, no wrk binary needed)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import report, wrk_load
from bench.wrk_load import KEY, Scenario, WrkResult

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:41234
  8 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.12ms    1.20ms  48.09ms   80.00%
    Req/Sec   320.20     25.10   400.00     70.00%
  Latency Distribution
     50%    2.95ms
     75%    3.50ms
     90%    4.00ms
     99%   12.40ms
  12810 requests in 5.00s, 2.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2561.88
Transfer/sec:    430.10KB
flotilla-check non2xx=5 bad=2
flotilla-first-failure 404 <Error><Code>NoSuchKey</Code></Error>
"""


def lua_literal(text: str) -> str:
    """Decode a double-quoted Lua literal as _lua_str writes it (only \\ddd escapes)."""
    assert text[0] == text[-1] == '"' and '"' not in text[1:-1]
    raw = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1))), text[1:-1])
    return raw.encode("latin-1").decode()


def scenario(**kwargs) -> Scenario:
    base = {"name": "t", "service": "s3", "method": "PUT", "path": f"/b/{KEY}", "body": "x"}
    return Scenario(**{**base, **kwargs})


# -- Lua generation --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["plain", 'say "hi"\\n', "tab\tnew\nline", "é ✓", ""])
def test_lua_string_literals_round_trip(text):
    literal = wrk_load._lua_str(text)
    assert all(32 <= ord(c) < 127 for c in literal)
    assert lua_literal(literal) == text


def test_key_placeholders_become_the_per_request_key_variable():
    assert wrk_load._lua_concat(f"/b/{KEY}") == '"/b/" .. key'
    assert wrk_load._lua_concat(f"{KEY}-{KEY}") == 'key .. "-" .. key'
    assert wrk_load._lua_concat("/static") == '"/static"'
    assert wrk_load._lua_concat("") == '""'


def test_script_builds_keys_per_thread_and_counts_wrong_answers():
    script = wrk_load.lua_script(scenario(expect_len=1024), prefix="gateway-")
    assert 'local key = "gateway-" .. id .. "-" .. n' in script
    assert 'wrk.format("PUT", "/b/" .. key, headers, "x")' in script
    assert "#body ~= 1024" in script
    assert 'thread:set("id", #threads)' in script
    assert f"{wrk_load.CHECK_TAG} non2xx=%d bad=%d" in script


def test_body_check_follows_the_scenario():
    assert wrk_load._lua_bad_body(scenario()) == "false"
    assert (
        wrk_load._lua_bad_body(scenario(expect_text='"Item"'))
        == 'not string.find(body, "\\034Item\\034", 1, true)'
    )


def test_dynamodb_scenarios_are_signed_for_dynamodb_and_put_new_keys():
    put, get = (s for s in wrk_load.SCENARIOS if s.service == "dynamodb")
    assert "/dynamodb/aws4_request" in put.headers["Authorization"]
    assert put.headers["X-Amz-Target"] == "DynamoDB_20120810.PutItem"
    assert get.headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    _, _, _, body = put.request("gateway-3-17")
    assert json.loads(body)["Item"]["pk"] == {"S": "gateway-3-17"}
    assert get.expect_text == '"Item"'


def test_s3_put_goes_to_a_new_key_and_get_expects_the_whole_object():
    put, get = (s for s in wrk_load.SCENARIOS if s.service == "s3")
    assert put.request("moto-1-2")[1].endswith("/wrk/moto-1-2")
    assert len(put.request("k")[3]) == 1024
    assert get.expect_len == 1024


def test_probe_check_matches_the_lua_rule():
    s = scenario(expect_text='"Item"')
    assert s.check(200, b'{"Item": {}}') is None
    assert "HTTP 400" in s.check(400, b'{"__type": "ValidationException"}')
    assert "without" in s.check(200, b"{}")
    assert "3 bytes" in scenario(expect_len=1024).check(200, b"abc")


class _Answer(BaseHTTPRequestHandler):
    """``{}`` with 200 to everything but ``/missing`` (404): right for puts, wrong for gets."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.002)  # a few hundred answers per connection are plenty; leave the GIL to the others
        status, body = (404, b"<Error>NoSuchKey</Error>") if self.path == "/missing" else (200, b"{}")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # the default 5 drops SYNs when five wrks connect at once: a 1 s retry


@pytest.fixture(scope="module")
def tiny_server() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk not installed")
def test_wrk_runs_the_generated_scripts_and_they_count_wrong_answers(tiny_server, tmp_path):
    """wrk's own LuaJIT runs each script for a second against a server answering ``{}`` (or 404)."""
    missing = Scenario("missing", "s3", "GET", "/missing")

    def load(s: Scenario, script: Path) -> WrkResult:
        script.write_text(wrk_load.lua_script(s, "unit-"))
        return wrk_load._execute(
            ["wrk", "-t1", "-c1", "-d1s", "-s", str(script), tiny_server], 1, WrkResult()
        )

    scenarios = [*wrk_load.SCENARIOS, missing]
    with ThreadPoolExecutor(len(scenarios)) as pool:
        runs = [pool.submit(load, s, tmp_path / f"{n}.lua") for n, s in enumerate(scenarios)]
        results = {s.name: run.result() for s, run in zip(scenarios, runs, strict=True)}
    for name in ("S3 PutObject 1 KiB", "DynamoDB PutItem"):
        assert not results[name].failed and results[name].requests, results[name]
    for name in ("S3 GetObject 1 KiB", "DynamoDB GetItem"):
        assert results[name].bad_body == results[name].requests > 0 and results[name].non_2xx == 0
        assert results[name].first_failure == "200 {}"
    assert results["missing"].non_2xx == results["missing"].requests > 0
    assert results["missing"].first_failure == "404 <Error>NoSuchKey</Error>"


# -- parsing wrk's report --------------------------------------------------------------------


def test_parse_reads_rates_latencies_and_the_script_counts():
    r = wrk_load.parse(WRK_OUTPUT, WrkResult())
    assert (r.requests_per_s, r.requests, r.p50_ms, r.p99_ms, r.avg_ms) == (2561.88, 12810, 2.95, 12.4, 3.12)
    assert (r.non_2xx, r.bad_body) == (5, 2)  # the script's exact count wins over wrk's >= 400 count
    assert r.first_failure.startswith("404 <Error>")
    assert r.failed and r.error is None


def test_parse_without_script_lines_keeps_wrks_count_and_units():
    out = WRK_OUTPUT.split("flotilla-check")[0].replace("12.40ms", "1.20s").replace("2.95ms", "950.00us")
    r = wrk_load.parse(out, WrkResult())
    assert (r.non_2xx, r.bad_body, r.p50_ms, r.p99_ms) == (3, 0, 0.95, 1200.0)


def test_parse_of_garbage_is_an_error():
    assert wrk_load.parse("Segmentation fault", WrkResult()).error.startswith("could not read wrk output")


# -- report ----------------------------------------------------------------------------------


def row(target: str, rate: float, workload: str = "DynamoDB PutItem", **kwargs) -> dict:
    base = vars(
        WrkResult(requests_per_s=rate, requests=int(rate * 5) if rate else None, p50_ms=2.0, p99_ms=9.0)
    )
    return {"workload": workload, "target": target, **base, "command": "wrk -t8 -c8 -d5s x", **kwargs}


def test_vs_moto_is_judged_on_wrk8_rows_and_shows_the_boto_ratio():
    boto = [
        {"workload": "DynamoDB PutItem", "threads": 8, "target": t, "ops_per_s": v}
        for t, v in (("gateway", 600), ("moto", 340))
    ]
    results = {"wrk8": [row("gateway", 1500), row("moto", 300)], "boto": boto}
    line = report._vs_moto(results, "DynamoDB PutItem", "PutItem")
    assert line.startswith("  [ met ]") and "5.00 x moto" in line and "client-bound: x1.76" in line


def test_vs_moto_flags_rows_with_wrong_answers():
    results = {"wrk8": [row("gateway", 1500), row("moto", 300, non_2xx=7)]}
    assert report._vs_moto(results, "DynamoDB PutItem", "PutItem").startswith("  [ERRORS]")
    assert report._vs_moto({}, "DynamoDB PutItem", "PutItem").startswith("  [ n/a ]")


def test_wrk8_table_notes_failures():
    notes: list[str] = []
    rows = [row("gateway", 1500), row("direct", 1600), row("moto", 300, bad_body=2, first_failure="200 {}")]
    text = report._wrk8_table(rows, notes)
    assert "x5.00" in text and "-d5s" in text
    assert len(notes) == 1 and "2 wrong bodies" in notes[0] and "200 {}" in notes[0]
    assert report.wrk8_cell(row("moto", None, error="probe: HTTP 403"), notes).startswith("ERROR")


def test_rounds_are_summarised_by_their_median_and_any_failure_flags_the_row():
    rounds = [row("gateway", v, round=n) for n, v in enumerate((900, 300, 600))]
    rounds += [row("moto", 100, round=0), row("moto", 120, round=1, non_2xx=1, first_failure="500 boom")]
    gateway, moto = report.wrk8_medians(rounds)
    assert gateway["requests_per_s"] == 600 and gateway["rates"] == [900, 300, 600]
    assert moto["requests_per_s"] == 100 and report.wrk_failed(moto) and moto["first_failure"] == "500 boom"
    assert report._vs_moto({"wrk8": rounds}, "DynamoDB PutItem", "PutItem").startswith("  [ERRORS]")


def test_ratio_is_the_median_of_per_round_ratios():
    rounds = [row("gateway", g, round=n) for n, g in enumerate((900, 300, 600))]
    rounds += [row("moto", m, round=n) for n, m in enumerate((100, 100, 300))]
    assert report.wrk8_ratio(rounds, "DynamoDB PutItem") == 3.0  # rounds: x9, x3, x2
    assert report.wrk8_ratio(rounds, "S3 PutObject 1 KiB") is None
