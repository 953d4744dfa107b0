"""Charts of Chinese text with matplotlib: find an installed CJK font, or say there is none.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: Chinese labels
come out as empty boxes, with a "Glyph … missing from font(s)" warning for
each character. :func:`use_cjk_font` makes matplotlib draw Chinese where a
CJK font is installed, and returns ``None`` where none is, so that a caller
(the notebooks) can label its charts in ASCII instead.

matplotlib is an optional dependency (the ``dev`` extra, or any notebook
environment): it is imported only when these functions are called.
"""

from __future__ import annotations

from typing import Any

#: Families tried first, best first: fonts made for Simplified Chinese, then
#: pan-CJK ones. A family matches a name that starts with it: fonts-noto-cjk's
#: collection shows in matplotlib as "Noto Sans CJK JP", whose face also
#: covers Simplified Chinese.
PREFERRED_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK",
    "Source Han Sans SC",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Noto Serif CJK",
    "Source Han Serif",
    "AR PL UMing",
    "AR PL UKai",
    "Droid Sans Fallback",
)

#: A font qualifies only if it has every one of these characters: common in
#: the reports and charts, and simplified forms (总, 计, 卫, 医) that a
#: Japanese-only or Traditional-only font lacks.
SAMPLE_TEXT = "医院卫生工作总结计划主题章节数量管理其他"


def _import_font_manager() -> Any:
    try:
        from matplotlib import font_manager
    except ImportError as error:
        raise ImportError("reportmine's chart helpers need matplotlib: pip install matplotlib") from error
    return font_manager


def _covers(font_manager: Any, path: str, text: str) -> bool:
    """Whether the font file has a glyph of its own for every character of ``text``.

    Distinct glyphs, as a last-resort font (matplotlib ships one) maps every
    character of a block to one placeholder box.
    """
    chars = set(text)
    try:
        font = font_manager.get_font(path)
        glyphs = {font.get_char_index(ord(char)) for char in chars}
        return 0 not in glyphs and len(glyphs) == len(chars)
    except (OSError, RuntimeError, ValueError):  # an unreadable or broken font file: not a candidate
        return False


def _rank(name: str) -> int:
    for rank, family in enumerate(PREFERRED_FONTS):
        if name.startswith(family):
            return rank
    return len(PREFERRED_FONTS)


def _best(font_manager: Any, text: str) -> str | None:
    """The best-ranked family among matplotlib's known fonts that covers ``text``, preferred families first."""
    entries = sorted(font_manager.fontManager.ttflist, key=lambda entry: (_rank(entry.name), entry.name, entry.fname))
    for entry in entries:
        if _covers(font_manager, entry.fname, text):
            return entry.name
    return None


def find_cjk_font(text: str = SAMPLE_TEXT) -> str | None:
    """The family name of an installed font that matplotlib can use for Chinese, or ``None``.

    Families of :data:`PREFERRED_FONTS` come first (Noto Sans CJK, Source Han
    Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang…), then any other font;
    a font counts only if it has a glyph for every character of ``text``.
    matplotlib lists the system's fonts in a cache written on its first run:
    when no known font qualifies, fonts installed since then are added too.
    Changes nothing in matplotlib's settings.
    """
    font_manager = _import_font_manager()
    found = _best(font_manager, text)
    if found is not None:
        return found
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path not in known and _covers(font_manager, path, text):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
            added = True
    return _best(font_manager, text) if added else None


def use_cjk_font(text: str = SAMPLE_TEXT) -> str | None:
    """Make matplotlib draw Chinese with an installed CJK font; return its family name, or ``None`` if none is.

    With a font (see :func:`find_cjk_font`), it becomes matplotlib's first
    sans-serif font and the default family (characters it lacks fall back to
    the default sans-serif), and the minus sign is drawn as an ASCII hyphen
    (CJK fonts lack U+2212). Without one, matplotlib's settings
    are left alone and the caller should label its charts in ASCII::

        font = reportmine.use_cjk_font()
        title = "各主题章节数" if font else "sections by theme"

    Needs matplotlib (an optional dependency); raises ImportError without it.
    """
    name = find_cjk_font(text)
    if name is None:
        return None
    import matplotlib

    others = [family for family in matplotlib.rcParams["font.sans-serif"] if family != name]
    matplotlib.rcParams["font.sans-serif"] = [name, *others]
    # The font by name, then the default sans-serif for any glyph it lacks (matplotlib falls back along this list).
    matplotlib.rcParams["font.family"] = [name, "sans-serif"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return name
