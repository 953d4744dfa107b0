"""Stage 1, reading: bytes on disk -> :class:`~reportmine.model.SourceText`.

Reads one input (found by :mod:`reportmine.inputs`), detects the encoding
(UTF-8 with or without BOM, UTF-16 with or without BOM, GB18030/GBK, then
charset-normalizer's best guess) and decodes.
In every one of these encodings a few damaged bytes (at most 0.1% of the
characters, or in a short file up to 16 but no more than 1%) are read with
U+FFFD in their place, the encoding then named with ``/replaced`` (``utf-8/replaced``,
``gb18030/replaced``, ``utf-16-le/replaced`` …); a file damaged more is
rejected, naming the first bad byte in the encoding it comes closest to.
Newlines are kept as they are so that line numbers match the file split on
``\\n``. Binary, empty and undecodable files, and anything that is not a
regular file (a FIFO or a device is refused without being read), raise
:class:`InputError` naming the file and the reason.

Dispatch is by suffix: ``.docx`` and ``.html``/``.htm`` files are rendered to
text by :mod:`reportmine.readers` (offsets then point into that text); every
other file is read as text (``.md`` included: its ``#`` marks are read by the
cleaning and sections stages).

Text that is predominantly Traditional Chinese gets a Simplified view for
matching (:attr:`SourceText.normalized`), made with OpenCC character by
character so that every offset stays the same (:func:`simplified_view`).
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

from .errors import InputError
from .inputs import InputFile
from .model import SourceText
from .readers import DOCX_SUFFIXES, HTML_SUFFIXES, docx_to_text, html_to_text

# Share of characters that must look like Chinese report text for a decode we
# only guessed at (GB18030, UTF-16 without a BOM, charset-normalizer) to be
# trusted, and for a BOM to be believed. Real GB18030
# reports score above 0.99; random bytes decoded as GB18030 score below 0.5.
_PLAUSIBLE_SHARE = 0.85
# Share of C0 control characters (other than tab, newline, CR, form feed)
# above which a decoded file is taken for binary.
_CONTROL_SHARE = 0.01
_SAMPLE = 1 << 16
# Share of characters that may be undecodable (damaged bytes) for a file to be
# read with U+FFFD in their place rather than rejected, in any encoding.
# GB18030 or Latin-1 text read as UTF-8 has bad sequences in nearly every
# character, far above this.
_MAX_DAMAGED_SHARE = 0.001
# ... or, in a short file, up to this many (and 1% at most).
_FEW_DAMAGED = 16
# A rejected file with at most this share damaged is named as mostly in that encoding.
_MOSTLY_SHARE = 0.1
_DAMAGE_RUN = re.compile("\ufffd+")
_CHINESE = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff01-\uff60]")
# Characters looked at to tell Traditional from Simplified text. On the sample
# corpus (whole files), Simplified ones have 0 Traditional-only characters against 596-6547
# Simplified-only ones; their OpenCC s2t versions have 604-6617 Traditional-only
# characters against 0-7 Simplified-only ones.
_SCRIPT_SAMPLE = 1 << 14
_MIN_TRADITIONAL = 3


def read_file(path: str | os.PathLike[str]) -> SourceText:
    """Read and decode one report file.

    >>> source = read_file("corpus/002_79988078600ed0aa.txt")  # doctest: +SKIP
    >>> source.line_text(3)  # doctest: +SKIP
    '连州市卫生系统创建平安医院2016年工作总结'

    Raises:
        InputError: the file is missing, unreadable, not a regular file (a
            folder, a FIFO, a device), empty, binary or in no encoding we can decode.
    """
    name = str(path)
    data = read_bytes(path)
    suffix = Path(name).suffix.lower()
    if suffix in DOCX_SUFFIXES:
        text, encoding = docx_to_text(data, name), "docx"
    elif suffix in HTML_SUFFIXES:
        page, codec = decode_bytes(data, name)
        text, encoding = html_to_text(page, name), f"html/{codec}"
    else:
        text, encoding = decode_bytes(data, name)
    return SourceText.from_text(text, path=name, encoding=encoding, normalized=simplified_view(text))


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file; anything else is refused without being read.

    A FIFO, socket or device is never opened for reading (reading a FIFO
    waits for a writer forever, a device may never end): it is recognised by
    its metadata first, and the file is opened without blocking and checked
    again, in case it was replaced in between.

    Raises:
        InputError: naming the file and the problem (no such file, broken
            symbolic link, permission denied, a folder, not a regular file …).
    """
    name = str(path)
    if isinstance(path, InputFile) and path.problem is not None:
        raise InputError(name, path.problem)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(name, _stat_problem(path, exc)) from None
    except ValueError as exc:  # a NUL in the name
        raise InputError(name, f"not a valid path ({exc})") from None
    _check_regular(path, info.st_mode)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            _check_regular(path, os.fstat(fd).st_mode)
            return handle.read()
        except OSError as exc:
            raise InputError(name, f"cannot be read ({exc.strerror or exc})") from None


def _stat_problem(path: str | os.PathLike[str], exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError) and os.path.islink(path):
        try:
            target = os.readlink(path)
        except OSError:
            return "broken symbolic link"
        return f"broken symbolic link (its target {target} does not exist)"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied (on a folder of its path)"
    return f"cannot be read ({exc.strerror or exc})"


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _check_regular(path: str | os.PathLike[str], mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    name = str(path)
    if stat.S_ISDIR(mode):
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise InputError(name, f"cannot list folder: {reason}") from None
        raise InputError(name, "is a directory, not a file")
    kind = next((label for test, label in _KINDS if test(mode)), "a special file")
    raise InputError(name, f"{kind}, not a regular file: refused without reading it")


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
    """Decode a report's bytes; return (text, encoding name).

    The name is the codec (``utf-8``, ``utf-8-sig``, ``utf-16`` when a BOM
    says so, ``utf-16-le``/``utf-16-be`` without one, ``gb18030``, or
    charset-normalizer's name), followed by ``/replaced`` when damaged bytes
    were read as U+FFFD.
    """
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


@dataclass(frozen=True, slots=True)
class _Reading:
    """A file's bytes read in one codec, each damaged place (undecodable sequence) as U+FFFD."""

    codec: str
    label: str        # the encoding as messages name it: "UTF-8", "GB18030", "UTF-16-LE"
    text: str
    damaged: int      # places replaced by U+FFFD
    first_bad: int    # byte offset in the file of the first damaged place (-1: none)

    @property
    def tolerated(self) -> int:
        """Damaged places a file may have and still be read: 0.1%, or up to 16 (1% at most) in a short file."""
        n = len(self.text)
        return int(max(_MAX_DAMAGED_SHARE * n, min(_FEW_DAMAGED, 0.01 * n)))

    @property
    def readable(self) -> bool:
        return self.damaged <= self.tolerated

    def places(self, limit: int | None = None) -> int:
        """Damaged places (counted up to ``limit``): runs of U+FFFD, since one damaged
        character is 1-3 bad sequences in UTF-8."""
        limit = self.damaged if limit is None else min(limit, self.damaged)
        return sum(1 for _ in islice(_DAMAGE_RUN.finditer(self.text), limit))

    def spread(self) -> float:
        """Share of characters at which damage starts (counted only up to a little above _MOSTLY_SHARE)."""
        return self.places(int(_MOSTLY_SHARE * len(self.text)) + 1) / max(1, len(self.text))

    def mostly(self) -> bool:
        """Mostly text in this encoding: damaged here and there, and Chinese report text otherwise."""
        return self.spread() <= _MOSTLY_SHARE and _plausible_share(self.text) >= _PLAUSIBLE_SHARE

    def result(self, name: str | None = None) -> tuple[str, str]:
        """(text, encoding): ``name`` or the codec, with ``/replaced`` if damaged places became U+FFFD."""
        return self.text, (name or self.codec) + ("/replaced" if self.damaged else "")

    def too_damaged(self) -> str:
        return (
            f"not valid {self.label} at byte {self.first_bad}: {self.damaged:,} bad byte sequences in "
            f"{len(self.text):,} characters, more than the {self.tolerated:,} that may be read as U+FFFD"
        )


def _read_as(data: bytes, codec: str, skip: int = 0) -> _Reading:
    """``data[skip:]`` decoded in ``codec``, damaged places counted and replaced by U+FFFD."""
    body = data[skip:] if skip else data
    label = "GB18030" if codec == "gb18030" else codec.upper()
    try:
        return _Reading(codec, label, body.decode(codec), 0, -1)
    except UnicodeDecodeError as exc:
        first_bad = exc.start + skip
    text = body.decode(codec, "replace")
    if codec == "utf-8":
        # U+FFFD's own bytes always decode as U+FFFD, never inside a damaged place.
        damaged = text.count("\ufffd") - body.count("\ufffd".encode())
    else:
        # "replace" and "ignore" resume at the same places, so the lengths differ by the damaged places.
        damaged = len(text) - len(body.decode(codec, "ignore"))
    if codec == "gb18030" and damaged <= 4 * max(_FEW_DAMAGED, _MAX_DAMAGED_SHARE * len(text)):
        # Few enough that it may be read (Python's own resuming can make two of
        # one damaged character, and more): resume after each where the text reads best.
        _resync.damaged = 0
        text = body.decode(codec, _GB18030_RESYNC)
        damaged = _resync.damaged
    return _Reading(codec, label, text, damaged, first_bad)


def _decode(data: bytes, path: str) -> tuple[str, str]:
    # A BOM declares the encoding: damaged places are replaced as in any other encoding.
    if data.startswith(codecs.BOM_UTF8):
        reading, name, bom = _read_as(data, "utf-8", len(codecs.BOM_UTF8)), "utf-8-sig", "UTF-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        reading, name, bom = _read_as(data, codec, 2), "utf-16", "UTF-16"
    else:
        return _decode_undeclared(data, path)
    if _plausible_share(reading.text) < _PLAUSIBLE_SHARE:
        # No report text in the declared encoding: the "BOM" may be damage in
        # another (0xFF 0xFE opens no GB18030 text). Read it as undeclared, and
        # keep the BOM's reading (non-Chinese text?) if that finds nothing else.
        try:
            text, encoding = _decode_undeclared(data, path)
            if not text.startswith("\ufeff"):
                return text, encoding
        except InputError:
            pass
    if not reading.readable:
        raise InputError(path, f"has a {bom} BOM but is {reading.too_damaged()}")
    return reading.result(name)


def _decode_undeclared(data: bytes, path: str) -> tuple[str, str]:
    if b"\x00" in data[:_SAMPLE]:
        # Text in UTF-8 or GB18030 never holds NUL; UTF-16 does for every
        # ASCII character (newlines, digits), and binary data does.
        codec = _bomless_utf16(data)
        if codec is None:
            raise InputError(path, "binary data, not text (NUL bytes)")
        reading = _read_as(data, codec)
        if not reading.readable:
            raise InputError(path, f"reads as UTF-16 without a BOM but is {reading.too_damaged()}")
        return reading.result()
    utf8 = _read_as(data, "utf-8")
    if not utf8.damaged:
        return utf8.result()
    # A few damaged bytes in UTF-8 text, or GB18030 text? UTF-8 is strict: in
    # UTF-8 text, valid multi-byte Chinese characters and punctuation are at
    # least as many as damaged places, while GB18030 text read as UTF-8 has
    # next to none and is damaged at most of its characters (even when they are
    # few among ASCII). GB18030 accepts nearly any bytes, so it must also read
    # with fewer bad sequences and look like Chinese text.
    if utf8.readable and _has_chinese(utf8.text, utf8.places()):
        return utf8.result()
    gb = _read_as(data, "gb18030")
    if gb.readable and gb.damaged < utf8.damaged and _plausible_share(gb.text) >= _PLAUSIBLE_SHARE:
        return gb.result()
    if utf8.readable:
        return utf8.result()
    candidates = [utf8, gb]
    utf16 = _nul_free_utf16(data)
    if utf16 is not None:
        if utf16.readable:
            return utf16.result()
        candidates.append(utf16)
    guessed = _guess_with_charset_normalizer(data)
    if guessed is not None:
        return guessed
    # Name the first bad byte in the encoding the file comes closest to.
    best = min(candidates, key=lambda r: (not r.mostly(), r.spread()))
    if best.mostly():
        raise InputError(path, best.too_damaged())
    raise InputError(
        path,
        "cannot tell its encoding: not UTF-8, GB18030 or UTF-16 text (closest: not valid "
        f"{best.label} at byte {best.first_bad}, {best.damaged:,} bad byte sequences in {len(best.text):,} characters)",
    )


def _has_chinese(text: str, count: int) -> bool:
    """Whether ``text`` holds at least ``count`` Chinese characters or CJK punctuation marks."""
    return count <= 0 or next(islice(_CHINESE.finditer(text), count - 1, None), None) is not None


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when a sample of ``data`` reads as report text in it.

    Chinese text in UTF-16 has NUL bytes only beside ASCII characters, too
    few to tell its byte order by, so both orders are tried. ASCII read in the
    wrong order gives ideographs (``a\\x00`` → U+6100) but also, for every
    capital, digit and newline, characters no report holds.
    """
    sample = data[: min(len(data), _SAMPLE) & ~1]
    shares = {}
    for codec in ("utf-16-le", "utf-16-be"):
        # Incremental, so that a character pair cut by the sample's end is not counted as damage.
        text = codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False)
        shares[codec] = _plausible_share(text) if text else 0.0
    best = max(shares, key=shares.__getitem__)
    return best if shares[best] >= _PLAUSIBLE_SHARE else None


def _nul_free_utf16(data: bytes) -> _Reading | None:
    """UTF-16 without a BOM and without a single ASCII character (so no NUL byte), if ``data`` reads as that.

    Tried only after UTF-8 and GB18030 failed. With no ASCII to go by, the
    text must be mostly ideographs, nearly all of them common ones (the first
    levels of GB2312 and Big5), the rest punctuation: other bytes read as
    UTF-16 give characters from all over the code space.
    """
    if len(data) % 2:
        return None
    best: tuple[float, str] | None = None
    sample = data[:_SAMPLE]
    for codec in ("utf-16-le", "utf-16-be"):
        text = codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False)
        ideographs = sum(_common_ideograph(ch, traditional=True) for ch in text)
        others = sum(_plausible_char(ch) and not 0x4E00 <= ord(ch) <= 0x9FFF for ch in text)
        share = (ideographs + others) / max(1, len(text))
        if share >= _PLAUSIBLE_SHARE and ideographs >= 0.5 * len(text) and (best is None or share > best[0]):
            best = (share, codec)
    return None if best is None else _read_as(data, best[1])


@lru_cache(maxsize=1 << 14)
def _common_ideograph(ch: str, traditional: bool = False) -> bool:
    """One of GB2312's 3,755 first-level characters (or, with ``traditional``, Big5's 5,401)."""
    if not 0x4E00 <= ord(ch) <= 0x9FFF:
        return False
    for codec, first, last in (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6))[: 2 if traditional else 1]:
        try:
            if first <= ch.encode(codec)[0] <= last:
                return True
        except UnicodeEncodeError:
            pass
    return False


# Bytes a GB18030 resynchronisation looks ahead at most.
_RESYNC_WINDOW = 256
_GB18030_RESYNC = "reportmine-gb18030-resync"
_resync = threading.local()
# Bytes below 0x30 (controls, space, ASCII punctuation) are never part of a
# multi-byte GB18030 character: after one, decoding is in step for certain.
_GB18030_SYNC = re.compile(rb"[\x00-\x2f]")


def _gb18030_resync(exc: UnicodeError) -> tuple[str, int]:
    """Decoding error handler for GB18030: U+FFFD, resuming where the following bytes read best.

    GB18030 does not resynchronise by itself: after a damaged first byte, the
    character's second byte is taken for the next one's first, and every
    character up to the next byte below 0x30 (a newline, a space, ASCII
    punctuation) decodes as a wrong but valid one, the last one usually
    damaged. Of the places 1-4 bytes on (a character is 1, 2 or 4 bytes),
    never past such a byte, the handler resumes at the one from which the
    text up to the first such byte reads best (:func:`_resync_score`); on a
    tie, 2 bytes on, else the nearest. Damage thus never spreads past the next
    byte below 0x30.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _resync.damaged = getattr(_resync, "damaged", 0) + 1
    data, start = exc.object, exc.start
    sync = _GB18030_SYNC.search(data, start + 1, start + _RESYNC_WINDOW)
    stop = sync.end() if sync else min(len(data), start + _RESYNC_WINDOW)
    last = min(start + 4, sync.start() if sync else len(data))
    best, best_score = min(exc.end, last), None
    # 2 bytes on first, to win ties: in Chinese text a damaged byte is most often part of a two-byte character.
    for resume in sorted(range(start + 1, last + 1), key=lambda r: (r != start + 2, r)):
        window = codecs.getincrementaldecoder("gb18030")("replace").decode(data[resume:stop], final=stop == len(data))
        score = _resync_score(window)
        if best_score is None or score > best_score:
            best, best_score = resume, score
    return "\ufffd", best


codecs.register_error(_GB18030_RESYNC, _gb18030_resync)


def _resync_score(window: str) -> int:
    """How much ``window`` looks like report text: +1 for a common character (ASCII,
    punctuation, one of GB2312's first-level ideographs), -3 for a damaged place."""
    score = 0
    previous = ""
    for ch in window:
        if ch == "\ufffd":
            score -= 0 if previous == ch else 3  # one damaged place may give several in a row
        elif _plausible_char(ch) and (_common_ideograph(ch) or not 0x4E00 <= ord(ch) <= 0x9FFF):
            score += 1
        previous = ch
    return score


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
    return sum(map(_plausible_char, sample)) / len(sample)


@lru_cache(maxsize=1 << 14)
def _plausible_char(ch: str) -> bool:
    """A character Chinese report text is made of."""
    code = ord(ch)
    return (
        32 <= code < 127 or ch in "\t\n\r"
        or 0x4E00 <= code <= 0x9FFF          # CJK unified ideographs
        or 0x3000 <= code <= 0x303F          # CJK punctuation
        or 0xFF01 <= code <= 0xFF60          # full-width forms (not half-width katakana)
        or 0xFFE0 <= code <= 0xFFE6          # full-width ￥ ￡ ￠ …
        or 0x2000 <= code <= 0x206F          # general punctuation (“” — …)
        or 0x2460 <= code <= 0x24FF          # circled numbers
        or code in (0xA0, 0xB7, 0xD7)
    )


def _control_share(text: str) -> float:
    sample = text[:_SAMPLE]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return bad / max(1, len(sample))

