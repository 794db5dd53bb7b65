"""The pure parts of the Lambda bench: log parsing, burst statistics, verdicts and the options."""

from __future__ import annotations

import json

from bench import lambda_invoke, report, run


def _line(msg: str, **extra: object) -> str:
    return json.dumps({"ts": "2026-11-23T16:00:00.000Z", "level": "info", "msg": msg, **extra})


def test_cold_start_lines_are_those_of_the_named_functions() -> None:
    log = "\n".join(
        [
            _line("cold start", function="a", ms=12.5),
            _line("warm start", function="a"),
            _line("cold start", function="other", ms=99.0),
            'not json with "cold start" in it',
            _line("cold start", function="b", ms=7),
            _line("cold start", function="b"),  # no ms: counted as a start, not timed
        ]
    )
    assert [r["function"] for r in lambda_invoke.cold_starts(log, ["a", "b"])] == ["a", "b", "b"]
    assert lambda_invoke.cold_start_ms(log, ["a", "b"]) == [12.5, 7.0]
    assert lambda_invoke.cold_start_ms("", ["a"]) == []


def test_burst_summary_counts_errors_and_distinct_environments() -> None:
    outcomes = [
        (0.2, {"pid": 1, "host": "h"}),
        (0.4, {"pid": 1, "host": "h"}),
        (0.3, {"pid": 2, "host": "h"}),
        (0.9, RuntimeError("Unhandled: boom")),
    ]
    result = lambda_invoke.burst_summary(outcomes, wall=1.0)
    assert (result.invokes, result.errors, result.environments) == (4, 1, 2)
    assert result.first_error == "RuntimeError: Unhandled: boom"
    assert (result.wall_ms, result.p50_ms, result.max_ms) == (1000.0, 300.0, 900.0)


def test_burst_summary_without_errors() -> None:
    result = lambda_invoke.burst_summary([(0.1, {"pid": n, "host": "h"}) for n in range(3)], wall=0.15)
    assert (result.errors, result.first_error, result.environments) == (0, None, 3)


def _lambda(warm_p50: float, local_max: float, docker: dict, errors: int = 0) -> dict:
    burst = {"invokes": 50, "errors": errors, "wall_ms": 1100.0, "first_error": "x" if errors else None}
    return {
        "warm": {"gateway": {"call": {"n": 9, "p50_ms": warm_p50}}},
        "cold_local": {"invoke": {"n": 5, "p50_ms": local_max / 2, "max_ms": local_max}},
        "cold_docker": docker,
        "burst": {"1st": burst, "2nd": {**burst, "errors": 0}},
    }


def test_lambda_goals_met() -> None:
    text = report.lambda_goals(_lambda(2.3, 58.0, {"invoke": {"n": 5, "max_ms": 410.0}}))
    assert text.splitlines()[1:] == [
        "  [ met ] warm invoke through the gateway < 10 ms p50 (boto3): 2.30 ms",
        "  [ met ] cold start with the local executor < 1 s (worst first invoke): 58.00 ms",
        "  [ met ] cold start with the docker executor < 2 s (worst first invoke): 410.00 ms",
        "  [ met ] 50 concurrent invokes complete with no errors: 100/100 ok in 2 bursts"
        " (the 1st, on a new function, in 1100.00 ms)",
    ]


def test_lambda_goals_missed_and_skipped() -> None:
    text = report.lambda_goals(_lambda(12.0, 1500.0, {"skipped": "no engine: docker not on PATH"}, errors=3))
    lines = text.splitlines()
    assert lines[1].startswith("  [MISSED] warm invoke")
    assert lines[2].startswith("  [MISSED] cold start with the local executor")
    assert lines[3].endswith("skipped: no engine: docker not on PATH") and lines[3].startswith("  [ n/a ]")
    assert lines[4].startswith("  [MISSED] 50 concurrent invokes") and "97/100" in lines[4]


def test_cold_start_with_an_error_is_flagged_not_judged() -> None:
    lam = _lambda(2.0, 50.0, {"invoke": {"n": 2, "max_ms": 300.0}, "error": "RuntimeError: boom"})
    assert "[ERRORS] cold start with the docker executor" in report.lambda_goals(lam)


def test_burst_verdict_needs_enough_invokes() -> None:
    assert report.burst_verdict([]).startswith("  [ n/a ]")
    small = {"invokes": 10, "errors": 0, "wall_ms": 1.0}
    assert report.burst_verdict([small]).startswith("  [MISSED]")


def test_only_lambda_and_skip_lambda() -> None:
    args = run.parse_args(["--only", "lambda"])
    assert args.services == ["lambda"] and run.boto_services(args) == []
    args = run.parse_args(["--skip-lambda"])
    assert args.services == ["s3", "sqs", "dynamodb"] == run.boto_services(args)
    assert "lambda" in run.parse_args([]).services


def test_render_shows_the_lambda_part() -> None:
    lam = _lambda(2.3, 58.0, {"skipped": "no engine: no docker"})
    lam["warm"]["gateway"]["http"] = {"n": 9, "p50_ms": 1.5, "p99_ms": 2.0, "max_ms": 2.5}
    lam["warm"]["gateway"]["call"].update(p99_ms=3.0, max_ms=4.0)
    lam["burst"] = {}
    lam["cold_local"]["service"] = {"n": 5, "p50_ms": 9.0, "max_ms": 9.3}
    for b in lam["burst"].values():
        b.update(p50_ms=800.0, max_ms=1000.0, environments=33, cold_starts=33)
    results = {
        "date": "d",
        "command": "python -m bench.run --only lambda",
        "machine": {"cores": 2, "cpu": "cpu", "python": "3.11", "commit": "abc"},
        "settings": {"services": ["lambda"], "duration": 3, "warmup": 1},
        "target_errors": {},
        "wall_seconds": 9.0,
        "lambda": lam,
    }
    text = report.render(results)
    assert "docker executor" + " " * 15 + "skipped: no engine: no docker" in text
    assert "Targets (issue 7):" in text and "Targets (issue 2)" not in text
    row = next(line for line in text.splitlines() if line.startswith("gateway "))
    assert row.split() == ["gateway", "9", "2.30", "3.00", "4.00", "1.50", "2.00"]
    assert "Errors:" not in text


def test_docker_warm_row_is_in_the_warm_table() -> None:
    warm = {
        "call": {"n": 9, "p50_ms": 15.9, "p99_ms": 32.6, "max_ms": 43.8},
        "http": {"n": 9, "p50_ms": 12.1, "p99_ms": 30.6},
    }
    lam = _lambda(2.3, 58.0, {"invoke": {"n": 5, "max_ms": 410.0}, "warm": warm})
    lam["warm"]["gateway"]["http"] = {"p50_ms": 1.0, "p99_ms": 2.0}
    lam["warm"]["gateway"]["call"].update(p99_ms=3.0, max_ms=4.0)
    lam["burst"] = {}
    row = next(
        line for line in report._lambda_tables(lam, []).splitlines() if line.startswith("docker executor")
    )
    assert row.split()[-6:] == ["9", "15.90", "32.60", "43.80", "12.10", "30.60"]
    skipped = report._lambda_tables({**lam, "cold_docker": {"skipped": "no engine"}}, [])
    assert "docker executor, direct       skipped: no engine" in skipped
