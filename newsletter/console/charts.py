"""Small server-side SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an <svg role="img"> with a <title> and a <desc> summarising it; the dashboard
also shows the numbers in a table. Every label goes through format_html, so it is escaped.
"""

import math
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from newsletter.console.stats import Series

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 44
# Colour-blind-safe (Okabe-Ito) and dark enough on white for the 3:1 contrast of graphics.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#7a5c00"]


def nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def number(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:.3g}"


def line_chart(chart_id: str, title: str, series: list[Series], unit: str = "") -> SafeString:
    points = series[0].points if series else []
    top = nice_max(max((v for s in series for _, v in s.points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> str:
        return f"{LEFT + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2):.1f}"

    def y(v: float) -> str:
        return f"{TOP + plot_h * (1 - v / top):.1f}"

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="{}" y="{}" class="ylabel">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, y(v), y(v), LEFT - 6, f"{float(y(v)) + 4:.1f}", number(v) + unit)
            for v in (0, top / 2, top)
        ),
    )
    ticks = sorted({0, len(points) // 2, len(points) - 1}) if points else []
    xlabels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}">{}</text>',
        ((x(i), HEIGHT - BOTTOM + 16, anchor(i, len(points)), points[i][0].strftime("%d %b")) for i in ticks),
    )
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
        (
            (
                " ".join(f"{x(i)},{y(v)}" for i, (_, v) in enumerate(s.points)),
                COLOURS[n % len(COLOURS)],
            )
            for n, s in enumerate(series)
        ),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" class="legend">{}</text>',
        (
            (LEFT + 170 * n, HEIGHT - 14, COLOURS[n % len(COLOURS)], LEFT + 170 * n + 16, HEIGHT - 4, s.name)
            for n, s in enumerate(series)
        ),
    )
    return svg(chart_id, title, describe_lines(series, unit), grid + xlabels + lines + legend)


def anchor(i: int, count: int) -> str:
    """The first and last date labels align with the plot's edges, so neither is cut off."""
    return "start" if i == 0 and count > 1 else "end" if i == count - 1 and count > 1 else "middle"


def describe_lines(series: list[Series], unit: str) -> str:
    if not series or not series[0].points:
        return "No data."
    first, last = series[0].points[0][0], series[0].points[-1][0]
    parts = []
    for s in series:
        values = [v for _, v in s.points]
        parts.append(
            f"{s.name}: {number(values[0])}{unit} on {span(first)}, "
            f"{number(values[-1])}{unit} on {span(last)}, highest {number(max(values))}{unit}"
        )
    return "; ".join(parts) + "."


def span(day: date) -> str:
    return day.strftime("%d %b %Y")


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, int]]) -> SafeString:
    """Horizontal bars, one per label, longest first."""
    row_h, label_w = 24, 250
    height = TOP + row_h * max(len(bars), 1) + 8
    top = nice_max(max((v for _, v in bars), default=0))
    scale = (WIDTH - label_w - RIGHT - 40) / top
    rows = format_html_join(
        "",
        '<text x="{}" y="{}" class="barlabel">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" class="value">{}</text>',
        (
            (
                label_w - 8,
                TOP + row_h * i + 16,
                name[:30],
                label_w,
                TOP + row_h * i + 4,
                f"{value * scale:.1f}",
                row_h - 8,
                COLOURS[0],
                f"{label_w + value * scale + 6:.1f}",
                TOP + row_h * i + 16,
                value,
            )
            for i, (name, value) in enumerate(bars)
        ),
    )
    desc = "; ".join(f"{name}: {value}" for name, value in bars) or "No topics."
    return svg(chart_id, title, desc, rows, height=height)


def svg(chart_id: str, title: str, desc: str, body: SafeString, height: int = HEIGHT) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" class="chart" '
        'aria-labelledby="{}-title {}-desc">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH, height, chart_id, chart_id, chart_id, title, chart_id, desc, body,
    )  # fmt: skip
