"""The compose fleet's init-hook runner (the `init` service): LocalStack's ready.d hooks, for Flotilla.

Waits until every enabled service of the fleet is running (gateway health: nothing "unavailable";
"disabled" services are fine), then runs every executable file in the hook directories, in name
order, with the AWS CLI (and `awslocal`) pointed at the gateway. Hook output goes to this
container's logs. Then it marks itself healthy and idles, so that `docker compose up --wait` returns
only once the hooks have run; it exits 1 at once if a hook failed or the fleet never got ready.

| variable | default | meaning |
|---|---|---|
| `FLOTILLA_INIT_DIRS` | `/etc/flotilla/init/ready.d:/etc/localstack/init/ready.d` | where hooks are looked for |
| `FLOTILLA_INIT_TIMEOUT` | `120` | seconds to wait for the fleet, and for each hook |
| `AWS_ENDPOINT_URL` | `http://gateway:4566` | the gateway, as hooks see it |
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DONE = Path("/tmp/flotilla-init-done")
DEFAULT_DIRS = "/etc/flotilla/init/ready.d:/etc/localstack/init/ready.d"


def log(message: str) -> None:
    print(f"flotilla-init: {message}", flush=True)


def fleet_ready(endpoint: str) -> tuple[bool, dict]:
    try:
        with urllib.request.urlopen(f"{endpoint}/_flotilla/health", timeout=2) as response:
            services = json.load(response)["services"]
    except (OSError, ValueError, KeyError):
        return False, {}
    return all(state in ("running", "disabled") for state in services.values()), services


def wait_for_fleet(endpoint: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    services: dict = {}
    while time.monotonic() < deadline:
        ready, services = fleet_ready(endpoint)
        if ready:
            running = sorted(name for name, state in services.items() if state == "running")
            log(f"fleet ready at {endpoint}: {', '.join(running) or 'no services'}")
            return True
        time.sleep(0.5)
    log(f"fleet not ready after {timeout:.0f} s: {services or 'gateway not answering'}")
    return False


def hooks(dirs: list[Path]) -> list[Path]:
    """Executable regular files, each directory in name order, a file seen through two mounts once."""
    seen: set[Path] = set()
    found: list[Path] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            real = path.resolve()
            if real in seen or not path.is_file() or not os.access(path, os.X_OK):
                continue
            seen.add(real)
            found.append(path)
    return found


def run(path: Path, timeout: float) -> bool:
    log(f"running {path}")
    started = time.monotonic()
    try:
        code = subprocess.run([str(path)], cwd=path.parent, timeout=timeout, check=False).returncode
    except (OSError, subprocess.TimeoutExpired) as err:
        log(f"{path.name} failed: {err}")
        return False
    log(f"{path.name} exited with {code} after {time.monotonic() - started:.1f} s")
    return code == 0


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 has no default SIGTERM action
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://gateway:4566").rstrip("/")
    timeout = float(os.environ.get("FLOTILLA_INIT_TIMEOUT", "120"))
    dirs = [Path(d) for d in os.environ.get("FLOTILLA_INIT_DIRS", DEFAULT_DIRS).split(":") if d]
    if not wait_for_fleet(endpoint, timeout):
        return 1
    found = hooks(dirs)
    failed = [path.name for path in found if not run(path, timeout)]
    if failed:
        log(f"hooks failed: {', '.join(failed)}")
        return 1
    log(f"ready: {len(found)} hook(s) ran")
    DONE.touch()
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
