"""Build-time SVG charts: inline, no JavaScript, byte-identical for the same data.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>`` (a
sentence with every number), and the page prints the same numbers as a data table beside it.
Colours come from classes styled in the site's CSS (no ``style`` attributes, which the
Content-Security-Policy forbids), so the charts follow the light and dark themes. Coordinates are
integers or fixed to one decimal, so the bytes never depend on float formatting.
"""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

from ketsite.site.evidence import DesignBar, YearCount


def _n(value: float) -> str:
    """A coordinate: an integer when whole, else one decimal."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _ticks(top: int) -> list[int]:
    step = max(1, math.ceil(top / 4))
    return list(range(0, top + step, step)) if top else [0]


def _open(chart_id: str, title: str, desc: str, width: int, height: int, cls: str) -> list[str]:
    return [
        f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def years_chart(chart_id: str, title: str, years: tuple[YearCount, ...]) -> Markup:
    """Vertical bars, one per year from the first to the last (empty years stay visible)."""
    total = sum(y.count for y in years)
    listed = "; ".join(f"{y.year}: {y.count}" for y in years if y.count)
    span = f"from {years[0].year} to {years[-1].year}" if years else "none"
    desc = f"{_plural(total, 'paper')} {span}. Papers per year — {listed or 'none'}."
    width, height = 640, 220
    left, right, top, bottom = 36, 8, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((y.count for y in years), default=0)
    ticks = _ticks(peak)
    scale_top = ticks[-1] or 1
    out = _open(chart_id, title, desc, width, height, "chart-years")
    for t in ticks:
        y = top + plot_h - plot_h * t / scale_top
        out.append(f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{_n(y)}" '
                   f'y2="{_n(y)}"/>')
        out.append(f'<text class="chart-label" x="{left - 6}" y="{_n(y + 4)}" '
                   f'text-anchor="end">{t}</text>')
    n = max(len(years), 1)
    slot = plot_w / n
    bar = max(1.0, slot * 0.7)
    every = 1 if n <= 12 else 5
    for i, y in enumerate(years):
        x = left + i * slot + (slot - bar) / 2
        h = plot_h * y.count / scale_top
        if y.count:
            out.append(
                f'<rect class="chart-bar" x="{_n(x)}" y="{_n(top + plot_h - h)}" width="{_n(bar)}" '
                f'height="{_n(h)}"><title>{y.year}: {_plural(y.count, "paper")}</title></rect>'
            )
        if every == 1 or y.year % every == 0 or i in (0, n - 1):
            cx = x + bar / 2
            out.append(f'<text class="chart-label" x="{_n(cx)}" y="{height - bottom + 16}" '
                       f'text-anchor="middle">{y.year}</text>')
    out.append(f'<line class="chart-axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
               f'y2="{top + plot_h}"/>')
    out.append(f'<text class="chart-label" x="{left}" y="{height - 4}">Year of publication; '
               'bar height: number of papers</text>')
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 — every text node above is escaped or a number


#: direction id (None: not recorded) → CSS class of its segment
SEGMENT_CLASS = {
    "benefit": "seg-benefit", "no-benefit": "seg-no-benefit", "mixed": "seg-mixed",
    "harm": "seg-harm", "not-applicable": "seg-not-applicable", None: "seg-none",
}


def designs_chart(chart_id: str, title: str, bars: tuple[DesignBar, ...]) -> Markup:
    """Horizontal stacked bars: one per design, split by direction of effect."""
    total = sum(b.total for b in bars)
    parts = []
    for b in bars:
        split = ", ".join(f"{label.lower()} {n}" for _, label, n in b.segments)
        parts.append(f"{b.label}: {b.total} ({split})")
    desc = f"{_plural(total, 'paper')} by study design and direction of effect. " + (
        "; ".join(parts) + "." if parts else "None.")
    label_w, right, row_h, top = 210, 40, 26, 8
    width = 640
    directions = []
    for b in bars:
        for direction, label, _ in b.segments:
            if (direction, label) not in directions:
                directions.append((direction, label))
    order = list(SEGMENT_CLASS)
    directions.sort(key=lambda d: order.index(d[0]))
    legend_h = 28 if directions else 0
    height = top + row_h * max(len(bars), 1) + legend_h + 8
    plot_w = width - label_w - right
    peak = max((b.total for b in bars), default=1) or 1
    out = _open(chart_id, title, desc, width, height, "chart-designs")
    for i, b in enumerate(bars):
        y = top + i * row_h
        out.append(f'<text class="chart-label" x="{label_w - 8}" y="{y + 17}" '
                   f'text-anchor="end">{escape(b.label)}</text>')
        x = float(label_w)
        for direction, label, n in b.segments:
            w = plot_w * n / peak
            out.append(
                f'<rect class="chart-seg {SEGMENT_CLASS[direction]}" x="{_n(x)}" y="{y + 4}" '
                f'width="{_n(w)}" height="{row_h - 8}"><title>{escape(b.label)}, '
                f'{escape(label.lower())}: {n}</title></rect>'
            )
            x += w
        out.append(f'<text class="chart-label" x="{_n(x + 6)}" y="{y + 17}">{b.total}</text>')
    ly = top + row_h * max(len(bars), 1) + 10
    lx = 0
    for direction, label in directions:
        out.append(f'<rect class="chart-seg {SEGMENT_CLASS[direction]}" x="{lx}" y="{ly}" '
                   'width="12" height="12"/>')
        out.append(f'<text class="chart-label" x="{lx + 16}" y="{ly + 11}">{escape(label)}</text>')
        lx += 24 + 8 * len(label)
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 — every text node above is escaped or a number
