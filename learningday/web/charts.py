"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable without the page's
styles, and each chart carries a <title> and a text table next to it for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ["#3b5bdb", "#2b8a3e", "#e8590c", "#862e9c", "#c92a2a", "#0b7285"]


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else (f"{value:,.0f}" if value == int(value) else f"{value:,.2f}")


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_chart(
    labels: Sequence[str], values: Sequence[float | None], *, title: str, percent: bool = False, color: str = PALETTE[0]
) -> Markup:
    """Horizontal bars, one per label, with the value at the end of each bar."""
    if not labels:
        return Markup('<p class="muted">No data for this range.</p>')
    row, label_w, bar_w = 26, 170, 380
    numbers = [v or 0.0 for v in values]
    top = 1.0 if percent else (max(numbers) or 1.0)
    height = row * len(labels) + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 70} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 4 + i * row
        width = 0 if value is None else max(1.0, bar_w * (value / top))
        shown = "–" if value is None else _fmt(value, percent)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="chart-label">{escape(_short(str(label)))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row - 8}" rx="3" fill="#f1f3f5"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" rx="3" fill="{color}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 16}" class="chart-value">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str, percent: bool = True
) -> Markup:
    """One line per series over the labels (weeks), with a legend; gaps where a value is None."""
    if not labels:
        return Markup('<p class="muted">No data for this range.</p>')
    width, height, left, bottom, top_pad = 640, 240, 44, 28, 12
    plot_w, plot_h = width - left - 12, height - bottom - top_pad
    everything = [v for values in series.values() for v in values if v is not None]
    top = 1.0 if percent else (max(everything, default=0) or 1.0)
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 22}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        ty = y(tick * top)
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e9ecef"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" class="chart-axis">{_fmt(tick * top, percent)}</text>'
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="chart-axis">{escape(str(label)[5:])}</text>'
            )
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{color}"/>' for px, py in points)
        lx = left + n * 150
        parts.append(
            f'<rect x="{lx}" y="{height + 6}" width="12" height="12" rx="2" fill="{color}"/>'
            f'<text x="{lx + 18}" y="{height + 16}" class="chart-label">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
