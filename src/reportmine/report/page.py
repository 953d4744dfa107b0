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

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safetext import visible
from ..store.files import atomic_path
from .anchors import Anchors
from .appendix import appendix
from .data import ReportData
from .markup import esc, fmt, fmt_int, fmt_pct, fmt_year, html_table, missing, natural, nothing, num, records, slug
from .svg import (
    BAR,
    PLAN,
    SUMMARY,
    Bar,
    bar_chart,
    bipartite_svg,
    colour,
    graph_svg,
    heatmap_svg,
    label,
    legend,
    nice_max,
    node_href,
    node_label,
    similarity_svg,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..compare import Comparison
    from ..taxonomy import Taxonomy

# --- Look -------------------------------------------------------------------

#: CJK fonts first, so Chinese never falls back to boxes where one is installed
#: (Debian: fonts-noto-cjk; Windows: Microsoft YaHei; macOS: PingFang SC).
FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
              '"Microsoft YaHei", "PingFang SC", sans-serif')

#: How much goes into one chart or list, so a corpus of thousands of reports
#: still gives a page a browser opens in seconds.
_TOP_THEMES = 6        # distinctive themes per group
_TOP_TERMS = 10        # distinctive terms per group
_TOP_CENTRAL = 10      # centrality rows per graph
_TABLE_CAP = 200       # rows of a table on the page (failed files, near duplicates, first activities, groups)

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
    data = ReportData.build(tables or {}, comparison, run_info, taxonomy)
    links = Anchors(data)
    parts = [
        _section("summary", "Corpus summary", _summary(data, links, run_info)),
        _section("heatmap", "Theme heatmap", _heatmap(data, links)),
        _section("profiles", "Group profiles", _profiles(data, links)),
        _section("distinctive", "Distinctive themes and terms", _distinctive(data, links)),
        _section("similarity", "Similarity of groups", _similarity(data, links)),
        _section("plan-summary", "Plans vs summaries", _plan_vs_summary(data, links)),
        _section("quantities", "Quantities per theme", _quantities(data, links)),
        _section("duplicates", "Near-duplicate documents", _near_duplicates(data, links)),
        _section("networks", "Networks", _networks(data, links)),
    ]
    # The appendix comes last: figures above register the blocks they link to.
    parts.append(_section("appendix", "Appendix: sections behind the figures", appendix(data, links)))
    toc = [("summary", "Corpus summary"), ("heatmap", "Theme heatmap"), ("profiles", "Group profiles"),
           ("distinctive", "Distinctive themes and terms"), ("similarity", "Similarity of groups"),
           ("plan-summary", "Plans vs summaries"), ("quantities", "Quantities per theme"),
           ("duplicates", "Near-duplicate documents"), ("networks", "Networks"),
           ("appendix", "Appendix: sections"), ("documents", "Appendix: documents")]
    nav = '<nav class="toc">' + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in toc) + "</nav>"
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{esc(title)}</h1>\n{nav}\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n"
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "report.html"
    tmp = atomic_path(target)
    try:
        tmp.write_bytes(visible(html_text).encode("utf-8"))  # a page built elsewhere may hold lone surrogates
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# --- Sections of the page -------------------------------------------------------


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{esc(heading)}</h2>\n{body}\n</section>'


def _summary(data: ReportData, links: Anchors, run_info: dict[str, Any] | None) -> str:
    files = data.tables.get("files")
    out = []
    n_files = 0 if files is None else len(files)
    failed_rows = []
    seconds = None
    if not missing(files, ("status",)):
        rows = records(files)
        failed_rows = [r for r in rows if r.get("status") != "ok"]
        if "seconds" in files.columns:
            seconds = sum(num(r.get("seconds")) or 0 for r in rows)
    cards = [("files", fmt_int(n_files)), ("ok", fmt_int(n_files - len(failed_rows))),
             ("failed", fmt_int(len(failed_rows))),
             ("documents", fmt_int(len(data.documents))), ("sections", fmt_int(data.n_sections)),
             ("mentions", fmt_int(data.n_mentions)), ("groups", fmt_int(len(data.groups)))]
    if seconds is not None:
        cards.append(("seconds (files)", f"{seconds:,.2f}"))
    out.append('<div class="cards">' + "".join(f'<div class="card"><b>{v}</b>{esc(k)}</div>' for k, v in cards)
               + "</div>")
    if run_info:
        out.append("<h3>Run</h3>")
        out.append(html_table(["setting", "value"], [[esc(k), esc(_plain(v))] for k, v in sorted(run_info.items())]))

    out.append("<h3>Files that failed</h3>")
    if failed_rows:
        failed = [[esc(r.get("file")), esc(r.get("stage")), f'<span class="err">{esc(r.get("error"))}</span>']
                  for r in failed_rows[:_TABLE_CAP]]
        out.append(html_table(["file", "stage", "error"], failed))
        out.append(_more(len(failed_rows), _TABLE_CAP, "failed files",
                         "SELECT file, stage, error FROM files WHERE status = 'failed'"))
    else:
        out.append(nothing("every file was read" if n_files else "no files"))

    out.append('<div class="grid">')
    out.append("<div><h3>Documents by kind</h3>")
    kinds: dict[str, int] = {}
    for d in data.documents:
        kinds[str(d.get("kind") or "unknown")] = kinds.get(str(d.get("kind") or "unknown"), 0) + 1
    bars = [Bar(k, n, fmt_int(n), href=f"docs-{slug(k)}")
            for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    out.append(bar_chart(bars, bar_width=240) or nothing("no documents"))
    out.append("</div><div><h3>Mentions by type</h3>")
    bars = []
    for kind, n in sorted(data.mention_types.items(), key=lambda kv: (-kv[1], kv[0])):
        anchor = links.mention_anchor(f"m-{slug(kind)}", f"mentions of type {kind}", ("type", kind), f"{kind} mentions")
        bars.append(Bar(kind, n, fmt_int(n), href=anchor))
    out.append(bar_chart(bars, bar_width=240) or nothing("no mentions"))
    out.append("</div></div>")

    out.append("<h3>Groups</h3>")
    if data.groups:
        rows = []
        docs_of: dict[str, list[dict[str, Any]]] = {}
        for d in data.documents:
            docs_of.setdefault(str(d["group"]), []).append(d)
        for g in data.shown_groups:
            docs = docs_of.get(g, [])
            sources = sorted({str(d.get("group_source")) for d in docs if d.get("group_source")})
            years = sorted({fmt_year(d.get("year")) for d in docs if num(d.get("year")) is not None})
            rows.append([f'<a href="#{links.group_anchor(g)}">{esc(g)}</a>', esc(", ".join(sources)),
                         fmt_int(len(docs)), fmt_int(data.sections_of(g)), esc(", ".join(years))])
        out.append('<p class="note">A group is a document\'s hospital where known, else its file '
                   "(group source says which).</p>")
        out.append(html_table(["group", "group source", "documents", "sections", "years"], rows, numeric=(2, 3)))
        out.append(_groups_note(data))
    else:
        out.append(nothing("no groups"))
    return "\n".join(out)


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    return "" if value is None else str(value)


def _group_theme_shares(data: ReportData) -> dict[tuple[str, str], tuple[float, int]]:
    """(group, theme) -> (share of the group's sections, sections), summed over years."""
    profiles = data.get("theme_profiles")
    if missing(profiles, ("group", "theme")):
        return {}
    counts: dict[tuple[str, str], float] = {}
    shares: dict[tuple[str, str], float] = {}
    for row in records(profiles):
        if row["group"] is None or row["theme"] is None:
            continue
        key = (str(row["group"]), str(row["theme"]))
        counts[key] = counts.get(key, 0) + (num(row.get("sections")) or 0)
        if num(row.get("share_sections")) is not None:
            shares.setdefault(key, num(row["share_sections"]) or 0.0)
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


def _heatmap(data: ReportData, links: Anchors) -> str:
    shares = _group_theme_shares(data)
    if not shares:
        return nothing("no theme profiles")
    groups = [g for g in sorted({g for g, _ in shares}, key=natural) if data.is_shown(g)]
    if not groups:
        return nothing("no theme profiles of the groups shown")
    themes = sorted({t for _, t in shares}, key=data.theme_sort)
    top = nice_max(max(s for (g, _t), (s, _n) in shares.items() if data.is_shown(g)))
    chart = heatmap_svg(data, links, shares, groups, themes, top)
    definition = data.get("share_definition")
    note = ("<p class=\"note\">Cells: percent of a group's sections whose primary theme is the column's "
            "(section counts summed over years). Click a cell for its sections, a theme for all groups.</p>")
    if definition:
        note += f'<p class="note">Comparison\'s share definition: {esc(definition)}</p>'
    return chart + legend(top) + note + _groups_note(data)


def _profiles(data: ReportData, links: Anchors) -> str:
    shares = _group_theme_shares(data)
    if not shares:
        return nothing("no theme profiles")
    out = ['<p class="note">Share of each group\'s sections by primary theme; bars link to the sections.</p>',
           '<div class="grid">']
    top = max(s for s, _ in shares.values())
    for g in [g for g in sorted({g for g, _ in shares}, key=natural) if data.is_shown(g)]:
        items = sorted(((t, s, n) for (gg, t), (s, n) in shares.items() if gg == g and s > 0),
                       key=lambda x: (-x[1], data.theme_sort(x[0])))
        bars = [Bar(data.name(t), s, f"{fmt_pct(s)} ({n})", href=links.group_theme_anchor(g, t), sub=t,
                    tip=f"{data.name(t)} ({t}): {fmt_pct(s)}, {n} sections") for t, s, n in items]
        chart = bar_chart(bars, vmax=top, bar_width=200, label_width=250) or nothing("no sections")
        out.append(f'<div><h3><a href="#{links.group_anchor(g)}">{esc(g)}</a></h3>{chart}</div>')
    out.append("</div>")
    out.append(_groups_note(data))
    return "\n".join(out)


def _distinctive(data: ReportData, links: Anchors) -> str:
    themes = data.get("distinctive_themes")
    terms = data.get("distinctive_terms")
    has_themes = not missing(themes, ("group", "theme", "z"))
    has_terms = not missing(terms, ("group", "term", "z"))
    if not has_themes and not has_terms:
        return nothing("no distinctive themes or terms")
    theme_rows = records(themes) if has_themes else []
    term_rows = records(terms) if has_terms else []
    groups = sorted({str(r["group"]) for r in theme_rows + term_rows if r["group"] is not None}, key=natural)
    groups = [g for g in groups if data.is_shown(g)]
    out = ['<p class="note">Log-odds ratio with an informative Dirichlet prior of each group against all others '
           "(Monroe, Colaresi &amp; Quinn 2008); bars are z-scores, top positive only.</p>", '<div class="grid">']
    for g in groups:
        rows_t = sorted((r for r in theme_rows if str(r["group"]) == g and (num(r["z"]) or 0) > 0),
                        key=lambda r: (-(num(r["z"]) or 0), str(r["theme"])))[:_TOP_THEMES]
        rows_w = sorted((r for r in term_rows if str(r["group"]) == g and (num(r["z"]) or 0) > 0),
                        key=lambda r: (-(num(r["z"]) or 0), str(r["term"])))[:_TOP_TERMS]
        bars_t = [Bar(data.name(str(r["theme"])), num(r["z"]) or 0, f"z={fmt(r['z'])} n={fmt_int(r.get('count'))}",
                      href=links.group_theme_anchor(g, str(r["theme"])), sub=str(r["theme"])) for r in rows_t]
        gkey = data.group_key.get(g, slug(g))
        bars_w = [Bar(str(r["term"]), num(r["z"]) or 0, f"z={fmt(r['z'])} n={fmt_int(r.get('count'))}",
                      href=links.text_anchor("w", f"{gkey}-{k}", f"{g} · term “{r['term']}”", str(r["term"]), g),
                      colour=SUMMARY) for k, r in enumerate(rows_w)]
        chart_t = bar_chart(bars_t, bar_width=160, label_width=220) or nothing("no distinctive themes")
        chart_w = bar_chart(bars_w, bar_width=160, label_width=220) or nothing("no distinctive terms")
        out.append(f'<div><h3><a href="#{links.group_anchor(g)}">{esc(g)}</a></h3>'
                   f"<h4>Themes</h4>{chart_t}<h4>Terms</h4>{chart_w}</div>")
    out.append("</div>")
    out.append(_groups_note(data, "distinctive_themes and distinctive_terms"))
    return "\n".join(out)


def _similarity(data: ReportData, links: Anchors) -> str:
    sim = data.get("similarity")
    if missing(sim, ("group_a", "group_b", "cosine")):
        return nothing("no similarity (fewer than two groups)")
    values = {(str(r["group_a"]), str(r["group_b"])): num(r["cosine"]) for r in records(sim)
              if data.is_shown(str(r["group_a"])) and data.is_shown(str(r["group_b"]))}
    groups = sorted({g for pair in values for g in pair}, key=natural)
    if not groups:
        return nothing("no similarity among the groups shown")
    return ('<p class="note">Cosine similarity of theme profiles; a cell links to its row group\'s sections.</p>'
            + similarity_svg(links, values, groups) + _groups_note(data, "similarity"))


def _plan_vs_summary(data: ReportData, links: Anchors) -> str:
    pvs = data.get("plan_vs_summary")
    need = ("theme", "plan_share", "summary_share")
    if missing(pvs, need):
        return nothing("no plans and summaries to compare")
    rows = sorted(records(pvs), key=lambda r: (-abs(num(r.get("difference")) or 0), data.theme_sort(str(r["theme"]))))
    top = max([num(r["plan_share"]) or 0 for r in rows] + [num(r["summary_share"]) or 0 for r in rows]) or 1
    label_w, bar_w, row_h = 250, 220, 34
    width = label_w + bar_w + 170
    out = [f'<svg class="chart plan-summary" width="{width}" height="{len(rows) * row_h + 28}" role="img">',
           f'<rect x="{label_w}" y="2" width="10" height="10" fill="{PLAN}"/>'
           f'<text x="{label_w + 14}" y="10">plan</text>'
           f'<rect x="{label_w + 70}" y="2" width="10" height="10" fill="{SUMMARY}"/>'
           f'<text x="{label_w + 84}" y="10">summary</text>']
    for i, r in enumerate(rows):
        t = str(r["theme"])
        y = 22 + i * row_h
        text = label(data.name(t), t, label_w - 8, y + row_h / 2, limit=label_w - 8)
        out.append(f'<a href="#{links.theme_anchor(t)}">{text}</a>')
        for k, (kind, fill) in enumerate((("plan", PLAN), ("summary", SUMMARY))):
            share = num(r[f"{kind}_share"]) or 0
            n = r.get(f"{kind}_sections")
            w = share / top * bar_w
            yy = y + 2 + k * 14
            tip = f"{data.name(t)} ({t}), {kind}: {fmt_pct(share)}, {fmt_int(n)} sections"
            out.append(f'<a href="#{links.kind_theme_anchor(kind, t)}"><rect x="{label_w}" y="{yy}" '
                       f'width="{max(w, 1):.1f}" height="12" fill="{fill}"><title>{esc(tip)}</title></rect>'
                       f'<text class="axis" x="{label_w + w + 4:.1f}" y="{yy + 10}">'
                       f"{fmt_pct(share)} ({fmt_int(n)})</text></a>")
        diff = num(r.get("difference"))
        if diff is not None:
            out.append(f'<text class="axis" x="{label_w + bar_w + 100}" y="{y + row_h / 2:.1f}" '
                       f'dominant-baseline="middle">Δ {diff * 100:+.1f} pt</text>')
    out.append("</svg>")
    return ('<p class="note">Share of plan and summary sections by primary theme, largest differences first; '
            "bars link to the sections.</p>" + '<div class="scroll">' + "".join(out) + "</div>")


def _quantities(data: ReportData, links: Anchors) -> str:
    q = data.get("quantities")
    if missing(q, ("theme", "type", "mentions")):
        return nothing("no quantities")
    rows = sorted(records(q),
                  key=lambda r: (data.theme_sort(str(r["theme"])), str(r["type"]), str(r.get("unit") or "")))
    top = max(num(r["mentions"]) or 0 for r in rows) or 1
    table = []
    for k, r in enumerate(rows):
        theme, kind, unit = str(r["theme"]), str(r["type"]), r.get("unit") or ""
        anchor = links.mention_anchor(f"q-{k}", f"{data.name(theme)} ({theme}) · {kind} · {unit or 'no unit'}",
                                      ("quantity", (kind, str(unit), theme)),
                                      "mentions in sections of this primary theme")
        n = num(r["mentions"]) or 0
        bar = (f'<svg class="chart qbar" width="124" height="14" role="img"><a href="#{anchor}">'
               f'<rect x="0" y="1" width="{max(1, n / top * 120):.1f}" height="12" fill="{BAR}">'
               f"<title>{esc(fmt_int(n))} mentions</title></rect></a></svg>")
        table.append([f'<a href="#{anchor}">{data.theme_html(theme)}</a>', esc(kind), esc(unit),
                      bar + f'<a href="#{anchor}">{fmt_int(n)}</a>', fmt(r.get("total")), fmt(r.get("median")),
                      fmt(r.get("min")), fmt(r.get("max"))])
    return ('<p class="note">Quantity, money and percent mentions in sections of each primary theme '
            "(values in base units).</p>"
            + html_table(["theme", "type", "unit", "mentions", "total", "median", "min", "max"], table,
                         numeric=(3, 4, 5, 6, 7)))


def _near_duplicates(data: ReportData, links: Anchors) -> str:
    nd = data.get("near_duplicates")
    if missing(nd, ("doc_a", "doc_b", "similarity")):
        return nothing("no near-duplicate documents")
    rows = sorted(records(nd), key=lambda r: (-(num(r["similarity"]) or 0), str(r["doc_a"]), str(r["doc_b"])))
    table = []
    for r in rows[:_TABLE_CAP]:
        s = num(r["similarity"]) or 0
        bar = (f'<svg class="chart dbar" width="104" height="14" role="img"><rect x="0" y="1" '
               f'width="{max(1, s * 100):.1f}" height="12" fill="{colour(s)}"/></svg>')
        table.append([links.doc_link(r["doc_a"]), esc(r.get("group_a")), links.doc_link(r["doc_b"]),
                      esc(r.get("group_b")), bar + f"{s:.3f}"])
    return ('<p class="note">Documents sharing template text; documents link to their entry in the document list.</p>'
            + html_table(["document", "group", "document", "group", "similarity"], table, numeric=(4,))
            + _more(len(rows), _TABLE_CAP, "pairs", "comparison/near_duplicates.csv"))


# --- Networks -------------------------------------------------------------------


def _networks(data: ReportData, links: Anchors) -> str:
    graphs = data.get("graphs") or {}
    out = []
    titles = {"theme_cooccurrence": "Theme co-occurrence", "activity_group": "Activities and groups",
              "keyword_cooccurrence": "Keyword co-occurrence"}
    names = [n for n in titles if n in graphs] + sorted(n for n in graphs if n not in titles)
    if not names:
        out.append(nothing("no graphs"))
    for name in names:
        out.append(f"<h3>{esc(titles.get(name, name))} <span class=\"id\">{esc(name)}</span></h3>")
        graph = graphs[name]
        if graph is None or graph.number_of_nodes() == 0:
            out.append(nothing("an empty graph"))
        elif name == "activity_group":
            out.append(bipartite_svg(links, graph))
        else:
            out.append(graph_svg(links, name, graph, circular=(name == "theme_cooccurrence")))
        out.append(_centrality(data, links, name))
    out.append("<h3>First activities</h3>")
    out.append(_first_activities(data, links))
    return "\n".join(out)


def _centrality(data: ReportData, links: Anchors, graph_name: str) -> str:
    c = data.get("centrality")
    if missing(c, ("graph", "node")):
        return ""
    rows = [r for r in records(c) if str(r["graph"]) == graph_name]
    if not rows:
        return ""
    rows.sort(key=lambda r: (-(num(r.get("weighted_degree")) or 0), -(num(r.get("betweenness")) or 0),
                             str(r["node"])))
    table = []
    for r in rows[:_TOP_CENTRAL]:
        node = str(r["node"])
        main, ident = node_label(data, node)
        text = esc(main) + (f' <span class="id">{esc(ident)}</span>' if ident else "")
        href = node_href(links, graph_name, node, r.get("kind"))
        table.append([f'<a href="#{href}">{text}</a>', esc(r.get("kind")), fmt(r.get("degree")),
                      fmt(r.get("weighted_degree")), fmt(r.get("betweenness"), 3), fmt(r.get("eigenvector"), 3)])
    return ("<h4>Most central nodes</h4>"
            + html_table(["node", "kind", "degree", "weighted degree", "betweenness", "eigenvector"], table,
                         numeric=(2, 3, 4, 5)))


def _first_activities(data: ReportData, links: Anchors) -> str:
    fa = data.get("first_activities")
    if missing(fa, ("group", "activity")):
        return nothing("no activities")
    rows = sorted((r for r in records(fa) if data.is_shown(str(r["group"]))),
                  key=lambda r: (natural(str(r["group"])), num(r.get("first_year")) or 0, str(r["activity"])))
    total = len(rows)
    table = [[f'<a href="#{links.group_anchor(str(r["group"]))}">{esc(r["group"])}</a>',
              f'<a href="#{links.activity_anchor(str(r["activity"]))}">{esc(r["activity"])}</a>',
              fmt_year(r.get("first_year")), links.doc_link(r.get("doc_id")), fmt_int(r.get("line")),
              fmt_int(r.get("documents"))]
             for r in rows[:_TABLE_CAP]]
    return ('<p class="note">The first year each group reports an activity (groups shown above).</p>'
            + html_table(["group", "activity", "first year", "document", "line", "documents"], table, numeric=(2, 4, 5))
            + _more(total, _TABLE_CAP, "rows", "comparison/first_activities.csv"))


# --- Caps -----------------------------------------------------------------------


def _more(total: int, shown: int, what: str, where: str) -> str:
    """A note under a capped list: how many more, and the file or SQL query holding them all."""
    if total <= shown:
        return ""
    how = (f"in <code>OUT/reportmine.duckdb</code>: <code>{esc(where)}</code>" if where.startswith("SELECT")
           else f"in <code>OUT/{esc(where)}</code>")
    return f'<p class="note">{fmt_int(shown)} of {fmt_int(total)} {esc(what)} shown; all of them are {how}.</p>'


def _groups_note(data: ReportData, table: str = "theme_profiles") -> str:
    hidden = len(data.groups) - len(data.shown_groups)
    if hidden <= 0:
        return ""
    return (f'<p class="note">The {len(data.shown_groups)} groups with most sections are shown; {fmt_int(hidden)} '
            f"more are in <code>OUT/comparison/</code> ({esc(table)}.csv, .parquet).</p>")
