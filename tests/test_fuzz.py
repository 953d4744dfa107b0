"""Fuzz suite: random and hostile input never crashes, never hangs, and every file is accounted for.

Two halves. Hypothesis feeds random bytes (as every input format) and random
report-like text (Simplified and Traditional) to reading and parsing: each
input gives a parse whose spans round-trip, or an InputError naming the file.
Then hand-made nasty files (invalid UTF-8 mid-file, NUL bytes, 50 MB without a
newline, 100,000 markers, deeply nested brackets, a truncated .docx, 10,000
nested divs) go through ``reportmine.analyze`` / ``pipeline.run_files`` in a
subprocess with a generous timeout, so that a hang fails the test instead of
blocking CI. Nothing is timed: finishing at all is the check.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reportmine
from reportmine import parse_text
from reportmine.errors import InputError
from reportmine.model import ParsedFile
from reportmine.parsing import parse_source
from reportmine.reading import read_file

REPORT = (reportmine.sample_corpus() / "002_79988078600ed0aa.txt").read_bytes()
SUFFIXES = (".txt", ".md", ".html", ".docx")
# Characters that exercise every stage: markers of each family, brackets,
# markdown marks, page furniture, Traditional characters, odd white space.
ALPHABET = (
    "一二三四五六七八九十百零两兩0123456789０１２３"
    "、，,.．:：;；。（）()【】[]《》“”①②⑴⒈第章節节条篇"
    "#-*• \t\u3000\u2003\xa0\n\r\f"
    "医院工作总结计划加强管理醫總結計劃護理質量来源发布时间首页>版权所有...…"
    "abcxyz<>/&\ufeff\ufffd\x00\x1b"
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _check_spans(parsed: ParsedFile) -> None:
    source = parsed.source
    text = source.text
    assert source.normalized is None or len(source.normalized) == len(text)
    for doc in parsed.documents:
        assert 0 <= doc.start <= doc.end <= len(text)
        for s in doc.sections:
            assert text[s.title_start:s.title_end] == s.title
            assert text[s.start:s.start + len(s.marker)] == s.marker
            assert s.start <= s.title_start <= s.title_end <= len(text)
            assert s.body_start <= s.body_end


def _read_and_parse(path: Path) -> None:
    """Read and parse ``path``: a parse whose spans round-trip, or an InputError naming the file."""
    try:
        parsed = parse_source(read_file(path))
    except InputError as exc:
        assert exc.path == str(path) and str(path) in str(exc) and exc.reason
        return
    _check_spans(parsed)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_in_every_format(fuzz_dir: Path, data: bytes, suffix: str) -> None:
    path = fuzz_dir / f"random{suffix}"
    path.write_bytes(data)
    _read_and_parse(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet=ALPHABET, max_size=400),
    suffix=st.sampled_from(SUFFIXES[:3]),
    encoding=st.sampled_from(["utf-8", "utf-16", "gb18030"]),
)
def test_random_report_text_as_files(fuzz_dir: Path, text: str, suffix: str, encoding: str) -> None:
    path = fuzz_dir / f"text{suffix}"
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", errors="replace")
    path.write_bytes(data)
    _read_and_parse(path)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=600))
def test_random_text_parses_with_exact_spans(text: str) -> None:
    # Never raises, Traditional or not; offsets index the text as given.
    parsed = parse_text(text)
    assert parsed.source.text == (text[1:] if text.startswith("\ufeff") else text)
    _check_spans(parsed)


def _good_docx() -> bytes:
    document = docx.Document()
    for line in REPORT.decode("utf-8").split("\n"):
        if line.strip():
            document.add_paragraph(line.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


GOOD_DOCX = _good_docx()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0, max_value=len(GOOD_DOCX)),
    flips=st.lists(st.tuples(st.integers(0, len(GOOD_DOCX) - 1), st.integers(0, 255)), max_size=8),
)
def test_damaged_docx(fuzz_dir: Path, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD_DOCX)
    for at, value in flips:
        data[at] = value
    path = fuzz_dir / "damaged.docx"
    path.write_bytes(bytes(data[:cut] if cut < len(data) else data))
    _read_and_parse(path)


# ------------------------------------------------------------ nasty files


def _nasty_files(folder: Path) -> dict[str, str | None]:
    """Write the nasty files; return name -> the status each must get (None: either)."""
    text = REPORT.decode("utf-8")
    (folder / "invalid_utf8_mid_file.txt").write_bytes(REPORT[:3001] + b"\xff\xfe\x80\x81" + REPORT[3001:])
    (folder / "nul_bytes.txt").write_bytes(REPORT[:2000] + b"\x00" * 16 + REPORT[2000:])
    (folder / "markers_100000.txt").write_text("\n".join(f"{i % 999 + 1}、第{i}项工作" for i in range(100_000)), "utf-8")
    (folder / "nested_brackets.txt").write_text(
        "（" * 100_000 + "一" + "）" * 100_000 + "\n" + "(" * 50_000 + "1)" + "\n" + "【（《" * 20_000, "utf-8"
    )
    (folder / "truncated.docx").write_bytes(GOOD_DOCX[: len(GOOD_DOCX) // 2])
    with zipfile.ZipFile(folder / "not_word.docx", "w") as archive:
        archive.writestr("hello.txt", "一、不是Word文件")
    (folder / "nested_divs.html").write_text(
        "<html><body>" + "<div>" * 10_000 + "<p>一、加强管理。</p>" + "</div>" * 10_000 + "</body></html>", "utf-8"
    )
    (folder / "good.docx").write_bytes(GOOD_DOCX)
    (folder / "good.txt").write_text(text, "utf-8")
    (folder / "empty.md").write_bytes(b"")
    return {
        "invalid_utf8_mid_file.txt": "ok",   # a few damaged bytes: read, U+FFFD in their place
        "nul_bytes.txt": "failed",
        "markers_100000.txt": "ok",
        "nested_brackets.txt": "ok",
        "truncated.docx": "failed",
        "not_word.docx": "failed",
        "nested_divs.html": None,            # deeper than the HTML parser goes: failed, or what it kept
        "good.docx": "ok",
        "good.txt": "ok",
        "empty.md": "failed",
    }


def _run_python(code: str, timeout: float) -> dict:
    """Run ``code`` in a fresh interpreter; a hang fails the test after ``timeout`` seconds."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout} s: a hang")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_nasty_files_through_analyze(tmp_path: Path) -> None:
    folder = tmp_path / "nasty"
    folder.mkdir()
    expected = _nasty_files(folder)
    out = _run_python(
        f"""
        import json, reportmine
        analysis = reportmine.analyze({str(folder)!r})
        files = analysis.tables["files"]
        sections = analysis.tables["sections"]
        print(json.dumps({{
            "files": [{{"path": p, "status": s, "error": e}}
                      for p, s, e in zip(files.path, files.status, files.error)],
            "sections": sections.groupby("file").size().to_dict(),
        }}, default=str))
        """,
        timeout=240,
    )
    rows = {Path(row["path"]).name: row for row in out["files"]}
    # Every file accounted for, once, with a status; every failure names its file.
    assert sorted(rows) == sorted(expected)
    for name, row in rows.items():
        assert row["status"] in ("ok", "failed")
        if expected[name] is not None:
            assert row["status"] == expected[name], (name, row["error"])
        if row["status"] == "failed":
            assert row["path"] in row["error"]
    assert out["sections"]["markers_100000.txt"] == 100_000
    if rows["nested_divs.html"]["status"] == "failed":  # the error names the cause, not just "no text"
        assert "nest 10,003 deep, past the HTML parser's limit" in rows["nested_divs.html"]["error"]
    assert "nested_brackets.txt" not in out["sections"]
    assert out["sections"]["good.docx"] == out["sections"]["good.txt"] == 10


def test_fifty_megabytes_without_a_newline(tmp_path: Path) -> None:
    # Parse stage only: 16.7 million characters through mention extraction and
    # theme coding would cost minutes and test those stages' speed, not survival.
    path = tmp_path / "one_line_50mb.txt"
    unit = "一、医院工作总结。".encode()
    path.write_bytes(unit * (50_000_000 // len(unit)))
    out = _run_python(
        f"""
        import json
        from reportmine.pipeline import run_files
        from reportmine.settings import Settings
        [result] = run_files([{str(path)!r}], Settings(stages=("parse",)))
        parsed = result.parsed
        print(json.dumps({{
            "status": result.status, "error": result.error, "size": result.size,
            "lines": parsed.source.line_count if parsed else None,
            "sections": [len(d.sections) for d in parsed.documents] if parsed else None,
            "length": len(parsed.source.text) if parsed else None,
        }}))
        """,
        timeout=180,
    )
    assert out["status"] == "ok", out["error"]
    assert out["size"] >= 49_000_000 and out["lines"] == 1
    assert out["sections"] == [1] and out["length"] == path.stat().st_size // 3
