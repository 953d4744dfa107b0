"""Stage 1, reading: bytes on disk -> :class:`~reportmine.model.SourceText`.

Finds input files (a file, or every report file under a directory, in sorted
order), detects the encoding (UTF-8 with or without BOM, UTF-16 with or
without BOM, GB18030/GBK, then charset-normalizer's best guess) and decodes;
UTF-8 with a few damaged bytes is read with U+FFFD in their place (encoding
``utf-8/replaced``).
Newlines are kept as they are so that line numbers match the file split on
``\\n``. Binary, empty and undecodable files raise :class:`InputError`
naming the file and the reason.

Dispatch is by suffix: ``.docx`` and ``.html``/``.htm`` files are rendered to
text by :mod:`reportmine.formats` (offsets then point into that text); every
other file is read as text (``.md`` included: its ``#`` marks are read by the
cleaning and sections stages).

Text that is predominantly Traditional Chinese gets a Simplified view for
matching (:attr:`SourceText.normalized`), made with OpenCC character by
character so that every offset stays the same (:func:`simplified_view`).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from .errors import InputError
from .formats import DOCX_SUFFIXES, HTML_SUFFIXES, docx_to_text, html_to_text
from .model import SourceText

#: File endings picked up when a directory is given. A file named explicitly
#: is always read, whatever its ending.
REPORT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"}) | HTML_SUFFIXES | DOCX_SUFFIXES

# Share of characters that must look like Chinese report text for a decode we
# only guessed at (GB18030, charset-normalizer) to be trusted. Real GB18030
# reports score above 0.99; random bytes decoded as GB18030 score below 0.5.
_PLAUSIBLE_SHARE = 0.85
# Share of C0 control characters (other than tab, newline, CR, form feed)
# above which a decoded file is taken for binary.
_CONTROL_SHARE = 0.01
_SAMPLE = 1 << 16
# Share of characters that may be undecodable for a file to be read as damaged
# UTF-8 rather than rejected. GB18030 or Latin-1 text read as UTF-8 has bad
# sequences in nearly every character, far above this.
_MAX_DAMAGED_UTF8_SHARE = 0.001
# ... or, in a short file, up to this many (and 1% at most).
_FEW_DAMAGED = 16
# Characters looked at to tell Traditional from Simplified text. On the sample
# corpus (whole files), Simplified ones have 0 Traditional-only characters against 596-6547
# Simplified-only ones; their OpenCC s2t versions have 604-6617 Traditional-only
# characters against 0-7 Simplified-only ones.
_SCRIPT_SAMPLE = 1 << 14
_MIN_TRADITIONAL = 3


def iter_input_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files and directories into the report files to read, sorted.

    A path that does not exist is yielded as it is, so that reading it fails
    with a clear error and it still appears in the run's manifest.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [
                p for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in REPORT_SUFFIXES
                and not p.name.startswith("~$")  # Word's lock file beside an open document
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            yield from sorted(found)
        else:
            yield path


def read_file(path: str | os.PathLike[str]) -> SourceText:
    """Read and decode one report file.

    >>> source = read_file("corpus/002_79988078600ed0aa.txt")  # doctest: +SKIP
    >>> source.line_text(3)  # doctest: +SKIP
    '连州市卫生系统创建平安医院2016年工作总结'

    Raises:
        InputError: the file is missing, unreadable, empty, binary or in no
            encoding we can decode.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except IsADirectoryError:
        raise InputError(name, "is a directory, not a file") from None
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc})") from None
    suffix = Path(name).suffix.lower()
    if suffix in DOCX_SUFFIXES:
        text, encoding = docx_to_text(data, name), "docx"
    elif suffix in HTML_SUFFIXES:
        page, codec = decode_bytes(data, name)
        text, encoding = html_to_text(page, name), f"html/{codec}"
    else:
        text, encoding = decode_bytes(data, name)
    return SourceText.from_text(text, path=name, encoding=encoding, normalized=simplified_view(text))


def read_text(text: str, path: str = "<string>") -> SourceText:
    """Wrap text already in memory (a BOM is dropped, as when reading a file)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText.from_text(text, path=path, encoding="str", normalized=simplified_view(text))


def simplified_view(text: str) -> str | None:
    """A Simplified view of predominantly Traditional text, offsets unchanged.

    Each Traditional character is replaced by OpenCC's ``t2s`` conversion of
    that character alone, so the view has exactly the length and offsets of
    ``text`` (phrase-level conversion could change lengths). Text is taken for
    Traditional when, in its first 16,384 characters, characters that only
    Traditional writing uses outnumber Simplified-only ones more than two to
    one (and number at least 3).

    Returns:
        The view, or ``None`` when the text is not predominantly Traditional.

    >>> simplified_view("一、醫院質量管理總結")
    '一、医院质量管理总结'
    >>> simplified_view("一、医院质量管理总结") is None
    True
    """
    from collections import Counter

    sample = text[:_SCRIPT_SAMPLE]
    # Counting every character runs in C; filtering the few thousand keys after is cheap.
    counts = {ch: n for ch, n in Counter(sample).items() if ch >= "\u3400"}
    if not counts:
        return None
    to_simplified, to_traditional = _converters()
    traditional = simplified = 0
    for ch, n in counts.items():
        if to_simplified(ch) != ch:
            traditional += n
        elif to_traditional(ch) != ch:
            simplified += n
    if traditional < _MIN_TRADITIONAL or traditional <= 2 * simplified:
        return None
    table = {}
    for ch in set(text) if len(text) > len(sample) else counts:
        if ch >= "\u3400":
            mapped = to_simplified(ch)
            if mapped != ch and len(mapped) == 1:
                table[ord(ch)] = mapped
    return text.translate(table)


@lru_cache(maxsize=1)
def _converters():
    """OpenCC's t2s and s2t conversions of one character (lazily: OpenCC loads dictionaries)."""
    import opencc

    return lru_cache(maxsize=None)(opencc.OpenCC("t2s").convert), lru_cache(maxsize=None)(
        opencc.OpenCC("s2t").convert
    )


def decode_bytes(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode a report's bytes; return (text, encoding name)."""
    if not data.strip():
        raise InputError(path, "empty file" if not data else "file holds only white space")
    text, encoding = _decode(data, path)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(path, "file holds no text")
    if _control_share(text) > _CONTROL_SHARE:
        raise InputError(path, f"binary data, not text (decoded as {encoding})")
    return text, encoding


def _decode(data: bytes, path: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(path, f"has a UTF-8 BOM but invalid UTF-8 at byte {exc.start + 3}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(path, f"has a UTF-16 BOM but invalid UTF-16 at byte {exc.start}") from None
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:_SAMPLE]:
        raise InputError(path, "binary data, not text (NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # UTF-8 with a few damaged bytes (a truncated download, a bad copy): keep
    # the text, each bad sequence becoming U+FFFD. Checked before GB18030,
    # which reads UTF-8 bytes as plausible-looking ideographs.
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd") - data.count("\ufffd".encode())
    if damaged <= max(_MAX_DAMAGED_UTF8_SHARE * len(text), min(_FEW_DAMAGED, 0.01 * len(text))):
        return text, "utf-8/replaced"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plausible_share(text) >= _PLAUSIBLE_SHARE:
        return text, "gb18030"
    guessed = _guess_with_charset_normalizer(data)
    if guessed is not None:
        return guessed
    raise InputError(
        path,
        f"not valid UTF-8 (byte {utf8_error.start}), GB18030 or UTF-16 text; "
        "cannot tell its encoding",
    )


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit on one parity, as in ASCII-heavy UTF-16."""
    sample = data[: min(len(data), _SAMPLE) & ~1]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _guess_with_charset_normalizer(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None:
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if _plausible_share(text) < _PLAUSIBLE_SHARE:
        return None
    return text, best.encoding


def _plausible_share(text: str) -> float:
    sample = text[:_SAMPLE]
    if not sample:
        return 0.0
    good = 0
    for ch in sample:
        code = ord(ch)
        if (
            32 <= code < 127 or ch in "\t\n\r"
            or 0x4E00 <= code <= 0x9FFF          # CJK unified ideographs
            or 0x3000 <= code <= 0x303F          # CJK punctuation
            or 0xFF00 <= code <= 0xFFEF          # full-width forms
            or 0x2000 <= code <= 0x206F          # general punctuation (“” — …)
            or 0x2460 <= code <= 0x24FF          # circled numbers
            or code in (0xA0, 0xB7, 0xD7)
        ):
            good += 1
    return good / len(sample)


def _control_share(text: str) -> float:
    sample = text[:_SAMPLE]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return bad / max(1, len(sample))
