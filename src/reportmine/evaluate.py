"""Evaluation: reportmine's output scored against gold files.

In: gold files in the formats of the annotation guides (``<stem>.json``
structure, ``<stem>.mentions.jsonl`` mentions, ``<stem>.themes.json`` themes)
and the corpus files they describe. Out: the metrics of the project's shared
scorers (``eval_structure.py``, ``eval_mentions.py``, ``eval_themes.py``),
computed the same way, plus per-theme precision, recall and F1 and Cohen's
kappa between two theme annotations of the same files, so that researchers
can score reportmine on samples they annotate themselves and check their own
agreement.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GoldError, InputError
from .mentions import extract_parsed
from .parsing import parse_file
from .samples import sample_corpus
from .taxonomy import load_taxonomy
from .themes import classify_parsed

#: A predicted document matches a gold one starting within this many lines
#: (the shared scorers' tolerance).
DOC_TOLERANCE = 2
_TRAIL = "。，,；;：:、.．!！?？ \t\u3000"
MENTION_FIELDS = ("value", "low", "high", "unit", "qualifier", "masked", "year", "month",
                  "day", "hour", "minute", "second", "end_year", "end_month", "end_day",
                  "period", "per", "count", "name")


# --- Structure (eval_structure.py) -------------------------------------------


def _norm_title(s: str | None) -> str:
    s = unicodedata.normalize("NFKC", s or "")
    return re.sub(r"\s+", "", s).strip(_TRAIL)


def _flatten_levels(sections: Any, depth: int = 1, out: list[dict] | None = None) -> list[dict]:
    out = [] if out is None else out
    for s in sections or []:
        item = dict(s)
        item.setdefault("level", depth)
        out.append(item)
        _flatten_levels(s.get("children"), item["level"] + 1, out)
    return out


def _structure_index(parse: dict) -> dict:
    heads: dict[int, tuple] = {}
    doc_starts, kinds, meta = [], {}, set()
    for d_i, doc in enumerate(parse.get("documents", [])):
        doc_starts.append(doc.get("start_line"))
        kinds[doc.get("start_line")] = doc.get("kind")
        meta.update(doc.get("meta_lines") or [])
        stack: list[tuple[int, int]] = []
        for s in sorted(_flatten_levels(doc.get("sections")), key=lambda s: s["line"]):
            level = int(s["level"])
            while stack and stack[-1][0] >= level:
                stack.pop()
            heads[s["line"]] = (d_i, level, stack[-1][1] if stack else None, _norm_title(s.get("title")))
            stack.append((level, s["line"]))
    return {"heads": heads, "doc_starts": [x for x in doc_starts if x is not None], "kinds": kinds,
            "noise": set(parse.get("noise_lines") or []), "meta": meta,
            "page_meta": set(parse.get("page_meta_lines") or [])}


def _prf(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    r = tp / n_gold if n_gold else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _structure_counts(gold: dict, pred: dict) -> dict[str, float]:
    G, P = _structure_index(gold), _structure_index(pred)
    neutral = G["page_meta"]  # page metadata lines are neutral
    for X in (G, P):
        X["noise"] -= neutral
        X["meta"] -= neutral
    gh, ph = G["heads"], P["heads"]
    matched = [ln for ln in gh if ln in ph]
    c: dict[str, float] = {
        "gold_heads": len(gh), "pred_heads": len(ph), "tp_heads": len(matched),
        "level_ok": sum(gh[ln][1] == ph[ln][1] for ln in matched),
        "parent_ok": sum(gh[ln][2] == ph[ln][2] for ln in matched),
        "title_ok": sum(gh[ln][3] == ph[ln][3] for ln in matched),
        "gold_docs": len(G["doc_starts"]), "pred_docs": len(P["doc_starts"]),
        "tp_docs": sum(any(abs(g - p) <= DOC_TOLERANCE for p in P["doc_starts"]) for g in G["doc_starts"]),
        "kind_ok": 0,
        "gold_noise": len(G["noise"]), "pred_noise": len(P["noise"]), "tp_noise": len(G["noise"] & P["noise"]),
        "gold_meta": len(G["meta"]), "pred_meta": len(P["meta"]), "tp_meta": len(G["meta"] & P["meta"]),
    }
    for g_start, kind in G["kinds"].items():
        near = [p for p in P["doc_starts"] if abs(p - g_start) <= DOC_TOLERANCE]
        if near and P["kinds"].get(near[0]) == kind:
            c["kind_ok"] += 1
    # B-cubed precision/recall of document membership over shared headings.
    g_docs: dict[int, set[int]] = defaultdict(set)
    p_docs: dict[int, set[int]] = defaultdict(set)
    for ln in matched:
        g_docs[gh[ln][0]].add(ln)
        p_docs[ph[ln][0]].add(ln)
    ps = rs = 0.0
    for ln in matched:
        gc, pc = g_docs[gh[ln][0]], p_docs[ph[ln][0]]
        ps += len(gc & pc) / len(pc)
        rs += len(gc & pc) / len(gc)
    c["bc_n"], c["bc_p"], c["bc_r"] = len(matched), ps, rs
    return c


def _structure_summary(c: dict[str, float]) -> dict[str, float]:
    m = max(c["tp_heads"], 1)
    bp = c["bc_p"] / c["bc_n"] if c["bc_n"] else 0.0
    br = c["bc_r"] / c["bc_n"] if c["bc_n"] else 0.0
    hp, hr, hf = _prf(c["tp_heads"], c["pred_heads"], c["gold_heads"])
    return {
        "heading_f1": hf, "heading_p": hp, "heading_r": hr,
        "level_acc": c["level_ok"] / m, "parent_acc": c["parent_ok"] / m, "title_acc": c["title_ok"] / m,
        "doc_start_f1": _prf(c["tp_docs"], c["pred_docs"], c["gold_docs"])[2],
        "doc_bcubed_f1": 2 * bp * br / (bp + br) if bp + br else 0.0,
        "kind_acc": c["kind_ok"] / c["gold_docs"] if c["gold_docs"] else 1.0,
        "noise_f1": _prf(c["tp_noise"], c["pred_noise"], c["gold_noise"])[2],
        "meta_f1": _prf(c["tp_meta"], c["pred_meta"], c["gold_meta"])[2],
    }


def score_structure(pairs: Iterable[tuple[dict, dict]]) -> dict[str, dict[str, float]]:
    """Structure scores per file and micro-averaged ``TOTAL`` (as eval_structure.py).

    Args:
        pairs: (gold, prediction) dicts in the form of GUIDE.md, one per file.
    """
    total: dict[str, float] = defaultdict(float)
    rows: dict[str, dict[str, float]] = {}
    for number, (gold, pred) in enumerate(pairs):
        c = _structure_counts(gold, pred)
        for k, v in c.items():
            total[k] += v
        rows[gold.get("file", f"#{number}")] = _structure_summary(c)
    rows["TOTAL"] = _structure_summary(total) if total else _structure_summary(defaultdict(float))
    return rows


# --- Mentions (eval_mentions.py) ------------------------------------------------


def _line_coords(records: Iterable[dict], text: str) -> list[dict]:
    import bisect

    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    out = []
    for r in records:
        r = dict(r)
        if "col_start" not in r and "start" in r:
            line = bisect.bisect_right(starts, r["start"])
            r["line"] = line
            r["col_start"] = r["start"] - starts[line - 1]
            r["col_end"] = r["end"] - starts[line - 1]
        out.append(r)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return a == b


def _mention_counts(gold: list[dict], pred: list[dict]) -> dict[str, Counter]:
    c: dict[str, Counter] = defaultdict(Counter)
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for g in gold:
        by_key[(g["line"], g["type"])].append(g)
        c[g["type"]]["gold"] += 1
    used_lenient: set[int] = set()
    used_strict: set[int] = set()
    for p in pred:
        t = p.get("type")
        c[t]["pred"] += 1
        candidates = by_key.get((p.get("line"), t), [])
        for g in candidates:
            if id(g) in used_lenient:
                continue
            if p["col_start"] < g["col_end"] and g["col_start"] < p["col_end"]:
                used_lenient.add(id(g))
                c[t]["tp_lenient"] += 1
                if all(_same(g[k], p.get(k)) for k in MENTION_FIELDS if k in g):
                    c[t]["fields_ok"] += 1
                break
        for g in candidates:
            if id(g) not in used_strict and (g["col_start"], g["col_end"]) == (p["col_start"], p["col_end"]):
                used_strict.add(id(g))
                c[t]["tp_strict"] += 1
                break
    return c


def _mention_row(c: Counter) -> dict[str, float]:
    return {
        "gold": c["gold"], "pred": c["pred"],
        "p": c["tp_lenient"] / c["pred"] if c["pred"] else 0.0,
        "r": c["tp_lenient"] / c["gold"] if c["gold"] else 0.0,
        "f1": _f1(c["tp_lenient"], c["pred"], c["gold"]),
        "strict_f1": _f1(c["tp_strict"], c["pred"], c["gold"]),
        "fields": c["fields_ok"] / c["tp_lenient"] if c["tp_lenient"] else 0.0,
    }


def _f1(tp: float, n_pred: float, n_gold: float) -> float:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def score_mentions(triples: Iterable[tuple[list[dict], list[dict], str]]) -> dict[str, dict[str, float]]:
    """Mention scores per type and ``ALL`` (as eval_mentions.py).

    Args:
        triples: (gold mentions, predicted mentions, decoded corpus text) per
            file; predictions may carry ``line``/``col_start``/``col_end`` or
            absolute ``start``/``end`` offsets.
    """
    total: dict[str, Counter] = defaultdict(Counter)
    for gold, pred, text in triples:
        for t, counts in _mention_counts(gold, _line_coords(pred, text)).items():
            total[t].update(counts)
    rows = {str(t): _mention_row(c) for t, c in sorted(total.items(), key=lambda kv: str(kv[0]))}
    everything: Counter = Counter()
    for c in total.values():
        everything.update(c)
    rows["ALL"] = _mention_row(everything)
    return rows


# --- Themes (eval_themes.py) ------------------------------------------------------


def _ids(themes: Any) -> list[str]:
    return [t["id"] if isinstance(t, dict) else t for t in (themes or [])]


def _flatten(sections: Any, out: list[dict] | None = None) -> list[dict]:
    out = [] if out is None else out
    for s in sections or []:
        out.append(s)
        _flatten(s.get("children"), out)
    return out


def _theme_pairs(pairs: Iterable[tuple[dict, dict]]) -> tuple[list[tuple[list[str], list[str]]], list[tuple]]:
    sections, documents = [], []
    for gold, pred in pairs:
        pred_sections = {s["line"]: _ids(s.get("themes"))
                         for d in pred.get("documents", []) for s in _flatten(d.get("sections"))}
        pred_docs = pred.get("documents", [])
        for gd in gold["documents"]:
            near = [d for d in pred_docs
                    if abs((d.get("start_line") or -99) - gd["start_line"]) <= DOC_TOLERANCE]
            documents.append((gd, near[0] if near else None))
            for gs in gd["sections"]:
                sections.append((_ids(gs["themes"]), pred_sections.get(gs["line"], [])))
    return sections, documents


def score_themes(pairs: Iterable[tuple[dict, dict]]) -> dict[str, Any]:
    """Theme scores (as eval_themes.py) plus ``per_theme`` precision, recall, F1.

    Args:
        pairs: (gold, prediction) dicts in the form of GUIDE_themes.md; a
            prediction may be reportmine's ``classify`` JSON.

    Returns:
        ``sections``, ``primary_acc``, ``primary_macro_f1``, ``lenient_acc``,
        ``set_micro_f1``, ``documents``, ``scope_acc``, ``doc_theme_acc``,
        ``gold_primary_counts`` and ``per_theme`` (theme -> ``gold``, ``pred``,
        ``p``, ``r``, ``f1`` of the primary label).
    """
    sec, docs = _theme_pairs(pairs)
    n = len(sec) or 1
    tp = sum(len(set(g) & set(p)) for g, p in sec)
    n_pred = sum(len(set(p)) for _, p in sec)
    n_gold = sum(len(set(g)) for g, _ in sec)
    mp = tp / n_pred if n_pred else 0.0
    mr = tp / n_gold if n_gold else 0.0
    per_theme: dict[str, dict[str, float]] = {}
    labels = sorted({g[0] for g, _ in sec} | {p[0] for _, p in sec if p})
    for label in labels:
        t = sum(g[0] == label and p[:1] == [label] for g, p in sec)
        pp = sum(p[:1] == [label] for _, p in sec)
        gg = sum(g[0] == label for g, _ in sec)
        pr, rc = (t / pp if pp else 0.0), (t / gg if gg else 0.0)
        per_theme[label] = {"gold": gg, "pred": pp, "p": pr, "r": rc,
                            "f1": 2 * pr * rc / (pr + rc) if pr + rc else 0.0}
    gold_labels = {g[0] for g, _ in sec}
    f1s = [per_theme[label]["f1"] for label in gold_labels]
    nd = len(docs) or 1
    return {
        "sections": len(sec),
        "primary_acc": sum(bool(p) and p[0] == g[0] for g, p in sec) / n,
        "primary_macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "lenient_acc": sum(bool(p) and p[0] in g for g, p in sec) / n,
        "set_micro_f1": 2 * mp * mr / (mp + mr) if mp + mr else 0.0,
        "documents": len(docs),
        "scope_acc": sum(bool(p) and p.get("scope") == g["scope"] for g, p in docs) / nd,
        "doc_theme_acc": sum(bool(p) and _ids(p.get("themes"))[:1] == g["themes"][:1] for g, p in docs) / nd,
        "gold_primary_counts": dict(Counter(g[0] for g, _ in sec).most_common()),
        "per_theme": per_theme,
    }


def cohen_kappa(labels_a: Sequence[str], labels_b: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences of equal length (1.0 when both are constant and equal).

    >>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 3)
    0.5
    """
    if len(labels_a) != len(labels_b):
        raise ValueError("the two annotations label different numbers of items")
    n = len(labels_a)
    if not n:
        return 0.0
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    ca, cb = Counter(labels_a), Counter(labels_b)
    expected = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def theme_agreement(pairs: Iterable[tuple[dict, dict]]) -> dict[str, Any]:
    """Agreement of two theme annotations (A, B) of the same files.

    Sections are matched by line, documents by start line (within
    :data:`DOC_TOLERANCE`); items only one side labels are counted, not scored.

    Returns:
        ``sections`` (matched), ``unmatched``, ``primary_agreement``,
        ``primary_kappa``, ``scope_kappa`` over matched documents, and
        ``per_theme_kappa``: theme -> kappa of "the theme is in the section's
        list" (presence, any rank).
    """
    prim_a: list[str] = []
    prim_b: list[str] = []
    sets: list[tuple[set[str], set[str]]] = []
    scope_a: list[str] = []
    scope_b: list[str] = []
    unmatched = 0
    for a, b in pairs:
        b_docs = b.get("documents", [])
        for da in a.get("documents", []):
            near = [d for d in b_docs if abs((d.get("start_line") or -99) - da["start_line"]) <= DOC_TOLERANCE]
            if not near:
                unmatched += len(da.get("sections", [])) + 1
                continue
            db = near[0]
            if da.get("scope") and db.get("scope"):
                scope_a.append(da["scope"])
                scope_b.append(db["scope"])
            b_sections = {s["line"]: _ids(s.get("themes")) for s in _flatten(db.get("sections"))}
            for sa in _flatten(da.get("sections")):
                ta, tb = _ids(sa.get("themes")), b_sections.get(sa["line"])
                if not ta or not tb:
                    unmatched += 1
                    continue
                prim_a.append(ta[0])
                prim_b.append(tb[0])
                sets.append((set(ta), set(tb)))
    themes = sorted({t for x, y in sets for t in x | y})
    per_theme = {t: cohen_kappa([t in x for x, _ in sets], [t in y for _, y in sets]) for t in themes}
    n = len(prim_a)
    return {
        "sections": n,
        "unmatched": unmatched,
        "primary_agreement": sum(x == y for x, y in zip(prim_a, prim_b, strict=True)) / n if n else 0.0,
        "primary_kappa": cohen_kappa(prim_a, prim_b),
        "scope_kappa": cohen_kappa(scope_a, scope_b),
        "per_theme_kappa": per_theme,
    }


# --- Files ------------------------------------------------------------------------------


def load_gold(path: str | Path) -> Any:
    """A gold file: ``.jsonl`` as a list of records, ``.json`` as an object.

    Raises:
        GoldError: naming the file, when it is not readable JSON of the guide's shape.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(path, f"cannot read gold file ({exc})") from None
    try:
        if path.name.endswith(".jsonl"):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GoldError(path, f"not valid JSON: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise GoldError(path, "a gold file needs a 'documents' list")
    return data


def gold_kind(path: str | Path) -> str:
    """``themes``, ``mentions`` or ``structure``, from the gold file's name."""
    name = Path(path).name
    if name.endswith(".themes.json"):
        return "themes"
    if name.endswith(".mentions.jsonl"):
        return "mentions"
    if name.endswith(".json"):
        return "structure"
    raise GoldError(path, "not a gold file name (<stem>.json, <stem>.mentions.jsonl or <stem>.themes.json)")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".themes.json", ".mentions.jsonl", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@dataclass
class Evaluation:
    """Scores of reportmine against gold files.

    Attributes:
        structure: eval_structure.py's rows (per file and ``TOTAL``), if structure gold was given.
        mentions: eval_mentions.py's rows (per type and ``ALL``), if mention gold was given.
        themes: :func:`score_themes` over the theme gold, if any.
        files: gold file -> corpus file it was scored on.
    """

    structure: dict[str, dict[str, float]] | None = None
    mentions: dict[str, dict[str, float]] | None = None
    themes: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "structure": self.structure,
                "mentions": self.mentions, "themes": self.themes}


def evaluate(gold_paths: Iterable[str | Path], corpus: str | Path | None = None,
             taxonomy: str | Path | None = None) -> Evaluation:
    """Run reportmine on the corpus files of some gold files and score it.

    Args:
        gold_paths: gold files or folders of them, named after their corpus
            file: ``<stem>.json``, ``<stem>.mentions.jsonl``, ``<stem>.themes.json``.
        corpus: folder of the corpus files ``<stem>.txt`` (default: the gold
            file's own folder, then the bundled sample corpus).
        taxonomy: theme taxonomy file for the theme gold (default: shipped).

    Raises:
        GoldError: a malformed gold file; InputError: a missing corpus file.
    """
    files: list[Path] = []
    for p in gold_paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(x for x in p.iterdir() if x.is_file() and x.suffix in (".json", ".jsonl")))
        else:
            files.append(p)
    result = Evaluation()
    parsed_cache: dict[Path, Any] = {}
    structure_pairs, theme_pairs, mention_triples = [], [], []
    tax = None
    for gold_path in files:
        kind = gold_kind(gold_path)
        gold = load_gold(gold_path)
        candidates = [Path(corpus)] if corpus is not None else [gold_path.parent, sample_corpus()]
        text_path = next((c / f"{_stem(gold_path)}.txt" for c in candidates
                          if (c / f"{_stem(gold_path)}.txt").is_file()), None)
        if text_path is None:
            where = ", ".join(map(str, candidates))
            raise InputError(str(gold_path), f"no corpus file {_stem(gold_path)}.txt in {where}")
        result.files[str(gold_path)] = str(text_path)
        if text_path not in parsed_cache:
            parsed_cache[text_path] = parse_file(text_path)
        parsed = parsed_cache[text_path]
        if kind == "structure":
            structure_pairs.append((gold, parsed.to_dict()))
        elif kind == "themes":
            tax = tax or load_taxonomy(taxonomy)
            theme_pairs.append((gold, classify_parsed(parsed, tax).to_dict()))
        else:
            predicted = [m.to_dict() for m in extract_parsed(parsed)]
            mention_triples.append((gold, predicted, parsed.text))
    if structure_pairs:
        result.structure = score_structure(structure_pairs)
    if mention_triples:
        result.mentions = score_mentions(mention_triples)
    if theme_pairs:
        result.themes = score_themes(theme_pairs)
    return result


def agreement_files(paths_a: Sequence[str | Path], paths_b: Sequence[str | Path]) -> dict[str, Any]:
    """:func:`theme_agreement` of two sets of theme annotation files, paired in order."""
    if len(paths_a) != len(paths_b):
        raise GoldError(None, "give the same number of annotation files for each annotator")
    return theme_agreement([(load_gold(a), load_gold(b)) for a, b in zip(paths_a, paths_b, strict=True)])


def format_evaluation(evaluation: Evaluation) -> str:
    """A plain-text report of an :class:`Evaluation`, in the shared scorers' layouts."""
    out: list[str] = []
    if evaluation.structure:
        keys = list(evaluation.structure["TOTAL"])
        out.append("file".ljust(28) + " ".join(k[:11].rjust(11) for k in keys))
        for name, row in evaluation.structure.items():
            out.append(name[:27].ljust(28) + " ".join(f"{row[k]:11.3f}" for k in keys))
        out.append("")
    if evaluation.mentions:
        out.append(f"{'type':12}{'gold':>6}{'pred':>6}{'p':>7}{'r':>7}{'f1':>7}{'strict':>8}{'fields':>8}")
        for t, r in evaluation.mentions.items():
            out.append(f"{t:12}{r['gold']:6d}{r['pred']:6d}{r['p']:7.3f}{r['r']:7.3f}"
                       f"{r['f1']:7.3f}{r['strict_f1']:8.3f}{r['fields']:8.3f}")
        out.append("")
    if evaluation.themes:
        out.extend(format_themes(evaluation.themes))
    return "\n".join(out).rstrip() + "\n"


def format_themes(scores: dict[str, Any]) -> list[str]:
    out = []
    for k, v in scores.items():
        if k in ("gold_primary_counts", "per_theme"):
            continue
        out.append(f"{k:18} {v:.3f}" if isinstance(v, float) else f"{k:18} {v}")
    out.append("")
    out.append(f"{'theme':32}{'gold':>6}{'pred':>6}{'p':>7}{'r':>7}{'f1':>7}")
    for theme, r in scores["per_theme"].items():
        out.append(f"{theme:32}{r['gold']:6d}{r['pred']:6d}{r['p']:7.3f}{r['r']:7.3f}{r['f1']:7.3f}")
    return out


def format_agreement(agreement: dict[str, Any]) -> str:
    out = [f"{k:18} {v:.3f}" if isinstance(v, float) else f"{k:18} {v}"
           for k, v in agreement.items() if k != "per_theme_kappa"]
    out.append("")
    out.append(f"{'theme':32}{'kappa':>7}")
    out.extend(f"{t:32}{k:7.3f}" for t, k in agreement["per_theme_kappa"].items())
    return "\n".join(out) + "\n"
