"""Evaluation sandboxes by name: ``namespace`` (the default), ``host`` and ``docker`` (SWE-bench's own
images). The kinds register here, so that no kind imports another."""

from __future__ import annotations

from swerve.eval.environments import EvalSandbox, HostSandbox, NamespaceSandbox

SANDBOX_NAMES = ("namespace", "host", "docker")


def sandbox_named(
    name: str, *, image_namespace: str | None = None, limits: object | None = None
) -> EvalSandbox:
    """``namespace``, ``host`` or ``docker`` (SWE-bench's images; ``image_namespace`` names their
    registry namespace, default ``swebench``, ``none`` for locally built names). ``limits`` (a
    ``swerve.sandbox.ns.limits.Limits``) replace the namespace sandbox's defaults."""
    if name == "namespace":
        return NamespaceSandbox(limits=limits)
    if name == "host":
        return HostSandbox()
    if name == "docker":
        from swerve.eval.docker_images import DEFAULT_NAMESPACE, SwebenchImageSandbox

        namespace = DEFAULT_NAMESPACE if image_namespace is None else image_namespace
        return SwebenchImageSandbox(namespace=namespace)
    raise ValueError(f"unknown sandbox {name!r} (use {', '.join(SANDBOX_NAMES)})")
