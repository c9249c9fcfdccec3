"""The agent core: the loop (``loop.Agent``), its events, context compression, the loop guard,
permissions, prompts, sessions and trajectory records.

It takes a Model, Tools bound to a Workspace and a Permission policy, and only emits events; it
imports ``models``, ``tools`` and the base modules, never a face, a task, a pool or the harness.
"""
