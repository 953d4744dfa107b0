"""A fresh machine (Python's bundled pip, no browser, no CJK font) passes the README's commands.

Every library the code imports is declared; .html input works after a plain install; CI installs the way the
README does; tests that need the browser or a CJK font skip without them (fail in CI); the notebooks chart with
or without a CJK font; and one file's unexpected error never stops parse, extract or classify.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from typer.testing import CliRunner

import reportmine
from conftest import cjk_font, corpus_file, need
from reportmine.cli import app
from reportmine.plotting import SAMPLE_TEXT
from test_notebooks import NO_FONT_LINE, NOTEBOOKS, check_charts, execute

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
runner = CliRunner()


# --- Declared dependencies ------------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirements; "dask[distributed]" also declares distributed (the extra's package)."""
    names = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?", requirement)
        assert match, requirement
        names.add(_normal(match[1]))
        if match[1] == "dask":
            names.update(_normal(extra) for extra in (match[2] or "").split(",") if extra.strip())
    return names


CORE = _names(PYPROJECT["project"]["dependencies"])
EXTRAS = {extra: _names(reqs) for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()}

#: Libraries the package imports only for an optional feature, and the extra that declares each.
OPTIONAL_IMPORTS = {"rjieba": "fast", "distributed": "dask", "matplotlib": "dev"}


def _imported_modules(paths: list[Path]) -> set[str]:
    """Top-level names of the third-party modules these Python files (and notebooks' code cells) import."""
    names: set[str] = set()
    for path in paths:
        if path.suffix == ".ipynb":
            import nbformat

            cells = nbformat.read(path, as_version=4).cells
            sources = [cell.source for cell in cells if cell.cell_type == "code"]
        else:
            sources = [path.read_text("utf-8")]
        for source in sources:
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    local = {"reportmine"} | {path.stem for folder in ("tests", "benchmarks") for path in (ROOT / folder).glob("*.py")}
    return {name for name in names if name not in sys.stdlib_module_names and name not in local}


@functools.cache
def _providers() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    """The distributions that provide a top-level module (its own name if none installed does, as tomli on 3.11)."""
    return {_normal(dist) for dist in _providers().get(module, [module])}


def test_the_package_declares_every_library_it_imports() -> None:
    modules = _imported_modules(sorted((ROOT / "src" / "reportmine").rglob("*.py")))
    assert {"numpy", "scipy", "pandas", "trafilatura"} <= modules  # the scan sees imports inside functions
    undeclared = {}
    for module in sorted(modules):
        declared = EXTRAS[OPTIONAL_IMPORTS[module]] if module in OPTIONAL_IMPORTS else CORE
        if not _distributions(module) & declared:
            undeclared[module] = sorted(_distributions(module))
    assert not undeclared, f"imported by src/reportmine but not declared in pyproject.toml: {undeclared}"


@pytest.mark.parametrize("folder", ["tests", "benchmarks", "notebooks"])
def test_tests_benchmarks_and_notebooks_declare_what_they_import(folder: str) -> None:
    paths = sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ipynb"))
    modules = _imported_modules(paths)
    assert modules
    undeclared = {m: sorted(_distributions(m)) for m in sorted(modules) if not _distributions(m) & (CORE | EXTRAS["dev"])}
    assert not undeclared, f"imported under {folder}/ but in neither the dependencies nor the dev extra: {undeclared}"


def test_lxml_html_clean_is_declared_and_importable() -> None:
    # jusText (trafilatura's) imports lxml.html.clean, which lxml 6 only forwards to lxml_html_clean; jusText asks
    # for it as lxml[html_clean], an extra that pip 23 does not match to lxml's "html-clean".
    assert "lxml-html-clean" in CORE
    importlib.import_module("lxml.html.clean")


def test_html_input_is_parsed_after_a_plain_install(tmp_path: Path) -> None:
    text = corpus_file("002_79988078600ed0aa").read_text("utf-8")
    body = "".join(f"<p>{line}</p>\n" for line in text.splitlines() if line.strip())
    page = tmp_path / "report.html"
    page.write_text(f"<html><head><title>t</title></head><body><article>{body}</article></body></html>", "utf-8")
    for command in ("parse", "extract", "classify"):
        result = runner.invoke(app, [command, str(page)])
        assert result.exit_code == 0, (command, result.stderr)
        assert "平安医院" in result.stdout, command


# --- CI installs as the README says ---------------------------------------------------------------


def _commands(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip() and
            not line.strip().startswith("#")]


def test_ci_runs_the_readme_test_command_with_the_bundled_pip() -> None:
    ci = _commands(ROOT / ".ci" / "run")
    readme = (ROOT / "README.md").read_text("utf-8")
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest -q"
    assert command in readme
    venv = ci.index("python3 -m venv .venv")
    assert ci[venv + 1] == ".venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest -q"
    assert not [line for line in ci if "pip" in line and "upgrade" in line]   # no newer pip than a user has
    # CI keeps installing and requiring the browser and the CJK font.
    assert "export REPORTMINE_REQUIRE_BROWSER=1" in ci[:venv]
    assert any("chromium fonts-noto-cjk" in line for line in ci[:venv])


# --- Tests that need the machine's browser or fonts -----------------------------------------------


@pytest.mark.parametrize(("required", "outcome"), [("", "skipped"), ("1", "failed")])
def test_need_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch, required: str, outcome: str) -> None:
    monkeypatch.setenv("REPORTMINE_REQUIRE_BROWSER", required)
    need("thing", True, "how")   # available: nothing happens
    expected = pytest.skip.Exception if outcome == "skipped" else pytest.fail.Exception
    with pytest.raises(expected, match=r"needs thing.*\(apt-get install thing\)"):
        need("thing", False, "apt-get install thing")


@pytest.mark.slow
@pytest.mark.parametrize(("required", "outcome"), [("", "1 skipped"), ("1", "1 failed")])
def test_browser_test_skips_without_chromium_except_in_ci(tmp_path: Path, required: str, outcome: str) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "REPORTMINE_REQUIRE_BROWSER": required}  # no chromium
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                             "tests/test_report.py::test_report_opens_in_chromium"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert outcome in result.stdout, result.stdout[-3000:]
    assert "needs a chromium binary on PATH" in result.stdout, result.stdout[-3000:]


# --- CJK fonts for matplotlib ---------------------------------------------------------------------

#: The characters of a CJK font (all the notebooks' labels can hold): ASCII and Latin-1, as every CJK font has them,
#: CJK punctuation, the ideographs and the full-width forms.
CJK_CHARS = "".join(chr(c) for lo, hi in ((0x20, 0x7E), (0xA0, 0xFF), (0x3000, 0x303F), (0x4E00, 0x9FFF),
                                          (0xFF00, 0xFFEF)) for c in range(lo, hi + 1))


def make_font(path: Path, family: str, chars: str, *, one_glyph: bool = False) -> Path:
    """A TrueType font named ``family`` with a box glyph for each of ``chars`` (one shared box if ``one_glyph``)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    cmap = {ord(char): "box" if one_glyph else f"uni{ord(char):04X}" for char in set(chars)}
    names = [".notdef", *sorted(set(cmap.values()))]
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 800))
    pen.lineTo((900, 800))
    pen.lineTo((900, 0))
    pen.closePath()
    box = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(dict.fromkeys(names, box))
    builder.setupHorizontalMetrics(dict.fromkeys(names, (1000, 100)))
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


@pytest.fixture
def fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib knowing only its own DejaVu fonts, whatever this machine has; its settings restored after."""
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [entry for entry in font_manager.fontManager.ttflist if entry.name.startswith("DejaVu")])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    with matplotlib.rc_context():
        yield


@pytest.mark.parametrize(("chars", "one_glyph", "found"), [
    (CJK_CHARS, False, "Reportmine Test"),           # a CJK font
    (SAMPLE_TEXT.replace("总", ""), False, None),    # lacks a simplified character (as a Japanese-only font)
    (CJK_CHARS, True, None),                         # a last-resort font: one placeholder box for every character
], ids=["cjk", "no-simplified", "last-resort"])
@pytest.mark.usefixtures("fonts")
def test_find_cjk_font_needs_a_glyph_of_its_own_for_every_character(tmp_path: Path, chars: str, one_glyph: bool,
                                                                    found: str | None) -> None:
    font_manager.fontManager.addfont(str(make_font(tmp_path / "test.ttf", "Reportmine Test", chars,
                                                   one_glyph=one_glyph)))
    assert reportmine.find_cjk_font() == found


@pytest.mark.usefixtures("fonts")
def test_use_cjk_font_prefers_known_families_and_sets_matplotlib(tmp_path: Path) -> None:
    for family in ("Aaa Other CJK", "WenQuanYi Zen Hei"):
        font_manager.fontManager.addfont(str(make_font(tmp_path / f"{family}.ttf", family, SAMPLE_TEXT)))
    assert reportmine.use_cjk_font() == "WenQuanYi Zen Hei"
    assert matplotlib.rcParams["font.sans-serif"][0] == "WenQuanYi Zen Hei"
    assert matplotlib.rcParams["font.family"] == ["WenQuanYi Zen Hei", "sans-serif"]
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert reportmine.use_cjk_font() == "WenQuanYi Zen Hei"   # twice: the family is still listed once
    assert matplotlib.rcParams["font.sans-serif"].count("WenQuanYi Zen Hei") == 1


@pytest.mark.usefixtures("fonts")
def test_find_cjk_font_sees_fonts_installed_after_matplotlib_cached_its_list(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_font(tmp_path / "new.ttf", "Reportmine New CJK", SAMPLE_TEXT)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [str(path)])
    assert reportmine.find_cjk_font() == "Reportmine New CJK"


@pytest.mark.usefixtures("fonts")
def test_no_cjk_font_leaves_matplotlib_alone() -> None:
    before = dict(matplotlib.rcParams)
    assert reportmine.use_cjk_font() is None
    assert dict(matplotlib.rcParams) == before


def test_plotting_imports_matplotlib_only_when_called() -> None:
    code = "import sys, reportmine; reportmine.use_cjk_font; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- The notebooks, in the font case this machine does not have ------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_charts_in_the_other_font_case(path: Path, tmp_path: Path) -> None:
    """tests/test_notebooks.py runs the notebooks as this machine has them; this runs the other case:
    without a CJK font where there is one, and with a (generated) CJK font where there is none."""
    if cjk_font():
        first_cell = "import reportmine\nreportmine.use_cjk_font = lambda *args, **kwargs: None"
    else:
        font = make_font(tmp_path / "test-cjk.ttf", "Reportmine Test CJK", CJK_CHARS)
        first_cell = f"from matplotlib import font_manager\nfont_manager.fontManager.addfont({str(font)!r})"
    outputs, text = execute(path, tmp_path, first_cell)
    check_charts(outputs, text)
    if cjk_font():
        assert NO_FONT_LINE in text and "CJK font:" not in text
    else:
        assert "CJK font: Reportmine Test CJK\n" in text and NO_FONT_LINE not in text


# --- One file's unexpected error does not stop the others -----------------------------------------


def _raise_for(name: str, function):
    """``function``, raising an ImportError (as jusText's did) when called for the file named ``name``."""
    def wrapper(*args, **kwargs):
        if name in str(getattr(args[0], "path", args[0])):   # a path, or a ParsedFile
            raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean.")
        return function(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize(("command", "fmt", "function"), [
    ("parse", "tree", "parse_file"),
    ("parse", "json", "parse_file"),
    ("parse", "jsonl", "parse_file"),
    ("parse", "tree", "render_tree"),
    ("parse", "markdown", "render_markdown"),
    ("extract", "jsonl", "extract_parsed"),
    ("extract", "csv", "parse_file"),
    ("extract", "table", "extract_parsed"),
    ("classify", "table", "classify_parsed"),
    ("classify", "json", "parse_file"),
])
def test_an_unexpected_error_in_one_file_does_not_stop_the_others(
        monkeypatch: pytest.MonkeyPatch, command: str, fmt: str, function: str) -> None:
    bad = corpus_file("000_c78ec01dfc651d77")
    good = [str(corpus_file("002_79988078600ed0aa")), str(corpus_file("003_09f1d77eabb805aa"))]
    expected = runner.invoke(app, [command, "--format", fmt, *good])
    assert expected.exit_code == 0, expected.stderr
    target = importlib.import_module("reportmine.cli")  # the stage function as the command calls it
    monkeypatch.setattr(target, function, _raise_for(bad.name, getattr(target, function)))
    result = runner.invoke(app, [command, "--format", fmt, str(bad), *good])
    assert not isinstance(result.exception, ImportError), "the error escaped the per-file loop"
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"reportmine: {bad}: internal error: ImportError: "
                                          "lxml.html.clean module is now a separate project lxml_html_clean."]
    assert result.stdout == expected.stdout   # the files after it, and nothing of the failed one
