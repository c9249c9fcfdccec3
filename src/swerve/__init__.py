"""swerve: an open agentic-coding system (terminal agent, sandboxes, verifiable tasks, farm).

The packages are its rooms, layered so that imports point down (docs/architecture.md):
faces (``cli``) > orchestration (``gym``, ``eval``, ``config``) > core (``agent``, ``tasks``) >
``tools`` > ``models`` and ``sandbox`` > base (``errors``, ``paths``, ``secrets``).
"""

__version__ = "0.1.0"
