"""Stand-in services on loopback, for tests that would otherwise reach out to the network.

A spec that names ``services`` (``("httpbin",)``) gets each of them started inside the evaluation
sandbox, in its own network namespace (loopback only), before the eval script, and the variable
its tests read set to its address (``HTTPBIN_URL=http://127.0.0.1:PORT/``). A service runs from
its own venv, built once with uv like an env layer and cached; the task's own env is left as it
is, so what the tests import does not change. The eval script runs under a small bash wrapper
that starts the services, waits until each has bound its port, runs the script with stdout and
stderr into ``test_output.txt`` and stops them. A service that does not start makes the instance
environment-unavailable with its log's tail; tests that reach other hosts still fail.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from swerve.errors import EnvUnavailable
from swerve.tasks.envbuild import EnvLayer, ensure_env
from swerve.tasks.model import EnvSpec

START_TIMEOUT_S = 60
FAILED_FILE = "services.failed"  # written in the run folder when a service did not start
STARTED_FILE = "services.started"  # one "NAME URL" line per service that started


@dataclass(frozen=True)
class Service:
    name: str
    pins: tuple[str, ...]  # its venv, built with the Python running swerve
    launcher: str  # Python source: serves on 127.0.0.1, an ephemeral port, printed on stdout
    env_var: str  # what the tests read
    url: str  # the variable's value, ``{port}`` filled in


# Serves httpbin's WSGI app with werkzeug's threaded server on a port the kernel picks; the port
# is printed once the socket listens, so a client that reads it can connect at once.
_HTTPBIN_LAUNCHER = """\
from werkzeug.serving import make_server
from httpbin import app
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""

SERVICES = {
    "httpbin": Service(
        "httpbin",
        pins=(
            "httpbin==0.10.2",
            "flask==3.1.3",
            "werkzeug==3.1.9",
            "flasgger==0.9.7.1",
            "brotlicffi==1.2.1.0",
            "decorator==5.3.1",
            "greenlet==2.0.2",
            "six==1.17.0",
        ),
        launcher=_HTTPBIN_LAUNCHER,
        env_var="HTTPBIN_URL",
        url="http://127.0.0.1:{port}/",
    ),
}


@dataclass(frozen=True)
class ServiceLayer:
    service: Service
    env: EnvLayer

    @property
    def python(self) -> str:
        return os.path.join(self.env.path, "bin", "python")


def service_named(name: str) -> Service:
    """The service called ``name``; EnvUnavailable naming the known ones otherwise."""
    try:
        return SERVICES[name]
    except KeyError:
        known = ", ".join(sorted(SERVICES))
        raise EnvUnavailable(f"unknown stand-in service {name!r} in the spec (known: {known})") from None


async def ensure_services(spec: EnvSpec | None, *, cache: Path | None = None) -> list[ServiceLayer]:
    """The venvs of the services ``spec`` names, from the cache or built now (with network: this
    is build time). Raises EnvUnavailable with the cause."""
    names = spec.services if spec is not None else ()
    layers = []
    for name in names:
        service = service_named(name)
        env = await ensure_env(
            EnvSpec(pins=service.pins),
            cache=cache,
            label=f"service-{service.name}",
        )
        layers.append(ServiceLayer(service, env))
    return layers


def wrapper_script(layers: list[ServiceLayer], *, run_dir: str) -> str:
    """Bash that starts ``layers``' services, runs ``run_dir/eval.sh`` into
    ``run_dir/test_output.txt`` and stops them; it exits with the eval script's status. A service
    that does not start is named in ``run_dir/services.failed`` and the eval script is not run."""
    q = shlex.quote
    run = q(run_dir)
    lines = [
        "#!/bin/bash",
        "set -u",
        f"RUN={run}",
        "PIDS=()",
        'stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; '
        'for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done; }',
        f': > "$RUN/{STARTED_FILE}"',
        f'rm -f "$RUN/{FAILED_FILE}"',
    ]
    for layer in layers:
        s = layer.service
        launcher, port, log = (f'"$RUN/service-{s.name}.{ext}"' for ext in ("py", "port", "log"))
        lines += [
            f"cat > {launcher} <<'EOF_SERVICE'",
            s.launcher.rstrip("\n"),
            "EOF_SERVICE",
            f"{q(layer.python)} -I -u {launcher} > {port} 2> {log} &",
            "PID=$!",
            'PIDS+=("$PID")',
            f"for _ in $(seq {START_TIMEOUT_S * 10}); do",
            f'  [ -s {port} ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1',
            "done",
            f"PORT=$(head -n1 {port} 2>/dev/null | tr -dc 0-9)",
            'if [ -z "$PORT" ]; then',
            f'  {{ echo "the {s.name} stand-in did not start within {START_TIMEOUT_S}s:"; '
            f'tail -n 15 {log}; }} > "$RUN/{FAILED_FILE}"',
            "  stop; exit 0",
            "fi",
            f'export {s.env_var}="{s.url.replace("{port}", "$PORT")}"',
            f'echo "{s.name} ${s.env_var}" >> "$RUN/{STARTED_FILE}"',
        ]
    lines += [
        '/bin/bash "$RUN/eval.sh" > "$RUN/test_output.txt" 2>&1',
        "STATUS=$?",
        "stop",
        'exit "$STATUS"',
    ]
    return "\n".join(lines) + "\n"
