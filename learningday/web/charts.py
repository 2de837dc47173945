"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable without the page's
styles, and each chart carries a <title> and a text table next to it for screen readers.

They are meant to read at a glance, so the drawing never hides what it shows:
- a label gets the room its text needs, estimated here from its characters (the server draws
  before any browser measures); one too long for the widest column is cut with "…" and keeps its
  full text as a tooltip (<title>);
- each series has its own colour and dash, named in a legend whose entries never overlap;
- one week is drawn as labelled bars, one per series: a line needs two points, a lone dot reads
  as nothing;
- text stays readable on a phone: an SVG scales as a whole, so a 640-unit chart on a 330 px
  screen would shrink its 12 px text to 6 px. `for_every_screen` draws each chart twice, for a
  laptop and for a phone (PHONE units wide, labels above their bars), and the stylesheet shows
  the one that fits the screen; no script decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

PALETTE = ["#3b5bdb", "#2b8a3e", "#e8590c", "#862e9c", "#c92a2a", "#0b7285"]
DASHES = ["", "7 4", "2 3"]  # lines that coincide (a week where everyone kept the day) stay apart
WIDTH = 640  # a laptop chart's viewBox width: the page scales it, so text sizes are in these units
PHONE = 300  # a phone chart's: about a card's width on a 360 px screen (on a wider one text grows)
FONT = 12  # svg.chart text in app.css
LABEL_MIN, LABEL_MAX = 60, 300  # the label column's width, whatever the labels
GAP = 8  # between a label and its bar, a bar and its value

# Advance widths in em of a sans-serif font, by kind of character: wider than most fonts measure,
# so an estimate errs on the side of room.
_NARROW, _WIDE = set("iljtf.,:;'|!()[] "), set("mwMW@%")


def text_width(text: str, size: float = FONT) -> float:
    """The width `text` takes at `size` px, estimated from its characters."""
    em = sum(
        0.34 if c in _NARROW else 0.95 if c in _WIDE else 0.74 if c.isupper() or c.isdigit() else 0.6 for c in text
    )
    return em * size


def _fit(text: str, room: float) -> str:
    """`text`, or as much of it as fits in `room` followed by "…"."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _label(text: str, x: float, y: float, room: float, css: str = "chart-label", anchor: str = "end") -> str:
    shown = _fit(text, room)
    tooltip = f"<title>{escape(text)}</title>" if shown != text else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{css}">{tooltip}{escape(shown)}</text>'


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else (f"{value:,.0f}" if value == int(value) else f"{value:,.2f}")


def for_every_screen(draw: Callable[..., Markup], labels: Sequence[str], *args: object, **kwargs: object) -> Markup:
    """The chart `draw(labels, …)` makes, drawn for a laptop and for a phone; app.css shows one."""
    if not labels:
        return draw(labels, *args, **kwargs)
    return draw(labels, *args, **kwargs, width=WIDTH) + draw(labels, *args, **kwargs, width=PHONE)


def _svg(width: float, height: float, title: str) -> str:
    screen = "chart-wide" if width >= WIDTH else "chart-phone"
    return (
        f'<svg class="chart {screen}" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )


def _wrap(text: str, room: float, lines: int = 2) -> list[str]:
    """`text` in at most `lines` lines that fit `room`, the last cut with "…" when it must be."""
    wrapped = [""]
    for word in text.split():
        joined = f"{wrapped[-1]} {word}".strip()
        if text_width(joined) <= room or not wrapped[-1] or len(wrapped) == lines:
            wrapped[-1] = joined
        else:
            wrapped.append(word)
    return [_fit(line, room) for line in wrapped]


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    percent: bool = False,
    color: str = PALETTE[0],
    colors: Sequence[str] | None = None,
    caption: str | None = None,
    width: float = WIDTH,
) -> Markup:
    """Horizontal bars, one per label, with the value at the end of each bar; `colors` gives
    each bar its own (a series' colour), `caption` a line above them. Narrower than WIDTH (a
    phone), each label sits above its bar, across the chart's whole width on up to two lines."""
    if not labels:
        return Markup('<p class="muted">No data for this range.</p>')
    stacked, line = width < WIDTH, 15
    numbers = [v or 0.0 for v in values]
    top = 1.0 if percent else (max(numbers) or 1.0)
    shown = ["–" if v is None else _fmt(v, percent) for v in values]
    label_w = 0 if stacked else min(LABEL_MAX, max(LABEL_MIN, max(text_width(str(label)) for label in labels) + GAP))
    value_w = max(text_width(s) for s in shown) + GAP
    bar_w = width - label_w - value_w - GAP
    parts, y = [], 4 + (20 if caption else 0)
    if caption:
        parts.append(_label(caption, 0, 14, width, css="chart-axis", anchor="start"))
    for i, (label, value) in enumerate(zip(labels, values)):
        if stacked:
            lines = _wrap(str(label), width)
            cut = " ".join(lines) != " ".join(str(label).split())
            parts += [_label(text, 0, y + 12 + n * line, width, anchor="start") for n, text in enumerate(lines)]
            if cut:  # the whole label as the last line's tooltip
                parts[-1] = parts[-1].replace(
                    'class="chart-label">', f'class="chart-label"><title>{escape(label)}</title>', 1
                )
            bar_y, row = y + 4 + len(lines) * line, 4 + len(lines) * line + 26
        else:
            parts.append(_label(str(label), label_w - GAP, y + 16, label_w - GAP))
            bar_y, row = y + 3, 26
        length = 0 if value is None else min(bar_w, max(1.0, bar_w * (value / top)))  # over 100 %: full, with its value
        fill = colors[i % len(colors)] if colors else color
        parts.append(
            f'<rect x="{label_w:.1f}" y="{bar_y}" width="{bar_w:.1f}" height="18" rx="3" fill="#f1f3f5"/>'
            f'<rect x="{label_w:.1f}" y="{bar_y}" width="{length:.1f}" height="18" rx="3" fill="{fill}"/>'
            f'<text x="{label_w + bar_w + GAP:.1f}" y="{bar_y + 13}" class="chart-value">{escape(shown[i])}</text>'
        )
        y += row
    return Markup(_svg(width, y + 4, title) + "".join(parts) + "</svg>")


def _dash(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def _legend(names: Sequence[str], top: float, width: float) -> tuple[list[str], float]:
    """One entry per series (a sample of its line, then its name), laid out left to right and
    wrapped onto a new row before one would run past the chart; returns the parts and the height."""
    parts, x, y = [], 0.0, top
    for n, name in enumerate(names):
        entry = 30 + text_width(name) + 24
        if x and x + entry > width:
            x, y = 0.0, y + 20
        color, dash = PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)]
        parts.append(
            f'<g class="chart-legend-entry"><line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y + 6}" y2="{y + 6}" stroke="{color}" '
            f'stroke-width="2.5"{_dash(dash)}/><circle cx="{x + 12:.1f}" cy="{y + 6}" r="3.5" fill="{color}"/>'
            f'<text x="{x + 30:.1f}" y="{y + 10}" class="chart-label">{escape(name)}</text></g>'
        )
        x += entry
    return parts, y - top + 20


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    percent: bool = True,
    width: float = WIDTH,
) -> Markup:
    """One line per series over the labels (weeks), with a legend; gaps where a value is None.
    A single week is drawn as one labelled bar per series instead."""
    if not labels:
        return Markup('<p class="muted">No data for this range.</p>')
    if len(labels) == 1:
        return bar_chart(
            list(series),
            [values[0] for values in series.values()],
            title=title,
            percent=percent,
            colors=PALETTE,
            caption=f"Week of {labels[0]}",
            width=width,
        )
    height, left, right, bottom, top_pad = (
        (240 if width >= WIDTH else 200),
        44,
        24,
        28,
        12,
    )  # room for the axis labels' text
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    everything = [v for values in series.values() for v in values if v is not None]
    top = 1.0 if percent else (max(everything, default=0) or 1.0)
    step = plot_w / (len(labels) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    legend, legend_h = _legend(list(series), height + 6, width)
    parts = [_svg(width, height + 6 + legend_h, title)]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        ty = y(tick * top)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e9ecef"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" class="chart-axis">{_fmt(tick * top, percent)}</text>'
        )
    # Week labels ("11-16") as many as fit side by side, counted back from the latest week.
    every = math.ceil((text_width("00-00", 11) + GAP) / step)
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="chart-axis">{escape(str(label)[5:])}</text>'
            )
    for n, values in enumerate(series.values()):
        color, dash = PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            width = 4.5 if n == 0 else 2.5  # the first series underneath, wider: it shows where others cover it
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"{_dash(dash)}/>'
            )
        parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{color}"/>' for px, py in points)
    parts.extend(legend)
    parts.append("</svg>")
    return Markup("".join(parts))
