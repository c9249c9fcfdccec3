"""The namespace sandbox: Linux user, mount, pid and net namespaces over copy-on-write overlays.

Exposes ``NamespaceWorkspace`` (a Workspace), ``Limits`` (per-environment resource limits),
``check_support`` and ``cgroup_pool``. Built on ``sandbox.base``, ``sandbox.output`` and
``sandbox.proctree``; imports nothing above the sandbox layer.
"""

from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.workspace import NamespaceWorkspace, cgroup_pool, check_support

__all__ = ["Limits", "NamespaceWorkspace", "cgroup_pool", "check_support"]
