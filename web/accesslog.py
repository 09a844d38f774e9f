"""One line per request on stderr: method, path, status and milliseconds (``vnsearch serve``).

A WSGI middleware, so that it times the whole response, a streamed CSV export included;
the query string is left out, so that readers' searches stay out of the log.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime


class AccessLog:
    """Wraps a WSGI app; writes ``2026-12-01T15:30:00 GET /api/search 200 12.3 ms`` when a response ends."""

    def __init__(self, app, stream=None):
        self.app = app
        self.stream = stream

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, recording_start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()
            elapsed = (time.perf_counter() - started) * 1000
            stream = self.stream or sys.stderr
            stream.write(f"{datetime.now().isoformat(timespec='seconds')} {environ.get('REQUEST_METHOD', '-')} "
                         f"{environ.get('PATH_INFO', '') or '/'} {status[0]} {elapsed:.1f} ms\n")
            stream.flush()
