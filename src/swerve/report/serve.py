"""``swerve report --serve``: a run's page on 127.0.0.1, rebuilt whenever the run's files change.

The page polls ``/stamp`` (a fingerprint of the files the run was read from) every few seconds
and reloads when it changes; a rebuild happens when a poll or a page load finds the files
changed. Episode details are not inlined: the page fetches ``/chunk/<stamp>/<n>``, so a run of
any size is served whole. Only the page, the stamp and the chunks are served; nothing else on
disk is reachable through the server.
"""

from __future__ import annotations

import http.server
import threading
from collections import OrderedDict
from typing import Any

from swerve.report.build import Built, build, stamp_of

KEEP_BUILDS = 3  # chunks of this many recent builds stay fetchable (pages loaded before a rebuild)


class ReportSite:
    """The current build of one run's page, rebuilt when its files change."""

    def __init__(self, path: str, *, compare: str | None = None) -> None:
        self.path = path
        self.compare = compare
        self._lock = threading.Lock()
        self._builds: OrderedDict[str, Built] = OrderedDict()
        self._current = self._build(None)
        self._current = self._build(self._current.run.sources)  # a stamp taken before reading

    def _build(self, known: list[str] | None) -> Built:
        built = build(
            self.path, compare=self.compare, budget_mb=float("inf"), served=True, known_sources=known
        )
        self._builds[built.stamp] = built
        while len(self._builds) > KEEP_BUILDS:
            self._builds.popitem(last=False)
        return built

    def current(self) -> Built:
        """The page for the files as they are now."""
        with self._lock:
            if stamp_of(self._current.run.sources) != self._current.stamp:
                try:
                    self._current = self._build(self._current.run.sources)
                except Exception as exc:  # a run caught mid-change: keep the last page, say why
                    self._current.run.problem(
                        f"the latest change could not be read: {type(exc).__name__}: {exc}"
                    )
            return self._current

    def chunk(self, stamp: str, number: int) -> str | None:
        with self._lock:
            built = self._builds.get(stamp)
        chunks = built.packed["chunks"] if built is not None else []
        return chunks[number] if 0 <= number < len(chunks) else None


class _Handler(http.server.BaseHTTPRequestHandler):
    site: ReportSite
    server_version = "swerve-report"

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        if route in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.site.current().html)
        elif route == "/stamp":
            self._send(200, "text/plain; charset=utf-8", self.site.current().stamp)
        elif route.startswith("/chunk/"):
            _, _, stamp, number = ([*route.split("/"), "", ""])[:4]
            text = self.site.chunk(stamp, int(number)) if number.isdigit() else None
            if text is None:
                self._send(
                    410, "text/plain; charset=utf-8", "this page is older than the run's data: reload it"
                )
            else:
                self._send(200, "text/plain; charset=utf-8", text)
        else:
            self._send(404, "text/plain; charset=utf-8", "not found")

    def _send(self, status: int, content_type: str, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None  # the terminal shows the address once, not every poll


def make_server(site: ReportSite, host: str = "127.0.0.1", port: int = 0) -> http.server.ThreadingHTTPServer:
    """A server for ``site`` bound to ``host:port`` (0: a free port); the caller runs and closes it."""
    handler = type("Handler", (_Handler,), {"site": site})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
