"""``make bench``: Flotilla (via the gateway and direct) side by side with moto.

    .venv/bin/python -m bench.run                       # everything, ~5 minutes on 2 cores
    .venv/bin/python -m bench.run --only s3 --skip-moto --duration 1 --threads 1
    .venv/bin/python -m bench.run --only s3,dynamodb --skip-boto --skip-wrk --skip-memory  # issues 5, 6
    # the wrk rows only (wrk GET and wrk -t8), three rounds each:
    .venv/bin/python -m bench.run --only s3,dynamodb --skip-boto --skip-memory --skip-longpoll
        --skip-s3-large --skip-listing --skip-query --wrk8-rounds 3
    .venv/bin/python -m bench.run --only lambda               # issue 7: Lambda Invoke only (~1 minute)

The parts: boto3 clients in threads (what a test suite sees), wrk on an unsigned 1 KiB GET
(what the server can do), wrk -t8 -c8 on S3 PutObject/GetObject and DynamoDB PutItem/GetItem (the
server side of the issue 5 and 6 "8 threads" targets; --wrk8-rounds 3 on a busy machine), the RSS
cost of a 64 MiB object, SQS long-poll wake-up latency, and the single-client parts of issues 5
and 6: a 256 MiB PutObject/GetObject (MB/s and RSS), ListObjectsV2 pages over a large bucket, and
a 1,000-item DynamoDB Query; and Lambda Invoke (issue 7, bench/lambda_invoke.py: warm latency,
cold starts with the local and, when an engine answers, docker executors, a burst of 50; Flotilla
only, moto's Lambda needs Docker). Targets are interleaved per run, so background load on a shared
machine hits them alike. A target or workload that fails is
reported in the table, never a crash of the whole run. Results: stdout and bench-results/<ts>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import (
    boto_load,
    dynamo_query,
    lambda_invoke,
    listing,
    longpoll,
    memory,
    report,
    s3_large,
    wrk_load,
)
from bench.targets import Target, docker_lambda, docker_missing, flotilla, moto
from flotilla.fleet import ROOT

SERVICES = ("s3", "sqs", "dynamodb", "lambda")
DEFAULT_LISTING_KEYS = 10_000
DEFAULT_QUERY_ITEMS = 100_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--only", default=",".join(SERVICES), help=f"services to load (default: {','.join(SERVICES)})"
    )
    p.add_argument("--duration", type=float, default=3.0, help="seconds measured per boto3 run (default 3)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per boto3 run (default 1)")
    p.add_argument("--threads", default="1,8", help="thread counts for boto3 runs (default 1,8)")
    p.add_argument("--wrk-duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--skip-moto", action="store_true")
    p.add_argument("--skip-boto", action="store_true", help="skip the boto3 ops/s workloads")
    p.add_argument("--skip-wrk", action="store_true", help="skip every wrk part")
    p.add_argument("--skip-wrk8", action="store_true", help="skip the wrk -t8 S3/DynamoDB rows")
    p.add_argument("--wrk8-duration", type=int, default=5, help="seconds per wrk -t8 run (default 5)")
    p.add_argument(
        "--wrk8-rounds",
        type=int,
        default=1,
        help="wrk -t8 runs per row, targets rotated each round; the report shows the median (default 1)",
    )
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-longpoll", action="store_true", help="skip the SQS long-poll wake-up latency")
    p.add_argument(
        "--longpoll-rounds", type=int, default=30, help="long-poll wake-ups per target (default 30)"
    )
    p.add_argument("--skip-s3-large", action="store_true", help="skip the 256 MiB PutObject/GetObject")
    p.add_argument("--large-mib", type=int, default=256, help="size of the large object in MiB (default 256)")
    p.add_argument("--skip-listing", action="store_true", help="skip ListObjectsV2 over a large bucket")
    p.add_argument(
        "--listing-keys",
        type=int,
        default=DEFAULT_LISTING_KEYS,
        help=f"keys in the listed bucket (default {DEFAULT_LISTING_KEYS:,}; the issue 5 target says 100,000, "
        "which takes several minutes to create, mostly in moto)",
    )
    p.add_argument("--skip-query", action="store_true", help="skip the 1,000-item DynamoDB Query")
    p.add_argument(
        "--query-items",
        type=int,
        default=DEFAULT_QUERY_ITEMS,
        help=f"items in the queried table (default {DEFAULT_QUERY_ITEMS:,}; the issue 6 target says 100,000)",
    )
    p.add_argument("--query-rounds", type=int, default=30, help="Queries timed per target (default 30)")
    p.add_argument(
        "--skip-lambda", action="store_true", help="skip Lambda Invoke (same as leaving it out of --only)"
    )
    p.add_argument("--skip-lambda-docker", action="store_true", help="skip the docker executor's cold starts")
    p.add_argument(
        "--lambda-rounds", type=int, default=200, help="warm invokes timed per target (default 200)"
    )
    p.add_argument(
        "--lambda-cold", type=int, default=5, help="new functions per executor's cold starts (default 5)"
    )
    p.add_argument(
        "--lambda-burst", type=int, default=50, help="concurrent invokes in the burst (default 50)"
    )
    p.add_argument("--skip-flotilla", action="store_true", help="moto only (to check the harness)")
    p.add_argument("--out", type=Path, default=ROOT / "bench-results", help="where the JSON goes")
    args = p.parse_args(argv)
    args.services = [s for s in (x.strip() for x in args.only.split(",")) if s]
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        p.error(f"--only: unknown services {sorted(unknown)}; choose from {', '.join(SERVICES)}")
    if args.skip_lambda:
        args.services = [s for s in args.services if s != "lambda"]
    args.thread_counts = [int(x) for x in args.threads.split(",") if x.strip()]
    return args


def boto_services(args: argparse.Namespace) -> list[str]:
    """The services the boto3/wrk/moto parts load (Lambda has a part of its own, Flotilla only)."""
    return [s for s in args.services if s in boto_load.SETUP]


def start_targets(stack: ExitStack, args: argparse.Namespace, workdir: Path, errors: dict) -> list[Target]:
    """Start what was asked for; a target that cannot start is noted in ``errors`` and skipped."""
    targets: list[Target] = []
    if not args.skip_flotilla:
        try:
            targets += stack.enter_context(flotilla(args.services, workdir / "flotilla"))
        except Exception as err:  # noqa: BLE001
            errors["gateway"] = errors["direct"] = f"fleet did not start: {err}"[:600]
    if not args.skip_moto and boto_services(args):
        try:
            targets.append(stack.enter_context(moto(boto_services(args), workdir / "moto")))
        except Exception as err:  # noqa: BLE001
            errors["moto"] = f"moto did not start: {err}"[:600]
    return targets


def prepare(targets: list[Target], services: list[str], count: int) -> dict[tuple[str, str], Any]:
    """Per (target, service): clients made up front and the service's setup done; or the error."""
    prepared: dict[tuple[str, str], Any] = {}
    for target in targets:
        for service in services:
            try:
                clients = boto_load.make_clients(service, target.url(service), count)
                ctx = boto_load.SETUP[service](clients[0])
                prepared[target.name, service] = (clients, ctx)
            except Exception as err:  # noqa: BLE001
                prepared[target.name, service] = f"setup failed: {type(err).__name__}: {err}"[:300]
            _log(f"setup {target.name}/{service}: {_status(prepared[target.name, service])}")
    return prepared


def run_lambda(args: argparse.Namespace, targets: list[Target], workdir: Path) -> dict[str, Any]:
    """Lambda Invoke on the harness's fleet (gateway and direct); the docker executor's cold starts on a
    Lambda-only fleet of its own, started only for them and only when an engine has the runtime image."""
    ours = {t.name: t for t in targets if t.name in ("gateway", "direct")}
    if not ours:
        return {"error": "the fleet did not start"}

    def docker() -> dict:
        if args.skip_lambda_docker:
            return {"skipped": "--skip-lambda-docker"}
        missing = docker_missing()
        if missing:
            return {"skipped": missing}
        try:
            with docker_lambda(workdir / "docker-lambda") as fleet:
                return lambda_invoke.measure_docker(
                    fleet.url("lambda"),
                    "bench-docker",
                    args.lambda_cold,
                    fleet.logs.get("lambda"),
                    args.lambda_rounds,
                )
        except Exception as err:  # noqa: BLE001
            return {"error": f"docker fleet: {type(err).__name__}: {err}"[:600]}

    return lambda_invoke.run(
        {name: t.url("lambda") for name, t in ours.items()},
        ours["gateway"].logs.get("lambda") if "gateway" in ours else None,
        args.lambda_rounds,
        args.lambda_cold,
        args.lambda_burst,
        docker,
    )


def run_boto(args: argparse.Namespace, targets: list[Target], prepared: dict) -> list[dict]:
    rows = []
    for workload in (w for w in boto_load.WORKLOADS if w.service in args.services):
        for threads in args.thread_counts:
            for target in targets:
                entry = prepared[target.name, workload.service]
                if isinstance(entry, str):
                    result = boto_load.Result(error=entry)
                else:
                    clients, ctx = entry
                    result = boto_load.run(workload, clients[:threads], ctx, args.duration, args.warmup)
                rows.append(
                    {"workload": workload.name, "threads": threads, "target": target.name, **asdict(result)}
                )
                _log(f"{workload.name} x{threads} {target.name}: {report.boto_cell(rows[-1]).strip()}")
    return rows


def run_wrk(args: argparse.Namespace, targets: list[Target], prepared: dict) -> dict[str, dict]:
    out = {}
    for target in targets:
        if isinstance(prepared[target.name, "s3"], str):
            out[target.name] = asdict(wrk_load.WrkResult(error=prepared[target.name, "s3"]))
            continue
        url = f"{target.url('s3')}/{boto_load.BUCKET}/{boto_load.GET_KEY}"
        out[target.name] = asdict(wrk_load.run(url, duration=args.wrk_duration))
        _log(
            f"wrk {target.name}: {out[target.name]['requests_per_s']} req/s {out[target.name]['error'] or ''}"
        )
    return out


def run_wrk8(args: argparse.Namespace, targets: list[Target], prepared: dict) -> list[dict]:
    """Each scenario at 8 wrk threads with one connection each, target after target; with several
    rounds the order of targets rotates, so a burst of background load does not always hit the same one."""
    rows = []
    for scenario in (s for s in wrk_load.SCENARIOS if s.service in args.services):
        for n in range(args.wrk8_rounds):
            for target in targets[n % len(targets) :] + targets[: n % len(targets)]:
                entry = prepared[target.name, scenario.service]
                if isinstance(entry, str):
                    result = wrk_load.WrkResult(error=entry)
                else:
                    url, prefix = target.url(scenario.service), f"{target.name}-r{n}-"
                    result = wrk_load.run_scenario(url, scenario, prefix, 8, 8, args.wrk8_duration)
                rows.append({"workload": scenario.name, "target": target.name, "round": n, **asdict(result)})
                _log(f"wrk x8 {scenario.name} {target.name} #{n}: {report.wrk8_cell(rows[-1]).strip()}")
    return rows


def run_longpoll(args: argparse.Namespace, targets: list[Target]) -> dict[str, dict]:
    out = {}
    for target in targets:
        out[target.name] = asdict(longpoll.measure(target.url("sqs"), args.longpoll_rounds))
        r = out[target.name]
        _log(f"long-poll {target.name}: {r['rounds']} rounds, p50 {r['p50_ms']} ms {r['error'] or ''}")
    return out


def run_memory(targets: list[Target], prepared: dict) -> dict[str, dict]:
    out = {}
    for target in targets:
        if target.name == "direct":
            continue  # the gateway run measures the S3 process too
        entry = prepared[target.name, "s3"]
        if isinstance(entry, str):
            out[target.name] = {"error": entry}
            continue
        pids = {n: p for n, p in target.pids.items() if n in ("gateway", "s3", "moto")}
        out[target.name] = memory.measure(entry[0][0], pids)
        _log(f"memory {target.name}: {out[target.name]}")
    return out


def run_s3_large(args: argparse.Namespace, targets: list[Target], workdir: Path) -> dict[str, dict]:
    """The large object through each target; the gateway row also measures the S3 process behind it."""
    source = s3_large.make_source(workdir / "large-object.bin", args.large_mib * s3_large.MiB)
    watched = {"gateway": ("gateway", "s3"), "direct": ("s3",), "moto": ("moto",)}
    out = {}
    for target in targets:
        pids = {n: p for n, p in target.pids.items() if n in watched[target.name]}
        out[target.name] = s3_large.measure(target.url("s3"), pids, source)
        _log(f"{args.large_mib} MiB {target.name}: {out[target.name]}")
    source.unlink()
    return out


def run_listing(args: argparse.Namespace, targets: list[Target]) -> dict[str, Any]:
    """Fill each server once (gateway and direct share Flotilla's), then page through per target."""
    out: dict[str, Any] = {"fill": {}, "targets": {}}
    for target in targets:
        server = _server(target)
        try:
            if server not in out["fill"]:
                out["fill"][server] = listing.fill(target.url("s3"), args.listing_keys)
                _log(f"listing fill {server}: {out['fill'][server]}")
            out["targets"][target.name] = listing.measure(target.url("s3"), args.listing_keys)
        except Exception as err:  # noqa: BLE001
            out["fill"].setdefault(server, {})
            out["targets"][target.name] = {"error": f"{type(err).__name__}: {err}"[:300]}
        _log(f"listing {target.name}: {out['targets'][target.name]}")
    return out


def run_query(args: argparse.Namespace, targets: list[Target]) -> dict[str, Any]:
    """Fill each server's table once, then time the Query per target."""
    out: dict[str, Any] = {"fill": {}, "targets": {}}
    for target in targets:
        server = _server(target)
        try:
            if server not in out["fill"]:
                clients = boto_load.make_clients("dynamodb", target.url("dynamodb"), 8)
                out["fill"][server] = dynamo_query.fill(clients, args.query_items)
                _log(f"query fill {server}: {out['fill'][server]}")
            client = boto_load.make_clients("dynamodb", target.url("dynamodb"), 1)[0]
            out["targets"][target.name] = dynamo_query.measure(client, args.query_items, args.query_rounds)
        except Exception as err:  # noqa: BLE001
            out["fill"].setdefault(server, {})
            out["targets"][target.name] = {"error": f"{type(err).__name__}: {err}"[:300]}
        _log(f"query {target.name}: {out['targets'][target.name]}")
    return out


def _server(target: Target) -> str:
    """Which server process a target reaches: gateway and direct both reach Flotilla's."""
    return "moto" if target.name == "moto" else "flotilla"


def machine() -> dict[str, Any]:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in _lines("/proc/cpuinfo") if ln.startswith("model name")), ""
    )
    mem = next(
        (ln.split(":", 1)[1].strip() for ln in _lines("/proc/meminfo") if ln.startswith("MemTotal")), ""
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit.stdout.strip(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
        "target_errors": {},
    }
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flotilla-bench-")))
        targets = start_targets(stack, args, workdir, results["target_errors"])
        prepared = prepare(targets, boto_services(args), max(args.thread_counts))
        results["boto"] = (
            [] if args.skip_boto or not boto_services(args) else run_boto(args, targets, prepared)
        )
        if not args.skip_wrk and "s3" in args.services:
            results["wrk"] = run_wrk(args, targets, prepared)
        if not (args.skip_wrk or args.skip_wrk8) and {"s3", "dynamodb"} & set(args.services):
            results["wrk8"] = run_wrk8(args, targets, prepared)
        if not args.skip_memory and "s3" in args.services:
            results["memory"] = run_memory(targets, prepared)
        if not args.skip_longpoll and "sqs" in args.services:
            results["longpoll"] = run_longpoll(args, targets)
        if not args.skip_s3_large and "s3" in args.services:
            results["s3_large"] = run_s3_large(args, targets, workdir)
        if not args.skip_listing and "s3" in args.services:
            results["listing"] = run_listing(args, targets)
        if not args.skip_query and "dynamodb" in args.services:
            results["query"] = run_query(args, targets)
        if "lambda" in args.services:
            results["lambda"] = run_lambda(args, targets, workdir)
    results["wall_seconds"] = round(time.time() - started, 1)
    print(report.render(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nResults: {path}")
    return 0


def _status(entry: Any) -> str:
    return entry if isinstance(entry, str) else "ok"


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
