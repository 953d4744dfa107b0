"""Theme results for people: the codebook table and the one-line-per-section listing.

:func:`codebook` gives the taxonomy as a paper's appendix table, with counts
and example headings from classified files (``reportmine classify
--codebook``); :func:`format_table` is ``reportmine classify --format table``.
(Not named ``codebook.py``: a submodule of that name would replace the
function ``reportmine.codebook`` on the package once imported.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .model import ClassifiedFile
from .segmentation import load_vocabulary
from .taxonomy import OTHER, Taxonomy, load_taxonomy
from .themes import CODER_VERSION

if TYPE_CHECKING:
    import pandas as pd

#: Titles are cut to this many characters in the table output.
TABLE_TITLE_CHARS = 40


def codebook(classified: Iterable[ClassifiedFile] = (), taxonomy: Taxonomy | None = None,
             examples: int = 3) -> pd.DataFrame:
    """The taxonomy as a paper's appendix table, with counts from classified files.

    Columns: ``theme``, ``name_zh``, ``definition``, ``keywords`` (joined by
    ``、``), ``cues`` (hospital-vocabulary cues), ``sections`` and
    ``documents`` (how many have it as primary theme), ``example_sections``
    (up to ``examples`` headings, ``file:line 标题``, the highest-scored first),
    ``taxonomy`` and ``coder`` (rule-set names). One row per theme, plus ``other``.
    """
    import pandas as pd

    taxonomy = taxonomy or load_taxonomy()
    section_counts: Counter[str] = Counter()
    doc_counts: Counter[str] = Counter()
    picks: dict[str, list[tuple[float, str, int, str]]] = {}
    for result in classified:
        name = Path(result.path).name
        for doc, doc_themes in zip(result.parsed.documents, result.documents, strict=True):
            doc_counts[doc_themes.primary] += 1
            for section, st in zip(doc.sections, doc_themes.sections, strict=True):
                section_counts[st.primary] += 1
                if st.basis == "text":
                    score = st.themes[0].score if st.themes else 0.0
                    picks.setdefault(st.primary, []).append((-score, name, section.line, section.title))
    cues = load_vocabulary().get("cues", {})
    rows = []
    entries = [(t.id, t.name_zh, t.definition, t.keywords) for t in taxonomy.themes]
    entries.append((OTHER, "其他", "Sections no theme fits: clinical business of one specialty, "
                    "text off the hospital domain.", ()))
    for theme_id, name_zh, definition, keywords in entries:
        chosen = sorted(picks.get(theme_id, []))[:examples]
        rows.append({
            "theme": theme_id,
            "name_zh": name_zh,
            "definition": definition,
            "keywords": "、".join(keywords),
            "cues": "、".join(cues.get(theme_id, [])) if theme_id in taxonomy.ids else "",
            "sections": section_counts[theme_id],
            "documents": doc_counts[theme_id],
            "example_sections": " | ".join(f"{f}:{line} {title[:40]}" for _, f, line, title in chosen),
            "taxonomy": taxonomy.label,
            "coder": CODER_VERSION,
        })
    return pd.DataFrame(rows)


def format_table(classified: ClassifiedFile) -> str:
    """One line per document and section: file, line, outline, scope or themes, title."""
    name = Path(classified.path).name
    lines = []
    for doc, dt in zip(classified.parsed.documents, classified.documents, strict=True):
        themes = ",".join(t.id for t in dt.themes)
        lines.append(f"{name}\t{doc.start_line}\tdocument\t{dt.scope}\t{doc.kind}\t{themes}\t{doc.title or ''}")
        for section, st in zip(doc.sections, dt.sections, strict=True):
            scored = ",".join(f"{t.id}:{t.score:.2f}" for t in st.themes)
            lines.append(f"{name}\t{section.line}\t{section.outline}\t{scored}\t{section.title[:TABLE_TITLE_CHARS]}")
    return "\n".join(lines) + "\n" if lines else ""
