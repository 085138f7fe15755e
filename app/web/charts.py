"""Charts drawn on the server as inline SVG (服务端生成的图表): no JavaScript, no external assets.

Every text that comes from data (a department's name, a week) is escaped; values are shares in
[0, 1], drawn to scale and written as percentages. Each chart is an ``<svg role="img">`` with an
``aria-label`` and a ``<title>``; each bar or point has a ``<title>`` of its own (label and value).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = 'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"'
ACCENT = "#8b1a1a"
MUTED = "#66717d"
GRID = "#d9dee3"
EMPTY = "暂无数据"


def percent(value: float) -> str:
    """A share as a percentage with one decimal: ``0.6667`` → ``66.7%``."""
    return f"{value * 100:.1f}%"


def _share(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _open(title: str, width: int, height: int) -> str:
    label = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" '
            f'{FONT} font-size="12">'
            f"<title>{label}</title>")  # fmt: skip


def _empty(title: str, width: int) -> Markup:
    return Markup(_open(title, width, 40) + f'<text x="8" y="24" fill="{MUTED}">{EMPTY}</text></svg>')


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str = "销号率",
    width: int = 560,
    label_width: int = 150,
    bar_height: int = 18,
    gap: int = 8,
) -> Markup:
    """Horizontal bars, one per ``(label, share)`` row, in the given order, each bar's length its share.

    Args:
        rows: labels (escaped here) and shares in [0, 1] (clamped).
        title: what the chart shows, for screen readers and as its tooltip.
        width: the whole chart's width; the bars get what the labels and the percentages leave.
    """
    if not rows:
        return _empty(title, width)
    plot = width - label_width - 60
    height = len(rows) * (bar_height + gap) + gap
    parts = [_open(title, width, height)]
    for k, (label, value) in enumerate(rows):
        y = gap + k * (bar_height + gap)
        share, text_y = _share(value), y + bar_height * 0.75
        name, shown = escape(label), percent(share)
        parts.append(
            f'<g><title>{name}：{shown}</title>'
            f'<text x="{label_width - 6}" y="{text_y:.1f}" text-anchor="end">{name}</text>'
            f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="{GRID}" '
            f'opacity="0.4"/>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{share * plot:.1f}" height="{bar_height}" '
            f'fill="{ACCENT}"/>'
            f'<text x="{label_width + share * plot + 4:.1f}" y="{text_y:.1f}">{shown}</text></g>'
        )  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str = "累计销号率趋势",
    width: int = 560,
    height: int = 220,
) -> Markup:
    """A line through ``(label, share)`` points from left to right, on a 0–100 % axis.

    Args:
        points: x labels (escaped here) and shares in [0, 1] (clamped).
        title: what the chart shows, for screen readers and as its tooltip.
    """
    if not points:
        return _empty(title, width)
    left, right, top, bottom = 48, 32, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / (len(points) - 1) if len(points) > 1 else 0.0
    xy = [(left + (k * step if len(points) > 1 else plot_w / 2), top + (1 - _share(v)) * plot_h)
          for k, (_, v) in enumerate(points)]  # fmt: skip
    parts = [_open(title, width, height), *_axis(left, top, plot_w, plot_h)]
    parts.append(f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" '
                 f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in xy)}"/>')  # fmt: skip
    every = max(1, -(-len(points) // 8))  # at most 8 x labels, evenly spaced back from the last
    for k, ((label, value), (x, y)) in enumerate(zip(points, xy, strict=True)):
        name, shown = escape(label), percent(_share(value))
        parts.append(f'<g><title>{name}：{shown}</title>'
                     f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
                     f'fill="{ACCENT}"/></g>')  # fmt: skip
        if (len(points) - 1 - k) % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{MUTED}">'
                         f"{name}</text>")  # fmt: skip
    last_x, last_y = xy[-1]
    parts.append(f'<text x="{last_x:.1f}" y="{max(last_y - 8, top + 10):.1f}" text-anchor="end">'
                 f"{percent(_share(points[-1][1]))}</text></svg>")  # fmt: skip
    return Markup("".join(parts))


def _axis(left: int, top: int, plot_w: int, plot_h: int) -> list[str]:
    """Horizontal grid lines at 0, 25, 50, 75 and 100 %, labelled on the left."""
    lines = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + (1 - share) * plot_h
        lines.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                     f"{share:.0%}</text>")  # fmt: skip
    return lines
