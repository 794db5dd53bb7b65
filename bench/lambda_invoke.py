"""Lambda Invoke (issue 7): warm latency, cold starts with each executor, and a burst of 50.

- **warm**: a trivial Python function (``def handler(e, c): return e``) invoked by one boto3
  client after one warm-up invoke, so every timed call reuses the one idle environment; both the
  boto3 call and the bare HTTP round trip (``timing.RoundTrips``) are kept.
- **cold**: ``count`` freshly created functions, each invoked once: the round trip of that first
  invoke is what a user waits for. The service logs its own ``cold start`` line with ``ms`` (from
  deciding to start an environment to its runtime process or container started: code extracted,
  Runtime API listening; not the runtime's own start-up); those are parsed from the Lambda log
  and shown beside it, as the service's share.
- **docker**: on a Lambda-only fleet with the docker executor (when an engine has the runtime image):
  the same cold starts, then the warm invoke of an echo function in its container (p50/p99), which
  shows what a warm invoke costs over ``local`` (``LogType`` is not asked for, so the service does not
  wait for the container's log stream to go quiet).
- **burst**: ``threads`` threads released together by a barrier, each making one invoke (one
  client shared, ``max_pool_connections`` = threads) of a handler that sleeps 100 ms and returns
  its pid and hostname; errors, wall time and the environments that answered are counted. The
  first burst hits a new function (cold starts, and environments freed early are reused); the
  next ones start what is still missing, until every invoke finds an idle environment.

moto is not a target here: moto's Lambda runs functions only in Docker containers of its own,
so there is no like-for-like figure to compare against.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.timing import RoundTrips, summary

BURSTS = ("1st", "2nd", "3rd")  # the same function each time: the 1st on a new one, cold
ROLE = "arn:aws:iam::000000000000:role/bench-lambda"
RUNTIME = "python3.11"
ECHO = "def handler(e, c):\n    return e\n"
SLEEPER = """
import os, socket, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "host": socket.gethostname()}
"""


@dataclass
class BurstResult:
    invokes: int = 0
    errors: int = 0
    first_error: str | None = None
    wall_ms: float | None = None  # from the barrier's release to the last invoke's return
    p50_ms: float | None = None
    max_ms: float | None = None
    environments: int = 0  # distinct (host, pid) pairs that answered
    cold_starts: int | None = None  # "cold start" lines the service logged for the function
    extra: dict = field(default_factory=dict)


# -- clients and functions -------------------------------------------------------------------


def make_client(endpoint: str, pool: int = 2) -> Any:
    config = Config(
        retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=120, max_pool_connections=pool
    )
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("lambda", endpoint_url=endpoint, config=config)


def code_zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def create_function(
    client: Any, name: str, source: str, runtime: str = RUNTIME, timeout: float = 30.0
) -> None:
    """Create ``name`` (timeout 60 s, 256 MB) and wait until it is Active."""
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code_zip(source)},
        Timeout=60,
        MemorySize=256,
    )
    deadline = time.monotonic() + timeout
    while (
        state := client.get_function(FunctionName=name)["Configuration"].get("State", "Active")
    ) != "Active":
        if state == "Failed" or time.monotonic() > deadline:
            raise RuntimeError(f"function {name} is {state}")
        time.sleep(0.05)


def invoke(client: Any, name: str, event: dict) -> Any:
    """One synchronous invoke; a function error raises, so that it counts as an error."""
    out = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload = out["Payload"].read()
    if out.get("FunctionError") or out["StatusCode"] != 200:
        raise RuntimeError(f"{out.get('FunctionError')}: {payload[:200]!r}")
    return json.loads(payload)


# -- warm ------------------------------------------------------------------------------------


def measure_warm(endpoint: str, name: str, rounds: int) -> dict[str, Any]:
    """``rounds`` timed invokes of ``name`` (which must exist) after one warm-up invoke."""
    try:
        client = make_client(endpoint)
        invoke(client, name, {"warm": "up"})
        trips = RoundTrips(client)
        calls = []
        for n in range(rounds):
            event = {"n": n}
            start = time.perf_counter()
            if invoke(client, name, event) != event:
                raise RuntimeError(f"invoke {n} did not echo its event")
            calls.append(time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - reported in the table
        return {"error": f"{type(err).__name__}: {err}"[:300]}
    return {"call": summary(calls), "http": summary(trips.samples)}


# -- cold ------------------------------------------------------------------------------------


def measure_cold(endpoint: str, prefix: str, count: int, log: Path | None, runtime: str = RUNTIME) -> dict:
    """First invoke of ``count`` new functions, one after another; with the service's own cold-start ms."""
    out: dict[str, Any] = {"runtime": runtime}
    names, firsts = [f"{prefix}-{n}" for n in range(count)], []
    try:
        client = make_client(endpoint)
        for name in names:
            create_function(client, name, ECHO, runtime)
            start = time.perf_counter()
            invoke(client, name, {"cold": name})
            firsts.append(time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001
        out["error"] = f"{type(err).__name__}: {err}"[:300]
    out["invoke"] = summary(firsts)
    out["service"] = summary([ms / 1000 for ms in cold_start_ms(read_log(log), names)])
    return out


def measure_docker(endpoint: str, prefix: str, count: int, log: Path | None, rounds: int) -> dict:
    """The docker executor: ``measure_cold``'s cold starts, plus ``warm`` (``measure_warm`` of an echo
    function in its container)."""
    out = measure_cold(endpoint, prefix, count, log)
    name = f"{prefix}-echo"
    try:
        create_function(make_client(endpoint), name, ECHO)
    except Exception as err:  # noqa: BLE001 - reported in the table
        out["warm"] = {"error": f"{type(err).__name__}: {err}"[:300]}
        return out
    out["warm"] = measure_warm(endpoint, name, rounds)
    return out


def read_log(path: Path | None) -> str:
    try:
        return path.read_text(errors="replace") if path else ""
    except OSError:
        return ""


def cold_starts(log_text: str, names: Iterable[str]) -> list[dict]:
    """The service's ``cold start`` records (JSON lines) for the functions named."""
    wanted, found = set(names), []
    for line in log_text.splitlines():
        if '"cold start"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("msg") == "cold start" and record.get("function") in wanted:
            found.append(record)
    return found


def cold_start_ms(log_text: str, names: Iterable[str]) -> list[float]:
    return [float(r["ms"]) for r in cold_starts(log_text, names) if r.get("ms") is not None]


# -- burst -----------------------------------------------------------------------------------


def measure_burst(endpoint: str, name: str, threads: int, sleep: float, log: Path | None) -> BurstResult:
    """``threads`` invokes at once of ``name`` (the sleeper, which must exist)."""
    client = make_client(endpoint, pool=threads)
    before = len(cold_starts(read_log(log), [name]))
    outcomes: list[tuple[float, Any]] = [(0.0, None)] * threads
    barrier = threading.Barrier(threads + 1)

    def one(n: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            answer: Any = invoke(client, name, {"sleep": sleep})
        except Exception as err:  # noqa: BLE001 - counted
            answer = err
        outcomes[n] = (time.perf_counter() - start, answer)

    workers = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    released = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - released
    result = burst_summary(outcomes, wall)
    if log is not None:
        result.cold_starts = len(cold_starts(read_log(log), [name])) - before
    result.extra["sleep_ms"] = round(sleep * 1000)
    return result


def burst_summary(outcomes: list[tuple[float, Any]], wall: float) -> BurstResult:
    """Errors, latency and distinct environments from (seconds, answer or exception) per invoke."""
    errors = [a for _, a in outcomes if isinstance(a, BaseException) or not isinstance(a, dict)]
    answers = [a for _, a in outcomes if isinstance(a, dict)]
    stats = summary([s for s, _ in outcomes])
    first = errors[0] if errors else None
    return BurstResult(
        invokes=len(outcomes),
        errors=len(errors),
        first_error=None if first is None else f"{type(first).__name__}: {first}"[:300],
        wall_ms=round(wall * 1000, 1),
        p50_ms=stats["p50_ms"],
        max_ms=stats["max_ms"],
        environments=len({(a.get("host"), a.get("pid")) for a in answers}),
    )


# -- the whole part --------------------------------------------------------------------------


def run(
    targets: dict[str, str],
    log: Path | None,
    rounds: int,
    cold_count: int,
    burst: int,
    docker: Callable[[], dict] | None = None,
) -> dict[str, Any]:
    """Every measurement against the fleet whose gateway/direct URLs are ``targets``; ``docker``, when
    given, measures the docker executor's cold starts (on a fleet of its own) and returns them."""
    out: dict[str, Any] = {"warm": {}, "settings": {"rounds": rounds, "cold": cold_count, "burst": burst}}
    gateway = targets["gateway"]
    try:
        setup = make_client(gateway)
        create_function(setup, "bench-echo", ECHO)
        create_function(setup, "bench-burst", SLEEPER)
    except Exception as err:  # noqa: BLE001
        out["error"] = f"setup failed: {type(err).__name__}: {err}"[:300]
        return out
    for target, url in targets.items():
        out["warm"][target] = measure_warm(url, "bench-echo", rounds)
        _log(f"lambda warm {target}: {out['warm'][target]}")
    out["cold_local"] = measure_cold(gateway, "bench-cold", cold_count, log)
    _log(f"lambda cold (local): {out['cold_local']}")
    if docker is not None:
        out["cold_docker"] = docker()
        _log(f"lambda cold (docker): {out['cold_docker']}")
    out["burst"] = {}
    for kind in BURSTS:
        out["burst"][kind] = asdict(measure_burst(gateway, "bench-burst", burst, 0.1, log))
        _log(f"lambda burst x{burst} ({kind}): {out['burst'][kind]}")
    return out


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
