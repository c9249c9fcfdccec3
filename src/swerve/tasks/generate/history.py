"""The history strategy: mirrored fixes from the repository's own git history.

For each recent commit that changed source files (not only tests), the candidate bug is the
reverse of that commit's source part, applied to the current tree. When the current tests catch it
(they fail with the old code and pass with today's), the commit's source change is the fix: a real
bug a maintainer once fixed, replayed on the code as it is now. Commits whose source part no longer
applies are rejected as "does not apply".
"""

from __future__ import annotations

from pathlib import Path

from swerve.tasks.generate.candidates import Candidate
from swerve.tasks.generate.gitops import SourceError, git, git_env
from swerve.tasks.generate.project import Project


def history_candidates(repo: Path, project: Project, limit: int) -> list[Candidate]:
    """Up to ``limit`` candidates from the commits reachable from HEAD, newest first."""
    env = git_env()
    try:
        shas = git(["log", "--no-merges", "--format=%H", f"-n{limit * 4}", "HEAD"], cwd=repo, env=env).split()
    except SourceError:
        return []
    sources = set(project.source_files)
    out: list[Candidate] = []
    for sha in shas:
        if len(out) >= limit:
            break
        try:
            parents = git(["rev-list", "--parents", "-n1", sha], cwd=repo, env=env).split()[1:]
            if len(parents) != 1:
                continue  # the root commit: nothing to revert to
            changed = git(
                ["diff-tree", "--no-commit-id", "--name-only", "-r", sha], cwd=repo, env=env
            ).split()
            touched = [f for f in changed if f in sources]
            if not touched:
                continue
            # the old code of those files, as a patch over the new: the commit's source part reversed
            patch = git(
                ["diff", "--no-color", "--no-ext-diff", sha, parents[0], "--", *touched], cwd=repo, env=env
            )
            subject = git(["log", "-n1", "--format=%s", sha], cwd=repo, env=env).strip()
        except SourceError:
            continue
        if not patch.strip():
            continue
        out.append(
            Candidate("history", f"h-{sha[:12]}", "", f"revert of {sha[:12]} ({subject[:60]})", patch=patch)
        )
    return out
