"""Container healthcheck without curl (slim images have none), cheap enough to run every second or two.

    python -S healthcheck.py /_flotilla/health            # 200 from the app on 127.0.0.1:4566
    python -S healthcheck.py --fleet /_flotilla/health    # and no service "unavailable" (all-in-one)

Raw socket + HTTP/1.0 on purpose: `python -S` with urllib would still import ssl, email and http.client,
which costs more than the request. Exit 0 when healthy, 1 otherwise (Docker's contract).
"""

import json
import os
import socket
import sys

PORT = int(os.environ.get("FLOTILLA_HEALTH_PORT", "4566"))


def fetch(path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def main(args: list[str]) -> int:
    fleet = "--fleet" in args
    path = next((a for a in args if not a.startswith("--")), "/_flotilla/health")
    try:
        status, body = fetch(path)
    except (OSError, ValueError, IndexError) as err:
        print(f"unhealthy: {err}")
        return 1
    if status != 200:
        print(f"unhealthy: HTTP {status}")
        return 1
    if fleet:
        down = [name for name, state in json.loads(body)["services"].items() if state == "unavailable"]
        if down:
            print(f"unhealthy: {', '.join(down)} unavailable")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
