"""Stage 3, documents: split a page into reports and give every line a role.

In: the text and the per-line looks of :mod:`reportmine.cleaning`. Out:
:class:`DocumentSpan` per report (title, title line, line span, kind, meta
lines, content lines) and the final role of every line (``noise``,
``page_meta``, ``meta``, ``title``, ``content``, ``blank``), as
the structure guide (GUIDE.md) ("Units", "Document fields") defines them.

A report starts at:

* a compilation label (``…篇三``, ``范文第2篇``, ``医院人才工作总结报告五``)
  or a standalone report title (``…2016年工作总结``); titles and labels
  separated only by blank, noise or metadata lines open one report together;
* where a compilation gives no title, an indented opening paragraph (or
  indented first item) after which the numbering restarts at 1, once the
  current report has sections of its own. A restart without such an opening
  (a summary followed by next year's plan) stays in the same report.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .cleaning import CleaningRules, LineInfo, default_rules, load_data_toml
from .markers import match_marker
from .model import DocumentKind, LineRole, SourceText

# How many content lines after an indented opening may pass before the first
# marker that must restart at 1 (the opening paragraph is usually one line).
_RESTART_LOOKAHEAD = 3
_RESTART_SCAN_LINES = 40
# Most unnumbered lines above a compilation's first label still read as its blurb.
_MAX_BLURB_LINES = 2

# The kind cues of titles (individual, summary, plan) and of report text
# (looking back, done; looking ahead, to do) are data: ``data/documents.toml``.

# Share of "done" cues among all cues at or above which an untitled report is
# a summary. Measured on the sample corpus: plans score 0.0-0.38 and summaries
# 0.55-1.0, except compilation plans with long look-back openings (up to 0.56).
_SUMMARY_CUE_SHARE = 0.5
# Under a compilation label that says 计划 (or 总结), the text must lean this far
# the other way to override it.
_LABEL_SUMMARY_SHARE = 0.6
# One person's report or a reflection (GUIDE.md kind "other"): a text that
# says it shares its 心得体会, or speaks as a singular 我 (not 我院/我科/我们…)
# this often per 1,000 characters. Sample corpus: personal reports 5-15,
# institutional reports 0-0.8 (one plan with a quoted speech: 3.5).
_SINGULAR_I_RE = re.compile(r"我(?![院科局市们县区省国部所站中委办组队处厂校乡镇室司])")
_SINGULAR_I_PER_1000 = 4.5
# A personal title (进修个人总结) over this much impersonal text is a mislabel
# of the page (sample corpus 001: a department's annual report under one).
_MIN_BODY_TO_DOUBT_TITLE = 1500


@dataclass(frozen=True, slots=True)
class KindCues:
    """The kind cues of ``data/documents.toml``, compiled."""

    individual_title: re.Pattern[str]
    summary_title: re.Pattern[str]
    plan_title: re.Pattern[str]
    done_text: re.Pattern[str]
    todo_text: re.Pattern[str]
    personal_text: re.Pattern[str]


@lru_cache(maxsize=1)
def kind_cues() -> KindCues:
    """The shipped kind cues (``reportmine/data/documents.toml``), each list joined with ``|`` into one pattern."""
    raw = load_data_toml("documents.toml")
    return KindCues(*(
        re.compile("|".join(raw[f"{name}_patterns"]))
        for name in ("individual_title", "summary_title", "plan_title", "done_text", "todo_text", "personal_text")
    ))


@dataclass(frozen=True, slots=True)
class DocumentSpan:
    """One report's place in its file, before sections are built."""

    title: str | None
    title_line: int | None
    start_line: int
    end_line: int
    kind: DocumentKind
    meta_lines: tuple[int, ...]
    content_lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PageLayout:
    """The documents of one file and the role of every line."""

    documents: tuple[DocumentSpan, ...]
    roles: tuple[LineRole, ...]
    noise_lines: tuple[int, ...]
    page_meta_lines: tuple[int, ...]


def split_documents(
    source: SourceText, infos: Sequence[LineInfo], rules: CleaningRules | None = None
) -> PageLayout:
    """Find the reports of a page and the final role of each line."""
    rules = rules or default_rules()
    looks = [info.look for info in infos]
    n = len(infos)
    _demote_collection_titles(infos, looks)

    # 1. Title groups: runs of title/label lines with only blank, noise or meta between.
    starts: list[tuple[int, int | None, str | None]] = []  # (start index, title index, title)
    i = 0
    while i < n:
        if looks[i] in ("title", "label"):
            group = [i]
            j = i + 1
            while j < n and looks[j] in ("blank", "noise", "header_meta", "title", "label"):
                if looks[j] in ("title", "label"):
                    group.append(j)
                j += 1
            title_index = _pick_title(group, looks)
            starts.append((group[0], title_index, infos[title_index].stripped))
            i = j
        else:
            i += 1
    starts = _merge_report_parts(infos, looks, starts, source.text)

    # 2. The first report of a page with no title before its content.
    first_content = next((k for k in range(n) if looks[k] in ("content", "signature")), None)
    if first_content is not None and (not starts or first_content < starts[0][0]):
        if starts and _is_blurb(infos, looks, first_content, starts[0][0]):
            # A few unnumbered lines above the first label of a compilation
            # are the site's own blurb, not a report.
            for k in range(first_content, starts[0][0]):
                if looks[k] in ("content", "signature"):
                    looks[k] = "noise"
        else:
            teaser = _teaser_before(infos, looks, first_content)
            title = infos[teaser].teaser_title if teaser is not None else None
            starts.insert(0, (first_content, teaser if title else None, title))

    # 3. Untitled reports inside a compilation: indented opening + numbering restart.
    starts = _add_restart_starts(infos, looks, starts)

    # 4. Spans, roles and kinds.
    roles: list[LineRole] = [_base_role(look) for look in looks]
    documents: list[DocumentSpan] = []
    first_start = starts[0][0] if starts else n
    page_meta = [k for k in range(first_start) if looks[k] == "header_meta"]
    is_compilation = len(starts) > 1
    if not is_compilation and page_meta and starts:
        # A single report: metadata above its title is the report's own.
        starts[0] = (page_meta[0], starts[0][1], starts[0][2])
        page_meta = []
    for k in page_meta:
        roles[k] = "page_meta"
    for k in range(first_start):
        if roles[k] in ("content", "meta") and k not in page_meta:
            roles[k] = "noise"

    for d, (start, title_index, title) in enumerate(starts):
        limit = starts[d + 1][0] if d + 1 < len(starts) else n
        documents.append(_document(infos, looks, roles, start, limit, title_index, title, source))
    noise = tuple(k + 1 for k, role in enumerate(roles) if role == "noise")
    return PageLayout(
        documents=tuple(documents),
        roles=tuple(roles),
        noise_lines=noise,
        page_meta_lines=tuple(k + 1 for k in page_meta),
    )


def _base_role(look: str) -> LineRole:
    return {
        "blank": "blank", "noise": "noise", "header_meta": "meta", "signature": "content",
        "title": "title", "label": "title", "content": "content",
    }[look]  # type: ignore[return-value]


def _is_blurb(infos: Sequence[LineInfo], looks: Sequence[str], begin: int, end: int) -> bool:
    if "label" not in looks[end:]:
        return False
    content = [k for k in range(begin, end) if looks[k] in ("content", "signature")]
    return len(content) <= _MAX_BLURB_LINES and not any(infos[k].is_marker for k in content)


def _demote_collection_titles(infos: Sequence[LineInfo], looks: list[str]) -> None:
    """A title that a later label extends (``…计划`` above ``…计划范文第1篇``) names the collection."""
    labels = sorted({infos[k].stripped for k, look in enumerate(looks) if look == "label"})
    if not labels:
        return
    for k, look in enumerate(looks):
        if look == "title":
            stripped = infos[k].stripped
            # Labels extending ``stripped`` sort right after it.
            at = bisect.bisect_right(labels, stripped)
            if at < len(labels) and labels[at].startswith(stripped):
                looks[k] = "noise"


def _heading_depth(info: LineInfo, text: str) -> int:
    """The markdown heading depth of a line (``## …`` is 2), 0 for a line without ``#`` marks."""
    line = text[info.start:min(info.end, info.start + 16)].lstrip()
    return len(line) - len(line.lstrip("#"))


def _merge_report_parts(
    infos: Sequence[LineInfo], looks: list[str], starts: list[tuple[int, int | None, str | None]], text: str
) -> list[tuple[int, int | None, str | None]]:
    """Unnumbered part headings one level below a report's title are content of that report, not reports.

    ``# 某院年度报告`` over ``## 2023年工作总结`` … ``## 2024年工作计划`` with no signature
    between the parts and no ``篇N`` label is one report (GUIDE.md "Parts of one report"): its title
    is the top heading, and the part headings become content lines. A heading over one part only, or
    parts each signed, stay as they were (a compilation under an unrecognised collection title).
    """
    def part_title(index: int, depth: int) -> bool:
        """Start ``index`` is an unlabelled title ``depth`` deep, with no signature since the previous start."""
        begin, title_index, _ = starts[index]
        return (title_index is not None and looks[title_index] == "title" and depth > 0
                and _heading_depth(infos[title_index], text) == depth
                and "signature" not in looks[starts[index - 1][0]:begin])

    merged: list[tuple[int, int | None, str | None]] = []
    top_depth = 0
    for index, (start, title_index, title) in enumerate(starts):
        if top_depth and part_title(index, top_depth + 1):
            looks[title_index] = "content"  # a part heading of the report above
            continue
        top_depth = 0
        end = title_index if title_index is not None else start
        titles = [k for k in range(start, end + 1) if looks[k] == "title"]
        labelled = any(looks[k] == "label" for k in range(start, end + 1))
        if not titles or labelled:
            merged.append((start, title_index, title))
            continue
        top = min(titles, key=lambda k: (_heading_depth(infos[k], text), k))
        depth = _heading_depth(infos[top], text)
        parts_here = [k for k in titles if _heading_depth(infos[k], text) == depth + 1]
        if depth and index + 1 < len(starts) and part_title(index + 1, depth + 1) and (parts_here or top == end):
            for k in parts_here:
                looks[k] = "content"
            title_index, title, top_depth = top, infos[top].stripped, depth
        merged.append((start, title_index, title))
    return merged


def _pick_title(group: list[int], looks: Sequence[str]) -> int:
    """The title of a group: the report's own title over a compilation label before it."""
    titles = [k for k in group if looks[k] == "title"]
    return titles[-1] if titles else group[-1]


def _teaser_before(infos: Sequence[LineInfo], looks: Sequence[str], index: int) -> int | None:
    k = index - 1
    while k >= 0 and looks[k] == "blank":
        k -= 1
    if k >= 0 and infos[k].teaser_title:
        return k
    return None


def _modal_indent(infos: Sequence[LineInfo], looks: Sequence[str]) -> int:
    counts = Counter(info.indent for info, look in zip(infos, looks, strict=True) if look == "content")
    return counts.most_common(1)[0][0] if counts else 0


def _add_restart_starts(
    infos: Sequence[LineInfo], looks: Sequence[str], starts: list[tuple[int, int | None, str | None]]
) -> list[tuple[int, int | None, str | None]]:
    if not starts:
        return starts
    base_indent = _modal_indent(infos, looks)
    out: list[tuple[int, int | None, str | None]] = []
    bounds = [s[0] for s in starts] + [len(infos)]
    for d, start in enumerate(starts):
        out.append(start)
        seen_marker = False
        k = start[0]
        while k < bounds[d + 1]:
            info = infos[k]
            if looks[k] != "content":
                k += 1
                continue
            if seen_marker and info.indent > base_indent and _restarts_here(infos, looks, k, bounds[d + 1]):
                out.append((k, None, None))
                seen_marker = False
            if info.is_marker:
                seen_marker = True
            k += 1
    return out


def _restarts_here(infos: Sequence[LineInfo], looks: Sequence[str], k: int, limit: int) -> bool:
    """Whether the numbering restarts at 1 at line index ``k`` or just after it."""
    checked = 0
    for j in range(k, min(limit, k + _RESTART_SCAN_LINES)):
        if looks[j] != "content":
            continue
        if infos[j].is_marker:
            match = match_marker(infos[j].stripped)
            return match is not None and match.number == 1 and match.certain
        checked += 1
        if checked > _RESTART_LOOKAHEAD:
            return False
    return False


def _document(
    infos: Sequence[LineInfo],
    looks: Sequence[str],
    roles: list[LineRole],
    start: int,
    limit: int,
    title_index: int | None,
    title: str | None,
    source: SourceText,
) -> DocumentSpan:
    # A title or label line that is not this report's start stays a title
    # line of this report (e.g. a compilation label above the real title).
    kept = [k for k in range(start, limit) if roles[k] not in ("blank", "noise")]
    if title_index is not None and title_index < start:
        first_line = start
    else:
        first_line = kept[0] if kept else start
    last = kept[-1] if kept else first_line
    # Signature block: the trailing run of short unit/date lines.
    k = len(kept) - 1
    while k >= 0 and looks[kept[k]] == "signature":
        roles[kept[k]] = "meta"
        k -= 1
    meta = tuple(j + 1 for j in kept if roles[j] == "meta")
    content = tuple(j + 1 for j in kept if roles[j] == "content")
    text = source.text
    body = "\n".join(text[infos[j - 1].start:infos[j - 1].end] for j in content)
    from_label = title_index is not None and looks[title_index] == "label"
    kind = document_kind(title, body, title_is_label=from_label)
    return DocumentSpan(
        title=title,
        title_line=title_index + 1 if title_index is not None else None,
        start_line=first_line + 1,
        end_line=last + 1,
        kind=kind,
        meta_lines=meta,
        content_lines=content,
    )


def document_kind(title: str | None, body: str, title_is_label: bool = False) -> DocumentKind:
    """``summary``, ``plan`` or ``other`` from the title and the text.

    A report's own title decides where it says one thing (``…工作总结``,
    ``…工作计划``, ``…进修个人总结`` over text that speaks as one person); a word in the body
    (``计划免疫``) never overrides it. One person's report of the work done
    (``医师试用期工作总结``) is a summary; reflections, study and 进修 reports, speeches and
    notices are ``other``. A title that says both
    (``年度工作总结及明年工作计划``), none, or only names the compilation
    (``二级医院工作计划篇三``, whose reports vary) leaves it to the text:
    looking back makes a summary, and a report that is both is a summary
    (GUIDE.md "Document fields").
    """
    cues = kind_cues()
    reflection = bool(cues.personal_text.search(body))
    one_person = reflection or len(_SINGULAR_I_RE.findall(body)) * 1000 >= _SINGULAR_I_PER_1000 * max(1, len(body))
    if title and cues.individual_title.search(title) and (one_person or len(body) < _MIN_BODY_TO_DOUBT_TITLE):
        return "other"
    says_summary = bool(title and cues.summary_title.search(title))
    says_plan = bool(title and cues.plan_title.search(title))
    if not title_is_label and says_summary != says_plan:
        return "summary" if says_summary else "plan"
    if reflection:  # one person's report of work done stays a summary; shared reflections are "other"
        return "other"
    done = len(cues.done_text.findall(body))
    todo = len(cues.todo_text.findall(body))
    share = done / (done + todo) if done + todo else 0.5
    threshold = _SUMMARY_CUE_SHARE
    if says_plan and not says_summary:
        threshold = _LABEL_SUMMARY_SHARE  # a plan compilation: only clear look-backs are summaries
    elif says_summary and not says_plan:
        threshold = 1 - _LABEL_SUMMARY_SHARE
    return "summary" if share >= threshold else "plan"
