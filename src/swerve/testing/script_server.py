"""The shared part of swerve's scripted loopback model servers (a test utility).

A ``ScriptServer`` answers each completion request with the next step of its script and records
every request it receives. Steps are dicts; the vendor subclasses (``openai_server``,
``anthropic_server``) turn a response step into their wire format. Keys every server reads:

- response: ``text``, ``tool_calls`` (``name``, ``arguments`` as a dict or a string, optional
  ``id``), ``usage``, ``finish_reason``, ``chunk_size`` (split text and arguments into pieces
  of this many characters);
- faults: ``status`` (answer with this HTTP error; ``retry_after`` adds a Retry-After header,
  ``message`` sets the error text), ``drop_after_chunks`` (send that many events, then cut the
  connection), ``malformed_chunk`` (a non-JSON data line after the first event), ``raw`` (a list
  of SSE data strings, or ``{"event", "data"}`` objects, sent as they are), ``delay_s`` (wait
  before answering), ``no_stream`` (answer with one JSON body even when asked to stream).

When the script is exhausted every request gets a plain text turn saying ``done``.
The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

DONE_STEP: dict[str, Any] = {"text": "done"}
DEFAULT_CHUNK_SIZE = 16


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    time: float
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    json: Any

    def as_dict(self) -> dict[str, Any]:
        try:
            body_text: str | None = self.body.decode("utf-8")
        except UnicodeDecodeError:
            body_text = None
        entry: dict[str, Any] = {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "json": self.json,
        }
        if body_text is None:
            entry["body_base64"] = base64.b64encode(self.body).decode("ascii")
        else:
            entry["body"] = body_text
        return entry


def pieces(text: str, size: int | None) -> list[str]:
    """``text`` cut into pieces of ``size`` characters (one piece when size is falsy)."""
    if not text:
        return []
    if not size or size <= 0:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)]


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event; ``data`` that is not a string is sent as JSON."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode("utf-8")


def arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)


def load_script(data: Any) -> list[dict[str, Any]]:
    """Steps from a list, ``{"steps": [...]}`` or ``{"turns": [...]}``."""
    if isinstance(data, dict):
        data = data.get("steps", data.get("turns"))
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise ValueError('a script is a list of step objects, or {"steps": [...]}')
    return [dict(s) for s in data]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (as retrying clients do) are normal here; report anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class ScriptServer:
    """A loopback HTTP server that plays a script of responses and faults."""

    completion_paths: ClassVar[tuple[str, ...]] = ()
    models_paths: ClassVar[tuple[str, ...]] = ()
    url_suffix: ClassVar[str] = ""

    def __init__(
        self,
        script: Iterable[dict[str, Any]] | dict[str, Any] | None = None,
        *,
        port: int = 0,
        requests_log: str | Path | None = None,
        models: list[dict[str, Any]] | None = None,
        props: dict[str, Any] | None = None,
    ) -> None:
        self.script = load_script(script) if isinstance(script, dict) else [dict(s) for s in script or []]
        self.models = list(models or [])  # what GET /models lists (nothing unless given)
        self.props = props  # llama.cpp's GET /props, when the server is to speak that dialect
        self.requests: list[RecordedRequest] = []
        self.served_steps: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._log_path = Path(requests_log) if requests_log else None
        self._httpd = _HTTPServer(("127.0.0.1", port), _make_handler(self))
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.url_suffix}"

    def start(self) -> ScriptServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="script-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ScriptServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # script ----------------------------------------------------------------

    def add_steps(self, *steps: dict[str, Any]) -> None:
        with self._lock:
            self.script.extend(dict(s) for s in steps)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self.script)

    def next_step(self) -> dict[str, Any]:
        with self._lock:
            step = self.script.pop(0) if self.script else dict(DONE_STEP)
            self.served_steps.append(step)
            return step

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if self._log_path is not None:
                with open(self._log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(request.as_dict(), ensure_ascii=False) + "\n")

    # vendor hooks ----------------------------------------------------------

    def stream_events(self, step: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
        raise NotImplementedError

    def json_response(self, step: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def models_response(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"object": "model", **m} for m in self.models]}

    @property
    def completions(self) -> list[RecordedRequest]:
        """The completion requests received (GETs such as /models left out)."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.split("?")[0] in self.completion_paths
        ]

    def raw_events(self, items: list[Any]) -> list[bytes]:
        out = []
        for item in items:
            if isinstance(item, dict):
                out.append(sse(item.get("data", ""), item.get("event")))
            else:
                out.append(sse(str(item)))
        return out


def _make_handler(server: ScriptServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "swerve-script-server"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            arrived = time.time()
            server.record(RecordedRequest(arrived, "GET", self.path, self._headers(), b"", None))
            if self.path.split("?")[0] in server.models_paths:
                self._send_json(200, server.models_response())
            elif self.path.split("?")[0] == "/props" and server.props is not None:
                self._send_json(200, server.props)
            else:
                self._send_json(404, server.error_body(404, f"no route for GET {self.path}"))

        def do_POST(self) -> None:
            arrived = time.time()
            body = self._read_body()
            try:
                parsed: Any = json.loads(body) if body else None
            except (ValueError, RecursionError):
                parsed = None
            server.record(RecordedRequest(arrived, "POST", self.path, self._headers(), body, parsed))
            if self.path.split("?")[0] not in server.completion_paths:
                self._send_json(404, server.error_body(404, f"no route for POST {self.path}"))
                return
            if not isinstance(parsed, dict):
                self._send_json(400, server.error_body(400, "the request body is not a JSON object"))
                return
            step = server.next_step()
            if step.get("delay_s"):
                time.sleep(float(step["delay_s"]))
            status = step.get("status")
            if status:
                headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
                message = step.get("message") or f"scripted HTTP {status}"
                self._send_json(int(status), server.error_body(int(status), message), headers)
                return
            if not parsed.get("stream") or step.get("no_stream"):
                self._send_json(200, server.json_response(step, parsed))
                return
            if "raw" in step:
                events = server.raw_events(list(step["raw"]))
            else:
                events = server.stream_events(step, parsed)
            if step.get("malformed_chunk"):
                events.insert(min(1, len(events)), b"data: {this is not json\n\n")
            self._send_stream(events, step.get("drop_after_chunks"))

        # plumbing ------------------------------------------------------------

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(parts)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send_json(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, events: list[bytes], drop_after: int | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, event in enumerate(events):
                if drop_after is not None and i >= int(drop_after):
                    self._drop()
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _drop(self) -> None:
            """Cut the connection mid-body, as a crashed or restarted server would."""
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler


def run_cli(server_cls: type[ScriptServer], argv: list[str] | None = None) -> int:
    """``python -m swerve.testing.<vendor>_server --script FILE [--port 0] [--requests-log FILE]``:
    prints ``READY <base_url>`` when listening, serves until interrupted or terminated."""
    import signal

    parser = argparse.ArgumentParser(description=f"scripted loopback model server ({server_cls.__name__})")
    parser.add_argument("--script", help='JSON file: a list of steps, or {"steps": [...]}')
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--requests-log", help="append each request to this file as a JSON line")
    args = parser.parse_args(argv)
    steps: list[dict[str, Any]] = []
    if args.script:
        try:
            steps = load_script(json.loads(Path(args.script).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"error: cannot use script {args.script}: {exc}", file=sys.stderr)
            return 2
    try:
        server = server_cls(steps, port=args.port, requests_log=args.requests_log)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"READY {server.base_url}", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0
