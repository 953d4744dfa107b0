"""Stage 7, describe: who wrote a report, where, and for which year.

In: a parsed :class:`~reportmine.model.Document` and, optionally, a row of a
user's manifest (``--meta manifest.csv``). Out: :class:`DocumentMeta` with
hospital, region, level and year, each with the place it came from
(``manifest``, ``signature``, ``meta``, ``title``, ``body``) or ``unknown``.
A value the text does not state stays ``None``: nothing is guessed silently.

From the text:

* the issuing unit is a named hospital or health authority
  (``蚌埠市第一人民医院``, ``连州市卫生和计划生育局``, ``xx县铁锁乡医院``),
  searched in the signature block, then metadata lines, then the title, then
  the body, where the most frequent name wins and short forms such as
  ``市一院`` count when no full name is given;
* the region is the place prefix of that name (``蚌埠市``, ``连州市``);
* the year is the report's own: the title's year, else the signature date,
  else the most frequent full year in the body, else the publish date
  (:func:`~reportmine.mentions.resolve.document_year`, which mention
  extraction resolves yearless dates against).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePath

from .errors import InputError
from .mentions.resolve import document_year
from .model import MANIFEST_FIELDS, Document, DocumentMeta, FileResult, ParsedFile, SourceText
from .safetext import storable
from .segmentation import plain_jieba, quiet_jieba

# Endings of a named health institution or authority.
_UNIT_SUFFIX_RE = re.compile(
    r"人民医院|中医医院|中医院|中西医结合医院|妇幼保健院|保健院|中心医院|儿童医院|医院|中心卫生院|卫生院|"
    r"社区卫生服务中心|卫生和计划生育局|卫生和计划生育委员会|卫生健康委员会|卫生健康局|卫健委|卫生局|"
    r"疾病预防控制中心|疾控中心"
)
# Characters before a suffix that the tagger looks at: long enough for
# ``蚌埠市第一人民`` or ``连州市卫生和计划生育``.
_UNIT_WINDOW = 16
# Part-of-speech tags (jieba) that may stand inside an institution's name.
_NAME_TAGS = frozenset({"ns", "n", "nt", "nz", "nr", "m", "an", "l", "j", "eng", "zg", "a"})
_MASK_RE = re.compile(r"^(?:[xX×*＊]{1,4}|某)$")
_PLACE_WORD_RE = re.compile(r"^[县市区州旗乡镇省]")
# Short forms a report uses for itself.
_SHORT_RE = re.compile(r"(?<![\u4e00-\u9fff])((?:市|县|区)(?:一|二|三|四|五|中|妇幼)院)")
# Names that start like a unit but speak of many or of oneself (各县区卫生局, 我市医院).
_NOT_A_NAME_PREFIXES = ("各", "全", "我", "本", "该", "其", "外", "兄弟", "上级", "下级")
_LEVEL_RE = re.compile(r"(三级甲等|三级乙等|二级甲等|二级乙等|三甲|二甲|三级|二级|一级)(?:综合)?医院")


@lru_cache(maxsize=1)
def pos_tokenizer():
    """jieba's part-of-speech tagger on a tokenizer of our own (jieba's global one is never touched)."""
    import jieba.posseg

    with quiet_jieba():  # loaded here, not at the first cut, so that it loads quietly
        return jieba.posseg.POSTokenizer(plain_jieba())  # the process's one copy of jieba's main dictionary


@lru_cache(maxsize=8192)
def _tagged(window: str) -> tuple[tuple[str, str], ...]:
    """(word, part of speech) of a window before a unit suffix.

    Cached: a report names its own hospital again and again, and tagging
    (jieba's HMM over unknown words) costs far more than the lookup.
    """
    return tuple((w.word, w.flag) for w in pos_tokenizer().cut(window))


def _units_in(text: str) -> list[tuple[str, str | None]]:
    """Named institutions in ``text`` as (name, region).

    A name runs from a place (tagged ``ns`` by jieba, or a masked ``xx县``)
    through a unit suffix; its region is the leading place words, ``None``
    when masked.
    """
    found = []
    for match in _UNIT_SUFFIX_RE.finditer(text):
        tokens = _tagged(text[max(0, match.start() - _UNIT_WINDOW):match.end()])
        # Walk back from the suffix over name-like tokens; the name starts at the earliest place.
        start = None
        length = 0
        for i in range(len(tokens) - 1, -1, -1):
            word, flag = tokens[i]
            if flag not in _NAME_TAGS and word != "和":
                break
            length += len(word)
            masked_place = bool(_MASK_RE.match(word)) and i + 1 < len(tokens) and bool(
                _PLACE_WORD_RE.match(tokens[i + 1][0]))
            if flag == "ns" or masked_place:
                start = i
        if start is None:
            continue
        name = "".join(word for word, _ in tokens[start:])
        if not name.endswith(match.group(0)) or len(name) <= len(match.group(0)) or name.startswith(
                _NOT_A_NAME_PREFIXES):
            continue
        region_words = []
        for word, flag in tokens[start:]:
            if flag != "ns":
                break
            region_words.append(word)
        found.append((name, "".join(region_words) or None))
    return found


def describe_document(
    doc: Document, source: SourceText, manifest_row: dict[str, str] | None = None
) -> DocumentMeta:
    """Hospital, region, level and year of ``doc`` (from file ``source``), each with its source."""
    meta_text = [source.line_text(n) for n in doc.meta_lines]
    signature = [text for n, text in zip(doc.meta_lines, meta_text, strict=True) if n > doc.start_line + 2]
    body = doc.text
    hospital, hospital_source, region = None, "unknown", None
    for place, texts in (("signature", signature), ("meta", meta_text), ("title", [doc.title or ""])):
        units = [u for t in texts for u in _units_in(t)]
        if units:
            # A signature's last unit signs the report; elsewhere the first one named.
            (hospital, region), hospital_source = units[-1] if place == "signature" else units[0], place
            break
    if hospital is None:
        units = _units_in(body)
        if units:
            (hospital, region), hospital_source = Counter(units).most_common(1)[0][0], "body"
        else:
            shorts = _SHORT_RE.findall(body)
            if shorts:
                hospital, hospital_source = Counter(shorts).most_common(1)[0][0], "body"
    region_source = hospital_source if region else "unknown"
    level, level_source = None, "unknown"
    level_match = _LEVEL_RE.search(doc.title or "") or _LEVEL_RE.search(body)
    if level_match:
        in_title = bool(doc.title and _LEVEL_RE.search(doc.title))
        level, level_source = level_match.group(1), "title" if in_title else "body"
    year, year_source = document_year(doc, source)  # the one definition, shared with mentions
    meta = DocumentMeta(hospital, hospital_source, region, region_source, level, level_source, year, year_source)
    return apply_manifest(meta, manifest_row) if manifest_row else meta


def describe_file(parsed: ParsedFile) -> tuple[DocumentMeta, ...]:
    """Stage 7: the metadata of every document of ``parsed``, from its text, in order."""
    return tuple(describe_document(doc, parsed.source) for doc in parsed.documents)


def apply_manifest(meta: DocumentMeta, row: dict[str, str]) -> DocumentMeta:
    """Manifest values win over the text's; empty cells leave the text's value."""
    values = {
        "hospital": (meta.hospital, meta.hospital_source),
        "region": (meta.region, meta.region_source),
        "level": (meta.level, meta.level_source),
        "year": (meta.year, meta.year_source),
    }
    for key in MANIFEST_FIELDS:
        cell = (row.get(key) or "").strip()
        if cell:
            values[key] = (int(cell) if key == "year" and cell.isdigit() else cell, "manifest")
    extra = {k: v for k, v in row.items() if k not in MANIFEST_FIELDS and k not in ("file", "document")}
    return DocumentMeta(
        values["hospital"][0], values["hospital"][1], values["region"][0], values["region"][1],
        values["level"][0], values["level"][1], values["year"][0], values["year"][1], extra,
    )


@dataclass(frozen=True, slots=True)
class Manifest:
    """A user's table of file (and document) -> hospital, region, level, year, extras.

    Rows match a file by its path as given, its key (the tables' ``file``
    column: its path below the folder named) or its file name; a row with a
    ``document`` index applies to that document only and wins over the file's row.
    """

    rows: tuple[dict[str, str], ...]

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                if not reader.fieldnames or "file" not in reader.fieldnames:
                    raise InputError(str(path), "manifest needs a 'file' column (and any of "
                                                "document, hospital, region, level, year)")
                rows = tuple({k: (v or "") for k, v in row.items() if k} for row in reader)
        except FileNotFoundError:
            raise InputError(str(path), "no such manifest file") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(str(path), f"manifest is not a UTF-8 CSV file ({exc})") from None
        for number, row in enumerate(rows, start=2):
            year = row.get("year", "").strip()
            if year and not year.isdigit():
                raise InputError(str(path), f"line {number}: year {year!r} is not a whole number")
            doc = row.get("document", "").strip()
            if doc and not doc.isdigit():
                raise InputError(str(path), f"line {number}: document {doc!r} is not a document index")
        return cls(rows)

    def apply(self, result: FileResult) -> FileResult:
        """``result`` with this manifest's values over its documents' metadata (see :func:`apply_manifest`)."""
        if result.parsed is None:
            return result
        key = storable(result.file_key)  # as the tables' file column holds it
        metas = []
        for doc in result.parsed.documents:
            meta = result.metadata[doc.index] if doc.index < len(result.metadata) else DocumentMeta()
            row = self.row_for(result.path, doc.index, key=key)
            metas.append(apply_manifest(meta, row) if row else meta)
        return replace(result, metadata=tuple(metas))

    def row_for(self, path: str, doc_index: int, key: str | None = None) -> dict[str, str] | None:
        # key: the file's key in its run (the tables' file column), e.g. hospitalA/2016.txt.
        names = (path, PurePath(path).name, key)
        file_row = doc_row = None
        for row in self.rows:
            if row.get("file", "").strip() not in names:
                continue
            doc = row.get("document", "").strip()
            if doc == "":
                file_row = row
            elif int(doc) == doc_index:
                doc_row = row
        if file_row and doc_row:
            return {**file_row, **{k: v for k, v in doc_row.items() if v}}
        return doc_row or file_row
