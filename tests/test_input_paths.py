"""Inputs: every path named or found is accounted for, and ids are unique and stable.

Unreadable paths: each kind of bad path, named on the command line
and found in a folder, goes through ``reportmine analyze`` (in process,
``--jobs 1``), ``reportmine.analyze`` and ``parse``/``extract``/``classify``;
each must be one ``failed`` row of the files table (or one error line, exit
1) naming the path and the problem, while the good files are analysed.
Permissions are simulated (root ignores permission bits) by refusing the
registered paths in ``os``/``io``; as a user other than root the same cases
also run with real ``chmod``. FIFOs, symbolic links and devices are real.

Same-name files: ``hospitalA/2016.txt`` and ``hospitalB/2016.txt``
get distinct ids in every table and distinct groups, the same in every run.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from pathlib import Path, PurePath

import pytest
from typer.testing import CliRunner

import reportmine
from reportmine.cli import app
from reportmine.errors import InputError
from reportmine.pipeline import process_file, run_files
from reportmine.reading import read_file
from reportmine.settings import Settings
from reportmine.store.rows import build_tables

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, symbolic links and permission bits are POSIX")

runner = CliRunner()
SAMPLE = reportmine.sample_corpus()
GOOD = (SAMPLE / "002_79988078600ed0aa.txt").read_bytes()
OTHER = (SAMPLE / "000_c78ec01dfc651d77.txt").read_bytes()
PARSE_ONLY = Settings(stages=("parse",))


# --- Permissions, real or simulated --------------------------------------------------------------------------


class SimulatedPermissions:
    """Paths refused as for a user without rights (root ignores permission bits), in this process only.

    ``unreadable`` files cannot be opened; ``closed`` folders (mode 000) cannot be listed, and nothing
    under them can be looked at or opened. Every other path goes to the real functions.
    """

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.unreadable: set[str] = set()
        self.closed: set[str] = set()
        real_stat, real_lstat, real_open, real_io_open = os.stat, os.lstat, os.open, io.open
        real_scandir, real_access = os.scandir, os.access

        def stat(path, *args, **kwargs):
            self._traverse(path)
            return real_stat(path, *args, **kwargs)

        def lstat(path, *args, **kwargs):
            self._traverse(path)
            return real_lstat(path, *args, **kwargs)

        def open_(path, *args, **kwargs):
            self._read(path)
            return real_open(path, *args, **kwargs)

        def io_open(file, *args, **kwargs):  # what pathlib's read_bytes opens with
            if isinstance(file, (str, os.PathLike)):
                self._read(file)
            return real_io_open(file, *args, **kwargs)

        def scandir(path="."):
            self._traverse(path)
            if isinstance(path, (str, os.PathLike)) and self._key(path) in self.closed:
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real_scandir(path)

        def access(path, mode, *args, **kwargs):  # what click checks a PATH argument with
            try:
                self._read(path)
            except PermissionError:
                return False
            return real_access(path, mode, *args, **kwargs)

        for name, function in (("stat", stat), ("lstat", lstat), ("open", open_), ("scandir", scandir),
                               ("access", access)):
            patch.setattr(os, name, function)
        patch.setattr(io, "open", io_open)

    def deny_read(self, path: Path) -> None:
        self.unreadable.add(self._key(path))

    def close(self, folder: Path) -> None:
        self.closed.add(self._key(folder))

    @staticmethod
    def _key(path) -> str:
        return os.path.abspath(os.fspath(path))

    def _traverse(self, path) -> None:
        if not isinstance(path, (str, os.PathLike)):
            return  # a file descriptor
        key = self._key(path)
        if any(key.startswith(folder + os.sep) for folder in self.closed):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    def _read(self, path) -> None:
        self._traverse(path)
        if isinstance(path, (str, os.PathLike)) and self._key(path) in self.unreadable | self.closed:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))


class RealPermissions:
    """The same, with chmod (for a user other than root); modes are restored by :meth:`restore`."""

    def __init__(self) -> None:
        self.changed: list[tuple[Path, int]] = []

    def deny_read(self, path: Path) -> None:
        self._chmod(path, 0o000)

    def close(self, folder: Path) -> None:
        self._chmod(folder, 0o000)

    def _chmod(self, path: Path, mode: int) -> None:
        self.changed.append((path, path.stat().st_mode))
        path.chmod(mode)

    def restore(self) -> None:
        for path, mode in reversed(self.changed):
            path.chmod(mode)


def _permission_bits_hold() -> bool:
    """Whether this process is refused a file of mode 000 (root, or CAP_DAC_OVERRIDE, is not)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_bytes(b"x")
        probe.chmod(0)
        try:
            probe.read_bytes()
        except PermissionError:
            return True
        finally:
            probe.chmod(0o600)
    return False


PERMISSIONS = [
    "simulated",
    pytest.param("real", marks=pytest.mark.skipif(sys.platform == "win32" or not _permission_bits_hold(),
                                                  reason="permission bits are ignored here (root)")),
]


# --- A corpus with every kind of bad path ----------------------------------------------------------------------

#: Path (relative to the test folder) -> what the files table must say: None for ok, else a part of the error.
#: Named on the command line:
NAMED = {
    "good.txt": None,
    "missing.txt": "no such file",
    "unreadable.txt": "permission denied",
    "locked/x.txt": "permission denied",               # a file in a folder that cannot be traversed
    "closed": "cannot list folder: permission denied",  # a folder that cannot be listed
    "broken.txt": "broken symbolic link",
    "pipe.txt": "named pipe (fifo), not a regular file",
    "selfloop.txt": "symbolic link loop",
}
#: Found in the folder ``corpus`` named on the command line:
FOUND = {
    "corpus/ok.txt": None,
    "corpus/unreadable.txt": "permission denied",
    "corpus/closed": "cannot list folder: permission denied",
    "corpus/broken.txt": "broken symbolic link",
    "corpus/pipe.txt": "named pipe (fifo), not a regular file",
    "corpus/loop": "symbolic link loop",               # corpus/loop -> . : followed once, not forever
    "corpus/selfloop.txt": "symbolic link loop",
    "corpus/linked/w.txt": None,                        # corpus/linked -> ../elsewhere: followed
}
#: A device named on the command line (it cannot be made in a test folder without privileges).
DEVICE = "/dev/null"
EXPECTED = {**NAMED, **FOUND}


def make_bad_paths(root: Path, permissions) -> list[str]:
    """Build every kind of bad path under ``root``; return the paths to name on the command line."""
    (root / "good.txt").write_bytes(GOOD)
    (root / "unreadable.txt").write_bytes(GOOD)
    (root / "locked").mkdir()
    (root / "locked" / "x.txt").write_bytes(GOOD)
    (root / "closed").mkdir()
    (root / "closed" / "y.txt").write_bytes(GOOD)
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    os.mkfifo(root / "pipe.txt")
    (root / "selfloop.txt").symlink_to("selfloop.txt")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_bytes(OTHER)
    (corpus / "unreadable.txt").write_bytes(OTHER)
    (corpus / "closed").mkdir()
    (corpus / "closed" / "z.txt").write_bytes(OTHER)
    (corpus / "broken.txt").symlink_to("nowhere.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "loop").symlink_to(".")
    (corpus / "selfloop.txt").symlink_to("selfloop.txt")
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "w.txt").write_bytes(GOOD)
    (corpus / "linked").symlink_to(root / "elsewhere")
    for path in ("unreadable.txt", "corpus/unreadable.txt"):
        permissions.deny_read(root / path)
    for folder in ("locked", "closed", "corpus/closed"):
        permissions.close(root / folder)
    return [str(root / name) for name in NAMED] + [DEVICE, str(corpus)]


@pytest.fixture(scope="module", params=PERMISSIONS)
def bad_paths(request, tmp_path_factory):
    """(test folder, the paths to name, permissions in force): simulated ones stay patched while the tests run."""
    root = tmp_path_factory.mktemp(f"bad-{request.param}")
    with pytest.MonkeyPatch.context() as patch:
        permissions = SimulatedPermissions(patch) if request.param == "simulated" else RealPermissions()
        named = make_bad_paths(root, permissions)
        yield root, named
        if isinstance(permissions, RealPermissions):
            permissions.restore()


def _check_files_table(files, root: Path) -> None:
    rows = {row.path: row for row in files.itertuples()}
    expected = {str(root / path): reason for path, reason in EXPECTED.items()}
    expected[DEVICE] = "character device, not a regular file"
    assert sorted(rows) == sorted(expected), "every path named or found is one row, and nothing else"
    assert len(files) == len(rows)
    for path, reason in expected.items():
        row = rows[path]
        if reason is None:
            assert (row.status, row.error) == ("ok", ""), path
        else:
            assert row.status == "failed", path
            assert path in row.error and reason in row.error.lower(), (path, row.error)
    assert files.file.is_unique


def _check_printed(stderr: str, root: Path) -> None:
    """Each failure is printed once per path, naming it and the problem."""
    lines = stderr.lower().splitlines()
    expected = {str(root / path): reason for path, reason in EXPECTED.items() if reason is not None}
    for path, reason in {**expected, DEVICE: "character device, not a regular file"}.items():
        said = [line for line in lines if f"{path.lower()}: " in line]
        assert len(said) == 1 and reason in said[0], (path, stderr)


@pytest.mark.timeout(120)
def test_cli_analyze_lists_every_bad_path_as_a_failed_file(bad_paths, tmp_path: Path) -> None:
    root, named = bad_paths
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", *named, "-o", str(out), "--jobs", "1", "--no-progress"])
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.output
    # ... a failed file, not a usage error (2) or a traceback
    files = reportmine.load_tables(out)["files"]
    _check_files_table(files, root)
    _check_printed(result.stderr, root)


@pytest.mark.timeout(120)
def test_library_analyze_lists_every_bad_path_as_a_failed_file(bad_paths) -> None:
    root, named = bad_paths
    analysis = reportmine.analyze(named, jobs=1)
    _check_files_table(analysis.files, root)
    assert analysis.summary["ok"] == 3 and analysis.summary["failed"] == len(EXPECTED) - 2
    assert set(analysis.documents.file) == {"good.txt", "ok.txt", "linked/w.txt"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", [["parse", "-f", "jsonl"], ["extract", "-f", "jsonl"], ["classify"]])
def test_parse_extract_classify_name_every_bad_path_and_exit_1(bad_paths, command: list[str]) -> None:
    root, named = bad_paths
    result = runner.invoke(app, [*command, *named])
    assert result.exit_code == 1, result.output
    _check_printed(result.stderr, root)
    if command[0] == "parse":
        assert len(result.stdout.splitlines()) == 3  # the good files are still parsed, one JSON line each


# --- Not a regular file: refused at once ---------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "report.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="named pipe"):
        read_file(fifo)
    result = process_file(fifo, PARSE_ONLY, tmp_path / "cache")  # hashes the input before reading it
    assert result.status == "failed" and "not a regular file" in result.error and result.sha256 is None
    [listed] = run_files([fifo], PARSE_ONLY)
    assert listed.status == "failed"


@pytest.mark.timeout(20)
def test_a_socket_is_refused() -> None:
    import socket
    import tempfile

    with tempfile.TemporaryDirectory(dir="/tmp") as folder, socket.socket(socket.AF_UNIX) as server:
        path = Path(folder) / "report.txt"  # a short path: socket addresses are limited to about 100 bytes
        server.bind(str(path))
        with pytest.raises(InputError, match="a socket, not a regular file"):
            read_file(path)
        [listed] = run_files([path], PARSE_ONLY)
        assert listed.status == "failed" and "socket" in listed.error


@pytest.mark.timeout(20)
def test_a_device_is_refused_without_being_read() -> None:
    # /dev/null, not /dev/zero: code that reads devices would read /dev/zero until memory runs out.
    with pytest.raises(InputError, match="character device, not a regular file"):
        read_file("/dev/null")


# --- Same file name in different folders ----------------------------------------------------------------------


def report(year: int, topic: str, detail: str) -> str:
    """A short report naming no hospital, so that its group falls back to its file."""
    return (f"{year}年{topic}工作总结\n\n一、加强{topic}管理\n全年开展{topic}检查{year - 2000}次，{detail}。\n"
            f"二、推进人才培养\n组织{topic}业务培训{year - 1990}小时，合格率达到9{year % 10}%。\n")


SAME_NAMES = {
    "hospitalA/2016.txt": report(2016, "护理", "护理文书合格率达到98%"),
    "hospitalA/2017.txt": report(2017, "院感", "手卫生依从率达到85%"),
    "hospitalB/2016.txt": report(2016, "药事", "抗菌药物使用率下降到40%"),
}
ID_COLUMNS = {"documents": ["doc_id"], "sections": ["section_id"], "mentions": ["mention_id"],
              "section_themes": ["section_id", "theme"], "files": ["file"]}


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def check_unique_ids(tables) -> None:
    for name, columns in ID_COLUMNS.items():
        frame = tables[name]
        assert not frame.duplicated(columns).any(), f"duplicate {columns} in {name}"
    for name in ("documents", "sections", "mentions", "section_themes"):
        frame = tables[name].dropna(subset=["doc_id"])
        assert all(d.startswith(f"{f}#") for d, f in zip(frame.doc_id, frame.file, strict=True)), name


def ids(tables) -> dict[str, list]:
    return {name: tables[name][columns].astype(str).values.tolist() for name, columns in ID_COLUMNS.items()}


@pytest.mark.timeout(300)
def test_same_file_name_in_two_folders_gets_its_own_ids_and_group(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SAME_NAMES)
    analysis = reportmine.analyze(corpus, jobs=1)
    tables = analysis.tables
    assert list(tables["files"].file) == list(SAME_NAMES)  # keys: the paths below the folder named
    assert len(tables["documents"]) == 3 and len(tables["mentions"]) > 3 and len(tables["section_themes"]) > 3
    check_unique_ids(tables)
    docs = analysis.comparison.documents
    assert list(docs.group) == list(SAME_NAMES) and set(docs.group_source) == {"file"}  # path, never the bare name

    again = reportmine.analyze(corpus, jobs=1)  # stable: the same inputs give the same ids
    assert ids(again.tables) == ids(tables)
    write_files(corpus, {"hospitalC/2016.txt": report(2016, "财务", "成本下降5%")})
    grown = reportmine.analyze(corpus, jobs=1)  # another hospital's file changes no id of the others
    check_unique_ids(grown.tables)
    kept = {name: [row for row in rows if not row[0].startswith("hospitalC/")] for name, rows in ids(grown.tables).items()}
    assert kept == ids(tables)


@pytest.mark.timeout(300)
def test_cli_writes_unique_ids_for_same_name_files(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SAME_NAMES)
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(corpus), "-o", str(out), "--jobs", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    tables = reportmine.load_tables(out)
    check_unique_ids(tables)
    assert sorted(tables["documents"].doc_id) == [f"{name}#0" for name in SAME_NAMES]


@pytest.mark.parametrize(("layout", "named", "keys"), [
    # A folder named: each file's path below it.
    ({"c/a/2016.txt", "c/b/2016.txt", "c/top.txt"}, ["c"], ["a/2016.txt", "b/2016.txt", "top.txt"]),
    # Two folders named, both holding 2016.txt: the clashing ones keep their path as given.
    ({"x/2016.txt", "y/2016.txt", "y/only.txt"}, ["x", "y"], ["x/2016.txt", "y/2016.txt", "only.txt"]),
    # Two files named with one name: their paths.
    ({"p/2016.txt", "q/2016.txt"}, ["p/2016.txt", "q/2016.txt"], ["p/2016.txt", "q/2016.txt"]),
    # A path that falls back clashes with another's key in turn: it falls back too.
    ({"d/a/b.txt", "a/b.txt", "c/b.txt"}, ["d", "a/b.txt", "c/b.txt"], ["d/a/b.txt", "a/b.txt", "c/b.txt"]),
    # A file named and also found in a folder named is one input.
    ({"c/a.txt", "c/b.txt"}, ["c", "c/a.txt", "./c/b.txt"], ["a.txt", "b.txt"]),
])
def test_keys_are_unique_and_depend_only_on_the_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       layout: set[str], named: list[str], keys: list[str]) -> None:
    from reportmine.inputs import list_inputs

    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, dict.fromkeys(layout, "x"))
    assert [item.key for item in list_inputs(named)] == keys
    assert [item.key for item in list_inputs(named)] == keys  # again: the same


def test_run_files_and_build_tables_give_same_name_files_distinct_ids(tmp_path: Path) -> None:
    corpus = write_files(tmp_path, SAME_NAMES)
    paths = [corpus / name for name in SAME_NAMES]
    results = list(run_files(paths, PARSE_ONLY))
    assert [r.path for r in results] == [str(p) for p in paths]  # paths as given, in order
    tables = build_tables(results)
    assert tables["files"].file.is_unique and tables["documents"].doc_id.is_unique
    assert tables["sections"].section_id.is_unique
    assert [PurePath(f).name for f in tables["files"].file] == ["2016.txt", "2017.txt", "2016.txt"]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that takes any bytes in names")
def test_a_file_name_that_is_not_utf8_is_analysed_under_a_visible_escape(tmp_path: Path) -> None:
    """Its lone surrogates once crashed the whole run in pyarrow ("surrogates not allowed")."""
    folder = tmp_path / "in"
    folder.mkdir()
    text = (reportmine.sample_corpus() / "002_79988078600ed0aa.txt").read_bytes()
    (folder / "ok.txt").write_bytes(text)
    with open(os.fsencode(folder) + b"/bad\xff\xfe.txt", "wb") as handle:
        handle.write(text)
    analysis = reportmine.analyze(folder, out=tmp_path / "out")
    analysis.write(tmp_path / "out")
    files = reportmine.load_tables(tmp_path / "out")["files"]
    assert list(files.file) == ["bad\\udcff\\udcfe.txt", "ok.txt"] and set(files.status) == {"ok"}
    assert reportmine.load_tables(tmp_path / "out")["documents"].doc_id.tolist() == ["bad\\udcff\\udcfe.txt#0", "ok.txt#0"]
