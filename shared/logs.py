"""Structured logs: one JSON object per line, with the request id when there is one."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    _RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._RESERVED:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


class RequestLog:
    """The one line per AWS request, written without the ``logging`` machinery.

    It is the hottest log line by far (a record, its handler lock and formatter cost more than
    parsing a request), so it is formatted here directly, in the same JSON shape as every other
    line, and written when the ``flotilla`` logger is enabled for INFO.
    """

    def __init__(self, logger: str = "flotilla") -> None:
        self._logger = logging.getLogger(logger)

    def write(self, **fields: object) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return
        now = time.time()
        line = {
            "ts": _timestamp(now),
            "level": "info",
            "logger": self._logger.name,
            "msg": "request",
            **fields,
        }
        sys.stderr.write(json.dumps(line, default=str) + "\n")


def configure(level: str = "INFO") -> None:
    """Send this process's logs to stderr as JSON lines (idempotent).

    Every AWS request logs one line, so a record must be cheap: the caller's file and line,
    thread and process names are not collected (they are not in our lines anyway).
    """
    logging._srcfile = None  # documented switch: skips the stack walk of findCaller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level)
