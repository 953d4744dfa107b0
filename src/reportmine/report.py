"""Stage 10, report: tables and comparisons -> one self-contained HTML page.

In: the tidy tables of :mod:`reportmine.tables` and the
:class:`~reportmine.compare.Comparison` of :mod:`reportmine.compare`. Out: one
HTML document (``OUT/report.html``) a person opens without a network: corpus
summary, theme heatmap, per-group profiles, distinctive themes and terms,
similarity, plan vs summary, quantities, near-duplicates and networks.

Every chart is inline SVG drawn here (no JavaScript, CSS or fonts from
anywhere else), and every bar, cell and node links (``href="#sec-…"``) to an
appendix block listing the sections behind it: document, outline path, file,
line and title. The page is a pure function of its inputs: the same tables
give the same bytes, so reports can be diffed between runs.
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .safetext import visible

if TYPE_CHECKING:
    import pandas as pd

    from .compare import Comparison
    from .themes import Taxonomy

# --- Look -------------------------------------------------------------------

#: CJK fonts first, so Chinese never falls back to boxes where one is installed
#: (Debian: fonts-noto-cjk; Windows: Microsoft YaHei; macOS: PingFang SC).
FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
              '"Microsoft YaHei", "PingFang SC", sans-serif')

#: ColorBrewer 9-class Blues, light to dark: sequential, colour-blind safe, prints in grey.
_RAMP = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_BAR = "#4292c6"
_PLAN = "#e6550d"      # ColorBrewer Oranges, to contrast with the Blues of summaries
_SUMMARY = "#3182bd"
_GRID = "#d9d9d9"

#: Chart geometry in CSS pixels.
_ROW = 20              # bar chart row height
_CELL_W, _CELL_H = 30, 24
_FONT = 12
_LABEL_MAX = 260       # labels wider than this are cut with "…"

#: How much goes into one chart or list, so a corpus of thousands of reports
#: still gives a page a browser opens in seconds.
_TOP_THEMES = 6        # distinctive themes per group
_TOP_TERMS = 10        # distinctive terms per group
_TOP_NODES = 40        # nodes drawn per network (by weighted degree)
_TOP_CENTRAL = 10      # centrality rows per graph
_SECTION_CAP = 20      # sections (or mentions) listed per appendix block; the block gives the total and its SQL
_TOP_GROUPS = 30       # groups with per-group figures (the largest by sections); the tables hold every group
_TABLE_CAP = 200       # rows of a table on the page (failed files, near duplicates, first activities, groups)
_LAYOUT_SEED = 7       # spring_layout seed: same graph, same picture


_OTHER_NAME = "其他"    # the implicit catch-all theme of every taxonomy

_CSS = """
*{box-sizing:border-box}
body{font-family:@FONT@;margin:0;color:#222;background:#fff;font-size:14px;line-height:1.5}
main{max-width:1320px;margin:0 auto;padding:16px 24px 80px}
h1{font-size:26px;margin:8px 0}
h2{font-size:20px;border-bottom:2px solid #08519c;padding-bottom:4px;margin-top:40px}
h3{font-size:16px;margin:22px 0 6px}
h4{font-size:14px;margin:16px 0 4px}
nav.toc{column-count:3;background:#f5f8fc;padding:8px 16px;border-radius:6px}
nav.toc a{display:block}
a{color:#08519c;text-decoration:none}
a:hover{text-decoration:underline}
svg{display:block;overflow:visible;font-family:inherit}
svg text{font-size:12px;fill:#222}
svg .sub{fill:#777}
svg .axis{fill:#555;font-size:11px}
svg a:hover rect,svg a:hover circle{stroke:#f59e0b;stroke-width:2}
.scroll{overflow-x:auto;max-width:100%}
svg.qbar,svg.dbar{display:inline-block;vertical-align:middle;margin-right:6px}
td.n{white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{background:#f5f8fc;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:22px}
.grid{display:flex;flex-wrap:wrap;gap:8px 32px}
.grid>div{flex:0 0 auto}
table{border-collapse:collapse;margin:6px 0 12px}
th,td{border-bottom:1px solid #e5e5e5;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f8fc}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-style:italic}
.empty{color:#888;background:#fafafa;border:1px dashed #ccc;padding:6px 10px;display:inline-block}
.id{color:#888;font-size:12px}
.err{color:#b30000}
.block{margin:8px 0 18px;padding-left:8px;border-left:3px solid #e5e5e5}
:target{outline:3px solid #f59e0b;outline-offset:2px}
""".replace("@FONT@", FONT_STACK)


# --- Public API -------------------------------------------------------------


def render_report(
    tables: dict[str, pd.DataFrame],
    comparison: Comparison,
    *,
    title: str = "reportmine report",
    run_info: dict[str, Any] | None = None,
    taxonomy: Taxonomy | None = None,
) -> str:
    """One self-contained HTML page of a corpus analysis.

    Args:
        tables: the tidy tables of :func:`reportmine.build_tables` (missing or
            empty tables are shown as "nothing to show").
        comparison: the :class:`~reportmine.compare.Comparison` of the corpus.
        title: the page's title and first heading.
        run_info: versions and settings of the run, shown as a table; a
            ``taxonomy`` entry naming a TOML file is used for theme names.
        taxonomy: theme names to show (default: from ``run_info``, else the
            shipped taxonomy).

    Returns:
        The HTML document as a string: inline CSS and SVG only, no scripts and
        no external resources; identical inputs give identical strings.

    >>> html = render_report(analysis.tables, analysis.comparison)  # doctest: +SKIP
    >>> write_report(html, "reportmine-out")  # doctest: +SKIP
    PosixPath('reportmine-out/report.html')
    """
    ctx = _Context.build(tables or {}, comparison, run_info, taxonomy)
    parts = [
        _section("summary", "Corpus summary", _summary(ctx, run_info)),
        _section("heatmap", "Theme heatmap", _heatmap(ctx)),
        _section("profiles", "Group profiles", _profiles(ctx)),
        _section("distinctive", "Distinctive themes and terms", _distinctive(ctx)),
        _section("similarity", "Similarity of groups", _similarity(ctx)),
        _section("plan-summary", "Plans vs summaries", _plan_vs_summary(ctx)),
        _section("quantities", "Quantities per theme", _quantities(ctx)),
        _section("duplicates", "Near-duplicate documents", _near_duplicates(ctx)),
        _section("networks", "Networks", _networks(ctx)),
    ]
    # The appendix comes last: figures above register the blocks they link to.
    parts.append(_section("appendix", "Appendix: sections behind the figures", _appendix(ctx)))
    toc = [("summary", "Corpus summary"), ("heatmap", "Theme heatmap"), ("profiles", "Group profiles"),
           ("distinctive", "Distinctive themes and terms"), ("similarity", "Similarity of groups"),
           ("plan-summary", "Plans vs summaries"), ("quantities", "Quantities per theme"),
           ("duplicates", "Near-duplicate documents"), ("networks", "Networks"),
           ("appendix", "Appendix: sections"), ("documents", "Appendix: documents")]
    nav = '<nav class="toc">' + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in toc) + "</nav>"
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{_e(title)}</h1>\n{nav}\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n"
    )
    # Text reaches the page through _e; this pass makes sure nothing else can bring a character the
    # HTML parser (or an XML reader of the inline SVG) rejects, or a lone surrogate UTF-8 cannot encode.
    return visible(page)


def write_report(html_text: str, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``OUT/report.html`` atomically (a temporary file renamed into place).

    Returns:
        The path written. A killed run leaves the previous report, never half a page.

    >>> write_report("<!DOCTYPE html><title>x</title>", "reportmine-out")  # doctest: +SKIP
    PosixPath('reportmine-out/report.html')
    """
    from .tables import _atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "report.html"
    tmp = _atomic_path(target)
    try:
        tmp.write_bytes(visible(html_text).encode("utf-8"))  # a page built elsewhere may hold lone surrogates
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# --- Small helpers ------------------------------------------------------------


def _e(value: Any) -> str:
    """Escaped text for element content and quoted attributes alike.

    Characters HTML and SVG cannot hold (control characters, lone surrogates,
    noncharacters) become visible ``\\uXXXX`` escapes (:func:`reportmine.safetext.visible`).
    """
    return "" if value is None else html.escape(visible(str(value)), quote=True)


def _nothing(what: str) -> str:
    return f'<p class="empty">Nothing to show: {_e(what)}.</p>'


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(heading)}</h2>\n{body}\n</section>'


def _missing(frame: Any, columns: tuple[str, ...] = ()) -> bool:
    """True when a table is absent, empty or lacks a column we need."""
    return frame is None or len(frame) == 0 or any(c not in frame.columns for c in columns)


def _rows(frame: pd.DataFrame, columns: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Records with every missing value (NA, NaN, None) as None: pd.NA has no truth value.

    ``columns`` keeps only those that exist: the mentions table has 30, the report needs 9.
    """
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _int(value: Any) -> str:
    number = _num(value)
    return "" if number is None else f"{round(number):,}"


def _year(value: Any) -> str:
    number = _num(value)
    return "" if number is None else str(round(number))


def _fmt(value: Any, digits: int = 2) -> str:
    number = _num(value)
    if number is None:
        return ""
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _width(text: str, size: float = _FONT) -> float:
    """Rough rendered width: CJK and full-width characters are square, Latin about 0.62 em in Noto Sans."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.62 for c in text)


def _cut(text: str, limit: float = _LABEL_MAX, size: float = _FONT) -> str:
    text = visible(text)  # measured as shown: an escaped control character is six characters wide
    if len(text) * size <= limit or _width(text, size) <= limit:  # the first test: no character is wider than size
        return text
    # One running sum: re-measuring every prefix made long labels quadratic.
    budget = limit - _width("…", size)
    used = 0.0
    for i, c in enumerate(text):
        used += size if ord(c) >= 0x2E80 else size * 0.62
        if used > budget:
            return text[:i] + "…"
    return text + "…"


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-") or "x"


def _colour(t: float) -> str:
    """Colour of ``t`` in [0, 1] on the Blues ramp, interpolated between its stops."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(_RAMP) - 1)
    i = min(int(pos), len(_RAMP) - 2)
    f = pos - i
    a, b = _RAMP[i], _RAMP[i + 1]
    rgb = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _ink(t: float) -> str:
    """Text colour readable on ``_colour(t)``."""
    return "#fff" if t > 0.55 else "#222"


#: Tops of a share scale, chosen so that its quarter ticks are round percents.
_SHARE_TOPS = (0.04, 0.08, 0.12, 0.2, 0.4, 0.6, 0.8, 1.0)


def _nice_max(value: float) -> float:
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


def _table(head: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _label(main: str, sub: str = "", x: float = 0, y: float = 0, anchor: str = "end", limit: float = _LABEL_MAX) -> str:
    """An SVG label: main text, then a grey id, cut to ``limit`` pixels together."""
    main_cut = _cut(main, limit)
    room = limit - _width(main_cut) - 4
    sub_text = _cut(sub, room, 11) if sub and room > 30 else ""
    tspan = f'<tspan class="sub" font-size="11"> {_e(sub_text)}</tspan>' if sub_text else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" dominant-baseline="middle">'
            f"{_e(main_cut)}{tspan}</text>")


@dataclass
class _Bar:
    label: str
    value: float
    text: str
    href: str | None = None
    sub: str = ""
    tip: str = ""
    colour: str = _BAR


def _bar_chart(bars: list[_Bar], *, vmax: float | None = None, bar_width: float = 320,
               label_width: float | None = None, css: str = "chart bars") -> str:
    """Horizontal bars with labels on the left; each row links to its ``href``."""
    if not bars:
        return ""
    if label_width is None:
        label_width = min(_LABEL_MAX, max(_width(b.label) + (_width(b.sub, 11) + 4 if b.sub else 0) for b in bars))
    label_width += 12   # room for the estimate's error: a label cut at the left edge is unreadable
    top = vmax if vmax is not None else max((b.value for b in bars), default=0) or 1
    text_room = max(_width(b.text, 11) for b in bars) + 8
    width = label_width + bar_width + text_room
    out = [f'<svg class="{css}" width="{width:.0f}" height="{len(bars) * _ROW + 4}" role="img">']
    for i, b in enumerate(bars):
        y = i * _ROW + 2
        w = max(0.0, b.value) / top * bar_width if top else 0
        row = (_label(b.label, b.sub, label_width - 8, y + _ROW / 2, limit=label_width - 8)
               + f'<rect x="{label_width:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{_ROW - 6}" '
               f'fill="{b.colour}"><title>{_e(b.tip or b.label + " " + b.text)}</title></rect>'
               + f'<text class="axis" x="{label_width + w + 4:.1f}" y="{y + _ROW / 2:.1f}" '
               f'dominant-baseline="middle">{_e(b.text)}</text>')
        out.append(f'<a href="#{b.href}">{row}</a>' if b.href else f"<g>{row}</g>")
    out.append("</svg>")
    return '<div class="scroll">' + "".join(out) + "</div>"


# --- Context: names, groups and the sections behind every figure ----------------


@dataclass
class _Block:
    """An appendix block: a heading, the first :data:`_SECTION_CAP` sections (or mentions) it lists, and how many.

    ``rows`` is filled by :func:`_fill_blocks` after the figures have
    registered every block they link to, with the first rows of each block
    by document and line (a top-N aggregate in DuckDB, or the first matches
    of a pass in key order), so a block of a million sections costs as much
    as one of twenty.
    """

    anchor: str
    heading: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    mentions: bool = False   # rows are mentions (with their text), not sections
    total: int = 0
    query: str = ""          # SQL over OUT/reportmine.duckdb listing every row


@dataclass
class _Context:
    tables: Any
    comparison: Any
    theme_names: dict[str, str]
    theme_order: dict[str, int]
    groups: list[str]
    group_key: dict[str, str]
    doc_anchor: dict[str, str]
    documents: list[dict[str, Any]]
    n_sections: int
    group_theme_n: dict[tuple[str, str], int]
    shown_groups: list[str]
    blocks: dict[str, _Block] = field(default_factory=dict)
    mention_types: dict[str, int] = field(default_factory=dict)
    n_mentions: int = 0
    linked_docs: set[str] = field(default_factory=set)
    # Block lookups for the fill passes.
    _by_group_theme: dict[tuple[str, str], _Block] = field(default_factory=dict)
    _by_theme: dict[str, _Block] = field(default_factory=dict)
    _by_kind_theme: dict[tuple[str, str], _Block] = field(default_factory=dict)
    _by_text: list[tuple[str, str | None, _Block]] = field(default_factory=list)
    _by_mention: dict[tuple[str, Any], _Block] = field(default_factory=dict)

    @classmethod
    def build(cls, tables: Any, comparison: Any, run_info: dict[str, Any] | None,
              taxonomy: Taxonomy | None) -> _Context:
        names, order = _theme_names(taxonomy, run_info)
        docs_frame = getattr(comparison, "documents", None)
        if _missing(docs_frame, ("doc_id",)):
            docs_frame = tables.get("documents")
        documents = [] if _missing(docs_frame, ("doc_id",)) else _rows(docs_frame)
        for doc in documents:
            if not doc.get("group"):
                # Same rule as compare's: the hospital where known, else the file.
                doc["group"] = doc.get("hospital") or doc.get("file") or "?"
        documents.sort(key=lambda d: str(d["doc_id"]))

        group_theme_n: dict[tuple[str, str], int] = {}
        mention_types: dict[str, int] = {}
        source = _open_source(tables, documents)
        try:
            for group, theme, n in source.rows(f"SELECT grp, theme, count(*) FROM {_SECTIONS} GROUP BY ALL"):
                group_theme_n[(str(group), str(theme))] = int(n)
            for kind, n in source.rows("SELECT coalesce(type, 'unknown'), count(*) FROM mentions GROUP BY ALL"):
                mention_types[str(kind)] = int(n)
        finally:
            source.close()
        groups = {str(d["group"]) for d in documents} | {g for g, _ in group_theme_n}
        groups |= _groups_in(comparison)
        ordered = sorted(groups, key=_natural)   # 第2医院 before 第10医院
        size: dict[str, int] = {}
        for (g, _t), n in group_theme_n.items():
            size[g] = size.get(g, 0) + n
        # The largest groups get the per-group figures; the comparison tables hold every group.
        shown = sorted(sorted(ordered, key=lambda g: (-size.get(g, 0), _natural(g)))[:_TOP_GROUPS], key=_natural)
        return cls(
            tables=tables, comparison=comparison, theme_names=names, theme_order=order,
            groups=ordered, group_key={g: f"g{i}" for i, g in enumerate(ordered)},
            doc_anchor={str(d["doc_id"]): f"doc-{i}" for i, d in enumerate(documents)},
            documents=documents, n_sections=sum(group_theme_n.values()), group_theme_n=group_theme_n,
            shown_groups=shown, mention_types=mention_types, n_mentions=sum(mention_types.values()),
        )

    # Names and order -------------------------------------------------------

    def name(self, theme: str) -> str:
        return self.theme_names.get(theme, theme)

    def theme_sort(self, theme: str) -> tuple[int, str]:
        return (self.theme_order.get(theme, len(self.theme_order) + (1 if theme == "other" else 0)), theme)

    def theme_html(self, theme: str) -> str:
        name = self.name(theme)
        ident = f' <span class="id">{_e(theme)}</span>' if name != theme else ""
        return f"{_e(name)}{ident}"

    def get(self, name: str) -> Any:
        """A field of the comparison, or None where the comparison lacks it."""
        return getattr(self.comparison, name, None)

    def is_shown(self, group: str) -> bool:
        return group in self._shown_set

    @property
    def _shown_set(self) -> set[str]:
        return set(self.shown_groups)

    # Anchors: each registers the appendix block it points to ----------------------

    def group_anchor(self, group: str) -> str:
        anchor = f"sec-{self.group_key.get(group) or 'g-' + _slug(group)}"
        if anchor not in self.blocks:
            self.blocks[anchor] = _Block(anchor, group)   # a header block: the themes follow it
        return anchor

    def group_theme_anchor(self, group: str, theme: str) -> str:
        gkey = self.group_key.get(group) or "g-" + _slug(group)
        anchor = f"sec-{gkey}-{_slug(theme)}"
        if anchor not in self.blocks:
            block = _Block(anchor, f"{group} · {self.name(theme)} ({theme})",
                           note="sections of the group with this primary theme",
                           query=_sql(f"{_GROUP_SQL} = {_lit(group)} AND s.primary_theme = {_lit(theme)}"))
            self.blocks[anchor] = self._by_group_theme[(group, theme)] = block
        return anchor

    def theme_anchor(self, theme: str) -> str:
        anchor = f"sec-t-{_slug(theme)}"
        if anchor not in self.blocks:
            block = _Block(anchor, f"{self.name(theme)} ({theme}), all groups", note="sections with this primary theme",
                           query=_sql(f"s.primary_theme = {_lit(theme)}"))
            self.blocks[anchor] = self._by_theme[theme] = block
        return anchor

    def kind_theme_anchor(self, kind: str, theme: str) -> str:
        anchor = f"sec-k-{_slug(kind)}-{_slug(theme)}"
        if anchor not in self.blocks:
            block = _Block(anchor, f"{kind} · {self.name(theme)} ({theme})",
                           note=f"sections of {kind} documents with this primary theme",
                           query=_sql(f"d.kind = {_lit(kind)} AND s.primary_theme = {_lit(theme)}"))
            self.blocks[anchor] = self._by_kind_theme[(kind, theme)] = block
        return anchor

    def text_anchor(self, prefix: str, key: str, heading: str, needle: str, group: str | None = None) -> str:
        """Sections whose title or body contains ``needle`` (in ``group`` when given)."""
        anchor = f"sec-{prefix}-{key}"
        if anchor not in self.blocks:
            where = f" in {group}" if group else ""
            condition = f"lower(s.title || chr(10) || coalesce(s.body, '')) LIKE {_lit('%' + needle + '%')}"
            if group:
                condition = f"{_GROUP_SQL} = {_lit(group)} AND {condition}"
            block = _Block(anchor, heading, note=f"sections{where} containing “{needle}”", query=_sql(condition))
            self.blocks[anchor] = block
            if needle:
                self._by_text.append((needle, group, block))
        return anchor

    def mention_anchor(self, key: str, heading: str, match: tuple[str, Any], note: str) -> str:
        """A block of mentions: ``match`` is ``("type", type)``, ``("quantity", (type, unit, theme))`` or
        ``("activity", name)``."""
        anchor = f"sec-{key}"
        if anchor not in self.blocks:
            block = _Block(anchor, heading, note=note, mentions=True, query=_mention_sql(match))
            self.blocks[anchor] = self._by_mention.setdefault(match, block)
        return anchor

    def themes_of(self, group: str) -> list[str]:
        return sorted((t for g, t in self.group_theme_n if g == group), key=self.theme_sort)

    def sections_of(self, group: str) -> int:
        return sum(n for (g, _t), n in self.group_theme_n.items() if g == group)

    def doc_link(self, doc_id: Any) -> str:
        anchor = self.doc_anchor.get(str(doc_id))
        if anchor:
            self.linked_docs.add(str(doc_id))
        return f'<a href="#{anchor}">{_e(doc_id)}</a>' if anchor else _e(doc_id)


#: Sections with their group, kind and primary theme (the rule of compare: section_themes, else the sections
#: table, else "other"); ``docs`` is the report's documents (doc_id, grp, kind).
_SECTIONS = """
    (SELECT s.section_id, s.doc_id, s.file, s.line, s.outline, s.title, s.body,
            coalesce(p.theme, nullif(trim(s.primary_theme), ''), 'other') AS theme,
            coalesce(d.grp, s.file, '?') AS grp, d.kind
     FROM sections s
     LEFT JOIN docs d ON d.doc_id = s.doc_id
     LEFT JOIN (SELECT section_id, theme FROM section_themes
                WHERE section_id IS NOT NULL AND theme IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY section_id
                    ORDER BY coalesce("rank", CASE WHEN is_primary THEN 1 ELSE 1000000 END), theme) = 1) p
         ON p.section_id = s.section_id
     WHERE s.section_id IS NOT NULL AND s.doc_id IS NOT NULL)"""

#: A document's group in SQL over the output tables (the default grouping: hospital, else file).
_GROUP_SQL = "coalesce(d.hospital, d.file)"


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _sql(condition: str) -> str:
    return ("SELECT s.doc_id, s.outline, s.file, s.line, s.title FROM sections s JOIN documents d USING (doc_id) "
            f"WHERE {condition} ORDER BY s.doc_id, s.line")


def _mention_sql(match: tuple[str, Any]) -> str:
    kind, key = match
    if kind == "type":
        condition = f"m.type = {_lit(key)}"
    elif kind == "activity":
        condition = f"m.type = 'activity' AND coalesce(m.name, m.text) = {_lit(key)}"
    else:
        mtype, unit, theme = key
        condition = (f"m.type = {_lit(mtype)} AND coalesce(m.unit, '') = {_lit(unit)} "
                     f"AND s.primary_theme = {_lit(theme)}")
    return ("SELECT m.doc_id, s.outline, m.file, m.line, s.title, m.text FROM mentions m "
            f"LEFT JOIN sections s USING (section_id) WHERE {condition} ORDER BY m.doc_id, m.start")


def _open_source(tables: Any, documents: list[dict[str, Any]]) -> Any:
    """compare's DuckDB view of the tables, with the report's documents as table ``docs``."""
    import pyarrow as pa

    from .compare import _Source

    source = _Source(tables)
    docs = pa.table({"doc_id": pa.array([str(d["doc_id"]) for d in documents], pa.string()),
                     "grp": pa.array([str(d["group"]) for d in documents], pa.string()),
                     "kind": pa.array([None if d.get("kind") is None else str(d["kind"]) for d in documents],
                                      pa.string())})
    source.con.register("_report_docs", docs)
    source.con.execute("CREATE TABLE docs AS SELECT * FROM _report_docs")
    return source


def _row_at(columns: list[tuple[str, list[Any]]], i: int) -> dict[str, Any]:
    """Row ``i`` of a batch's column lists, as a dict."""
    return {name: values[i] for name, values in columns}


#: The mention columns a block's rows hold, in order.
_MENTION_COLUMNS = ("doc_id", "section_id", "file", "line", "start", "type", "text", "unit", "activity", "theme")
#: The section columns a block's rows hold (those of :data:`_SECTIONS`), in order.
_SECTION_COLUMNS = ("section_id", "doc_id", "file", "line", "outline", "title", "body", "theme", "grp", "kind")


def _fill_blocks(ctx: _Context) -> None:
    """Fill every registered block with its first :data:`_SECTION_CAP` rows and its total.

    Blocks chosen by columns (a mention type, activity or quantity; a
    section's group, theme or kind) are filled in DuckDB: a window keeps each
    block's first rows by document and position, so no Python loop visits
    the rows of a large corpus. Blocks of sections containing a text (terms,
    keywords) take one pass over the sections, every needle found at once by
    an Aho-Corasick automaton. Rows tie on their key only when ids repeat;
    then the earlier row in table order comes first.
    """
    if not ctx.blocks:
        return
    source = _open_source(ctx.tables, ctx.documents)
    try:
        # The sections with their group, kind and theme, computed once for every pass below; seq is table order.
        source.con.execute(f"CREATE OR REPLACE TEMP TABLE _s AS SELECT row_number() OVER () AS seq, * FROM {_SECTIONS}")
        if ctx._by_mention:
            _fill_mention_blocks(source, ctx)
        if ctx._by_group_theme or ctx._by_theme or ctx._by_kind_theme:
            _fill_section_blocks(source, ctx)
        if ctx._by_text:
            _fill_text_blocks(source, ctx)
        lookup: dict[str, dict[str, Any]] = {}
        wanted = sorted({str(r["section_id"]) for b in ctx._by_mention.values() for r in b.rows if r["section_id"]})
        if wanted:
            import pyarrow as pa

            source.con.register("_wanted", pa.table({"section_id": pa.array(wanted, pa.string())}))
            query = ("SELECT section_id, outline, title FROM _s WHERE section_id IN (SELECT section_id FROM _wanted) "
                     "ORDER BY seq")
            for section_id, outline, title in source.rows(query):  # the last of repeated ids wins, as in a dict
                lookup[section_id] = {"outline": outline, "title": title}
    finally:
        source.close()
    for block in ctx.blocks.values():
        if block.mentions:
            for row in block.rows:
                row["section"] = lookup.get(str(row.get("section_id")), {})


def _top_rows(source: Any, table: str, want: dict[tuple[Any, ...], _Block], on: str, key: str,
              columns: tuple[str, ...], where: str = "") -> None:
    """Fill the blocks of ``want`` (values of ``w.a``, ``w.b``, ``w.c`` -> block) from ``table`` joined on ``on``.

    DuckDB's top-N aggregate (``min_by`` with a count) keeps each block's
    first rows by ``key`` (then table order) in one grouped pass; the rows
    themselves are then read by their position.
    """
    import pyarrow as pa

    if not want:
        return
    keys = list(want)
    names = ("a", "b", "c")[:max(len(k) for k in keys)]
    text = {tuple(None if x is None else str(x) for x in k): k for k in keys}
    source.con.register("_want", pa.table({
        name: pa.array([None if i >= len(k) or k[i] is None else str(k[i]) for k in keys], pa.string())
        for i, name in enumerate(names)}))
    wanted = ", ".join(f"w.{n}" for n in names)
    found = source.rows(f"SELECT {wanted}, count(*), min_by(t.seq, ({key}, t.seq), {_SECTION_CAP}) "
                        f"FROM {table} t JOIN _want w ON {on} {where} GROUP BY ALL")
    source.con.unregister("_want")
    positions = sorted({seq for row in found for seq in row[-1]})
    rows: dict[int, dict[str, Any]] = {}
    if positions:
        source.con.register("_positions", pa.table({"seq": pa.array(positions, pa.int64())}))
        for values in source.rows(f"SELECT seq, {', '.join(columns)} FROM {table} "
                                  "WHERE seq IN (SELECT seq FROM _positions)"):
            rows[values[0]] = dict(zip(columns, values[1:], strict=True))
        source.con.unregister("_positions")
    for row in found:
        block = want[text[tuple(row[:len(names)])]]
        block.total = int(row[len(names)])
        block.rows = [rows[seq] for seq in row[-1]]  # min_by lists them by key


def _fill_mention_blocks(source: Any, ctx: _Context) -> None:
    # The mention's sort key of the report: (doc_id, else file, as text; start, else 0).
    source.con.execute("""
        CREATE OR REPLACE TEMP TABLE _m AS
        SELECT row_number() OVER () AS seq, q.*, coalesce(nullif(q.type, ''), 'unknown') AS kind,
               CASE WHEN q.doc_id <> '' THEN q.doc_id WHEN q.file IS NULL THEN 'None' ELSE q.file END AS k1,
               coalesce(q.start, 0) AS k2
        FROM (SELECT m.doc_id, m.section_id, m.file, m.line, m.start, m.type, m.text, m.unit,
                     coalesce(m.name, m.text) AS activity, s.theme FROM mentions m
              LEFT JOIN (SELECT section_id, theme FROM _s) s ON s.section_id = m.section_id) q""")
    by_family: dict[str, dict[tuple[Any, ...], _Block]] = {"type": {}, "activity": {}, "quantity": {}}
    for (family, key), block in ctx._by_mention.items():
        by_family[family][key if isinstance(key, tuple) else (key,)] = block
    key = "t.k1, t.k2"
    _top_rows(source, "_m", by_family["type"], "t.kind = w.a", key, _MENTION_COLUMNS)
    _top_rows(source, "_m", by_family["activity"], "t.activity = w.a", key, _MENTION_COLUMNS,
              "WHERE t.type = 'activity'")
    _top_rows(source, "_m", by_family["quantity"],
              "t.kind = w.a AND coalesce(t.unit, '') = w.b AND t.theme IS NOT DISTINCT FROM w.c", key,
              _MENTION_COLUMNS)


#: A section's sort key of the report: document, line, id.
_SECTION_KEY = "t.doc_id, coalesce(t.line, 0), t.section_id"


def _fill_section_blocks(source: Any, ctx: _Context) -> None:
    _top_rows(source, "_s", ctx._by_group_theme, "t.grp = w.a AND t.theme = w.b", _SECTION_KEY, _SECTION_COLUMNS)
    _top_rows(source, "_s", {(theme,): block for theme, block in ctx._by_theme.items()}, "t.theme = w.a",
              _SECTION_KEY, _SECTION_COLUMNS)
    _top_rows(source, "_s", ctx._by_kind_theme, "t.kind IS NOT DISTINCT FROM w.a AND t.theme = w.b", _SECTION_KEY,
              _SECTION_COLUMNS)


def _fill_text_blocks(source: Any, ctx: _Context) -> None:
    """Sections containing a block's needle (in its group, or anywhere), read in key order.

    Every needle is found at once, by one Aho-Corasick pass over a batch's
    lower-cased texts (UTF-8, joined by NUL, which no needle holds); the
    (section, needle) pairs are then handed to blocks a needle at a time in
    numpy. Read in key order, a block's first rows are simply the first that
    match, so Python builds rows only for those.
    """
    import ahocorasick_rs
    import numpy as np

    where: dict[str, list[tuple[str | None, _Block]]] = {}
    for needle, group, block in ctx._by_text:
        if "\0" not in needle:
            where.setdefault(needle, []).append((group, block))
    if not where:
        return
    needles = sorted(where)
    automaton = ahocorasick_rs.BytesAhoCorasick([n.encode() for n in needles],
                                                implementation=ahocorasick_rs.Implementation.DFA)
    query = f"SELECT {', '.join(_SECTION_COLUMNS)} FROM _s t ORDER BY {_SECTION_KEY}, t.seq"
    for batch in source.batches(query):
        titles, bodies, groups = batch["title"], batch["body"], batch["grp"]
        encoded = [f"{titles[i] or ''}\n{bodies[i] or ''}".lower().encode() for i in range(len(titles))]
        found = automaton.find_matches_as_indexes(b"\0".join(encoded), overlapping=True)
        if not found:
            continue
        starts = np.cumsum([0] + [len(t) + 1 for t in encoded[:-1]])
        hits = np.asarray(found, dtype=np.int64)
        # Each (section, needle) once, sorted by needle, then section: a needle's sections in key order.
        codes = np.unique(hits[:, 0] * len(encoded) + np.searchsorted(starts, hits[:, 1], side="right") - 1)
        needle_of, row_of = np.divmod(codes, len(encoded))
        group_ids = {g: k for k, g in enumerate(dict.fromkeys(groups))}
        group_of = np.array([group_ids[g] for g in groups], dtype=np.int64)
        bounds = np.flatnonzero(np.r_[True, needle_of[1:] != needle_of[:-1], True])
        columns = list(batch.items())
        made: dict[int, dict[str, Any]] = {}
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            rows = row_of[lo:hi]
            for group, block in where[needles[int(needle_of[lo])]]:
                chosen = rows if group is None else rows[group_of[rows] == group_ids.get(group, -1)]
                block.total += len(chosen)
                for i in chosen[:max(_SECTION_CAP - len(block.rows), 0)].tolist():
                    block.rows.append(made.setdefault(i, _row_at(columns, i)))


def _theme_names(taxonomy: Taxonomy | None, run_info: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, int]]:
    """Theme id -> Chinese name, and id -> position in the taxonomy file."""
    from .errors import ReportmineError
    from .themes import load_taxonomy

    if taxonomy is None:
        path = (run_info or {}).get("taxonomy")
        try:
            taxonomy = load_taxonomy(path if path and path != "shipped" else None)
        except (ReportmineError, OSError):
            # The report is still worth having with the shipped names.
            taxonomy = load_taxonomy()
    names = {t.id: t.name_zh for t in taxonomy.themes}
    names.setdefault("other", _OTHER_NAME)
    return names, {t.id: i for i, t in enumerate(taxonomy.themes)}


def _groups_in(comparison: Any) -> set[str]:
    found: set[str] = set()
    for name, columns in (("theme_profiles", ("group",)), ("distinctive_themes", ("group",)),
                          ("distinctive_terms", ("group",)), ("similarity", ("group_a", "group_b"))):
        frame = getattr(comparison, name, None)
        if frame is None:
            continue
        for column in columns:
            if column in frame.columns:
                found |= {str(v) for v in frame[column].dropna().unique()}
    return found


# --- Sections of the page -------------------------------------------------------


def _summary(ctx: _Context, run_info: dict[str, Any] | None) -> str:
    files = ctx.tables.get("files")
    out = []
    n_files = 0 if files is None else len(files)
    failed_rows = []
    seconds = None
    if not _missing(files, ("status",)):
        rows = _rows(files)
        failed_rows = [r for r in rows if r.get("status") != "ok"]
        if "seconds" in files.columns:
            seconds = sum(_num(r.get("seconds")) or 0 for r in rows)
    cards = [("files", _int(n_files)), ("ok", _int(n_files - len(failed_rows))), ("failed", _int(len(failed_rows))),
             ("documents", _int(len(ctx.documents))), ("sections", _int(ctx.n_sections)),
             ("mentions", _int(ctx.n_mentions)), ("groups", _int(len(ctx.groups)))]
    if seconds is not None:
        cards.append(("seconds (files)", f"{seconds:,.2f}"))
    out.append('<div class="cards">' + "".join(f'<div class="card"><b>{v}</b>{_e(k)}</div>' for k, v in cards)
               + "</div>")
    if run_info:
        out.append("<h3>Run</h3>")
        out.append(_table(["setting", "value"], [[_e(k), _e(_plain(v))] for k, v in sorted(run_info.items())]))

    out.append("<h3>Files that failed</h3>")
    if failed_rows:
        out.append(_table(["file", "stage", "error"],
                          [[_e(r.get("file")), _e(r.get("stage")), f'<span class="err">{_e(r.get("error"))}</span>']
                           for r in failed_rows[:_TABLE_CAP]]))
        out.append(_more(len(failed_rows), _TABLE_CAP, "failed files",
                         "SELECT file, stage, error FROM files WHERE status = 'failed'"))
    else:
        out.append(_nothing("every file was read" if n_files else "no files"))

    out.append('<div class="grid">')
    out.append("<div><h3>Documents by kind</h3>")
    kinds: dict[str, int] = {}
    for d in ctx.documents:
        kinds[str(d.get("kind") or "unknown")] = kinds.get(str(d.get("kind") or "unknown"), 0) + 1
    bars = [_Bar(k, n, _int(n), href=f"docs-{_slug(k)}")
            for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    out.append(_bar_chart(bars, bar_width=240) or _nothing("no documents"))
    out.append("</div><div><h3>Mentions by type</h3>")
    bars = []
    for kind, n in sorted(ctx.mention_types.items(), key=lambda kv: (-kv[1], kv[0])):
        anchor = ctx.mention_anchor(f"m-{_slug(kind)}", f"mentions of type {kind}", ("type", kind), f"{kind} mentions")
        bars.append(_Bar(kind, n, _int(n), href=anchor))
    out.append(_bar_chart(bars, bar_width=240) or _nothing("no mentions"))
    out.append("</div></div>")

    out.append("<h3>Groups</h3>")
    if ctx.groups:
        rows = []
        docs_of: dict[str, list[dict[str, Any]]] = {}
        for d in ctx.documents:
            docs_of.setdefault(str(d["group"]), []).append(d)
        for g in ctx.shown_groups:
            docs = docs_of.get(g, [])
            sources = sorted({str(d.get("group_source")) for d in docs if d.get("group_source")})
            years = sorted({_year(d.get("year")) for d in docs if _num(d.get("year")) is not None})
            rows.append([f'<a href="#{ctx.group_anchor(g)}">{_e(g)}</a>', _e(", ".join(sources)),
                         _int(len(docs)), _int(ctx.sections_of(g)), _e(", ".join(years))])
        out.append('<p class="note">A group is a document\'s hospital where known, else its file '
                   "(group source says which).</p>")
        out.append(_table(["group", "group source", "documents", "sections", "years"], rows, numeric=(2, 3)))
        out.append(_groups_note(ctx))
    else:
        out.append(_nothing("no groups"))
    return "\n".join(out)


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    return "" if value is None else str(value)


def _group_theme_shares(ctx: _Context) -> dict[tuple[str, str], tuple[float, int]]:
    """(group, theme) -> (share of the group's sections, sections), summed over years."""
    profiles = ctx.get("theme_profiles")
    if _missing(profiles, ("group", "theme")):
        return {}
    counts: dict[tuple[str, str], float] = {}
    shares: dict[tuple[str, str], float] = {}
    for row in _rows(profiles):
        if row["group"] is None or row["theme"] is None:
            continue
        key = (str(row["group"]), str(row["theme"]))
        counts[key] = counts.get(key, 0) + (_num(row.get("sections")) or 0)
        if _num(row.get("share_sections")) is not None:
            shares.setdefault(key, _num(row["share_sections"]) or 0.0)
    totals: dict[str, float] = {}
    for (g, _t), n in counts.items():
        totals[g] = totals.get(g, 0) + n
    result = {}
    for key, n in counts.items():
        total = totals[key[0]]
        # Without section counts, fall back on the profile's own share (first year).
        share = n / total if total else shares.get(key, 0.0)
        result[key] = (share, int(n))
    return result


def _heatmap(ctx: _Context) -> str:
    shares = _group_theme_shares(ctx)
    if not shares:
        return _nothing("no theme profiles")
    groups = [g for g in sorted({g for g, _ in shares}, key=_natural) if ctx.is_shown(g)]
    if not groups:
        return _nothing("no theme profiles of the groups shown")
    themes = sorted({t for _, t in shares}, key=ctx.theme_sort)
    top = _nice_max(max(s for (g, _t), (s, _n) in shares.items() if ctx.is_shown(g)))
    left = min(_LABEL_MAX, max(_width(g) for g in groups)) + 12
    header = max(_width(ctx.name(t)) + _width(t, 11) + 8 for t in themes) + 8
    width = left + len(themes) * _CELL_W + 20
    height = header + len(groups) * _CELL_H + 4
    out = [f'<svg class="chart heatmap" width="{width:.0f}" height="{height:.0f}" role="img">']
    for j, t in enumerate(themes):
        x = left + j * _CELL_W + _CELL_W / 2
        label = (f'<text transform="translate({x + 4:.1f},{header - 6:.1f}) rotate(-90)">{_e(ctx.name(t))}'
                 f'<tspan class="sub" font-size="11"> {_e(t)}</tspan></text>')
        out.append(f'<a href="#{ctx.theme_anchor(t)}">{label}</a>')
    for i, g in enumerate(groups):
        y = header + i * _CELL_H
        out.append(f'<a href="#{ctx.group_anchor(g)}">{_label(g, "", left - 8, y + _CELL_H / 2, limit=left - 12)}</a>')
        for j, t in enumerate(themes):
            x = left + j * _CELL_W
            share, n = shares.get((g, t), (0.0, 0))
            v = share / top
            tip = f"{g} · {ctx.name(t)} ({t}): {_pct(share)} of sections, {n} sections"
            cell = (f'<rect x="{x}" y="{y:.1f}" width="{_CELL_W - 1}" height="{_CELL_H - 1}" fill="{_colour(v)}">'
                    f"<title>{_e(tip)}</title></rect>")
            if share >= 0.005:
                cell += (f'<text x="{x + _CELL_W / 2 - 0.5:.1f}" y="{y + _CELL_H / 2:.1f}" text-anchor="middle" '
                         f'dominant-baseline="middle" font-size="10" style="fill:{_ink(v)}">{share * 100:.0f}</text>')
            # An empty cell has no sections behind it: no link, so the appendix has no empty blocks.
            out.append(f'<a href="#{ctx.group_theme_anchor(g, t)}">{cell}</a>' if n or share else cell)
    out.append("</svg>")
    definition = ctx.get("share_definition")
    note = ("<p class=\"note\">Cells: percent of a group's sections whose primary theme is the column's "
            "(section counts summed over years). Click a cell for its sections, a theme for all groups.</p>")
    if definition:
        note += f'<p class="note">Comparison\'s share definition: {_e(definition)}</p>'
    return '<div class="scroll">' + "".join(out) + "</div>" + _legend(top) + note + _groups_note(ctx)


def _legend(top: float) -> str:
    """The heatmap's colour scale: a stepped ramp from 0 to ``top`` with ticks."""
    steps, w = 40, 8
    out = [f'<svg class="legend" width="{steps * w + 60}" height="44" role="img">',
           '<text x="0" y="10">share of sections</text>']
    for k in range(steps):
        out.append(f'<rect x="{k * w}" y="16" width="{w}" height="12" fill="{_colour((k + 0.5) / steps)}"/>')
    for k in range(5):
        x = k * steps * w / 4
        out.append(f'<line x1="{x:.0f}" y1="28" x2="{x:.0f}" y2="32" stroke="#555"/>'
                   f'<text class="axis" x="{x:.0f}" y="41" text-anchor="middle">{top * k / 4 * 100:.0f}%</text>')
    out.append("</svg>")
    return "".join(out)


def _profiles(ctx: _Context) -> str:
    shares = _group_theme_shares(ctx)
    if not shares:
        return _nothing("no theme profiles")
    out = ['<p class="note">Share of each group\'s sections by primary theme; bars link to the sections.</p>',
           '<div class="grid">']
    top = max(s for s, _ in shares.values())
    for g in [g for g in sorted({g for g, _ in shares}, key=_natural) if ctx.is_shown(g)]:
        items = sorted(((t, s, n) for (gg, t), (s, n) in shares.items() if gg == g and s > 0),
                       key=lambda x: (-x[1], ctx.theme_sort(x[0])))
        bars = [_Bar(ctx.name(t), s, f"{_pct(s)} ({n})", href=ctx.group_theme_anchor(g, t), sub=t,
                     tip=f"{ctx.name(t)} ({t}): {_pct(s)}, {n} sections") for t, s, n in items]
        chart = _bar_chart(bars, vmax=top, bar_width=200, label_width=250) or _nothing("no sections")
        out.append(f'<div><h3><a href="#{ctx.group_anchor(g)}">{_e(g)}</a></h3>{chart}</div>')
    out.append("</div>")
    out.append(_groups_note(ctx))
    return "\n".join(out)


def _distinctive(ctx: _Context) -> str:
    themes = ctx.get("distinctive_themes")
    terms = ctx.get("distinctive_terms")
    has_themes = not _missing(themes, ("group", "theme", "z"))
    has_terms = not _missing(terms, ("group", "term", "z"))
    if not has_themes and not has_terms:
        return _nothing("no distinctive themes or terms")
    theme_rows = _rows(themes) if has_themes else []
    term_rows = _rows(terms) if has_terms else []
    groups = sorted({str(r["group"]) for r in theme_rows + term_rows if r["group"] is not None}, key=_natural)
    groups = [g for g in groups if ctx.is_shown(g)]
    out = ['<p class="note">Log-odds ratio with an informative Dirichlet prior of each group against all others '
           "(Monroe, Colaresi &amp; Quinn 2008); bars are z-scores, top positive only.</p>", '<div class="grid">']
    for g in groups:
        rows_t = sorted((r for r in theme_rows if str(r["group"]) == g and (_num(r["z"]) or 0) > 0),
                        key=lambda r: (-(_num(r["z"]) or 0), str(r["theme"])))[:_TOP_THEMES]
        rows_w = sorted((r for r in term_rows if str(r["group"]) == g and (_num(r["z"]) or 0) > 0),
                        key=lambda r: (-(_num(r["z"]) or 0), str(r["term"])))[:_TOP_TERMS]
        bars_t = [_Bar(ctx.name(str(r["theme"])), _num(r["z"]) or 0, f"z={_fmt(r['z'])} n={_int(r.get('count'))}",
                       href=ctx.group_theme_anchor(g, str(r["theme"])), sub=str(r["theme"])) for r in rows_t]
        gkey = ctx.group_key.get(g, _slug(g))
        bars_w = [_Bar(str(r["term"]), _num(r["z"]) or 0, f"z={_fmt(r['z'])} n={_int(r.get('count'))}",
                       href=ctx.text_anchor("w", f"{gkey}-{k}", f"{g} · term “{r['term']}”", str(r["term"]), g),
                       colour=_SUMMARY) for k, r in enumerate(rows_w)]
        chart_t = _bar_chart(bars_t, bar_width=160, label_width=220) or _nothing("no distinctive themes")
        chart_w = _bar_chart(bars_w, bar_width=160, label_width=220) or _nothing("no distinctive terms")
        out.append(f'<div><h3><a href="#{ctx.group_anchor(g)}">{_e(g)}</a></h3>'
                   f"<h4>Themes</h4>{chart_t}<h4>Terms</h4>{chart_w}</div>")
    out.append("</div>")
    out.append(_groups_note(ctx, "distinctive_themes and distinctive_terms"))
    return "\n".join(out)


def _similarity(ctx: _Context) -> str:
    sim = ctx.get("similarity")
    if _missing(sim, ("group_a", "group_b", "cosine")):
        return _nothing("no similarity (fewer than two groups)")
    values = {(str(r["group_a"]), str(r["group_b"])): _num(r["cosine"]) for r in _rows(sim)
              if ctx.is_shown(str(r["group_a"])) and ctx.is_shown(str(r["group_b"]))}
    groups = sorted({g for pair in values for g in pair}, key=_natural)
    if not groups:
        return _nothing("no similarity among the groups shown")
    left = min(_LABEL_MAX, max(_width(g) for g in groups)) + 12
    header = max(_width(_cut(g)) for g in groups) + 12
    cell = 34
    width, height = left + len(groups) * cell + 10, header + len(groups) * cell + 4
    out = [f'<svg class="chart similarity" width="{width:.0f}" height="{height:.0f}" role="img">']
    for j, g in enumerate(groups):
        x = left + j * cell + cell / 2
        out.append(f'<a href="#{ctx.group_anchor(g)}"><text transform="translate({x + 4:.1f},{header - 6:.1f}) '
                   f'rotate(-90)">{_e(_cut(g))}</text></a>')
    for i, a in enumerate(groups):
        y = header + i * cell
        out.append(f'<a href="#{ctx.group_anchor(a)}">{_label(a, "", left - 8, y + cell / 2, limit=left - 12)}</a>')
        for j, b in enumerate(groups):
            x = left + j * cell
            v = values.get((a, b), values.get((b, a))) if a != b else 1.0
            if v is None:
                continue
            rect = (f'<rect x="{x}" y="{y:.1f}" width="{cell - 1}" height="{cell - 1}" fill="{_colour(v)}">'
                    f"<title>{_e(f'{a} · {b}: cosine {v:.3f}')}</title></rect>"
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2:.1f}" text-anchor="middle" '
                    f'dominant-baseline="middle" font-size="10" style="fill:{_ink(v)}">{v:.2f}</text>')
            out.append(f'<a href="#{ctx.group_anchor(a)}">{rect}</a>')
    out.append("</svg>")
    return ('<p class="note">Cosine similarity of theme profiles; a cell links to its row group\'s sections.</p>'
            '<div class="scroll">' + "".join(out) + "</div>" + _groups_note(ctx, "similarity"))


def _plan_vs_summary(ctx: _Context) -> str:
    pvs = ctx.get("plan_vs_summary")
    need = ("theme", "plan_share", "summary_share")
    if _missing(pvs, need):
        return _nothing("no plans and summaries to compare")
    rows = sorted(_rows(pvs), key=lambda r: (-abs(_num(r.get("difference")) or 0), ctx.theme_sort(str(r["theme"]))))
    top = max([_num(r["plan_share"]) or 0 for r in rows] + [_num(r["summary_share"]) or 0 for r in rows]) or 1
    label_w, bar_w, row_h = 250, 220, 34
    width = label_w + bar_w + 170
    out = [f'<svg class="chart plan-summary" width="{width}" height="{len(rows) * row_h + 28}" role="img">',
           f'<rect x="{label_w}" y="2" width="10" height="10" fill="{_PLAN}"/>'
           f'<text x="{label_w + 14}" y="10">plan</text>'
           f'<rect x="{label_w + 70}" y="2" width="10" height="10" fill="{_SUMMARY}"/>'
           f'<text x="{label_w + 84}" y="10">summary</text>']
    for i, r in enumerate(rows):
        t = str(r["theme"])
        y = 22 + i * row_h
        label = _label(ctx.name(t), t, label_w - 8, y + row_h / 2, limit=label_w - 8)
        out.append(f'<a href="#{ctx.theme_anchor(t)}">{label}</a>')
        for k, (kind, colour) in enumerate((("plan", _PLAN), ("summary", _SUMMARY))):
            share = _num(r[f"{kind}_share"]) or 0
            n = r.get(f"{kind}_sections")
            w = share / top * bar_w
            yy = y + 2 + k * 14
            tip = f"{ctx.name(t)} ({t}), {kind}: {_pct(share)}, {_int(n)} sections"
            out.append(f'<a href="#{ctx.kind_theme_anchor(kind, t)}"><rect x="{label_w}" y="{yy}" '
                       f'width="{max(w, 1):.1f}" height="12" fill="{colour}"><title>{_e(tip)}</title></rect>'
                       f'<text class="axis" x="{label_w + w + 4:.1f}" y="{yy + 10}">'
                       f"{_pct(share)} ({_int(n)})</text></a>")
        diff = _num(r.get("difference"))
        if diff is not None:
            out.append(f'<text class="axis" x="{label_w + bar_w + 100}" y="{y + row_h / 2:.1f}" '
                       f'dominant-baseline="middle">Δ {diff * 100:+.1f} pt</text>')
    out.append("</svg>")
    return ('<p class="note">Share of plan and summary sections by primary theme, largest differences first; '
            "bars link to the sections.</p>" + '<div class="scroll">' + "".join(out) + "</div>")


def _quantities(ctx: _Context) -> str:
    q = ctx.get("quantities")
    if _missing(q, ("theme", "type", "mentions")):
        return _nothing("no quantities")
    rows = sorted(_rows(q), key=lambda r: (ctx.theme_sort(str(r["theme"])), str(r["type"]), str(r.get("unit") or "")))
    top = max(_num(r["mentions"]) or 0 for r in rows) or 1
    table = []
    for k, r in enumerate(rows):
        theme, kind, unit = str(r["theme"]), str(r["type"]), r.get("unit") or ""
        anchor = ctx.mention_anchor(f"q-{k}", f"{ctx.name(theme)} ({theme}) · {kind} · {unit or 'no unit'}",
                                    ("quantity", (kind, str(unit), theme)),
                                    "mentions in sections of this primary theme")
        n = _num(r["mentions"]) or 0
        bar = (f'<svg class="chart qbar" width="124" height="14" role="img"><a href="#{anchor}">'
               f'<rect x="0" y="1" width="{max(1, n / top * 120):.1f}" height="12" fill="{_BAR}">'
               f"<title>{_e(_int(n))} mentions</title></rect></a></svg>")
        table.append([f'<a href="#{anchor}">{ctx.theme_html(theme)}</a>', _e(kind), _e(unit),
                      bar + f'<a href="#{anchor}">{_int(n)}</a>', _fmt(r.get("total")), _fmt(r.get("median")),
                      _fmt(r.get("min")), _fmt(r.get("max"))])
    return ('<p class="note">Quantity, money and percent mentions in sections of each primary theme '
            "(values in base units).</p>"
            + _table(["theme", "type", "unit", "mentions", "total", "median", "min", "max"], table,
                     numeric=(3, 4, 5, 6, 7)))


def _near_duplicates(ctx: _Context) -> str:
    nd = ctx.get("near_duplicates")
    if _missing(nd, ("doc_a", "doc_b", "similarity")):
        return _nothing("no near-duplicate documents")
    rows = sorted(_rows(nd), key=lambda r: (-(_num(r["similarity"]) or 0), str(r["doc_a"]), str(r["doc_b"])))
    table = []
    for r in rows[:_TABLE_CAP]:
        s = _num(r["similarity"]) or 0
        bar = (f'<svg class="chart dbar" width="104" height="14" role="img"><rect x="0" y="1" '
               f'width="{max(1, s * 100):.1f}" height="12" fill="{_colour(s)}"/></svg>')
        table.append([ctx.doc_link(r["doc_a"]), _e(r.get("group_a")), ctx.doc_link(r["doc_b"]), _e(r.get("group_b")),
                      bar + f"{s:.3f}"])
    return ('<p class="note">Documents sharing template text; documents link to their entry in the document list.</p>'
            + _table(["document", "group", "document", "group", "similarity"], table, numeric=(4,))
            + _more(len(rows), _TABLE_CAP, "pairs", "comparison/near_duplicates.csv"))


# --- Networks -------------------------------------------------------------------


def _networks(ctx: _Context) -> str:
    graphs = ctx.get("graphs") or {}
    out = []
    titles = {"theme_cooccurrence": "Theme co-occurrence", "activity_group": "Activities and groups",
              "keyword_cooccurrence": "Keyword co-occurrence"}
    names = [n for n in titles if n in graphs] + sorted(n for n in graphs if n not in titles)
    if not names:
        out.append(_nothing("no graphs"))
    for name in names:
        out.append(f"<h3>{_e(titles.get(name, name))} <span class=\"id\">{_e(name)}</span></h3>")
        graph = graphs[name]
        if graph is None or graph.number_of_nodes() == 0:
            out.append(_nothing("an empty graph"))
        elif name == "activity_group":
            out.append(_bipartite_svg(ctx, graph))
        else:
            out.append(_graph_svg(ctx, name, graph, circular=(name == "theme_cooccurrence")))
        out.append(_centrality(ctx, name))
    out.append("<h3>First activities</h3>")
    out.append(_first_activities(ctx))
    return "\n".join(out)


def _weight(data: dict[str, Any]) -> float:
    return _num(data.get("weight", 1)) or 0.0


def _top_nodes(graph: Any, limit: int) -> list[str]:
    strength: dict[str, float] = {}
    for u, v, d in graph.edges(data=True):
        for node in (u, v):
            strength[str(node)] = strength.get(str(node), 0) + _weight(d)
    nodes = sorted((str(n) for n in graph.nodes), key=lambda n: (-strength.get(n, 0), n))
    return sorted(nodes[:limit])


def _node_href(ctx: _Context, graph_name: str, node: str, kind: str | None) -> str:
    if kind == "group" or (kind is None and node in ctx.group_key and node not in ctx.theme_names):
        return ctx.group_anchor(node)
    if graph_name == "theme_cooccurrence" or kind == "theme" or node in ctx.theme_names:
        return ctx.theme_anchor(node)
    if kind == "activity" or graph_name == "activity_group":
        return _activity_anchor(ctx, node)
    key = _slug(graph_name) + "-" + f"{abs(_crc(node)):x}"
    return ctx.text_anchor("kw", key, f"keyword “{node}”", node)


def _crc(text: str) -> int:
    """A stable (unsalted) hash for anchor names; Python's hash() changes per process."""
    import zlib

    return zlib.crc32(text.encode("utf-8"))


def _activity_anchor(ctx: _Context, activity: str) -> str:
    return ctx.mention_anchor(f"act-{_crc(activity):08x}", f"activity “{activity}”", ("activity", activity),
                              "activity mentions")


def _node_label(ctx: _Context, node: str) -> tuple[str, str]:
    name = ctx.theme_names.get(node)
    return (name, node) if name else (node, "")


def _graph_svg(ctx: _Context, name: str, graph: Any, *, circular: bool) -> str:
    """A node-link drawing: circular for small graphs of themes, else a seeded spring layout."""
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
    # Small graphs get a small drawing: about 22 px per node, 280 to 620 px across.
    size, pad = min(620, max(280, 160 + 22 * len(keep))), 240
    width = size + 2 * pad
    xy = {n: (pad + size / 2 + float(p[0]) * size / 2 * 0.9, 30 + size / 2 + float(p[1]) * size / 2 * 0.9)
          for n, p in pos.items()}
    wmax = max((w for _, _, w in edges), default=1) or 1
    strength = {n: sum(d["weight"] for _, _, d in sub.edges(n, data=True)) for n in sub.nodes}
    smax = max(strength.values(), default=1) or 1
    kinds = _node_kinds(graph)
    out = [f'<svg class="chart network" width="{width:.0f}" height="{size + 60}" role="img">']
    for u, v, w in edges:
        (x1, y1), (x2, y2) = xy[u], xy[v]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#6baed6" '
                   f'stroke-opacity="{0.25 + 0.6 * w / wmax:.2f}" stroke-width="{0.5 + 5 * w / wmax:.1f}">'
                   f"<title>{_e(f'{u} — {v}: {_fmt(w)}')}</title></line>")
    for n in sorted(sub.nodes):
        x, y = xy[n]
        r = 4 + 10 * math.sqrt(strength[n] / smax)
        main, ident = _node_label(ctx, n)
        href = _node_href(ctx, name, n, kinds.get(n))
        anchor = "start" if x >= pad + size / 2 else "end"
        dx = r + 3 if anchor == "start" else -(r + 3)
        out.append(f'<a href="#{href}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{_BAR}" stroke="#fff">'
                   f"<title>{_e(f'{main} {ident}'.strip())}: weighted degree {_fmt(strength[n])}</title></circle>"
                   + _label(main, ident, x + dx, y, anchor=anchor, limit=pad - 10) + "</a>")
    out.append("</svg>")
    shown = f"{len(keep)} of {graph.number_of_nodes()} nodes" if len(keep) < graph.number_of_nodes() else \
        f"{len(keep)} nodes"
    return (f'<p class="note">{_e(shown)}, {len(edges)} edges; node size by weighted degree, edge width by weight; '
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


def _bipartite_svg(ctx: _Context, graph: Any) -> str:
    """Groups on the left, activities on the right, both sorted: a layout that never moves."""
    kinds = _node_kinds(graph)
    for n, k in kinds.items():
        if k is None:
            kinds[n] = "group" if n in ctx.group_key else "activity"
    all_groups = [n for n, k in kinds.items() if k == "group"]
    groups = sorted((g for g in all_groups if ctx.is_shown(g)), key=_natural) or sorted(all_groups, key=_natural)[
        :_TOP_GROUPS]
    degree: dict[str, float] = {}
    for u, v, d in graph.edges(data=True):
        for node in (str(u), str(v)):
            degree[node] = degree.get(node, 0) + _weight(d)
    activities_all = sorted((n for n, k in kinds.items() if k != "group"), key=lambda n: (-degree.get(n, 0), n))
    activities = sorted(activities_all[:_TOP_NODES], key=_natural)
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
                   f'<title>{_e(f"{g} — {a}")}</title></line>')
    for g in groups:
        out.append(f'<a href="#{ctx.group_anchor(g)}"><circle cx="{gx}" cy="{gy[g]:.1f}" r="6" fill="{_PLAN}">'
                   f"<title>{_e(g)}</title></circle>{_label(g, '', gx - 10, gy[g], limit=left_w - 12)}</a>")
    for a in activities:
        out.append(f'<a href="#{_activity_anchor(ctx, a)}"><circle cx="{ax}" cy="{ay[a]:.1f}" r="5" fill="{_BAR}">'
                   f"<title>{_e(a)}: {_fmt(degree.get(a, 0))}</title></circle>"
                   f"{_label(a, '', ax + 10, ay[a], anchor='start', limit=right_w - 12)}</a>")
    out.append("</svg>")
    shown = len(activities)
    left = f"{len(groups)} of {len(all_groups)} groups" if len(groups) < len(all_groups) else f"{len(groups)} groups"
    note = (f"{left} (left), {shown} of {len(activities_all)} activities (right, most linked)"
            if shown < len(activities_all) else f"{left} (left), {shown} activities (right)")
    return f'<p class="note">{_e(note)}; nodes link to their sections.</p><div class="scroll">{"".join(out)}</div>'


def _centrality(ctx: _Context, graph_name: str) -> str:
    c = ctx.get("centrality")
    if _missing(c, ("graph", "node")):
        return ""
    rows = [r for r in _rows(c) if str(r["graph"]) == graph_name]
    if not rows:
        return ""
    rows.sort(key=lambda r: (-(_num(r.get("weighted_degree")) or 0), -(_num(r.get("betweenness")) or 0),
                             str(r["node"])))
    table = []
    for r in rows[:_TOP_CENTRAL]:
        node = str(r["node"])
        main, ident = _node_label(ctx, node)
        label = _e(main) + (f' <span class="id">{_e(ident)}</span>' if ident else "")
        href = _node_href(ctx, graph_name, node, r.get("kind"))
        table.append([f'<a href="#{href}">{label}</a>', _e(r.get("kind")), _fmt(r.get("degree")),
                      _fmt(r.get("weighted_degree")), _fmt(r.get("betweenness"), 3), _fmt(r.get("eigenvector"), 3)])
    return ("<h4>Most central nodes</h4>"
            + _table(["node", "kind", "degree", "weighted degree", "betweenness", "eigenvector"], table,
                     numeric=(2, 3, 4, 5)))


def _first_activities(ctx: _Context) -> str:
    fa = ctx.get("first_activities")
    if _missing(fa, ("group", "activity")):
        return _nothing("no activities")
    rows = sorted((r for r in _rows(fa) if ctx.is_shown(str(r["group"]))),
                  key=lambda r: (_natural(str(r["group"])), _num(r.get("first_year")) or 0, str(r["activity"])))
    total = len(rows)
    table = [[f'<a href="#{ctx.group_anchor(str(r["group"]))}">{_e(r["group"])}</a>',
              f'<a href="#{_activity_anchor(ctx, str(r["activity"]))}">{_e(r["activity"])}</a>',
              _year(r.get("first_year")), ctx.doc_link(r.get("doc_id")), _int(r.get("line")), _int(r.get("documents"))]
             for r in rows[:_TABLE_CAP]]
    return ('<p class="note">The first year each group reports an activity (groups shown above).</p>'
            + _table(["group", "activity", "first year", "document", "line", "documents"], table, numeric=(2, 4, 5))
            + _more(total, _TABLE_CAP, "rows", "comparison/first_activities.csv"))


# --- Caps -----------------------------------------------------------------------


def _more(total: int, shown: int, what: str, where: str) -> str:
    """A note under a capped list: how many more, and the file or SQL query holding them all."""
    if total <= shown:
        return ""
    how = (f"in <code>OUT/reportmine.duckdb</code>: <code>{_e(where)}</code>" if where.startswith("SELECT")
           else f"in <code>OUT/{_e(where)}</code>")
    return f'<p class="note">{_int(shown)} of {_int(total)} {_e(what)} shown; all of them are {how}.</p>'


def _groups_note(ctx: _Context, table: str = "theme_profiles") -> str:
    hidden = len(ctx.groups) - len(ctx.shown_groups)
    if hidden <= 0:
        return ""
    return (f'<p class="note">The {len(ctx.shown_groups)} groups with most sections are shown; {_int(hidden)} more '
            f"are in <code>OUT/comparison/</code> ({_e(table)}.csv, .parquet).</p>")


# --- Appendix -------------------------------------------------------------------


def _section_rows(ctx: _Context, block: _Block) -> str:
    body = [[ctx.doc_link(s.get("doc_id")), _e(s.get("outline")), _e(s.get("file")), _int(s.get("line")),
             _e(_cut(str(s.get("title") or "")[:200], 600))] for s in block.rows]
    return _table(["document", "section", "file", "line", "title"], body, numeric=(3,)) + _block_more(block)


def _mention_rows(ctx: _Context, block: _Block) -> str:
    body = []
    for m in block.rows:
        section = m.get("section") or {}
        body.append([ctx.doc_link(m.get("doc_id")), _e(section.get("outline")), _e(m.get("file")), _int(m.get("line")),
                     _e(_cut(str(section.get("title") or "")[:200], 300)), _e(m.get("text"))])
    return (_table(["document", "section", "file", "line", "section title", "mention"], body, numeric=(3,))
            + _block_more(block))


def _block_more(block: _Block) -> str:
    if block.total <= len(block.rows):
        return ""
    return (f'<p class="note">First {len(block.rows)} of {_int(block.total)} by document and line; all of them in '
            f"<code>OUT/reportmine.duckdb</code> (or the Parquet tables): <code>{_e(block.query)}</code></p>")


def _block_html(ctx: _Context, block: _Block, level: str = "h4") -> str:
    if not block.rows:
        listing = _nothing(block.note or "no sections")
    elif block.mentions:
        listing = _mention_rows(ctx, block)
    else:
        listing = _section_rows(ctx, block)
    note = f' <span class="id">{_int(block.total)} · {_e(block.note)}</span>' if block.note else ""
    return f'<div class="block" id="{block.anchor}"><{level}>{_e(block.heading)}{note}</{level}>{listing}</div>'


def _appendix(ctx: _Context) -> str:
    # Every theme of a group shown or linked to gets a block, not only those a figure links to.
    for group in ctx.groups:
        if ctx.is_shown(group) or f"sec-{ctx.group_key[group]}" in ctx.blocks:
            ctx.group_anchor(group)
            for theme in ctx.themes_of(group):
                ctx.group_theme_anchor(group, theme)
    _fill_blocks(ctx)
    out = ['<p class="note">Each figure\'s bars, cells and nodes link here. Rows give the document, the section\'s '
           f"outline path, file and line of its heading; a block lists its first {_SECTION_CAP} by document and "
           "line, with the total and the SQL query listing all of them.</p>"]

    out.append("<h3>By group and primary theme</h3>")
    linked = [g for g in ctx.groups if f"sec-{ctx.group_key[g]}" in ctx.blocks]
    for group in linked:
        anchor = f"sec-{ctx.group_key[group]}"
        themes = ctx.themes_of(group)
        index = ", ".join(f'<a href="#{ctx.group_theme_anchor(group, t)}">{ctx.theme_html(t)}</a> '
                          f"({_int(ctx.group_theme_n[(group, t)])})" for t in themes)
        out.append(f'<div id="{anchor}"><h3>{_e(group)} <span class="id">{_int(ctx.sections_of(group))} sections'
                   f"</span></h3><p>{index or _nothing('no sections')}</p>")
        prefix = anchor + "-"
        for key in sorted((a for a in ctx.blocks if a.startswith(prefix)),
                          key=lambda a: ctx.theme_sort(_theme_of(ctx, a, prefix))):
            out.append(_block_html(ctx, ctx.blocks[key]))
        out.append("</div>")
    # Blocks for groups a figure names but no document holds (a comparison built elsewhere).
    gkeys = {f"sec-{ctx.group_key[g]}" for g in linked}
    known = gkeys | {a for a in ctx.blocks for g in gkeys if a.startswith(g + "-")}
    orphans = sorted(a for a in ctx.blocks if a.startswith("sec-g") and a not in known)
    for key in orphans:
        out.append(_block_html(ctx, ctx.blocks[key]))

    groups_of = [("By theme (all groups)", "sec-t-"), ("Plans and summaries", "sec-k-"),
                 ("Distinctive terms", "sec-w-"), ("Keywords", "sec-kw-"), ("Quantities", "sec-q-"),
                 ("Activities", "sec-act-"), ("Mentions by type", "sec-m-")]
    for heading, prefix in groups_of:
        keys = [a for a in ctx.blocks if a.startswith(prefix)]
        if not keys:
            continue
        out.append(f"<h3>{_e(heading)}</h3>")
        for key in sorted(keys, key=_natural):
            out.append(_block_html(ctx, ctx.blocks[key]))
    out.append(_documents_list(ctx))
    return "\n".join(out)


def _theme_of(ctx: _Context, anchor: str, prefix: str) -> str:
    slug = anchor[len(prefix):]
    for theme in ctx.theme_names:
        if _slug(theme) == slug:
            return theme
    return slug


def _natural(text: str) -> list[Any]:
    """Sort key putting q-2 before q-10 (and 第2医院 before 第10医院); ties broken by the text itself."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)] + [(2, 0, text)]


def _documents_list(ctx: _Context) -> str:
    """The documents the page links to, by kind, with every kind's count (the documents table has them all)."""
    out = ['<h3 id="documents">Documents</h3>']
    kinds: dict[str, list[dict[str, Any]]] = {}
    for d in ctx.documents:
        kinds.setdefault(str(d.get("kind") or "unknown"), []).append(d)
    if not kinds:
        out.append(_nothing("no documents"))
    # Documents a listed duplicate copies are linked too: take them before listing.
    for d in ctx.documents:
        if str(d["doc_id"]) in ctx.linked_docs and d.get("duplicate_of"):
            ctx.doc_link(d["duplicate_of"])
    for kind in sorted(kinds):
        listed = [d for d in kinds[kind] if str(d["doc_id"]) in ctx.linked_docs]
        out.append(f'<h4 id="docs-{_slug(kind)}">{_e(kind)} <span class="id">{_int(len(kinds[kind]))} documents, '
                   f"{_int(len(listed))} linked from this page</span></h4>")
        rows = []
        for d in listed:
            did = str(d["doc_id"])
            lines = f"{_int(d.get('start_line'))}–{_int(d.get('end_line'))}"
            rows.append([f'<span id="{ctx.doc_anchor[did]}">{_e(did)}</span>', _e(d.get("file")), _e(lines),
                         _e(d.get("title")), _e(d.get("group")), _e(d.get("group_source")), _year(d.get("year")),
                         _int(d.get("sections")), ctx.doc_link(d["duplicate_of"]) if d.get("duplicate_of") else ""])
        out.append(_table(["document", "file", "lines", "title", "group", "group source", "year", "sections",
                           "duplicate of"], rows, numeric=(6, 7)))
        if len(listed) < len(kinds[kind]):
            out.append(f'<p class="note">Every {_e(kind)} document is in <code>OUT/documents.csv</code> '
                       f"(<code>SELECT * FROM documents WHERE kind = {_e(_lit(kind))}</code>).</p>")
    return "\n".join(out)
