"""Tiny inline-SVG chart helpers (no JS, no external assets): bars, stacked bars, lines.

Every label is escaped with ``html.escape``; the result is ``markupsafe.Markup`` so the jinja
template (autoescape on) embeds it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = (
    "#3b6fd8", "#e08a2e", "#3aa57a", "#c8504b", "#8a63c9",
    "#2fa3b5", "#b88a1b", "#d25f9a", "#6b7d8f", "#7fae3a",
)
_FONT = 'font-size="11" fill="#4a5568"'


def _e(v: object) -> str:
    return escape(str(v), quote=True)


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _nice_max(v: float) -> float:
    """A round axis maximum ≥ v (1, 2, 2.5, 5 × 10^k)."""
    if v <= 0:
        return 1.0
    k = 1.0
    while k * 10 <= v:
        k *= 10
    while k > v:
        k /= 10
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= v:
            return m * k
    return 10 * k


def _int_axis_max(v: float) -> float:
    """Axis maximum for counts: 4 equal integer steps of a round size (1, 2, 2.5, 5 × 10^k)."""
    need = max(v, 1.0) / 4
    k = 1.0
    while True:
        for m in (1, 2, 2.5, 5):
            if m * k >= need and (m * k).is_integer():
                return 4 * m * k
        k *= 10


def _fmt(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    colors: Sequence[str] | None = None,
    width: int = 560,
    height: int = 220,
    y_label: str = "",
    marker_x: float | None = None,
    marker_label: str = "",
    integer: bool = True,
    aria: str = "柱状图",
) -> Markup:
    """Vertical bar chart / histogram. ``marker_x`` draws a dashed line at a bar position
    (in bar units, e.g. 2.5 = between bars 2 and 3)."""
    n = max(len(values), 1)
    left, right, top, bottom = 44, 10, 16, 40
    pw, ph = width - left - right, height - top - bottom
    top_v = max([float(v) for v in values] + [0.0])
    vmax = _int_axis_max(top_v) if integer else _nice_max(top_v)
    slot = pw / n
    bw = max(slot * 0.72, 1.0)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        yv = vmax * i / 4
        y = top + ph - ph * i / 4
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#e2e8f0" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" {_FONT}>{_e(_fmt(yv))}</text>'
        )
    for i, (lab, v) in enumerate(zip(labels, values, strict=False)):
        v = float(v)
        h = ph * v / vmax
        x = left + i * slot + (slot - bw) / 2
        y = top + ph - h
        color = (colors[i] if colors else PALETTE[0])
        out.append(
            f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(bw)}" height="{_num(max(h, 0))}" '
            f'fill="{_e(color)}" rx="2"><title>{_e(lab)}: {_e(_fmt(v))}</title></rect>'
        )
        if v > 0:
            out.append(
                f'<text x="{_num(x + bw / 2)}" y="{_num(y - 3)}" text-anchor="middle" {_FONT}>{_e(_fmt(v))}</text>'
            )
        out.append(
            f'<text x="{_num(left + i * slot + slot / 2)}" y="{height - bottom + 15}" '
            f'text-anchor="middle" {_FONT}>{_e(lab)}</text>'
        )
    if marker_x is not None:
        mx = left + marker_x * slot
        out.append(
            f'<line x1="{_num(mx)}" x2="{_num(mx)}" y1="{top}" y2="{top + ph}" stroke="#c8504b" '
            f'stroke-dasharray="4 3" stroke-width="1.5"/>'
            f'<text x="{_num(mx + 4)}" y="{top + 10}" font-size="11" fill="#c8504b">{_e(marker_label)}</text>'
        )
    if y_label:
        out.append(f'<text x="{left}" y="{height - 4}" {_FONT}>{_e(y_label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    width: int = 560,
    bar_h: int = 20,
    color: str = PALETTE[0],
    value_suffix: str = "",
    aria: str = "条形图",
) -> Markup:
    """Horizontal bar chart (long Chinese labels on the left)."""
    label_w = 150
    n = len(values)
    height = 10 + n * (bar_h + 6)
    pw = width - label_w - 60
    vmax = max([float(v) for v in values] + [0.0]) or 1.0
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=False)):
        v = float(v)
        y = 5 + i * (bar_h + 6)
        w = pw * v / vmax
        short = lab if len(lab) <= 12 else lab[:11] + "…"
        out.append(
            f'<text x="{label_w - 8}" y="{_num(y + bar_h * 0.7)}" text-anchor="end" font-size="12" '
            f'fill="#2d3748">{_e(short)}<title>{_e(lab)}</title></text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{_num(max(w, 0))}" height="{bar_h}" '
            f'fill="{_e(color)}" rx="2"><title>{_e(lab)}: {_e(_fmt(v))}</title></rect>'
            f'<text x="{_num(label_w + w + 5)}" y="{_num(y + bar_h * 0.7)}" {_FONT}>'
            f"{_e(_fmt(v))}{_e(value_suffix)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def stacked_hbar(
    rows: Sequence[tuple[str, Sequence[float]]],
    segments: Sequence[str],
    *,
    width: int = 640,
    bar_h: int = 22,
    aria: str = "堆叠条形图",
) -> Markup:
    """100%-stacked horizontal bars, one per row (e.g. agent), with a legend of ``segments``."""
    label_w = 130
    pw = width - label_w - 20
    per_row = 3  # full legend texts (up to ~14 characters each) fit three to a row
    legend_rows = (len(segments) + per_row - 1) // per_row
    top = 8 + legend_rows * 18
    height = top + len(rows) * (bar_h + 8) + 4
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for j, seg in enumerate(segments):
        lx = label_w + (j % per_row) * (pw / per_row)
        ly = 6 + (j // per_row) * 18
        out.append(
            f'<rect x="{_num(lx)}" y="{ly}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text class="legend" x="{_num(lx + 14)}" y="{ly + 9}" {_FONT}>{_e(seg if len(seg) <= 14 else seg[:13] + "…")}'
            f"<title>{_e(seg)}</title></text>"
        )
    for i, (lab, vals) in enumerate(rows):
        y = top + i * (bar_h + 8)
        total = sum(float(v) for v in vals) or 1.0
        out.append(
            f'<text x="{label_w - 8}" y="{_num(y + bar_h * 0.7)}" text-anchor="end" font-size="12" '
            f'fill="#2d3748">{_e(lab)}</text>'
        )
        x = float(label_w)
        for j, v in enumerate(vals):
            w = pw * float(v) / total
            if w <= 0:
                continue
            share = 100 * float(v) / total
            out.append(
                f'<rect class="bar" x="{_num(x)}" y="{y}" width="{_num(w)}" height="{bar_h}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{_e(lab)} · {_e(segments[j])}: '
                f"{_e(_fmt(float(v)))} ({share:.0f}%)</title></rect>"
            )
            if w > 34:
                out.append(
                    f'<text x="{_num(x + w / 2)}" y="{_num(y + bar_h * 0.7)}" text-anchor="middle" '
                    f'font-size="11" fill="#fff">{share:.0f}%</text>'
                )
            x += w
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    width: int = 640,
    height: int = 240,
    hline: float | None = None,
    hline_label: str = "",
    y_max: float | None = None,
    aria: str = "折线图",
) -> Markup:
    """Line chart, one polyline (``path``) per series; ``None`` values break nothing (skipped)."""
    left, right, top, bottom = 48, 120, 14, 30
    pw, ph = width - left - right, height - top - bottom
    vals = [float(v) for _, ys in series for v in ys if v is not None]
    vmax = y_max if y_max is not None else _nice_max(max(vals + [hline or 0.0, 0.0]))
    n = max(len(x_labels), 1)
    step = pw / max(n - 1, 1)

    def px(i: int) -> float:
        return left + (i * step if n > 1 else pw / 2)

    def py(v: float) -> float:
        return top + ph - ph * v / vmax

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        yv = vmax * i / 4
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_num(py(yv))}" y2="{_num(py(yv))}" stroke="#e2e8f0"/>'
            f'<text x="{left - 6}" y="{_num(py(yv) + 4)}" text-anchor="end" {_FONT}>{_e(_fmt(yv))}</text>'
        )
    for i, lab in enumerate(x_labels):
        out.append(f'<text x="{_num(px(i))}" y="{height - 10}" text-anchor="middle" {_FONT}>{_e(lab)}</text>')
    if hline is not None:
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_num(py(hline))}" y2="{_num(py(hline))}" '
            f'stroke="#c8504b" stroke-dasharray="4 3"/>'
            f'<text x="{left + pw + 4}" y="{_num(py(hline) + 4)}" font-size="11" fill="#c8504b">{_e(hline_label)}</text>'
        )
    for k, (name, ys) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        pts = [(px(i), py(float(v)), v) for i, v in enumerate(ys) if v is not None]
        if not pts:
            continue
        d = " ".join(f"{'M' if j == 0 else 'L'}{_num(x)},{_num(y)}" for j, (x, y, _) in enumerate(pts))
        out.append(f'<path class="line" d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, v in pts:
            out.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{color}">'
                f"<title>{_e(name)}: {_e(_fmt(float(v)))}</title></circle>"
            )
        ly = top + 6 + k * 16
        out.append(
            f'<rect x="{left + pw + 10}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + pw + 24}" y="{ly + 1}" {_FONT}>{_e(name)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    cell: int = 22,
    color: str = "#c8504b",
    aria: str = "热力图",
    unit: str = "",
) -> Markup:
    """Grid of cells shaded by value (0 = white, max = ``color``), e.g. weekday × hour."""
    label_w, top = 44, 18
    width = label_w + len(col_labels) * cell + 8
    height = top + len(row_labels) * cell + 6
    vmax = max([float(v) for row in values for v in row] + [0.0]) or 1.0
    r, g, b = int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
    out = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for j, lab in enumerate(col_labels):
        out.append(f'<text x="{_num(label_w + j * cell + cell / 2)}" y="12" text-anchor="middle" '
                   f'font-size="10" fill="#4a5568">{_e(lab)}</text>')
    for i, lab in enumerate(row_labels):
        y = top + i * cell
        out.append(f'<text x="{label_w - 6}" y="{_num(y + cell * 0.68)}" text-anchor="end" {_FONT}>{_e(lab)}</text>')
        for j, v in enumerate(values[i]):
            t = float(v) / vmax
            fill = f"rgb({round(255 - (255 - r) * t)},{round(255 - (255 - g) * t)},{round(255 - (255 - b) * t)})"
            out.append(
                f'<rect class="cell" x="{label_w + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{fill}" stroke="#edf1f7"><title>{_e(lab)} {_e(col_labels[j])}: {_e(_fmt(float(v)))}{_e(unit)}</title></rect>'
            )
            if v:
                out.append(f'<text x="{_num(label_w + j * cell + (cell - 2) / 2)}" y="{_num(y + cell * 0.62)}" '
                           f'text-anchor="middle" font-size="9" fill="{"#fff" if t > 0.55 else "#2d3748"}">{_e(_fmt(float(v)))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def target_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    target: float,
    *,
    higher_is_better: bool = True,
    scale: float | None = None,
    width: int = 560,
    bar_h: int = 18,
    aria: str = "达成率与目标",
) -> Markup:
    """Horizontal bars of rates (0..``scale``, default 1 = 100%) with a dashed target line;
    bars missing the target are red."""
    top_v = scale or 1.0
    label_w = 150
    pw = width - label_w - 70
    height = 22 + len(labels) * (bar_h + 6)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(aria)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    tx = label_w + pw * target / top_v
    for i, (lab, v) in enumerate(zip(labels, values, strict=False)):
        y = 18 + i * (bar_h + 6)
        short = lab if len(lab) <= 12 else lab[:11] + "…"
        out.append(f'<text x="{label_w - 8}" y="{_num(y + bar_h * 0.72)}" text-anchor="end" font-size="12" '
                   f'fill="#2d3748">{_e(short)}<title>{_e(lab)}</title></text>')
        if v is None:
            out.append(f'<text x="{label_w + 4}" y="{_num(y + bar_h * 0.72)}" {_FONT}>无数据</text>')
            continue
        ok = v >= target if higher_is_better else v < target
        w = pw * min(max(float(v), 0.0), top_v) / top_v
        out.append(
            f'<rect class="bar" x="{label_w}" y="{y}" width="{_num(w)}" height="{bar_h}" rx="2" '
            f'fill="{"#3aa57a" if ok else "#c8504b"}"><title>{_e(lab)}: {100 * float(v):.1f}%</title></rect>'
            f'<text x="{_num(label_w + w + 5)}" y="{_num(y + bar_h * 0.72)}" {_FONT}>{100 * float(v):.1f}%</text>'
        )
    out.append(
        f'<line x1="{_num(tx)}" x2="{_num(tx)}" y1="12" y2="{height - 2}" stroke="#1f2933" stroke-dasharray="4 3"/>'
        f'<text x="{_num(tx)}" y="10" text-anchor="middle" font-size="11" fill="#1f2933">目标 {100 * target:g}%</text>'
    )
    out.append("</svg>")
    return Markup("".join(out))
