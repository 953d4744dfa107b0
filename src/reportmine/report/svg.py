"""The report's inline SVG: bar charts, heatmap cells and legend, and network drawings.

Text is measured by a rough estimate (:func:`width`) and cut with "…"
(:func:`cut`), so labels fit without fonts or a browser; colours come from
ColorBrewer ramps that stay readable in grey and for the colour-blind.
Every bar, cell and node links to an appendix block registered through
:class:`~reportmine.report.anchors.Anchors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..safetext import visible
from .anchors import Anchors, crc
from .data import TOP_GROUPS, ReportData
from .markup import esc, fmt, fmt_pct, natural, num, slug

#: ColorBrewer 9-class Blues, light to dark: sequential, colour-blind safe, prints in grey.
_RAMP = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
#: Colour of a plain bar.
BAR = "#4292c6"
#: Colour of plans: ColorBrewer Oranges, to contrast with the Blues of summaries.
PLAN = "#e6550d"
#: Colour of summaries.
SUMMARY = "#3182bd"

#: Chart geometry in CSS pixels.
_ROW = 20              # bar chart row height
_CELL_W, _CELL_H = 30, 24
_FONT = 12
#: Labels wider than this (in pixels) are cut with "…".
LABEL_MAX = 260
_TOP_NODES = 40        # nodes drawn per network (by weighted degree)
_LAYOUT_SEED = 7       # spring_layout seed: same graph, same picture

#: Tops of a share scale, chosen so that its quarter ticks are round percents.
_SHARE_TOPS = (0.04, 0.08, 0.12, 0.2, 0.4, 0.6, 0.8, 1.0)


# --- Text and colour ------------------------------------------------------------


def width(text: str, size: float = _FONT) -> float:
    """Rough rendered width: CJK and full-width characters are square, Latin about 0.62 em in Noto Sans."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.62 for c in text)


def cut(text: str, limit: float = LABEL_MAX, size: float = _FONT) -> str:
    """``text`` cut with "…" to at most ``limit`` pixels wide (as :func:`width` measures)."""
    text = visible(text)  # measured as shown: an escaped control character is six characters wide
    if len(text) * size <= limit or width(text, size) <= limit:  # the first test: no character is wider than size
        return text
    # One running sum: re-measuring every prefix made long labels quadratic.
    budget = limit - width("…", size)
    used = 0.0
    for i, c in enumerate(text):
        used += size if ord(c) >= 0x2E80 else size * 0.62
        if used > budget:
            return text[:i] + "…"
    return text + "…"


def colour(t: float) -> str:
    """Colour of ``t`` in [0, 1] on the Blues ramp, interpolated between its stops."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(_RAMP) - 1)
    i = min(int(pos), len(_RAMP) - 2)
    f = pos - i
    a, b = _RAMP[i], _RAMP[i + 1]
    rgb = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _ink(t: float) -> str:
    """Text colour readable on ``colour(t)``."""
    return "#fff" if t > 0.55 else "#222"


def nice_max(value: float) -> float:
    """A round upper bound for a scale (:data:`_SHARE_TOPS` for shares, else 1-2-5 steps)."""
    if value <= 0:
        return 1.0
    if value <= 1:
        return next(top for top in _SHARE_TOPS if value <= top + 1e-9)
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def label(main: str, sub: str = "", x: float = 0, y: float = 0, anchor: str = "end", limit: float = LABEL_MAX) -> str:
    """An SVG label: main text, then a grey id, cut to ``limit`` pixels together."""
    main_cut = cut(main, limit)
    room = limit - width(main_cut) - 4
    sub_text = cut(sub, room, 11) if sub and room > 30 else ""
    tspan = f'<tspan class="sub" font-size="11"> {esc(sub_text)}</tspan>' if sub_text else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" dominant-baseline="middle">'
            f"{esc(main_cut)}{tspan}</text>")


# --- Bars -----------------------------------------------------------------------


@dataclass
class Bar:
    """One bar of :func:`bar_chart`: its label (and grey id), length, text, link, tooltip and colour."""

    label: str
    value: float
    text: str
    href: str | None = None
    sub: str = ""
    tip: str = ""
    colour: str = BAR


def bar_chart(bars: list[Bar], *, vmax: float | None = None, bar_width: float = 320,
              label_width: float | None = None, css: str = "chart bars") -> str:
    """Horizontal bars with labels on the left; each row links to its ``href``."""
    if not bars:
        return ""
    if label_width is None:
        label_width = min(LABEL_MAX, max(width(b.label) + (width(b.sub, 11) + 4 if b.sub else 0) for b in bars))
    label_width += 12   # room for the estimate's error: a label cut at the left edge is unreadable
    top = vmax if vmax is not None else max((b.value for b in bars), default=0) or 1
    text_room = max(width(b.text, 11) for b in bars) + 8
    total_width = label_width + bar_width + text_room
    out = [f'<svg class="{css}" width="{total_width:.0f}" height="{len(bars) * _ROW + 4}" role="img">']
    for i, b in enumerate(bars):
        y = i * _ROW + 2
        w = max(0.0, b.value) / top * bar_width if top else 0
        row = (label(b.label, b.sub, label_width - 8, y + _ROW / 2, limit=label_width - 8)
               + f'<rect x="{label_width:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{_ROW - 6}" '
               f'fill="{b.colour}"><title>{esc(b.tip or b.label + " " + b.text)}</title></rect>'
               + f'<text class="axis" x="{label_width + w + 4:.1f}" y="{y + _ROW / 2:.1f}" '
               f'dominant-baseline="middle">{esc(b.text)}</text>')
        out.append(f'<a href="#{b.href}">{row}</a>' if b.href else f"<g>{row}</g>")
    out.append("</svg>")
    return '<div class="scroll">' + "".join(out) + "</div>"


# --- Cells ----------------------------------------------------------------------


def heatmap_svg(data: ReportData, links: Anchors, shares: dict[tuple[str, str], tuple[float, int]],
                groups: list[str], themes: list[str], top: float) -> str:
    """Groups by themes, each cell coloured by the group's share of the theme (``top`` is the darkest)."""
    left = min(LABEL_MAX, max(width(g) for g in groups)) + 12
    header = max(width(data.name(t)) + width(t, 11) + 8 for t in themes) + 8
    total_width = left + len(themes) * _CELL_W + 20
    height = header + len(groups) * _CELL_H + 4
    out = [f'<svg class="chart heatmap" width="{total_width:.0f}" height="{height:.0f}" role="img">']
    for j, t in enumerate(themes):
        x = left + j * _CELL_W + _CELL_W / 2
        text = (f'<text transform="translate({x + 4:.1f},{header - 6:.1f}) rotate(-90)">{esc(data.name(t))}'
                f'<tspan class="sub" font-size="11"> {esc(t)}</tspan></text>')
        out.append(f'<a href="#{links.theme_anchor(t)}">{text}</a>')
    for i, g in enumerate(groups):
        y = header + i * _CELL_H
        out.append(f'<a href="#{links.group_anchor(g)}">{label(g, "", left - 8, y + _CELL_H / 2, limit=left - 12)}</a>')
        for j, t in enumerate(themes):
            x = left + j * _CELL_W
            share, n = shares.get((g, t), (0.0, 0))
            v = share / top
            tip = f"{g} · {data.name(t)} ({t}): {fmt_pct(share)} of sections, {n} sections"
            cell = (f'<rect x="{x}" y="{y:.1f}" width="{_CELL_W - 1}" height="{_CELL_H - 1}" fill="{colour(v)}">'
                    f"<title>{esc(tip)}</title></rect>")
            if share >= 0.005:
                cell += (f'<text x="{x + _CELL_W / 2 - 0.5:.1f}" y="{y + _CELL_H / 2:.1f}" text-anchor="middle" '
                         f'dominant-baseline="middle" font-size="10" style="fill:{_ink(v)}">{share * 100:.0f}</text>')
            # An empty cell has no sections behind it: no link, so the appendix has no empty blocks.
            out.append(f'<a href="#{links.group_theme_anchor(g, t)}">{cell}</a>' if n or share else cell)
    out.append("</svg>")
    return '<div class="scroll">' + "".join(out) + "</div>"


def legend(top: float) -> str:
    """The heatmap's colour scale: a stepped ramp from 0 to ``top`` with ticks."""
    steps, w = 40, 8
    out = [f'<svg class="legend" width="{steps * w + 60}" height="44" role="img">',
           '<text x="0" y="10">share of sections</text>']
    for k in range(steps):
        out.append(f'<rect x="{k * w}" y="16" width="{w}" height="12" fill="{colour((k + 0.5) / steps)}"/>')
    for k in range(5):
        x = k * steps * w / 4
        out.append(f'<line x1="{x:.0f}" y1="28" x2="{x:.0f}" y2="32" stroke="#555"/>'
                   f'<text class="axis" x="{x:.0f}" y="41" text-anchor="middle">{top * k / 4 * 100:.0f}%</text>')
    out.append("</svg>")
    return "".join(out)


def similarity_svg(links: Anchors, values: dict[tuple[str, str], float | None], groups: list[str]) -> str:
    """Groups by groups, each cell the cosine of the two (``values`` holds one of each pair)."""
    left = min(LABEL_MAX, max(width(g) for g in groups)) + 12
    header = max(width(cut(g)) for g in groups) + 12
    cell = 34
    total_width, height = left + len(groups) * cell + 10, header + len(groups) * cell + 4
    out = [f'<svg class="chart similarity" width="{total_width:.0f}" height="{height:.0f}" role="img">']
    for j, g in enumerate(groups):
        x = left + j * cell + cell / 2
        out.append(f'<a href="#{links.group_anchor(g)}"><text transform="translate({x + 4:.1f},{header - 6:.1f}) '
                   f'rotate(-90)">{esc(cut(g))}</text></a>')
    for i, a in enumerate(groups):
        y = header + i * cell
        out.append(f'<a href="#{links.group_anchor(a)}">{label(a, "", left - 8, y + cell / 2, limit=left - 12)}</a>')
        for j, b in enumerate(groups):
            x = left + j * cell
            v = values.get((a, b), values.get((b, a))) if a != b else 1.0
            if v is None:
                continue
            rect = (f'<rect x="{x}" y="{y:.1f}" width="{cell - 1}" height="{cell - 1}" fill="{colour(v)}">'
                    f"<title>{esc(f'{a} · {b}: cosine {v:.3f}')}</title></rect>"
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2:.1f}" text-anchor="middle" '
                    f'dominant-baseline="middle" font-size="10" style="fill:{_ink(v)}">{v:.2f}</text>')
            out.append(f'<a href="#{links.group_anchor(a)}">{rect}</a>')
    out.append("</svg>")
    return '<div class="scroll">' + "".join(out) + "</div>"


# --- Networks -------------------------------------------------------------------


def _weight(data: dict[str, Any]) -> float:
    return num(data.get("weight", 1)) or 0.0


def _top_nodes(graph: Any, limit: int) -> list[str]:
    strength: dict[str, float] = {}
    for u, v, d in graph.edges(data=True):
        for node in (u, v):
            strength[str(node)] = strength.get(str(node), 0) + _weight(d)
    nodes = sorted((str(n) for n in graph.nodes), key=lambda n: (-strength.get(n, 0), n))
    return sorted(nodes[:limit])


def node_href(links: Anchors, graph_name: str, node: str, kind: str | None) -> str:
    """The anchor a network node links to: its group, theme, activity or keyword block."""
    data = links.data
    if kind == "group" or (kind is None and node in data.group_key and node not in data.theme_names):
        return links.group_anchor(node)
    if graph_name == "theme_cooccurrence" or kind == "theme" or node in data.theme_names:
        return links.theme_anchor(node)
    if kind == "activity" or graph_name == "activity_group":
        return links.activity_anchor(node)
    key = slug(graph_name) + "-" + f"{abs(crc(node)):x}"
    return links.text_anchor("kw", key, f"keyword “{node}”", node)


def node_label(data: ReportData, node: str) -> tuple[str, str]:
    """A node's label and grey id: a theme's name and id, else the node itself."""
    name = data.theme_names.get(node)
    return (name, node) if name else (node, "")


def _layout(graph: Any, *, circular: bool) -> tuple[Any, list[str], list[tuple[str, str, float]], dict[str, Any]]:
    """The drawn subgraph (the :data:`_TOP_NODES` strongest nodes), its nodes, edges and positions."""
    import networkx as nx

    keep = _top_nodes(graph, _TOP_NODES)
    kept = set(keep)
    sub = nx.Graph()
    sub.add_nodes_from(keep)     # sorted insertion: layout independent of the graph's own order
    edges = sorted((min(str(u), str(v)), max(str(u), str(v)), _weight(d)) for u, v, d in graph.edges(data=True)
                   if str(u) in kept and str(v) in kept and str(u) != str(v))
    for u, v, w in edges:
        sub.add_edge(u, v, weight=w)
    if not circular:
        # Nodes whose every edge leads out of the drawing would only float at its rim.
        sub.remove_nodes_from([n for n in list(sub.nodes) if sub.degree(n) == 0])
        keep = sorted(sub.nodes) or keep
        sub.add_nodes_from(keep)
    if circular:
        pos = nx.circular_layout(sub)
    else:
        pos = nx.spring_layout(sub, seed=_LAYOUT_SEED, weight="weight", iterations=200)
    return sub, keep, edges, pos


def graph_svg(links: Anchors, name: str, graph: Any, *, circular: bool) -> str:
    """A node-link drawing: circular for small graphs of themes, else a seeded spring layout."""
    sub, keep, edges, pos = _layout(graph, circular=circular)
    # Small graphs get a small drawing: about 22 px per node, 280 to 620 px across.
    size, pad = min(620, max(280, 160 + 22 * len(keep))), 240
    total_width = size + 2 * pad
    xy = {n: (pad + size / 2 + float(p[0]) * size / 2 * 0.9, 30 + size / 2 + float(p[1]) * size / 2 * 0.9)
          for n, p in pos.items()}
    wmax = max((w for _, _, w in edges), default=1) or 1
    strength = {n: sum(d["weight"] for _, _, d in sub.edges(n, data=True)) for n in sub.nodes}
    smax = max(strength.values(), default=1) or 1
    kinds = _node_kinds(graph)
    out = [f'<svg class="chart network" width="{total_width:.0f}" height="{size + 60}" role="img">']
    for u, v, w in edges:
        (x1, y1), (x2, y2) = xy[u], xy[v]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#6baed6" '
                   f'stroke-opacity="{0.25 + 0.6 * w / wmax:.2f}" stroke-width="{0.5 + 5 * w / wmax:.1f}">'
                   f"<title>{esc(f'{u} — {v}: {fmt(w)}')}</title></line>")
    for n in sorted(sub.nodes):
        x, y = xy[n]
        r = 4 + 10 * math.sqrt(strength[n] / smax)
        main, ident = node_label(links.data, n)
        href = node_href(links, name, n, kinds.get(n))
        anchor = "start" if x >= pad + size / 2 else "end"
        dx = r + 3 if anchor == "start" else -(r + 3)
        out.append(f'<a href="#{href}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{BAR}" stroke="#fff">'
                   f"<title>{esc(f'{main} {ident}'.strip())}: weighted degree {fmt(strength[n])}</title></circle>"
                   + label(main, ident, x + dx, y, anchor=anchor, limit=pad - 10) + "</a>")
    out.append("</svg>")
    shown = f"{len(keep)} of {graph.number_of_nodes()} nodes" if len(keep) < graph.number_of_nodes() else \
        f"{len(keep)} nodes"
    return (f'<p class="note">{esc(shown)}, {len(edges)} edges; node size by weighted degree, edge width by weight; '
            "nodes link to their sections.</p>" + '<div class="scroll">' + "".join(out) + "</div>")


def _node_kinds(graph: Any) -> dict[str, str | None]:
    """Node -> its ``kind`` attribute, else read from a ``bipartite`` attribute (0: group), else None."""
    kinds: dict[str, str | None] = {}
    for n, d in graph.nodes(data=True):
        kind = d.get("kind")
        if kind is None and "bipartite" in d:
            kind = "group" if d["bipartite"] in (0, "group") else "activity"
        kinds[str(n)] = None if kind is None else str(kind)
    return kinds


def _bipartite_sides(data: ReportData, graph: Any) -> tuple[list[str], list[str], list[str], list[str],
                                                            dict[str, float]]:
    """The groups drawn (and all), the activities drawn (and all, most linked first), and weighted degrees."""
    kinds = _node_kinds(graph)
    for n, k in kinds.items():
        if k is None:
            kinds[n] = "group" if n in data.group_key else "activity"
    all_groups = [n for n, k in kinds.items() if k == "group"]
    groups = sorted((g for g in all_groups if data.is_shown(g)), key=natural) or sorted(all_groups, key=natural)[
        :TOP_GROUPS]
    degree: dict[str, float] = {}
    for u, v, d in graph.edges(data=True):
        for node in (str(u), str(v)):
            degree[node] = degree.get(node, 0) + _weight(d)
    activities_all = sorted((n for n, k in kinds.items() if k != "group"), key=lambda n: (-degree.get(n, 0), n))
    activities = sorted(activities_all[:_TOP_NODES], key=natural)
    return groups, all_groups, activities, activities_all, degree


def bipartite_svg(links: Anchors, graph: Any) -> str:
    """Groups on the left, activities on the right, both sorted: a layout that never moves."""
    groups, all_groups, activities, activities_all, degree = _bipartite_sides(links.data, graph)
    rows = max(len(groups), len(activities), 1)
    step = 26
    left_w, right_w, gap = 220, 260, 300
    height = rows * step + 20
    gy = {g: 10 + (i + 0.5) * rows * step / max(len(groups), 1) for i, g in enumerate(groups)}
    ay = {a: 10 + (i + 0.5) * rows * step / max(len(activities), 1) for i, a in enumerate(activities)}
    gx, ax = left_w, left_w + gap
    edges = sorted((str(u), str(v), _weight(d)) for u, v, d in graph.edges(data=True))
    wmax = max((w for *_, w in edges), default=1) or 1
    out = [f'<svg class="chart network bipartite" width="{left_w + gap + right_w}" height="{height:.0f}" role="img">']
    for u, v, w in edges:
        g, a = (u, v) if u in gy else (v, u)
        if g not in gy or a not in ay:
            continue
        out.append(f'<line x1="{gx}" y1="{gy[g]:.1f}" x2="{ax}" y2="{ay[a]:.1f}" stroke="#6baed6" '
                   f'stroke-opacity="0.6" stroke-width="{0.5 + 3 * w / wmax:.1f}">'
                   f'<title>{esc(f"{g} — {a}")}</title></line>')
    for g in groups:
        out.append(f'<a href="#{links.group_anchor(g)}"><circle cx="{gx}" cy="{gy[g]:.1f}" r="6" fill="{PLAN}">'
                   f"<title>{esc(g)}</title></circle>{label(g, '', gx - 10, gy[g], limit=left_w - 12)}</a>")
    for a in activities:
        out.append(f'<a href="#{links.activity_anchor(a)}"><circle cx="{ax}" cy="{ay[a]:.1f}" r="5" fill="{BAR}">'
                   f"<title>{esc(a)}: {fmt(degree.get(a, 0))}</title></circle>"
                   f"{label(a, '', ax + 10, ay[a], anchor='start', limit=right_w - 12)}</a>")
    out.append("</svg>")
    shown = len(activities)
    left = f"{len(groups)} of {len(all_groups)} groups" if len(groups) < len(all_groups) else f"{len(groups)} groups"
    note = (f"{left} (left), {shown} of {len(activities_all)} activities (right, most linked)"
            if shown < len(activities_all) else f"{left} (left), {shown} activities (right)")
    return f'<p class="note">{esc(note)}; nodes link to their sections.</p><div class="scroll">{"".join(out)}</div>'
