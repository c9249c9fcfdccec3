"""Inline SVG plots: histograms, horizontal bars, a line chart (pass@k), per-group reward strips.

Plain strings, no library. Colours come from CSS classes (``ax``, ``bar``, ``ok``, ``bad``,
``infra``, ``line``, ``line2``, ``dot``) that the page defines for light and dark schemes, and text
takes the page's colour, so every plot follows ``prefers-color-scheme``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from swerve.report.stats import histogram

WIDTH = 480
FONT = 11


def _fmt(value: float) -> str:
    """A short label for an axis value."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    label = escape(title)
    return (
        f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "lbl") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" '
        f'font-size="{FONT}">{escape(text)}</text>'
    )


def histogram_svg(values: Sequence[float], *, title: str, unit: str = "", bins: int = 20) -> str:
    """Counts of ``values`` in round-numbered bins, with the median marked."""
    edges, counts = histogram(list(values), bins)
    if not counts:
        return ""
    height, left, right, top, bottom = 170, 36, 10, 22, 34
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max(counts)
    body = [_text(left, 14, title, cls="ttl")]
    bar_w = plot_w / len(counts)
    for i, c in enumerate(counts):
        h = plot_h * c / peak if peak else 0
        x = left + i * bar_w
        tip = f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}{unit}: {c}"
        body.append(
            f'<rect class="bar" x="{x + 0.5:.1f}" y="{top + plot_h - h:.1f}" width="{max(1.0, bar_w - 1):.1f}" '
            f'height="{h:.1f}"><title>{escape(tip)}</title></rect>'
        )
    ordered = sorted(values)
    median = ordered[len(ordered) // 2]
    mx = left + plot_w * (median - edges[0]) / (edges[-1] - edges[0])
    body.append(f'<line class="mark" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}"/>')
    right_half = mx > left + plot_w * 0.6
    body.append(
        _text(
            mx - 3 if right_half else mx + 3,
            top + 10,
            f"median {_fmt(median)}{unit}",
            "end" if right_half else "start",
            cls="note",
        )
    )
    body.append(
        f'<line class="ax" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    step = max(1, math.ceil(len(edges) / 6))
    for i in range(0, len(edges), step):
        x = left + i * bar_w
        body.append(_text(x, height - bottom + 14, _fmt(edges[i]) + unit, "middle"))
    body.append(_text(left - 4, top + 8, _fmt(peak), "end"))
    body.append(_text(left - 4, top + plot_h, "0", "end"))
    body.append(_text(left + plot_w, height - 4, f"n = {len(values)}", "end", cls="note"))
    return _frame(WIDTH, height, title, body)


def bars_svg(items: Sequence[tuple[str, float, str]], *, title: str, unit: str = "") -> str:
    """Horizontal bars: (label, value, css class), largest first as given."""
    if not items:
        return ""
    row, left, top = 18, 150, 22
    height = top + row * len(items) + 8
    peak = max(v for _, v, _ in items) or 1
    total = sum(v for _, v, _ in items) or 1
    body = [_text(4, 14, title, cls="ttl")]
    for i, (label, value, cls) in enumerate(items):
        y = top + i * row
        w = (WIDTH - left - 90) * value / peak
        body.append(_text(left - 6, y + 12, label[:28], "end"))
        body.append(
            f'<rect class="{cls or "bar"}" x="{left}" y="{y + 2}" width="{max(1.0, w):.1f}" height="{row - 5}"/>'
        )
        share = f" ({100 * value / total:.0f}%)" if len(items) > 1 else ""
        body.append(_text(left + w + 4, y + 12, f"{_fmt(round(value, 2))}{unit}{share}"))
    return _frame(WIDTH, height, title, body)


def line_svg(series: Sequence[tuple[str, Sequence[tuple[float, float]]]], *, title: str, x_label: str) -> str:
    """Lines over integer x (k) with y in [0, 1]; one or two series (a run and the one it is compared with)."""
    points = [p for _, pts in series for p in pts]
    if not points:
        return ""
    height, left, right, top, bottom = 190, 40, 14, 22, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    x_max = max(x for x, _ in points)
    x_min = min(x for x, _ in points)
    span = (x_max - x_min) or 1

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + plot_w * (x - x_min) / span, top + plot_h * (1 - y)

    body = [_text(left, 14, title, cls="ttl")]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        _, y = xy(x_min, tick)
        body.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(_text(left - 4, y + 4, f"{tick:g}", "end"))
    for x in sorted({x for x, _ in points}):
        px, _ = xy(x, 0)
        body.append(_text(px, top + plot_h + 14, _fmt(x), "middle"))
    for n, (name, pts) in enumerate(series):
        cls = "line" if n == 0 else "line2"
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(x, y) for x, y in pts))
        body.append(f'<polyline class="{cls}" fill="none" points="{coords}"/>')
        for x, y in pts:
            px, py = xy(x, y)
            tip = f"{name} {x_label} {_fmt(x)}: {y:.3f}"
            body.append(
                f'<circle class="{cls} pt" cx="{px:.1f}" cy="{py:.1f}" r="3"><title>{escape(tip)}</title></circle>'
            )
        if len(series) > 1:
            body.append(
                f'<rect class="{cls} key" x="{left + 8}" y="{top + 4 + n * 14}" width="10" height="3"/>'
            )
            body.append(_text(left + 22, top + 8 + n * 14, name))
    body.append(_text(left + plot_w / 2, height - 4, x_label, "middle", cls="note"))
    return _frame(WIDTH, height, title, body)


def strips_svg(groups: Sequence[tuple[str, Sequence[float], bool]], *, title: str) -> str:
    """One row per group: its rewards as dots on [0, 1] (equal ones side by side), the mean as a tick;
    groups whose rewards are all equal (no signal for group-relative training) are flagged."""
    if not groups:
        return ""
    row, left, right, top = 14, 190, 70, 24
    height = top + row * len(groups) + 24
    plot_w = WIDTH - left - right
    body = [_text(4, 14, title, cls="ttl")]
    for tick in (0, 0.5, 1):
        x = left + plot_w * tick
        body.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{top + row * len(groups)}"/>'
        )
        body.append(_text(x, top + row * len(groups) + 14, f"{tick:g}", "middle"))
    for i, (label, rewards, flat) in enumerate(groups):
        y = top + i * row + row / 2
        body.append(_text(left - 6, y + 4, label[-30:], "end", cls="lbl bad-t" if flat else "lbl"))
        seen: dict[float, int] = {}
        for r in rewards:
            clipped = min(1.0, max(0.0, r))
            n = seen[clipped] = seen.get(clipped, 0) + 1
            step = ((n - 1) % 10) * 3.2  # equal rewards side by side, inward, so each sample shows
            jitter = step if clipped <= 0.5 else -step
            body.append(
                f'<circle class="dot" cx="{left + plot_w * clipped + jitter:.1f}" cy="{y:.1f}" r="2.4"/>'
            )
        m = sum(rewards) / len(rewards)
        mx = left + plot_w * min(1.0, max(0.0, m))
        body.append(f'<line class="mark" x1="{mx:.1f}" x2="{mx:.1f}" y1="{y - 5:.1f}" y2="{y + 5:.1f}"/>')
        if flat:
            body.append(_text(left + plot_w + 6, y + 4, "no signal", cls="note bad-t"))
    return _frame(WIDTH, height, title, body)
