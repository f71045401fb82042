"""Charts as inline SVG: readable without scripts, labelled for screen readers, deterministic.

Each function returns markup (a ``markupsafe.Markup``) ready to drop into the HTML report. All
text that comes from a project (labels, names) is escaped here.
"""

from __future__ import annotations

from markupsafe import Markup, escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
INK = "#222"
GRID = "#d8d8d8"
CODE_COLOUR = "#2f5d8a"
THEME_COLOUR = "#c0622b"


def _n(value: float) -> str:
    """A coordinate with at most one decimal, the same on every machine."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def heat_colour(count: int, top: int) -> str:
    """A cell background for a heat map: white for 0, deeper blue for more (text stays
    readable: the darkest shade still has a contrast above 4.5 with black text)."""
    if not count or not top:
        return "#ffffff"
    share = min(1.0, count / top)
    low, high = (236, 242, 250), (120, 163, 214)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high))
    return f"rgb({r},{g},{b})"


def _open(width: int, height: int, title: str, desc: str, ident: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
            f' width="{width}" height="{height}" role="img" aria-labelledby="{ident}-t {ident}-d"'
            f' {FONT} font-size="12">',
            f'<title id="{ident}-t">{escape(title)}</title>',
            f'<desc id="{ident}-d">{escape(desc)}</desc>']


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 5:
            return max(step, -(-value // step) * step)
    return value


def line_chart(x_labels: list[str], series: list[tuple[str, list[int], str]], title: str,
               desc: str, ident: str = "line", y_label: str = "") -> Markup:
    """Cumulative counts as stepped lines with a dot and value at every point.

    Args:
        x_labels: one label per point, left to right (e.g. interview ids).
        series: ``(name, values, colour)``; each values list as long as ``x_labels``.
        title, desc: the chart's accessible title and description.
        ident: a prefix for element ids, unique within the page.
        y_label: the vertical axis' caption.
    """
    n = max(1, len(x_labels))
    left, right, top, bottom = 48, 150, 16, 44
    step_x = max(44, min(90, 640 // n))
    width = left + step_x * (n - 1) + right
    height = 240
    plot_h = height - top - bottom
    top_value = _nice_max(max((max(v) for _, v, _ in series if v), default=1) or 1)
    out = _open(width, height, title, desc, ident)

    def y(value):
        return top + plot_h - plot_h * value / top_value

    for k in range(0, 6):
        tick = top_value * k / 5
        if tick != int(tick):
            continue
        out.append(f'<line x1="{left}" x2="{_n(left + step_x * (n - 1))}" y1="{_n(y(tick))}" '
                   f'y2="{_n(y(tick))}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{_n(y(tick) + 4)}" text-anchor="end" '
                   f'fill="{INK}">{int(tick)}</text>')
    for i, label in enumerate(x_labels):
        out.append(f'<text x="{_n(left + step_x * i)}" y="{height - bottom + 18}" '
                   f'text-anchor="middle" fill="{INK}">{escape(label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{_n(top + plot_h / 2)}" text-anchor="middle" fill="{INK}" '
                   f'transform="rotate(-90 12 {_n(top + plot_h / 2)})">{escape(y_label)}</text>')
    for s, (name, values, colour) in enumerate(series):
        points = " ".join(f"{_n(left + step_x * i)},{_n(y(v))}" for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for i, v in enumerate(values):
            cx, cy = left + step_x * i, y(v)
            out.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="3.5" fill="{colour}"/>')
            others = [o[1][i] for k, o in enumerate(series) if k != s and i < len(o[1])]
            offset = -8 if not others or v > max(others) or (v == max(others) and s == 0) else 16
            out.append(f'<text x="{_n(cx)}" y="{_n(cy + offset)}" text-anchor="middle" '
                       f'font-size="11" fill="{colour}">{v}</text>')
    # Series names at the right end of their lines, pushed apart so that close lines' names
    # never overprint each other (the higher value's name stays above).
    ends = sorted(((y(values[-1]), -values[-1], s, name, colour)
                   for s, (name, values, colour) in enumerate(series) if values))
    previous = None
    for end_y, _, _, name, colour in ends:
        end_y = end_y if previous is None else max(end_y, previous + 14)
        previous = end_y
        out.append(f'<text x="{_n(left + step_x * (n - 1) + 14)}" y="{_n(end_y + 4)}" '
                   f'fill="{colour}" font-weight="bold">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


def bar_chart(rows: list[tuple[str, int, str]], total: int, title: str, desc: str,
              ident: str = "bars", unit: str = "interviewees") -> Markup:
    """Horizontal bars, one per row ``(label, value, colour)``, on a scale of 0 to ``total``,
    each labelled "value of total"."""
    label_w, bar_w, row_h = 340, 300, 24
    width = label_w + bar_w + 120
    height = row_h * len(rows) + 28
    out = _open(width, height, title, desc, ident)
    scale = bar_w / total if total else 0
    for i, (label, value, colour) in enumerate(rows):
        y = 6 + row_h * i
        short = label if len(label) <= 50 else label[:49] + "…"
        weight = "" if short.startswith("· ") else ' font-weight="bold"'
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{INK}"{weight}>'
                   f'{escape(short)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" '
                   f'fill="#f0f0f0"/>')
        opacity = ' fill-opacity="0.6"' if short.startswith("· ") else ""
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{_n(value * scale)}" '
                   f'height="{row_h - 8}" fill="{escape(colour or CODE_COLOUR)}"{opacity}/>')
        out.append(f'<text x="{label_w + bar_w + 8}" y="{y + 15}" fill="{INK}">{value} of '
                   f'{total}</text>')
    out.append(f'<text x="{label_w}" y="{height - 6}" font-size="11" fill="#555">{escape(unit)}'
               f' (0 to {total})</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


def saturation_chart(steps: list[dict]) -> Markup:
    """The cumulative number of distinct codes and themes as interviews are added."""
    labels = [s["interview"] for s in steps]
    codes = [s["codes"] for s in steps]
    themes = [s["themes"] for s in steps]
    desc = "; ".join(f"after {s['interview']}: {s['codes']} codes, {s['themes']} themes"
                     for s in steps)
    return line_chart(labels, [("codes", codes, CODE_COLOUR), ("themes", themes, THEME_COLOUR)],
                      "Saturation: distinct codes and themes as interviews are added", desc,
                      ident="saturation", y_label="cumulative count")
