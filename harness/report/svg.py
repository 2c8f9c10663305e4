"""Server-side SVG charts for the HTML report: linear or log axes, points with CI whiskers,
connected series and a dashed frontier line. Pure string building, no dependencies; every
label is escaped here, so callers pass raw strings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000",
           "#999999")
LOG_SPAN = 10 ** 1.5  # log scale once the values span more than 1.5 orders of magnitude
_PAD = {"left": 64, "right": 16, "top": 14, "bottom": 46}


def color(i: int) -> str:
    """Return the palette colour of series ``i`` (cycling)."""
    return PALETTE[i % len(PALETTE)]


@dataclass
class Point:
    """One plotted value; the optional ``*lo``/``*hi`` bounds are drawn as whiskers."""

    x: float
    y: float
    xlo: float | None = None
    xhi: float | None = None
    ylo: float | None = None
    yhi: float | None = None
    title: str = ""  # hover tooltip
    ring: bool = False  # emphasise (e.g. a Pareto-frontier cell)
    hollow: bool = False  # set apart (e.g. a cell left out of the frontier)


@dataclass
class Series:
    """Points of one colour, optionally joined by a line in x order."""

    name: str
    color: str
    points: list[Point] = field(default_factory=list)
    connect: bool = False


@dataclass
class Scale:
    """Maps data values in [lo, hi] to pixels in [a, b], linearly or in log10."""

    lo: float
    hi: float
    log: bool
    a: float
    b: float

    def __call__(self, v: float) -> float:
        """Return the pixel coordinate of ``v``."""
        if self.log:
            v = max(v, self.lo)  # an interval's lower end may reach below a log axis
            t = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            t = (v - self.lo) / (self.hi - self.lo)
        return self.a + t * (self.b - self.a)

    def ticks(self) -> list[float]:
        """Return tick values inside the range: 1-2-5 steps, or decades (and 2, 5) on log."""
        if self.log:
            k0, k1 = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
            mults = (1, 2, 5) if k1 - k0 <= 3 else (1, 3) if k1 - k0 <= 5 else (1,)
            every = max(1, math.ceil((k1 - k0) / 8))
            vals = [m * 10.0 ** k for k in range(k0, k1 + 1, every) for m in mults]
        else:
            step = _nice((self.hi - self.lo) / 5)
            start = math.ceil(self.lo / step)
            vals = [i * step for i in range(start, math.floor(self.hi / step) + 1)]
        return [v for v in vals if self.lo <= v * (1 + 1e-12) and v <= self.hi * (1 + 1e-12)]

    def fmt(self, v: float) -> str:
        """Return the tick label of ``v``."""
        if self.log or v == 0:
            return f"{v:g}"
        step = _nice((self.hi - self.lo) / 5)
        return f"{v:.{max(0, -math.floor(math.log10(step)))}f}"


def _nice(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def make_scale(values: Iterable[float | None], a: float, b: float,
               log: bool | None = None) -> Scale:
    """Return a padded scale covering ``values``; log when ``log`` is None and the positive
    values span more than ``LOG_SPAN``."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if log is None:
        log = lo > 0 and hi / lo > LOG_SPAN
    if log and lo > 0:
        pad = (math.log10(hi) - math.log10(lo)) * 0.05 or 0.5
        return Scale(lo / 10 ** pad, hi * 10 ** pad, True, a, b)
    pad = (hi - lo) * 0.06 or (abs(lo) * 0.1 or 1.0)
    return Scale(lo - pad, hi + pad, False, a, b)


def _f(v: float) -> str:
    return f"{v:.1f}"


def chart(series: Sequence[Series], x_label: str, y_label: str, *, width: int = 720,
          height: int = 420, frontier: Sequence[tuple[float, float]] = (),
          x_log: bool | None = None, y_log: bool | None = None,
          y_domain: Sequence[float] = (), css_class: str = "chart") -> str:
    """Return an ``<svg>`` element plotting ``series`` (with whiskers) and a dashed
    ``frontier`` line; axes are log when asked or when the data span > 1.5 decades.
    ``y_domain`` adds values the y axis must cover (to share a scale across charts)."""
    pts = [p for s in series for p in s.points if _finite(p.x, p.y)]
    left, right = _PAD["left"], width - _PAD["right"]
    top, bottom = _PAD["top"], height - _PAD["bottom"]
    sx = make_scale([v for p in pts for v in (p.x, p.xlo, p.xhi)], left, right, x_log)
    sy = make_scale([v for p in pts for v in (p.y, p.ylo, p.yhi)] + list(y_domain),
                    bottom, top, y_log)
    out = [f'<svg class="{escape(css_class)}" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(y_label)} against '
           f'{escape(x_label)}">',
           f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
           'fill="#fff" stroke="#bbb"/>']
    for v in sx.ticks():
        x = _f(sx(v))
        out.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" stroke="#eee"/>'
                   f'<text x="{x}" y="{bottom + 16}" text-anchor="middle" class="tick">'
                   f'{escape(sx.fmt(v))}</text>')
    for v in sy.ticks():
        y = _f(sy(v))
        out.append(f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{y}" dy="0.32em" text-anchor="end" class="tick">'
                   f'{escape(sy.fmt(v))}</text>')
    out.append(f'<text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle" '
               f'class="axis">{escape(x_label + (" (log scale)" if sx.log else ""))}</text>')
    out.append(f'<text transform="translate(14 {(top + bottom) / 2}) rotate(-90)" '
               f'text-anchor="middle" class="axis">'
               f'{escape(y_label + (" (log scale)" if sy.log else ""))}</text>')
    fr = sorted((x, y) for x, y in frontier if _finite(x, y))
    if len(fr) > 1:
        path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in fr)
        out.append(f'<polyline points="{path}" fill="none" stroke="#444" stroke-width="1.5" '
                   'stroke-dasharray="6 4"/>')
    offsets = dodge([(sx(p.x), sy(p.y)) for s in series for p in s.points
                     if _finite(p.x, p.y)])
    for s in series:
        good = sorted((p for p in s.points if _finite(p.x, p.y)), key=lambda p: p.x)
        if s.connect and len(good) > 1:
            path = " ".join(f"{_f(sx(p.x))},{_f(sy(p.y))}" for p in good)
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" '
                       'stroke-width="2"/>')
        for p in good:
            out.append(_point(p, s.color, sx, sy, offsets.get((sx(p.x), sy(p.y)), [])))
    out.append("</svg>")
    return "\n".join(out)


DODGE_PX = 10.0  # points closer than this on the page are drawn apart


def dodge(centres: Sequence[tuple[float, float]]) -> dict[tuple[float, float],
                                                           list[tuple[float, float]]]:
    """Return {pixel position: [offset, ...]} for the points that would hide each other:
    each group of points within ``DODGE_PX`` of the group's first is spread on a circle of
    ``DODGE_PX`` around it (one offset per point, in drawing order), so two cells at the
    same values are two markers (each joined to the true position by a short line)."""
    groups: list[list[tuple[float, float]]] = []
    for c in centres:
        for g in groups:
            if math.dist(g[0], c) < DODGE_PX:
                g.append(c)
                break
        else:
            groups.append([c])
    out: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for g in groups:
        if len(g) < 2:
            continue
        for i, c in enumerate(g):
            a = 2 * math.pi * i / len(g) - math.pi / 2
            out.setdefault(c, []).append((g[0][0] + DODGE_PX * math.cos(a) - c[0],
                                          g[0][1] + DODGE_PX * math.sin(a) - c[1]))
    return out


def _point(p: Point, col: str, sx: Scale, sy: Scale,
           offsets: list[tuple[float, float]] | None = None) -> str:
    cx, cy = sx(p.x), sy(p.y)
    parts = ['<g class="pt">']
    if p.title:
        parts.append(f"<title>{escape(p.title)}</title>")
    if _finite(p.xlo, p.xhi) and p.xlo != p.xhi:
        x0, x1 = _f(sx(p.xlo)), _f(sx(p.xhi))  # type: ignore[arg-type]
        parts.append(f'<path d="M{x0},{_f(cy)}H{x1}M{x0},{_f(cy - 4)}v8M{x1},{_f(cy - 4)}v8" '
                     f'stroke="{col}" stroke-width="1.3" fill="none"/>')
    if _finite(p.ylo, p.yhi) and p.ylo != p.yhi:
        y0, y1 = _f(sy(p.ylo)), _f(sy(p.yhi))  # type: ignore[arg-type]
        parts.append(f'<path d="M{_f(cx)},{y0}V{y1}M{_f(cx - 4)},{y0}h8M{_f(cx - 4)},{y1}h8" '
                     f'stroke="{col}" stroke-width="1.3" fill="none"/>')
    if offsets:  # drawn apart from a point at the same place: marker off the true spot
        dx, dy = offsets.pop(0)
        parts.append(f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(cx + dx)}" '
                     f'y2="{_f(cy + dy)}" stroke="#888" stroke-width="1"/>')
        cx, cy = cx + dx, cy + dy
    if p.ring:
        parts.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="9" fill="none" stroke="#222" '
                     'stroke-width="1.5"/>')
    parts.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="5" fill="#fff" stroke="{col}" '
                 'stroke-width="2"/>' if p.hollow else
                 f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="5" fill="{col}" stroke="#fff" '
                 'stroke-width="1"/>')
    parts.append("</g>")
    return "".join(parts)


def _finite(*vals: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in vals)
