"""Which backend answers a request: by the model name the client asked for, then by role.

From settings.json (``~/.swerve/settings.json``, or ``swerve serve --settings FILE``)::

    "gateway": {
      "backends": {
        "coder": {"model": "qwen3-coder-plus", "baseUrl": "https://.../v1", "apiKeyEnv": "DASHSCOPE_API_KEY"},
        "small": {"model": "local"}
      },
      "models": {"claude-*-haiku-*": "small", "gpt-*": "coder"},
      "default": "coder",
      "background": "small"
    }

A request for model M goes to: the backend named M; else the first ``models`` pattern M matches
(shell-style); else the backend that serves a model called M; else, for a background request (a
Haiku-class name, the slot Claude Code uses for titles and summaries), ``background``; else
``default``. With no default, anything else is a 404 naming what is served.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from swerve.errors import ConfigError
from swerve.gateway.backends import Backend
from swerve.httpd import HTTPError

BACKGROUND_MARKERS = ("haiku",)
GATEWAY_KEYS = {"backends", "models", "default", "background"}


def is_background(model: str) -> bool:
    """Whether a model name is a client's small/fast slot (background requests)."""
    name = model.lower()
    return any(marker in name for marker in BACKGROUND_MARKERS)


@dataclass
class Routes:
    backends: dict[str, Backend]
    patterns: list[tuple[str, str]] = field(default_factory=list)  # (glob, backend name)
    default: str | None = None
    background: str | None = None

    def __post_init__(self) -> None:
        for what, name in [("default", self.default), ("background", self.background)] + [
            (f"models[{p!r}]", n) for p, n in self.patterns
        ]:
            if name is not None and name not in self.backends:
                known = ", ".join(sorted(self.backends)) or "none"
                raise ConfigError(
                    f"gateway {what} names backend {name!r}, which is not defined (defined: {known})"
                )

    def pick(self, model: str) -> Backend:
        """The backend for a request naming ``model``; HTTPError 404 when none serves it."""
        if model in self.backends:
            return self.backends[model]
        for pattern, name in self.patterns:
            if fnmatch.fnmatchcase(model, pattern):
                return self.backends[name]
        for backend in self.backends.values():
            if backend.model_name == model:
                return backend
        if self.background is not None and is_background(model):
            return self.backends[self.background]
        if self.default is not None:
            return self.backends[self.default]
        raise HTTPError(
            404, f"model {model!r} is not served here; the models served are: {', '.join(self.served())}"
        )

    def served(self) -> list[str]:
        """The model names a client can ask for: backend names and the models behind them."""
        names: list[str] = []
        for name, backend in self.backends.items():
            for item in (name, backend.model_name):
                if item not in names:
                    names.append(item)
        return names

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()


def parse_gateway(data: Any) -> tuple[dict[str, Any], list[tuple[str, str]], str | None, str | None]:
    """(backend entries, patterns, default, background) of a settings ``gateway`` object."""
    if not isinstance(data, dict):
        raise ConfigError('"gateway" in settings must be an object with "backends"')
    unknown = set(data) - GATEWAY_KEYS
    if unknown:
        raise ConfigError(f'"gateway" has unknown keys {sorted(unknown)}; it takes {sorted(GATEWAY_KEYS)}')
    backends = data.get("backends")
    if not isinstance(backends, dict) or not backends:
        raise ConfigError('"gateway.backends" must map names to backend settings')
    models = data.get("models") or {}
    if not isinstance(models, dict) or not all(isinstance(v, str) for v in models.values()):
        raise ConfigError('"gateway.models" must map model-name patterns to backend names')
    default, background = data.get("default"), data.get("background")
    for key, value in (("default", default), ("background", background)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f'"gateway.{key}" must be a backend name')
    if default is None and len(backends) == 1:
        default = next(iter(backends))
    return dict(backends), list(models.items()), default, background
