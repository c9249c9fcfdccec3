"""Sandboxes: the Workspace contract (``base``) and its backends: the host (no isolation),
Linux namespaces over copy-on-write overlays (``ns``) and Docker (``docker``). Knows nothing of
agents, models or tasks; imports only the base modules.
"""
