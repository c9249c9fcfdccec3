"""A replay script that acts like an agent on the built-in suite: it looks around, runs the tests
(a long output, for folding), then applies the gold patch of some tasks, picked by base commit.

``always`` tasks are fixed in every sample, ``coin`` tasks in about half (bash's ``$RANDOM``);
of the rest, half get a change that fixes nothing and half no change at all. Used by the report's tests and to make the screenshots in docs/img/:

    python tests/report/scripted_solver.py OUT.json [--always N] [--coin N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _apply(patch: str) -> str:
    return f"git apply <<'SWERVE_PATCH'\n{patch.rstrip()}\nSWERVE_PATCH\n"


def solver_script(tasks: list[Any], *, always: set[str], coin: set[str]) -> dict[str, Any]:
    """The script: a case over the checkout's HEAD, one branch per task that may be fixed."""
    branches = []
    for number, task in enumerate(tasks):
        if task.id in always:
            branches.append(f"{task.base_commit})\n{_apply(task.gold_patch)};;")
        elif task.id in coin:
            guard = "if [ $((RANDOM % 2)) -eq 0 ]; then\n"
            branches.append(f"{task.base_commit})\n{guard}{_apply(task.gold_patch)}fi\n;;")
        elif number % 2:
            wrong = "printf '\\n# looked at this\\n' >> \"$(git ls-files '*.py' | head -n 1)\"\n"
            branches.append(f"{task.base_commit})\n{wrong};;")
        else:
            branches.append(f"{task.base_commit})\necho 'no idea for this one';;")
    fix = 'case "$(git rev-parse HEAD)" in\n' + "\n".join(branches) + "\nesac\ngit diff --stat"
    return {
        "description": "scripted solver for the report tests (gold patches for chosen tasks)",
        "turns": [
            {
                "text": "Let me look at the project first.",
                "tool_calls": [{"name": "list_directory", "arguments": {"path": "."}}],
            },
            {
                "text": "Running the test suite to see what fails.",
                "tool_calls": [
                    {
                        "name": "run_shell_command",
                        "arguments": {"command": "python -m pytest -q -p no:cacheprovider 2>&1 | tail -n 80"},
                    }
                ],
            },
            {
                "text": "Applying a fix.",
                "tool_calls": [{"name": "run_shell_command", "arguments": {"command": fix}}],
            },
            {"text": "I made the change I could; the tests should tell."},
        ],
    }


def main(argv: list[str] | None = None) -> int:
    from swerve.tasks.builtin import load_builtin

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--always", type=int, default=12, help="tasks fixed every time (the first N)")
    parser.add_argument("--coin", type=int, default=8, help="tasks fixed half the time (the next N)")
    args = parser.parse_args(argv)
    tasks = sorted(load_builtin(), key=lambda t: t.id)
    order = tasks[::2] + tasks[1::2]  # spread over the libraries
    always = {t.id for t in order[: args.always]}
    coin = {t.id for t in order[args.always : args.always + args.coin]}
    Path(args.out).write_text(json.dumps(solver_script(tasks, always=always, coin=coin), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
