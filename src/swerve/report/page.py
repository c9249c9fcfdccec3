"""The page: one HTML file with its styles, script, figures and data inline, and no network at all.

The data is JSON in ``<script type="application/json">`` elements (``report-data``: the run, its
figures and one row per episode; ``report-trajectories``: the packed episode details), read by the
inline script that draws the tables and the trajectory viewer. The fixed sections are HTML already.
"""

from __future__ import annotations

import datetime
import json
from html import escape
from importlib import resources
from typing import Any

from swerve import __version__
from swerve.report import sections
from swerve.report.model import Episode, Run

SCHEMA = "swerve.report/1"
ROW_COLUMNS = (
    "key", "task", "sample", "repo", "label", "outcome", "klass", "reward", "exit", "cause", "turns",
    "tokens_in", "tokens_out", "model_s", "env_s", "verify_s", "total_s", "f2p", "p2p", "counted",
)  # fmt: skip
CAUSE_CHARS = 300


def _asset(name: str) -> str:
    return (resources.files("swerve.report") / "assets" / name).read_text(encoding="utf-8")


def _tests(e: Episode, group: str) -> str:
    found = e.tests.get(group)
    return f"{found[0]}/{found[1]}" if found else ""


def episode_row(e: Episode) -> list[Any]:
    t = e.timings
    return [
        e.key, e.task_id, e.sample, e.repo, e.label, e.outcome, e.klass, e.reward, e.exit_reason,
        e.cause[:CAUSE_CHARS], e.turns, e.input_tokens, e.output_tokens, t.get("model_s"), t.get("env_s"),
        t.get("verify_s"), t.get("total_s"), _tests(e, "FAIL_TO_PASS"), _tests(e, "PASS_TO_PASS"), e.counted,
    ]  # fmt: skip


def script_json(value: Any) -> str:
    """JSON that is safe inside a script element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def page_data(run: Run, figures: dict[str, Any], comparison: dict[str, Any] | None, served: bool,
              stamp: str) -> dict[str, Any]:  # fmt: skip
    table_figures = {k: v for k, v in figures.items() if k not in ("series", "groups")}
    return {
        "schema": SCHEMA,
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "swerve": __version__,
        "served": served,
        "stamp": stamp,
        "run": {
            "kind": run.kind,
            "title": run.title,
            "path": run.path,
            "run_id": run.run_id,
            "model": run.model,
            "samples": run.samples,
            "planned": run.planned,
            "live": run.live,
            "problems": run.problems,
            "note_columns": run.note_columns,
        },
        "figures": table_figures,
        "groups": [{k: v for k, v in g.items() if k != "rewards"} for g in figures["groups"]],
        "columns": list(ROW_COLUMNS),
        "episodes": [episode_row(e) for e in run.episodes],
        "compare": comparison,
    }


def _header(run: Run, generated: str) -> str:
    live = '<span class="badge live">live</span>' if run.live else ""
    meta = [f"model <b>{escape(run.model or '?')}</b>", f"<code>{escape(run.path)}</code>"]
    if run.created_at:
        meta.append(f"started {escape(run.created_at[:19].replace('T', ' '))}")
    if run.updated_at:
        meta.append(f"updated {escape(run.updated_at[:19].replace('T', ' '))}")
    meta.append(f"page made {escape(generated[:19].replace('T', ' '))} UTC by swerve {escape(__version__)}")
    facts = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in run.facts)
    return (
        f'<header><h1>{escape(run.title)} <span class="id">{escape(run.run_id)}</span> {live}</h1>'
        f'<p class="meta">{" · ".join(meta)}</p><dl class="facts">{facts}</dl></header>'
    )


def _banner(run: Run) -> str:
    if not run.problems:
        return ""
    items = "".join(f"<li>{escape(p)}</li>" for p in run.problems[:50])
    more = f"<li>… {len(run.problems) - 50} more</li>" if len(run.problems) > 50 else ""
    return (
        f'<div class="banner" role="alert" id="problems"><b>This run is incomplete or has unreadable parts; '
        f"the page shows the rest.</b><ul>{items}{more}</ul></div>"
    )


def _tables(run: Run, figures: dict[str, Any]) -> str:
    parts = ['<section id="tasks"><h2>Tasks</h2><div class="table" id="task-table"></div></section>']
    if len({e.repo for e in run.episodes}) > 1:
        parts.append(
            '<section id="repos"><h2>Repositories</h2><div class="table" id="repo-table"></div></section>'
        )
    if len(run.episodes) > len(figures["tasks"]):
        parts.append(
            '<section id="episodes"><h2>Episodes</h2><div class="table" id="episode-table"></div></section>'
        )
    return "".join(parts)


VIEWER = """<div id="viewer" hidden><div class="viewer-box" role="dialog" aria-modal="true" aria-labelledby="viewer-title">
<div class="viewer-head"><h2 id="viewer-title"></h2><div id="viewer-samples"></div>
<button type="button" id="viewer-close" aria-label="close">×</button></div>
<div id="viewer-body"></div></div></div>"""


def render(
    run: Run,
    figures: dict[str, Any],
    packed: dict[str, Any],
    *,
    comparison: dict[str, Any] | None = None,
    served: bool = False,
    stamp: str = "",
) -> str:
    """The whole page as one string."""
    data = page_data(run, figures, comparison, served, stamp)
    trajectories = dict(packed)
    if served:
        trajectories["count"] = len(trajectories.pop("chunks"))  # fetched from the server instead
    body = "".join(
        [
            _header(run, data["generated_at"]),
            _banner(run),
            sections.summary_cards(run, figures),
            sections.compare_section(comparison),
            sections.outcome_section(figures),
            sections.pass_at_k_section(figures, comparison),
            sections.groups_section(figures),
            sections.time_section(figures),
            _tables(run, figures),
            VIEWER,
        ]
    )
    title = f"{run.title} {run.run_id} · swerve"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
        + ("connect-src 'self'" if served else "connect-src 'none'")
        + '">'
        f"<title>{escape(title)}</title><style>{_asset('report.css')}</style></head>"
        f'<body data-kind="{escape(run.kind)}"><main>{body}</main>'
        f'<script type="application/json" id="report-data">{script_json(data)}</script>'
        f'<script type="application/json" id="report-trajectories">{script_json(trajectories)}</script>'
        f"<script>{_asset('report.js')}\n{_asset('viewer.js')}</script>"
        "</body></html>\n"
    )
