"""Theme taxonomies: the shipped ``data/themes.toml`` or a user's file, read and validated.

A taxonomy is a list of themes, each with an ascii id, a Chinese name, a
definition and seed keywords (see :func:`load_taxonomy` for the file format).
The id ``other`` (:data:`OTHER`) is reserved for sections and documents no
theme fits. The classifier (:mod:`reportmine.themes`), the segmenter's domain
dictionary (:mod:`reportmine.segmentation`) and the codebook read it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import TaxonomyError
from .model import OTHER_THEME

#: The id given to sections and documents no theme fits.
OTHER = OTHER_THEME

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_THEME_KEYS = {"id", "name_zh", "definition", "keywords"}
_OPTIONAL_THEME_KEYS = {"name_en", "notes", "examples"}


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme of a taxonomy.

    Attributes:
        id: ascii identifier (``infection_control``).
        name_zh: Chinese name (``医院感染管理``).
        definition: what belongs to the theme, for coders and the codebook.
        keywords: seed keywords, matched as whole tokens.
    """

    id: str
    name_zh: str
    definition: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A theme taxonomy: the themes, plus ``other`` implicitly.

    Attributes:
        themes: the themes in file order.
        path: the file it was read from (``None`` for the shipped one).
        name: the file's stem, or its ``name`` key.
        version: the file's ``version`` key, else the first 8 hex digits of
            its SHA-256, so that outputs name exactly the rules used.
    """

    themes: tuple[Theme, ...]
    path: str | None = None
    name: str = "themes"
    version: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def keywords(self) -> list[str]:
        """Every keyword of every theme, in file order."""
        return [k for t in self.themes for k in t.keywords]

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    @property
    def label(self) -> str:
        return f"{self.name}/{self.version}"


def normalize_term(term: str) -> str:
    """A keyword as it appears in normalised text (NFKC, lower case)."""
    return unicodedata.normalize("NFKC", term).strip().lower()


def load_toml(text: str) -> dict[str, Any]:
    """TOML text as a dict (``tomllib``, or ``tomli`` on Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy TOML file (default: the shipped one).

    The file holds ``[[theme]]`` tables with ``id`` (lower-case ascii, unique,
    not ``other``), ``name_zh``, ``definition`` and a non-empty ``keywords``
    list; a keyword may belong to one theme only. Optional top-level ``name``
    and ``version`` keys name the rule set.

    Raises:
        TaxonomyError: naming the file (``path``) and the entry that is wrong (``entry``).

    >>> taxonomy = load_taxonomy()
    >>> len(taxonomy.themes), taxonomy.themes[0].id
    (20, 'party_building_integrity')
    """
    if path is None:
        return _shipped_taxonomy()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(path, f"cannot read the taxonomy file ({exc.strerror or exc})") from None
    return _parse_taxonomy(raw, str(path))


@lru_cache(maxsize=1)
def _shipped_taxonomy() -> Taxonomy:
    raw = resources.files("reportmine.data").joinpath("themes.toml").read_bytes()
    taxonomy = _parse_taxonomy(raw, "themes.toml")
    return Taxonomy(taxonomy.themes, None, taxonomy.name, taxonomy.version)


def _parse_taxonomy(raw: bytes, where: str) -> Taxonomy:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TaxonomyError(where, "not UTF-8 text") from None
    try:
        data = load_toml(text)
    except Exception as exc:  # tomllib.TOMLDecodeError, tomli's on 3.10
        raise TaxonomyError(where, f"not valid TOML: {exc}") from None
    entries = data.get("theme")
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(where, "no [[theme]] entries")
    themes: list[Theme] = []
    seen_ids: dict[str, int] = {}
    seen_keywords: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        themes.append(_parse_theme(entry, number, where, seen_ids, seen_keywords))
    name = data.get("name") if isinstance(data.get("name"), str) else Path(where).stem
    version = data.get("version")
    if not isinstance(version, str):
        version = hashlib.sha256(raw).hexdigest()[:8]
    return Taxonomy(tuple(themes), where, name, version)


def _parse_theme(entry: object, number: int, where: str,
                 seen_ids: dict[str, int], seen_keywords: dict[str, str]) -> Theme:
    """Theme ``number`` of the file ``where``, checked against the ids and keywords seen before it (updated)."""
    label = f"theme #{number}"
    if not isinstance(entry, dict):
        # Worded as before the error had an entry field ("theme #1 is not a table").
        raise TaxonomyError(where, f"{label} is not a table")
    theme_id = entry.get("id")
    if isinstance(theme_id, str):
        label = f"theme #{number} ({theme_id})"
    missing = sorted(_THEME_KEYS - entry.keys())
    if missing:
        raise TaxonomyError(where, f"missing {', '.join(missing)}", entry=label)
    unknown = sorted(entry.keys() - _THEME_KEYS - _OPTIONAL_THEME_KEYS)
    if unknown:
        raise TaxonomyError(where, f"unknown key {', '.join(unknown)}", entry=label)
    if not isinstance(theme_id, str) or not _ID.match(theme_id):
        raise TaxonomyError(where, "id must be lower-case ascii letters, digits and _", entry=label)
    if theme_id == OTHER:
        raise TaxonomyError(where, f"'{OTHER}' is reserved for sections no theme fits", entry=label)
    if theme_id in seen_ids:
        raise TaxonomyError(where, f"id also used by theme #{seen_ids[theme_id]}", entry=label)
    seen_ids[theme_id] = number
    for key in ("name_zh", "definition"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise TaxonomyError(where, f"{key} must be a non-empty string", entry=label)
    keywords = entry["keywords"]
    if not isinstance(keywords, list) or not keywords:
        raise TaxonomyError(where, "keywords must be a non-empty list of strings", entry=label)
    cleaned: list[str] = []
    for keyword in keywords:
        if not isinstance(keyword, str) or not keyword.strip():
            raise TaxonomyError(where, f"keyword {keyword!r} is not a non-empty string", entry=label)
        if any(ch.isspace() for ch in keyword.strip()):
            raise TaxonomyError(where, f"keyword {keyword!r} contains a space", entry=label)
        key = normalize_term(keyword)
        if key in seen_keywords:
            other = seen_keywords[key]
            detail = "twice" if other == theme_id else f"also in {other}"
            raise TaxonomyError(where, f"keyword {keyword!r} listed {detail}", entry=label)
        seen_keywords[key] = theme_id
        cleaned.append(keyword.strip())
    return Theme(theme_id, entry["name_zh"].strip(), entry["definition"].strip(), tuple(cleaned))
