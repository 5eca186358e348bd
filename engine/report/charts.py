"""Horizontal bar charts as SVG text, for the run's ``report.html`` and the review service's model page.

Pure: figures in, SVG text out. Every text drawn is escaped (:func:`text`), so a label taken from data
(a model id, a subject's name) can never become markup; no script, no style attribute (presentation
attributes only, which a ``default-src 'self'`` CSP allows).

Example::

    bar_chart([("张伟", 3000.0), ("李娜", 1200.0)], "金额最大的线索（元）")
    bars_svg([Bar("线索", 12, 20, "12"), Bar("成案率", 0.5, 1, "50.0%", fill="#2e7d32")], title="m01")
"""

from __future__ import annotations

import html
from dataclasses import dataclass


def _num(value: float | int) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _attrs(attrs: dict) -> str:
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{html.escape(str(v))}"' for k, v in attrs.items()
                   if v is not None)


def text(x: float | int, y: float | int, content: str, **attrs) -> str:
    """A ``<text>`` element; the content is escaped."""
    return f'<text x="{_num(x)}" y="{_num(y)}"{_attrs(attrs)}>{html.escape(content)}</text>'


def rect(x: float | int, y: float | int, width: float | int, height: float | int, title: str | None = None,
         **attrs) -> str:
    """A ``<rect>`` element (``class_`` → ``class``); with ``title``, an escaped tooltip inside it."""
    head = f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}"{_attrs(attrs)}'
    return f"{head}><title>{html.escape(title)}</title></rect>" if title is not None else f"{head}/>"


def bar_chart(rows: list[tuple[str, float]], unit: str) -> str:
    """The report's chart: one bar per (label, value), all on the scale of the largest."""
    if not rows:
        return ""
    width, bar_h, gap, label_w = 720, 16, 6, 210
    top = max(v for _, v in rows) or 1.0
    height = len(rows) * (bar_h + gap) + 24
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="chart">', text(0, 12, unit)]
    for i, (label, value) in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        w = max(2.0, (width - label_w - 120) * value / top)
        parts.append(text(0, y + 12, label[:16]))
        parts.append(rect(label_w, y, float(w), bar_h, fill="#7a1f1f", opacity="0.8"))
        parts.append(text(float(label_w + w + 6), y + 12, f"{value:,.2f}" if unit.endswith("元）") else f"{value:g}"))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    """One bar: ``value`` drawn against ``scale`` (the value of a full-length bar), ``shown`` beside it."""
    label: str
    value: float
    scale: float
    shown: str
    kind: str = "bar"          # the element's class, for styling and tests
    fill: str = "#7a1c1c"


BAR_PLOT, BAR_LABEL, BAR_HEIGHT, BAR_GAP, BAR_VALUE = 360, 80, 16, 6, 80


def bar_length(value: float, scale: float) -> float:
    """The drawn length of a bar: proportional to ``value / scale`` (0 for nothing to draw)."""
    if not scale or value <= 0:
        return 0.0
    return round(BAR_PLOT * min(value / scale, 1.0), 1)


def bars_svg(bars: list[Bar], title: str) -> str:
    """Bars of their own scales (counts against one total, a rate against 1), one row each, under a title."""
    width = BAR_LABEL + BAR_PLOT + BAR_VALUE
    height = 24 + len(bars) * (BAR_HEIGHT + BAR_GAP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{html.escape(title)}">',
             text(0, 14, title, class_="title", font_weight="bold", font_size="13")]
    for i, bar in enumerate(bars):
        y = 22 + i * (BAR_HEIGHT + BAR_GAP)
        length = bar_length(bar.value, bar.scale)
        parts.append(text(0, y + 12, bar.label, class_="label", font_size="12"))
        parts.append(rect(BAR_LABEL, y, float(length), BAR_HEIGHT, title=f"{bar.label} {bar.shown}",
                          class_=bar.kind, fill=bar.fill))
        parts.append(text(float(BAR_LABEL + length + 6), y + 12, bar.shown, class_="value", font_size="12"))
    parts.append("</svg>")
    return "".join(parts)
