"""``python -m swerve.tasks.builtin``: list the built-in suite, or fetch its sdists ahead of time.

    python -m swerve.tasks.builtin list              # libraries and tasks (no network)
    python -m swerve.tasks.builtin fetch [--library NAME ...]   # download, verify, build task repos

Making tasks is ``python -m swerve.tasks.builtin.generate``; checking them is
``python -m swerve.tasks.builtin.validate`` (or ``swerve eval --dataset builtin --predictions gold --validate``).
"""

from __future__ import annotations

import argparse
import sys

from swerve.errors import TaskError
from swerve.tasks.builtin.libraries import LIBRARIES
from swerve.tasks.builtin.sources import is_cached
from swerve.tasks.builtin.suite import load_builtin


def _list() -> int:
    tasks = load_builtin(prepare=False)
    for name, lib in sorted(LIBRARIES.items()):
        mine = [t for t in tasks if t.metadata["library"] == name]
        cached = "cached" if is_cached(lib) else "not downloaded"
        print(f"{lib.key:<22} {len(mine):>3} tasks  {lib.sdist}  sha256 {lib.sha256[:16]}…  ({cached})")
        for t in mine:
            m = t.metadata.get("mutation", {})
            print(
                f"    {t.id:<36} F2P {len(t.fail_to_pass):>2}  P2P {len(t.pass_to_pass):>3}  {m.get('operator', '')}"
            )
    print(f"{len(tasks)} tasks over {len({t.metadata['library'] for t in tasks})} libraries")
    return 0


def _fetch(libraries: list[str] | None) -> int:
    tasks = load_builtin(prepare=True, libraries=libraries)
    print(f"ready: {len(tasks)} tasks over {len({t.metadata['library'] for t in tasks})} libraries")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m swerve.tasks.builtin", description="The built-in task suite."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the libraries and tasks")
    fetch = sub.add_parser("fetch", help="download and verify the sdists, build the tasks' repositories")
    fetch.add_argument("--library", action="append", help="only this library (may repeat)")
    args = parser.parse_args(argv)
    try:
        return _list() if args.command == "list" else _fetch(args.library)
    except TaskError as exc:
        print(f"builtin: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
