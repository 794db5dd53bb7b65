"""``flotilla``: run the fleet without Docker.

flotilla dev                       # redis-server + every service + gateway on 127.0.0.1:4566
flotilla dev --services s3,sqs     # a subset
FLOTILLA_PORT=4600 flotilla dev    # another port
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from flotilla.fleet import SERVICES, Fleet, FleetError


def _dev(args: argparse.Namespace) -> int:
    services = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else list(SERVICES)
    fleet = Fleet(
        port=args.port,
        host=args.host,
        services=services,
        data_dir=Path(args.data_dir),
        persistence=args.persist,
        redis_url=os.environ.get("FLOTILLA_REDIS_URL") or None,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        fleet.start()
    except FleetError as err:
        print(f"flotilla: {err}", file=sys.stderr)
        return 1
    print(f"Ready. Endpoint {fleet.url} serving {', '.join(services)}", flush=True)
    try:
        while not stop.wait(0.5):
            dead = [p for p in fleet.processes if p.popen.poll() is not None]
            if dead:
                print(f"flotilla: {dead[0].name} exited with {dead[0].popen.returncode}", file=sys.stderr)
                return 1
    finally:
        print("Stopping.", flush=True)
        fleet.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flotilla", description="A local AWS cloud.")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the fleet as local processes")
    dev.add_argument("--port", type=int, default=int(os.environ.get("FLOTILLA_PORT", "4566")))
    dev.add_argument("--host", default=os.environ.get("FLOTILLA_HOST", "127.0.0.1"))
    dev.add_argument(
        "--services", default=os.environ.get("FLOTILLA_SERVICES", ""), help="comma-separated subset"
    )
    dev.add_argument("--data-dir", default=os.environ.get("FLOTILLA_DATA_DIR", ".data"))
    dev.add_argument(
        "--persist", action="store_true", default=os.environ.get("PERSISTENCE", "") in ("1", "true")
    )
    args = parser.parse_args(argv)
    if args.command == "dev":
        return _dev(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
