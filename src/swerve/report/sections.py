"""The page's fixed sections as HTML: summary cards, outcomes, pass@k, groups, time and tokens,
the comparison. Rendered here (not by the page's script) so they read the same in any viewer;
every figure card carries ``data-figure`` so that tests can find it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from swerve.report import svg
from swerve.report.model import Run, klass_of

MAX_STRIPS = 60  # groups drawn in the reward-strip plot; the table lists them all
HISTOGRAMS = (  # series key, unit, title
    ("total_s", " s", "time per episode"),
    ("model_s", " s", "model time per episode"),
    ("env_s", " s", "tool-call time per episode"),
    ("verify_s", " s", "verification time per episode"),
    ("build_s", " s", "environment build time per episode"),
    ("tests_s", " s", "test time per episode"),
    ("tokens", "", "tokens per episode (input + output)"),
    ("turns", "", "turns per episode"),
)


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def card(figure: str, value: str, label: str, detail: str = "", cls: str = "") -> str:
    extra = f'<div class="ci">{escape(detail)}</div>' if detail else ""
    return (
        f'<div class="card {cls}" data-figure="{figure}"><div class="v">{escape(value)}</div>'
        f'<div class="l">{escape(label)}</div>{extra}</div>'
    )


def rate_detail(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "nothing graded yet"
    return f"{pct(rate['rate'])}  95% CI {pct(rate['low'])}–{pct(rate['high'])} (Wilson)"


def summary_cards(run: Run, f: dict[str, Any]) -> str:
    r = f["resolved"]
    reward = f["reward"]
    cards = [
        card(
            "resolved",
            f"{r['successes']} / {r['n']}",
            "resolved (of graded episodes)",
            rate_detail(r),
            "main",
        ),
        card(
            "reward",
            num(reward["mean"]),
            "mean reward",
            f"95% CI {num(reward['low'])}–{num(reward['high'])} (bootstrap over tasks)"
            if reward["n"]
            else "",
        ),
        card("pass1", pct(f["pass@1"]), "pass@1 (mean over tasks)"),
    ]
    k = f["samples"]
    top = next((p for p in f["pass_at_k"] if p["k"] == k), None)
    if k > 1 and top:
        cards.append(
            card("passk", pct(top["value"]), f"pass@{k}", f"over {top['tasks']} tasks (unbiased estimator)")
        )
    cards.append(
        card(
            "failed",
            str(f["failed"]),
            "failed (the agent's)",
            "unresolved, empty or bad patch, tests timed out",
        )
    )
    cards.append(
        card(
            "infra",
            str(f["infra"]),
            "infrastructure errors",
            "kept apart: never a reward of 0",
            "warn" if f["infra"] else "",
        )
    )
    unstored = max(0, f["planned"] - f["episodes"]) if f["planned"] is not None else 0
    missing = f["pending"] + unstored
    if missing:
        cards.append(
            card("pending", str(missing), "not finished yet", f"of {f['planned'] or '?'} planned", "warn")
        )
    if run.kind == "validation":
        valid = sum(1 for n in run.task_notes.values() if n.get("valid") == "yes")
        total = len(run.task_notes)
        if total:
            valid_card = card(
                "valid", f"{valid} / {total}", "valid tasks", "gold resolves, no patch fails", "main"
            )
        else:
            valid_card = card(
                "valid", "–", "valid tasks", "known when the validation report is written", "main"
            )
        cards.insert(0, valid_card)
        bare = [e for e in run.episodes if e.label == "no-patch"]
        cards.append(
            card(
                "bare",
                f"{sum(e.resolved for e in bare)} / {len(bare)}",
                "resolved with no patch",
                "should be 0",
            )
        )
    return '<section id="summary" class="cards">' + "".join(cards) + "</section>"


def outcome_section(f: dict[str, Any]) -> str:
    outcomes = [(name, float(n), klass_of(name)) for name, n in f["outcomes"].items()]
    plots = [
        svg.bars_svg(
            [
                (o, n, {"resolved": "ok", "infra": "infra", "failed": "bad"}.get(c, "bar"))
                for o, n, c in outcomes
            ],
            title="outcomes",
        )
    ]
    if f["exit_reasons"]:
        plots.append(
            svg.bars_svg([(k, float(v), "bar") for k, v in f["exit_reasons"].items()], title="exit reasons")
        )
    causes = ""
    if f["infra_causes"]:
        items = "".join(
            f"<li><b>{n}×</b> <code>{escape(c)}</code></li>" for c, n in f["infra_causes"].items()
        )
        causes = f'<div class="causes"><h3>infrastructure errors, by cause</h3><ul>{items}</ul></div>'
    return _section("outcomes", "Outcomes", _grid(plots) + causes)


def pass_at_k_section(f: dict[str, Any], other: dict[str, Any] | None) -> str:
    curve = [(p["k"], p["value"]) for p in f["pass_at_k"]]
    if len(curve) < 2:
        return ""
    series = [("this run", curve)]
    if other and len(other["other_pass_at_k"]) > 1:
        series.append(("compared run", [(p["k"], p["value"]) for p in other["other_pass_at_k"]]))
    plot = svg.line_svg(series, title="pass@k over samples (unbiased, mean over tasks)", x_label="k")
    return _section("passk", "pass@k", _grid([plot]))


def groups_section(f: dict[str, Any]) -> str:
    groups = f["groups"]
    if not groups:
        return ""
    flat = [g for g in groups if g["no_signal"]]
    shown = sorted(groups, key=lambda g: (g["mean"], g["group"]))[:MAX_STRIPS]
    plot = svg.strips_svg(
        [(g["group"], g["rewards"], g["no_signal"]) for g in shown],
        title=f"reward per group ({len(shown)} of {len(groups)} groups, lowest mean first)",
    )
    note = (
        f'<p data-figure="no_signal"><b>{len(flat)}</b> of {len(groups)} groups have no signal '
        "(every sample got the same reward, so a group-relative advantage is zero); the task table "
        "marks them.</p>"
    )
    return _section("groups", "Reward per group", note + _grid([plot]))


def time_section(f: dict[str, Any]) -> str:
    series = f["series"]
    plots = []
    if f["phases"]:
        plots.append(
            svg.bars_svg(
                [(label, total, "bar") for label, total in f["phases"]],
                title="where the time goes (seconds, all episodes)",
                unit=" s",
            )
        )
    for key, unit, title in HISTOGRAMS:
        if series.get(key):
            plots.append(svg.histogram_svg(series[key], title=title, unit=unit))
    if not plots:
        return ""
    tokens = series.get("input_tokens")
    note = ""
    if tokens:
        total_in, total_out = sum(tokens), sum(series.get("output_tokens", []))
        note = (
            f'<p data-figure="tokens">tokens: <b>{int(total_in)}</b> input, <b>{int(total_out)}</b> output; '
            f"per episode {total_in / len(tokens):.0f} input, {total_out / len(tokens):.0f} output</p>"
        )
    return _section("time", "Time and tokens", note + _grid(plots))


def compare_section(c: dict[str, Any] | None) -> str:
    if c is None:
        return ""
    other = c["other"]
    d = c["difference"]
    cards = [
        card(
            "this_resolved",
            f"{c['this_resolved']['successes']} / {c['this_resolved']['n']}",
            "this run resolved",
            rate_detail(c["this_resolved"]),
        ),
        card(
            "other_resolved",
            f"{c['other_resolved']['successes']} / {c['other_resolved']['n']}",
            "compared run resolved",
            rate_detail(c["other_resolved"]),
        ),
    ]
    if d:
        cards.append(
            card(
                "difference",
                f"{100 * d['mean']:+.1f} pts",
                "difference per task (this − other)",
                f"95% CI {100 * d['low']:+.1f} to {100 * d['high']:+.1f} pts (paired bootstrap, {d['n']} tasks)",
                "main",
            )
        )
        cards.append(card("wins", f"{d['wins']} / {d['losses']} / {d['ties']}", "wins / losses / ties"))
    only = f"{c['only_this']} tasks only in this run, {c['only_other']} only in the compared run"
    head = (
        f"<p>Compared with <b>{escape(other['title'])} {escape(other['run_id'])}</b> "
        f"(model {escape(other['model'] or '?')}, <code>{escape(other['path'])}</code>); {only}.</p>"
    )
    problems = ""
    if other["problems"]:
        problems = (
            '<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in other["problems"]) + "</ul>"
        )
    table = '<div class="table" id="compare-table"></div>'
    return _section(
        "compare",
        "Compared with another run",
        head + problems + '<div class="cards">' + "".join(cards) + "</div>" + table,
    )


def _grid(plots: list[str]) -> str:
    return '<div class="plots">' + "".join(f"<figure>{p}</figure>" for p in plots if p) + "</div>"


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{body}</section>'
