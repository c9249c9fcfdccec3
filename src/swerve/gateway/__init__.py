"""The gateway (``swerve serve``): one loopback HTTP server that lets Claude Code, Codex, Qwen Code
and Cline drive any model swerve can reach.

Each client protocol is a thin adapter between its wire shape and swerve's Model protocol
(``anthropic_messages``, ``chat_completions``, ``responses``); the models behind them come from
swerve's own model layer, so tool calls are parsed and repaired (Qwen3-Coder XML, broken JSON
arguments) and requests retried the same way the agent does. ``routing`` picks a backend per
request, ``turns`` runs one turn and streams it, ``history`` keeps calls and results paired,
``errors`` shapes failures for each client, ``log`` writes request logs without secrets and
``server`` puts it together on ``swerve.httpd``. Imports the model layer, ``swerve.config``,
``swerve.httpd`` and the base modules; never the CLI.
"""
