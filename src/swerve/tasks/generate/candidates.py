"""Candidate bugs, one kind per strategy, all applied to a work tree the same way.

- ``procedural``: one AST mutation (``mutate``'s operators);
- ``combo``: two or three mutations in one function (or, failing that, one file) that do not
  overlap, so the fix is a few lines apart and no single revert finds it;
- ``model`` and ``history`` candidates carry a patch instead (see ``rewrite`` and ``history``).

A candidate's ``key`` is stable across runs, which is what the resume state is keyed on.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import astuple, dataclass
from pathlib import Path

from swerve.tasks.generate.core import order_candidates
from swerve.tasks.generate.gitops import apply_patch
from swerve.tasks.generate.mutate import OPERATORS, Mutation, mutations_for

STRATEGIES: tuple[str, ...] = ("procedural", "combo", "model", "history")


@dataclass(frozen=True)
class Candidate:
    """One candidate bug: AST edits, or a patch on the pristine tree."""

    strategy: str
    key: str
    function: str  # "path:qualname" (one task per function and strategy); "" for none
    description: str
    edits: tuple[Mutation, ...] = ()
    patch: str = ""

    @property
    def paths(self) -> tuple[str, ...]:
        if self.edits:
            return tuple(dict.fromkeys(m.path for m in self.edits))
        return _patch_paths(self.patch)

    def info(self) -> dict[str, object]:
        """What the task records about how its bug was made (never shown to a solver)."""
        edits = [
            {"operator": m.operator, "file": m.path, "line": m.line, "function": m.function}
            for m in self.edits
        ]
        return {"description": self.description, "edits": edits}

    def to_json(self) -> dict[str, object]:
        """All of the candidate, for the run's state (``from_json`` reads it back)."""
        edits = [
            [*astuple(m)[:3], base64.b64encode(m.replacement).decode(), *astuple(m)[4:]] for m in self.edits
        ]
        return {
            "strategy": self.strategy,
            "key": self.key,
            "function": self.function,
            "description": self.description,
            "edits": edits,
            "patch": self.patch,
        }

    @classmethod
    def from_json(cls, data: dict) -> Candidate:
        edits = tuple(
            Mutation(path, start, end, base64.b64decode(rep), *rest)
            for path, start, end, rep, *rest in data["edits"]
        )
        return cls(data["strategy"], data["key"], data["function"], data["description"], edits, data["patch"])


def _patch_paths(patch: str) -> tuple[str, ...]:
    from swerve.tasks.swebench import files_in_patch

    return files_in_patch(patch)


def apply_candidate(tree: Path, cand: Candidate) -> dict[str, bytes | None]:
    """Put the bug into ``tree``; what to restore afterwards (path -> original bytes, None: absent)."""
    originals: dict[str, bytes | None] = {}
    for path in cand.paths:
        target = tree / path
        originals[path] = target.read_bytes() if target.exists() else None
    if cand.edits:
        by_path: dict[str, list[Mutation]] = {}
        for m in cand.edits:
            by_path.setdefault(m.path, []).append(m)
        for path, edits in by_path.items():
            data = originals[path] or b""
            for m in sorted(edits, key=lambda e: e.start, reverse=True):
                data = m.apply(data)
            (tree / path).write_bytes(data)
    else:
        apply_patch(tree, cand.patch)
    return originals


def restore(tree: Path, originals: dict[str, bytes | None]) -> None:
    for path, data in originals.items():
        target = tree / path
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(data)


def procedural(mutations: list[Mutation], seed: int) -> list[Candidate]:
    return [
        Candidate("procedural", f"p-{m.key}", f"{m.path}:{m.function}", m.description, (m,))
        for m in order_candidates(mutations, seed)
    ]


def _overlap(a: Mutation, b: Mutation) -> bool:
    return a.path == b.path and a.start < b.end and b.start < a.end


def combos(mutations: list[Mutation], seed: int, limit: int) -> list[Candidate]:
    """Up to ``limit`` sets of 2-3 non-overlapping mutations inside functions or classes: within
    one function when any has enough of them, else within one file."""
    rng = random.Random(seed + 7)
    inside = [m for m in mutations if m.function]  # module-level code is left to single mutations
    groups: dict[tuple[str, str], list[Mutation]] = {}
    for m in inside:
        groups.setdefault((m.path, m.function), []).append(m)
    by_file: dict[str, list[Mutation]] = {}
    for m in inside:
        by_file.setdefault(m.path, []).append(m)
    pools = [g for g in groups.values() if len(g) >= 2] or [g for g in by_file.values() if len(g) >= 2]
    out: list[Candidate] = []
    seen: set[str] = set()
    attempts = 0
    while pools and len(out) < limit and attempts < limit * 5:
        attempts += 1
        pool = pools[rng.randrange(len(pools))]
        size = min(len(pool), rng.choice((2, 3)))
        picked: list[Mutation] = []
        for m in rng.sample(pool, len(pool)):
            if len({p.line for p in picked} | {m.line}) == len(picked) + 1 and not any(
                _overlap(m, p) for p in picked
            ):
                picked.append(m)
            if len(picked) == size:
                break
        if len(picked) < 2:
            continue
        picked.sort(key=lambda e: (e.path, e.start))
        key = "c-" + hashlib.sha256("|".join(m.key for m in picked).encode()).hexdigest()[:10]
        if key in seen:
            continue
        seen.add(key)
        function = f"{picked[0].path}:{picked[0].function}"
        what = "; ".join(m.description for m in picked)
        out.append(Candidate("combo", key, function, what, tuple(picked)))
    return out


def all_mutations(tree: Path, source_files: tuple[str, ...]) -> list[Mutation]:
    found: list[Mutation] = []
    for rel in source_files:
        found += mutations_for(rel, (tree / rel).read_bytes(), OPERATORS)
    return found
