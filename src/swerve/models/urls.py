"""URLs as the model layer treats them: shown without credentials, and loopback or not (loopback
endpoints skip proxies and are asked about themselves). Standard library only, so cheap to import."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment, fit for error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "") if parts.hostname else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS or host.startswith("127.")
