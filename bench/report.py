"""The human-readable report: one table per part, ratios vs moto, and the targets from issues 2, 4, 5, 6 and 7.

The issue 5 and 6 "at 8 threads, 3x moto" targets are judged on the wrk -t8 -c8 rows: on 2 cores
boto3's own CPU per call (milliseconds, against tens of µs for wrk) caps the boto3 rows whichever
server answers, so those rows are shown beside the verdict as what a Python client sees.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

TARGETS = ("gateway", "direct", "moto")
GOAL_GET_PER_S = 3000  # GetObject/s through the gateway (wrk)
GOAL_GATEWAY_MS = 1.0  # added by the gateway at p50
GOAL_MEMORY_MIB = 32  # RSS growth per process for a 64 MiB object
GOAL_SQS_VS_MOTO = 3.0  # SQS ops/s through the gateway at 8 threads, as a multiple of moto's
GOAL_SQS_THREADS = 8
GOAL_LONGPOLL_MS = 50.0  # long-poll wake-up latency at p50 through the gateway
GOAL_VS_MOTO_THREADS = 8  # issues 5 and 6: 1 KiB S3 / DynamoDB item ops at 8 threads ...
GOAL_VS_MOTO = 3.0  # ... at least this multiple of moto's ops/s through the gateway
GOAL_LARGE_MB_S = 300.0  # 256 MiB PutObject / GetObject through the gateway, MB/s (10^6 B)
GOAL_LARGE_RSS_MIB = 64.0  # S3 process RSS growth during it
GOAL_LIST_PAGE_MS = 50.0  # every ListObjectsV2 page (1,000 keys) over 100,000 keys
GOAL_LIST_KEYS = 100_000
GOAL_QUERY_MS = 30.0  # p50 of a Query returning 1,000 items from a 100,000-item table
GOAL_QUERY_ITEMS = 100_000
GOAL_WARM_INVOKE_MS = 10.0  # warm invoke of a trivial Python function through the gateway, p50
GOAL_COLD_LOCAL_MS = 1000.0  # cold start (first invoke) with the local executor, every one
GOAL_COLD_DOCKER_MS = 2000.0  # ... with the docker executor, the image present
GOAL_BURST = 50  # concurrent invokes that must all succeed


def render(results: dict[str, Any]) -> str:
    notes: list[str] = []
    parts = [_header(results)]
    if results.get("boto"):
        parts.append(_boto_table(results, notes))
    if "wrk" in results:
        parts.append(_wrk_table(results["wrk"], notes))
    if results.get("wrk8"):
        parts.append(_wrk8_table(results["wrk8"], notes))
    if "memory" in results:
        parts.append(_memory_table(results["memory"], notes))
    if "longpoll" in results:
        parts.append(_longpoll_table(results["longpoll"], notes))
    if "s3_large" in results:
        parts.append(_large_table(results["s3_large"], notes))
    if "listing" in results:
        parts.append(_listing_table(results["listing"], notes))
    if "query" in results:
        parts.append(_query_table(results["query"], notes))
    if "lambda" in results:
        parts.append(_lambda_tables(results["lambda"], notes))
    services = results["settings"].get("services", ())
    if set(services) - {"lambda"}:
        parts.append(_goals(results))
    if "sqs" in services:
        parts.append(_sqs_goals(results))
    if "s3" in services:
        parts.append(_s3_goals(results))
    if "dynamodb" in services:
        parts.append(_dynamodb_goals(results))
    if "lambda" in services:
        parts.append(lambda_goals(results.get("lambda", {})))
    if notes:
        parts.append("Errors:\n" + "\n".join(f"  [{i}] {n}" for i, n in enumerate(notes, 1)))
    return "\n\n".join(parts)


def _header(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        f"Flotilla bench {results['date']}  ({m['cores']} cores, {m['cpu']}, Python {m['python']}, {m['commit']})",
        f"command: {results['command']}",
        f"boto3: {s['duration']} s measured after {s['warmup']} s warm-up per run; wall {results['wall_seconds']} s",
    ]
    lines += [f"{t}: {e}" for t, e in results["target_errors"].items()]
    return "\n".join(lines)


def _present(results: dict[str, Any]) -> list[str]:
    seen = {r["target"] for r in [*results.get("boto", []), *results.get("wrk8", [])]} | set(
        results.get("wrk", {})
    )
    return [t for t in TARGETS if t in seen]


# -- boto3 -----------------------------------------------------------------------------------


def boto_cell(row: dict | None, notes: list[str] | None = None) -> str:
    """``ops/s p50 p99``; ``ERROR[n]`` when nothing succeeded, ``![n]`` when some calls failed."""
    if row is None:
        return "-"
    mark = "*" if row["partial"] else ""
    if row["ops"] == 0 or row["errors"]:
        what = f"{row['target']} {row['workload']} x{row['threads']}: {row['errors']} errors, first: {row['error']}"
        mark = ("ERROR" if row["ops"] == 0 else "!") + _note(notes, what)
        if row["ops"] == 0:
            return mark
    return f"{row['ops_per_s']:.0f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f}{mark}"


def _boto_table(results: dict[str, Any], notes: list[str]) -> str:
    targets = _present(results)
    rows = {(r["workload"], r["threads"], r["target"]): r for r in results["boto"]}
    keys = list(dict.fromkeys((r["workload"], r["threads"]) for r in results["boto"]))
    head = f"{'boto3 workload':<20}{'thr':>4}" + "".join(f"{t + ' ops/s  p50  p99 ms':>28}" for t in targets)
    head += f"{'gw/moto':>9}{'gw-direct p50':>15}"
    lines = [head, "-" * len(head)]
    for workload, threads in keys:
        cells = [rows.get((workload, threads, t)) for t in targets]
        line = f"{workload:<20}{threads:>4}" + "".join(f"{boto_cell(c, notes):>28}" for c in cells)
        by = dict(zip(targets, cells, strict=True))
        line += f"{_ratio(by.get('gateway'), by.get('moto'), 'ops_per_s'):>9}"
        line += f"{_delta(by.get('gateway'), by.get('direct'), 'p50_ms'):>15}"
        lines.append(line)
    if any(r["partial"] for r in results["boto"]):
        lines.append("* some ReceiveMessage calls found the queue empty (no DeleteMessage followed)")
    if any(r["workload"] == "SQS Receive+Delete" for r in results["boto"]):
        lines.append(
            "SQS Receive+Delete = one ReceiveMessage (1 message, WaitTimeSeconds=0) + one DeleteMessage."
        )
    return "\n".join(lines)


# -- wrk -------------------------------------------------------------------------------------


def _wrk_table(wrk: dict[str, dict], notes: list[str]) -> str:
    head = (
        f"{'wrk GET 1 KiB (unsigned)':<26}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'vs moto':>9}"
    )
    lines = [head, "-" * len(head)]
    for target in (t for t in TARGETS if t in wrk):
        w = wrk[target]
        if w["requests_per_s"] is None:
            label = "ERROR" + _note(notes, f"wrk {target}: {w['error']}")
            lines.append(f"{target:<26}{label:>10}")
            continue
        ratio = _ratio(w, wrk.get("moto"), "requests_per_s")
        lines.append(
            f"{target:<26}{w['requests_per_s']:>10.0f}{_num(w['p50_ms']):>9}{_num(w['p99_ms']):>9}"
            f"{w['non_2xx']:>9}{ratio:>9}"
        )
    cmd = next((w["command"] for w in wrk.values() if w["command"]), "")
    lines.append(f"({cmd.split(' http')[0]} <target>/bucket/key; gateway adds "
                 f"{_delta(wrk.get('gateway'), wrk.get('direct'), 'p50_ms').strip()} at p50)")  # fmt: skip
    return "\n".join(lines)


def wrk8_cell(row: dict | None, notes: list[str] | None = None) -> str:
    """``req/s p50 p99``; ``ERROR[n]`` when wrk did not run, ``![n]`` when some answers were wrong."""
    if row is None:
        return "-"
    if row["requests_per_s"] is None:
        return "ERROR" + _note(notes, f"wrk -t8 {row['target']} {row['workload']}: {row['error']}")
    mark = ""
    if wrk_failed(row):
        what = (
            f"wrk -t8 {row['target']} {row['workload']}: {row['non_2xx']} non-2xx, {row['bad_body']} wrong bodies"
            f" of {row['requests']}, socket errors: {row['socket_errors'] or 'none'}; first: {row['first_failure']}"
        )
        mark = "!" + _note(notes, what)
    return f"{row['requests_per_s']:.0f} {_num(row['p50_ms']):>7} {_num(row['p99_ms']):>7}{mark}"


def wrk8_medians(rows: list[dict]) -> list[dict]:
    """One row per (workload, target): the run of median req/s over its rounds, with every round's rate
    in ``rates`` and the failures of all rounds summed, so a wrong answer in any round still flags it."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["workload"], row["target"]), []).append(row)
    medians = []
    for runs in groups.values():
        ran = sorted((r for r in runs if r["requests_per_s"] is not None), key=lambda r: r["requests_per_s"])
        pick = dict(ran[(len(ran) - 1) // 2] if ran else runs[0])
        pick["rates"] = [r["requests_per_s"] for r in runs if r["requests_per_s"] is not None]
        pick["non_2xx"] = sum(r["non_2xx"] for r in runs)
        pick["bad_body"] = sum(r["bad_body"] for r in runs)
        pick["requests"] = sum(r["requests"] or 0 for r in runs)
        pick["socket_errors"] = "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]) or None
        pick["first_failure"] = next((r["first_failure"] for r in runs if r["first_failure"]), None)
        pick["error"] = next((r["error"] for r in runs if r["error"]), None)
        medians.append(pick)
    return medians


def wrk_failed(row: dict) -> bool:
    """A wrk row whose figure is suspect: wrong answers, socket errors, or no run at all."""
    return bool(row.get("non_2xx") or row.get("bad_body") or row.get("socket_errors") or row.get("error"))


def wrk8_ratio(rows: list[dict], workload: str, a: str = "gateway", b: str = "moto") -> float | None:
    """``a``'s req/s over ``b``'s, as the median over rounds of the ratio within each round: runs of one
    round are seconds apart, so a burst of background load weighs on both sides of a ratio alike."""
    rounds: dict[int, dict[str, float]] = {}
    for row in rows:
        if row["workload"] == workload and row["requests_per_s"]:
            rounds.setdefault(row.get("round", 0), {})[row["target"]] = row["requests_per_s"]
    ratios = [r[a] / r[b] for r in rounds.values() if a in r and b in r]
    return statistics.median(ratios) if ratios else None


def _wrk8_table(runs: list[dict], notes: list[str]) -> str:
    rows = wrk8_medians(runs)
    targets = [t for t in TARGETS if any(r["target"] == t for r in rows)]
    by = {(r["workload"], r["target"]): r for r in rows}
    head = f"{'wrk -t8 -c8':<20}" + "".join(f"{t + ' req/s  p50  p99 ms':>28}" for t in targets)
    head += f"{'gw/moto':>9}{'gw-direct p50':>15}{'wrk CPU/req':>13}"
    lines = [head, "-" * len(head)]
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    for workload in workloads:
        cells = {t: by.get((workload, t)) for t in targets}
        line = f"{workload:<20}" + "".join(f"{wrk8_cell(c, notes):>28}" for c in cells.values())
        ratio = wrk8_ratio(runs, workload)
        line += f"{'-' if ratio is None else f'x{ratio:.2f}':>9}"
        line += f"{_delta(cells.get('gateway'), cells.get('direct'), 'p50_ms'):>15}"
        cpu = [c["client_cpu_us"] for c in cells.values() if c and c.get("client_cpu_us")]
        line += f"{f'{min(cpu):.0f}-{max(cpu):.0f} µs' if cpu else '-':>13}"
        lines.append(line)
    seconds = next((m.group(1) for r in rows if (m := re.search(r" -d(\S+)", r["command"]))), "?")
    rounds = max((len(r.get("rates", [])) for r in rows), default=1)
    lines.append(
        f"(wrk -t8 -c8 -d{seconds} --latency with a generated Lua script: 8 threads, one connection each;"
        " puts go to a new key per request; every answer's status and body checked, ! = some were wrong"
        + (f"; {rounds} rounds, targets rotated: median run shown, gw/moto = median of per-round ratios)"
           if rounds > 1 else ")")
    )  # fmt: skip
    if rounds > 1:
        lines += [
            _rounds_line(workload, [r for r in rows if r["workload"] == workload]) for workload in workloads
        ]
    return "\n".join(lines)


def _rounds_line(workload: str, rows: list[dict]) -> str:
    """req/s of every round per target, for judging how much background load moved the figures."""
    rates = "; ".join(f"{r['target']} " + "/".join(f"{v:.0f}" for v in r.get("rates", [])) for r in rows)
    return f"  {workload} req/s per round: {rates}"


# -- memory ----------------------------------------------------------------------------------


def _memory_table(mem: dict[str, dict], notes: list[str]) -> str:
    head = f"{'64 MiB object: RSS peak growth':<32}{'PutObject':>12}{'GetObject':>12}{'RSS after':>12}"
    lines = [head, "-" * len(head)]
    for target, res in mem.items():
        mark = _note(notes, f"memory {target}: {res['error']}") if res.get("error") else ""
        for proc, p in res.get("processes", {}).items():
            cells = [_num(p.get(f"{op}_peak_mib"), " MiB") for op in ("put", "get")] + [
                _num(p.get("rss_after_mib"), " MiB")
            ]
            flag = "" if p.get("peak_reset", True) else " (peak not reset: upper bound)"
            lines.append(f"{target + ' / ' + proc:<32}" + "".join(f"{c:>12}" for c in cells) + flag)
        if mark:
            lines.append(f"{target:<32}{'ERROR' + mark:>12}")
    return "\n".join(lines)


# -- long poll -------------------------------------------------------------------------------


def _longpoll_table(longpoll: dict[str, dict], notes: list[str]) -> str:
    head = f"{'SQS long-poll wake-up':<24}{'rounds':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}"
    lines = [head, "-" * len(head)]
    for target in (t for t in TARGETS if t in longpoll):
        r = longpoll[target]
        failed = r["early"] + r["empty"] + r["errors"]
        mark = ""
        if r["error"]:
            mark = _note(notes, f"long-poll {target}: {failed} failed rounds, first: {r['error']}")
        cells = [_num(r["p50_ms"]), _num(r["p99_ms"]), _num(r["max_ms"])]
        lines.append(
            f"{target:<24}{r['rounds']:>8}" + "".join(f"{c:>9}" for c in cells) + f"{failed:>8}{mark}"
        )
    settle = next((r["extra"].get("settle_ms") for r in longpoll.values() if r.get("extra")), None)
    lines.append(f"(ReceiveMessage WaitTimeSeconds=20 on an empty queue; SendMessage {settle} ms later; "
                 "from before the send to the receive returning with the message)")  # fmt: skip
    return "\n".join(lines)


# -- large object, listing, query (issues 5 and 6) -------------------------------------------


def _large_table(large: dict[str, dict], notes: list[str]) -> str:
    size = next((r["size_mib"] for r in large.values() if "size_mib" in r), "?")
    head = (
        f"{f'{size} MiB object':<26}{'Put MB/s':>10}{'Get MB/s':>10}"
        f"{'Put RSS peak':>14}{'Get RSS peak':>14}{'RSS after':>12}"
    )
    lines = [head, "-" * len(head)]
    for target in (t for t in TARGETS if t in large):
        res = large[target]
        rates = [_num(res.get(op, {}).get("mb_per_s")) for op in ("put", "get")]
        mark = _note(notes, f"{size} MiB {target}: {res['error']}") if res.get("error") else ""
        for n, (proc, p) in enumerate(res.get("processes", {}).items()):
            cells = [_num(p.get(f"{op}_peak_mib"), " MiB") for op in ("put", "get")]
            cells.append(_num(p.get("rss_after_mib"), " MiB"))
            flag = "" if p.get("peak_reset", True) else " (peak not reset: upper bound)"
            shown = rates if n == 0 else ["", ""]
            lines.append(
                f"{target + ' / ' + proc:<26}" + "".join(f"{c:>10}" for c in shown)
                + "".join(f"{c:>14}" for c in cells[:2]) + f"{cells[2]:>12}{flag}{mark if n == 0 else ''}"
            )  # fmt: skip
    lines.append("(MB/s = 10^6 bytes/s; PutObject body streamed from a file, GetObject read in 1 MiB chunks;"
                 " boto3 with UNSIGNED-PAYLOAD and no checksums, so the client does not hash the body)")  # fmt: skip
    return "\n".join(lines)


def _latency_table(title: str, part: dict[str, Any], notes: list[str], count_key: str) -> list[str]:
    """Rows of boto3-call and bare-HTTP p50/p99/max ms per target, for the listing and the query, plus
    the plain-HTTP-client pass (``raw``) when it was measured."""
    raw = any("raw" in part["targets"][t] for t in part["targets"])
    head = f"{title:<40}{'n':>5}{'call p50':>10}{'p99':>9}{'max':>9}{'HTTP p50':>10}{'p99':>9}{'max':>9}"
    head += f"{'raw p50':>10}{'p99':>9}{'max':>9}" if raw else ""
    lines = [head, "-" * len(head)]
    for target in (t for t in TARGETS if t in part["targets"]):
        res = part["targets"][target]
        if res.get("error"):
            lines.append(f"{target:<40}{'ERROR' + _note(notes, f'{title} {target}: ' + res['error']):>5}")
            continue
        call, http = res["call"], res["http"]
        cells = [_num(call[k]) for k in ("p50_ms", "p99_ms", "max_ms")]
        cells += [_num(http[k]) for k in ("p50_ms", "p99_ms", "max_ms")]
        widths: tuple[int, ...] = (10, 9, 9, 10, 9, 9)
        if raw:
            cells += [_num(res.get("raw", {}).get(k)) for k in ("p50_ms", "p99_ms", "max_ms")]
            widths += (10, 9, 9)
        lines.append(
            f"{target:<40}{call['n']:>5}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    fills = ", ".join(
        f"{server} in {f['seconds']:.1f} s ({f[count_key + '_per_s']:,}/s)"
        for server, f in part["fill"].items()
        if f.get("seconds") is not None
    )
    lines.append(
        f"(ms; call = the boto3 call including botocore's parsing, HTTP = request sent to body read inside"
        f" boto3{', raw = a plain HTTP client' if raw else ''}; filled {fills})"
    )
    return lines


def _listing_table(listing: dict[str, Any], notes: list[str]) -> str:
    keys = _count(listing, "keys")
    return "\n".join(_latency_table(f"ListObjectsV2 {keys:,} keys, 1000/page", listing, notes, "keys"))


def _query_table(query: dict[str, Any], notes: list[str]) -> str:
    items = _count(query, "items")
    return "\n".join(_latency_table(f"Query 1,000 of {items:,} items", query, notes, "items"))


def _count(part: dict[str, Any], key: str) -> int:
    return next((v[key] for v in [*part["fill"].values(), *part["targets"].values()] if key in v), 0)


# -- Lambda (issue 7) ------------------------------------------------------------------------


def _lambda_tables(lam: dict[str, Any], notes: list[str]) -> str:
    if lam.get("error"):
        return "Lambda Invoke: ERROR" + _note(notes, f"lambda: {lam['error']}")
    rounds = lam.get("settings", {}).get("rounds")
    head = f"{'Lambda warm invoke (echo)':<30}{'n':>5}{'call p50':>10}{'p99':>9}{'max':>9}{'HTTP p50':>10}{'p99':>9}"
    lines = [head, "-" * len(head)]
    warm = dict(lam.get("warm", {}))
    docker = lam.get("cold_docker") or {}
    if docker.get("warm"):
        warm["docker executor, direct"] = docker["warm"]
    elif docker.get("skipped"):
        warm["docker executor, direct"] = {"skipped": docker["skipped"]}
    for target, res in warm.items():
        if res.get("skipped"):
            lines.append(f"{target:<30}skipped: {res['skipped']}")
            continue
        if res.get("error"):
            lines.append(f"{target:<30}{'ERROR' + _note(notes, f'lambda warm {target}: ' + res['error']):>5}")
            continue
        call, http = res["call"], res["http"]
        cells = [_num(call["p50_ms"]), _num(call["p99_ms"]), _num(call["max_ms"])]
        cells += [_num(http["p50_ms"]), _num(http["p99_ms"])]
        widths = (10, 9, 9, 10, 9)
        lines.append(
            f"{target:<30}{call['n']:>5}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    lines.append(f"(ms; {rounds} invokes by one boto3 client after one warm-up invoke; handler `return e`;"
                 " no moto column: moto's Lambda runs functions only in Docker)")  # fmt: skip
    lines += ["", *_cold_table(lam, notes), "", *_burst_table(lam.get("burst", {}), notes)]
    return "\n".join(lines)


def _cold_table(lam: dict[str, Any], notes: list[str]) -> list[str]:
    head = f"{'Lambda cold start (1st invoke)':<30}{'n':>5}{'p50 ms':>10}{'max ms':>10}{'service p50':>13}{'max':>9}"
    lines = [head, "-" * len(head)]
    for key, label in (("cold_local", "local executor"), ("cold_docker", "docker executor")):
        res = lam.get(key)
        if res is None:
            continue
        if res.get("skipped"):
            lines.append(f"{label:<30}skipped: {res['skipped']}")
            continue
        mark = _note(notes, f"lambda {label}: {res['error']}") if res.get("error") else ""
        inv, svc = res.get("invoke", {}), res.get("service", {})
        lines.append(
            f"{label:<30}{inv.get('n', 0):>5}{_num(inv.get('p50_ms')):>10}{_num(inv.get('max_ms')):>10}"
            f"{_num(svc.get('p50_ms')):>13}{_num(svc.get('max_ms')):>9}{' ERROR' + mark if mark else ''}"
        )
    lines.append("(invoke = the boto3 Invoke round trip of a new function's first call, what a user waits for;"
                 " service = the `cold start` log line's ms)")  # fmt: skip
    return lines


def _burst_table(burst: dict[str, dict], notes: list[str]) -> list[str]:
    head = f"{'Lambda burst (sleep 100 ms)':<30}{'n':>5}{'errors':>8}{'wall ms':>10}{'p50 ms':>10}{'max ms':>10}{'envs':>6}{'cold':>6}"
    lines = [head, "-" * len(head)]
    for kind, r in burst.items():
        mark = (
            _note(notes, f"lambda burst ({kind}): {r['errors']} errors, first: {r['first_error']}")
            if r["errors"]
            else ""
        )
        cold = "-" if r.get("cold_starts") is None else r["cold_starts"]
        lines.append(
            f"{kind + ' burst':<30}{r['invokes']:>5}{str(r['errors']) + mark:>8}{_num(r['wall_ms']):>10}"
            f"{_num(r['p50_ms']):>10}{_num(r['max_ms']):>10}{r['environments']:>6}{cold:>6}"
        )
    lines.append("(every invoke in its own thread, released together, through the gateway; envs = distinct"
                 " pid/host answering; cold = `cold start` lines logged; local executor)")  # fmt: skip
    return lines


def lambda_goals(lam: dict[str, Any]) -> str:
    """Issue 7's targets; the cold starts are judged on their worst (every cold start under the bound)."""
    lines = ["Targets (issue 7):"]
    warm = lam.get("warm", {}).get("gateway", {}).get("call", {}).get("p50_ms")
    lines.append(_verdict(f"warm invoke through the gateway < {GOAL_WARM_INVOKE_MS:g} ms p50 (boto3)", warm,
                          lambda v: v < GOAL_WARM_INVOKE_MS, "ms"))  # fmt: skip
    for key, name, goal in (
        ("cold_local", "local", GOAL_COLD_LOCAL_MS),
        ("cold_docker", "docker", GOAL_COLD_DOCKER_MS),
    ):
        res = lam.get(key, {})
        text = f"cold start with the {name} executor < {goal / 1000:g} s (worst first invoke)"
        if res.get("skipped"):
            lines.append(f"  [ n/a ] {text}: skipped: {res['skipped']}")
            continue
        worst = res.get("invoke", {}).get("max_ms")
        lines.append(_verdict(text, worst, lambda v, g=goal: v < g, "ms", bool(res.get("error"))))
    lines.append(burst_verdict(list(lam.get("burst", {}).values())))
    return "\n".join(lines)


def burst_verdict(bursts: list[dict]) -> str:
    """Met when every burst had at least ``GOAL_BURST`` invokes and none failed; wall time of the first."""
    text = f"{GOAL_BURST} concurrent invokes complete with no errors"
    if not bursts:
        return f"  [ n/a ] {text}"
    ok = all(b["invokes"] >= GOAL_BURST and b["errors"] == 0 for b in bursts)
    done = sum(b["invokes"] - b["errors"] for b in bursts)
    total = sum(b["invokes"] for b in bursts)
    return (
        f"  [{' met ' if ok else 'MISSED'}] {text}: {done}/{total} ok in {len(bursts)} bursts"
        f" (the 1st, on a new function, in {_num(bursts[0]['wall_ms'])} ms)"
    )


# -- goals -----------------------------------------------------------------------------------


def _goals(results: dict[str, Any]) -> str:
    lines = ["Targets (issue 2):"]
    wrk = results.get("wrk", {})
    gw = wrk.get("gateway", {})
    lines.append(_verdict(f"GetObject through the gateway >= {GOAL_GET_PER_S}/s (wrk)", gw.get("requests_per_s"),
                          lambda v: v >= GOAL_GET_PER_S, "req/s"))  # fmt: skip
    delta = _delta_value(gw, wrk.get("direct"), "p50_ms")
    lines.append(_verdict(f"gateway adds < {GOAL_GATEWAY_MS} ms at p50 (wrk)", delta,
                          lambda v: v < GOAL_GATEWAY_MS, "ms"))  # fmt: skip
    rows = {(r["workload"], r["threads"], r["target"]): r for r in results.get("boto", [])}
    boto_delta = _delta_value(rows.get(("S3 GetObject 1 KiB", 1, "gateway")),
                              rows.get(("S3 GetObject 1 KiB", 1, "direct")), "p50_ms")  # fmt: skip
    lines.append(_verdict(f"gateway adds < {GOAL_GATEWAY_MS} ms at p50 (boto3 GetObject, 1 thread)", boto_delta,
                          lambda v: v < GOAL_GATEWAY_MS, "ms"))  # fmt: skip
    processes = results.get("memory", {}).get("gateway", {}).get("processes", {})
    peaks = [
        p[f"{op}_peak_mib"] for p in processes.values() for op in ("put", "get") if f"{op}_peak_mib" in p
    ]
    lines.append(_verdict(f"64 MiB object grows gateway and S3 RSS < {GOAL_MEMORY_MIB} MiB",
                          max(peaks) if peaks else None, lambda v: v < GOAL_MEMORY_MIB, "MiB (worst)"))  # fmt: skip
    return "\n".join(lines)


def _sqs_goals(results: dict[str, Any]) -> str:
    lines = ["Targets (issue 4):"]
    rows = {(r["workload"], r["threads"], r["target"]): r for r in results.get("boto", [])}
    for workload in ("SQS SendMessage", "SQS Receive+Delete"):
        key = (workload, GOAL_SQS_THREADS)
        ratio = _ratio_value(rows.get((*key, "gateway")), rows.get((*key, "moto")), "ops_per_s")
        text = f"{workload.removeprefix('SQS ')} x{GOAL_SQS_THREADS} through the gateway >= {GOAL_SQS_VS_MOTO:g}x moto"
        lines.append(_verdict(text, ratio, lambda v: v >= GOAL_SQS_VS_MOTO, "x moto"))
    p50 = results.get("longpoll", {}).get("gateway", {}).get("p50_ms")
    lines.append(_verdict(f"SQS long-poll wake-up < {GOAL_LONGPOLL_MS:g} ms at p50 (gateway)", p50,
                          lambda v: v < GOAL_LONGPOLL_MS, "ms"))  # fmt: skip
    return "\n".join(lines)


def _vs_moto(results: dict[str, Any], workload: str, label: str) -> str:
    """Judged on the wrk -t8 -c8 row; the boto3 x8 ratio follows as what a Python client sees."""
    runs = results.get("wrk8", [])
    wrk8 = {(r["workload"], r["target"]): r for r in wrk8_medians(runs)}
    gw, mo = wrk8.get((workload, "gateway")), wrk8.get((workload, "moto"))
    ratio = wrk8_ratio(runs, workload)
    text = (
        f"{label} x{GOAL_VS_MOTO_THREADS} through the gateway >= {GOAL_VS_MOTO:g}x moto (wrk -t8 -c8 req/s)"
    )
    suspect = any(row and wrk_failed(row) for row in (gw, mo))
    line = _verdict(text, ratio, lambda v: v >= GOAL_VS_MOTO, "x moto", suspect)
    boto = {(r["workload"], r["threads"], r["target"]): r for r in results.get("boto", [])}
    key = (workload, GOAL_VS_MOTO_THREADS)
    boto_ratio = _ratio(boto.get((*key, "gateway")), boto.get((*key, "moto")), "ops_per_s")
    if boto_ratio != "-":
        line += f" (boto3 x{GOAL_VS_MOTO_THREADS}, client-bound: {boto_ratio})"
    return line


def _s3_goals(results: dict[str, Any]) -> str:
    lines = ["Targets (issue 5):"]
    lines.append(_vs_moto(results, "S3 PutObject 1 KiB", "1 KiB PutObject"))
    lines.append(_vs_moto(results, "S3 GetObject 1 KiB", "1 KiB GetObject"))
    large = results.get("s3_large", {})
    size = large.get("gateway", {}).get("size_mib", 256)
    for op, name in (("put", "PutObject"), ("get", "GetObject")):
        rate = large.get("gateway", {}).get(op, {}).get("mb_per_s")
        lines.append(_verdict(f"{size} MiB {name} through the gateway >= {GOAL_LARGE_MB_S:g} MB/s", rate,
                              lambda v: v >= GOAL_LARGE_MB_S, "MB/s"))  # fmt: skip
    peaks = [
        p[f"{op}_peak_mib"]
        for target in ("gateway", "direct")
        for name, p in large.get(target, {}).get("processes", {}).items()
        if name == "s3"
        for op in ("put", "get")
        if f"{op}_peak_mib" in p
    ]
    lines.append(_verdict(f"S3 RSS grows < {GOAL_LARGE_RSS_MIB:g} MiB during it", max(peaks) if peaks else None,
                          lambda v: v < GOAL_LARGE_RSS_MIB, "MiB (worst)"))  # fmt: skip
    listing = results.get("listing")
    keys = _count(listing, "keys") if listing else 0
    scope = (
        f" ({keys:,} keys, not {GOAL_LIST_KEYS:,}: see --listing-keys)"
        if keys and keys < GOAL_LIST_KEYS
        else ""
    )
    gw = (listing or {}).get("targets", {}).get("gateway", {})
    # Judged on the plain HTTP client: every page (max) through the gateway. Inside boto3 the same
    # page also pays botocore's XML parsing and the client process's GC on the same 2 cores.
    lines.append(_verdict(f"ListObjectsV2 each page under {GOAL_LIST_PAGE_MS:g} ms, plain HTTP max{scope}",
                          gw.get("raw", {}).get("max_ms"), lambda v: v < GOAL_LIST_PAGE_MS, "ms"))  # fmt: skip
    for kind, what in (("http", "HTTP inside boto3"), ("call", "boto3 call")):
        value = gw.get(kind, {}).get("p99_ms")
        lines.append(f"  [ info ] ListObjectsV2 page, {what} p99: {_num(value)} ms")
    return "\n".join(lines)


def _dynamodb_goals(results: dict[str, Any]) -> str:
    lines = ["Targets (issue 6):"]
    lines.append(_vs_moto(results, "DynamoDB PutItem", "PutItem"))
    lines.append(_vs_moto(results, "DynamoDB GetItem", "GetItem"))
    query = results.get("query")
    items = _count(query, "items") if query else 0
    scope = f" ({items:,}-item table, not {GOAL_QUERY_ITEMS:,})" if items and items < GOAL_QUERY_ITEMS else ""
    gw = (query or {}).get("targets", {}).get("gateway", {})
    for kind, what in (("call", "boto3 call"), ("http", "HTTP round trip")):
        lines.append(_verdict(f"Query returning 1,000 items under {GOAL_QUERY_MS:g} ms p50, {what}{scope}",
                              gw.get(kind, {}).get("p50_ms"), lambda v: v < GOAL_QUERY_MS, "ms"))  # fmt: skip
    return "\n".join(lines)


def _verdict(text: str, value: float | None, ok: Any, unit: str, suspect: bool = False) -> str:
    """``[ met ]`` / ``[MISSED]``; ``[ERRORS]`` when the figure comes from rows with wrong answers."""
    if value is None:
        return f"  [ n/a ] {text}"
    label = "ERRORS" if suspect else " met " if ok(value) else "MISSED"
    return f"  [{label}] {text}: {value:.2f} {unit}"


# -- small helpers ---------------------------------------------------------------------------


def _note(notes: list[str] | None, text: str) -> str:
    if notes is None:
        return ""
    notes.append(text)
    return f"[{len(notes)}]"


def _ratio_value(a: dict | None, b: dict | None, key: str) -> float | None:
    if not a or not b or not a.get(key) or not b.get(key):
        return None
    return a[key] / b[key]


def _ratio(a: dict | None, b: dict | None, key: str) -> str:
    value = _ratio_value(a, b, key)
    return "-" if value is None else f"x{value:.2f}"


def _delta_value(a: dict | None, b: dict | None, key: str) -> float | None:
    if not a or not b or a.get(key) is None or b.get(key) is None:
        return None
    return a[key] - b[key]


def _delta(a: dict | None, b: dict | None, key: str) -> str:
    value = _delta_value(a, b, key)
    return "-" if value is None else f"{value:+.2f} ms"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{unit}"
