"""swerve's embedded local model server: prebuilt llama.cpp, our own OpenAI-compatible HTTP API.

Nothing heavy is imported here; see ``swerve.local.server`` (the server), ``swerve.local.process``
(start or reuse one from Python) and ``docs/local-model.md``.
"""
