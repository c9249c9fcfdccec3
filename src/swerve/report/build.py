"""From a run on disk to the page: load, summarise, compare, pack, render, write.

``write_report`` is what ``swerve report`` runs; ``publish`` is what the end of ``swerve eval``
and ``swerve gym run`` call: it never raises, since a report that cannot be made must not turn a
finished run into a failed command.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.report.loaders import ReportError, load_run
from swerve.report.model import Run

DEFAULT_BUDGET_MB = 8.0  # of packed trajectories inline: long texts fold to fit; --serve has no limit


@dataclass
class Built:
    """A rendered page and what it was made of."""

    html: str
    run: Run
    packed: dict[str, Any]
    stamp: str


def stamp_of(paths: list[str]) -> str:
    """A short fingerprint of the files a run was read from (size and modification time)."""
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        try:
            st = os.stat(path)
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()[:16]


def build(
    path: str | os.PathLike[str],
    *,
    compare: str | os.PathLike[str] | None = None,
    budget_mb: float = DEFAULT_BUDGET_MB,
    served: bool = False,
    known_sources: list[str] | None = None,
) -> Built:
    """The page for the run at ``path`` (ReportError when it is no run).

    ``known_sources``: the files an earlier build read. Their fingerprint is taken before reading,
    so that a change made while reading gives a stamp that differs from the files' next one (and
    another build), never a stale page with a current stamp."""
    from swerve.report.compare import compare as compare_runs
    from swerve.report.pack import pack
    from swerve.report.page import render
    from swerve.report.summary import summarise

    before = stamp_of(known_sources) if known_sources else ""
    run = load_run(path)
    run.sources.append(str(path))
    same = known_sources is not None and set(known_sources) == set(run.sources)
    stamp = before if same else "new-" + stamp_of(run.sources)
    figures = summarise(run)
    comparison = None
    if compare is not None:
        other = load_run(compare)
        comparison = compare_runs(run, figures, other, summarise(other))
    packed = pack(run.episodes, budget_mb * 1024 * 1024)
    if packed["omitted"]:
        run.problem(
            f"{packed['omitted']} episodes' trajectories are not in this file (its size budget of "
            f"{budget_mb:g} MB was reached): open them with `swerve report --serve {path}`, or raise --max-mb"
        )
    elif packed["folded"]:
        run.facts.append(
            (
                "long texts",
                f"folded shorter in {packed['folded']} episodes to fit {budget_mb:g} MB (--serve: in full)",
            )
        )
    html = render(run, figures, packed, comparison=comparison, served=served, stamp=stamp)
    return Built(html, run, packed, stamp)


def default_output(run: Run) -> Path:
    """Where a run's page goes by default: beside its report file, or inside its run directory."""
    path = Path(run.path)
    if path.is_file():
        return path.with_suffix(".html")
    if run.kind == "gym":
        return path / "report.html"
    return path / f"report.{run.run_id}.html"


def write_atomic(path: Path, text: str) -> None:
    """Write under a temporary name, then rename: a reader sees the old page or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    compare: str | os.PathLike[str] | None = None,
    budget_mb: float = DEFAULT_BUDGET_MB,
) -> tuple[Path, Built]:
    """Build the page for ``path`` and write it (to ``output``, or beside the run)."""
    built = build(path, compare=compare, budget_mb=budget_mb)
    target = Path(output) if output is not None else default_output(built.run)
    write_atomic(target, built.html)
    return target, built


def publish(path: str | os.PathLike[str]) -> tuple[Path | None, str]:
    """Write the page of a run that just ended: (its path, "") or (None, why it could not be made)."""
    try:
        target, _ = write_report(path)
    except ReportError as exc:
        return None, str(exc)
    except Exception as exc:  # the run itself is done and kept; only its page is missing
        return None, f"{type(exc).__name__}: {exc}"
    return target, ""
