"""How swerve runs git on a user's repository: never running anything the repository configures.

A repository's ``.git/config`` can name programs git runs by itself: hooks, an fsmonitor, a pager,
an external diff, textconv filters. swerve's own git commands (diffs of a workspace, index copies)
switch all of them off through command-line-scope configuration, which outranks the repository's.
"""

from __future__ import annotations

SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("safe.directory", "*"),
    ("core.quotepath", "false"),
)
# with every diff: no external diff program (GIT_EXTERNAL_DIFF or diff.external), no textconv filter
SAFE_DIFF_FLAGS = ("--no-ext-diff", "--no-textconv", "--no-color")


def safe_git_env() -> dict[str, str]:
    """Environment variables that apply ``SAFE_CONFIG`` to every git command run with them."""
    env = {
        "GIT_CONFIG_COUNT": str(len(SAFE_CONFIG)),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
    }
    for i, (key, value) in enumerate(SAFE_CONFIG):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env
