"""Failures in each client's own shape: Anthropic's ``{"type": "error", "error": {...}}`` and
OpenAI's ``{"error": {"message", "type", "code"}}``, with statuses the clients retry on where a
retry can help (a dead or overloaded backend)."""

from __future__ import annotations

from typing import Any

from swerve.errors import ModelError
from swerve.httpd import HTTPError, Response, json_response

ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
    529: "overloaded_error",
}
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "server_error",
    503: "service_unavailable",
    504: "server_error",
}
# the status a client sees when the backend failed for good, by the backend's own status
_BACKEND_STATUS = {400: 400, 401: 502, 403: 502, 404: 502, 413: 413, 422: 400, 429: 429}


def is_anthropic_path(path: str) -> bool:
    return path.startswith("/v1/messages")


def anthropic_error(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind or ANTHROPIC_TYPES.get(status, "api_error"), "message": message},
    }


def openai_error(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": kind or OPENAI_TYPES.get(status, "server_error"),
            "param": None,
            "code": kind or OPENAI_TYPES.get(status, "server_error"),
        }
    }


def error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """The error body a client of ``path`` reads."""
    return anthropic_error(status, message) if is_anthropic_path(path) else openai_error(status, message)


def render_error(error: HTTPError) -> Response:
    """The server's error renderer: each face's errors in its own shape (the path says which)."""
    path = getattr(error, "path", "") or ""
    status = error.status
    if is_anthropic_path(path) and status == 503:
        status = 529  # Anthropic's "overloaded": what Claude Code waits out and retries
    return json_response(error_body(path, status, error.message), status, error.headers)


def backend_failure(exc: ModelError) -> HTTPError:
    """An HTTPError for a backend that failed for good: its 4xx refusals pass on as the client's
    fault or the gateway's, everything else (down, overloaded, timed out) as 503."""
    status = _BACKEND_STATUS.get(exc.status or 0, 503)
    return HTTPError(status, f"the backend failed: {exc}")


def stream_error_kind(status: int, anthropic: bool) -> str:
    """The ``type`` of an error event sent inside a stream that has already begun."""
    if anthropic:
        return "overloaded_error" if status >= 500 else ANTHROPIC_TYPES.get(status, "api_error")
    return OPENAI_TYPES.get(status, "server_error")
