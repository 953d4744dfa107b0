"""Fuzz: random folder trees of same-name files, symbolic links, FIFOs and hidden names.

Hypothesis builds a tree (folders named like a real corpus's, files named
``2016.txt`` in several of them, links to files and folders, links that
loop, broken links, FIFOs, empty files, hidden and lock files) and a model
of what a run must find in it. Through the per-file layer of a run
(``list_inputs`` -> ``run_files`` -> ``build_tables``): every input the
model expects appears exactly once, in order, with its status and reason;
keys are the paths below the folder named; no id repeats in any table; and
nothing hangs on a FIFO.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportmine.inputs import REPORT_SUFFIXES, iter_input_paths
from reportmine.pipeline import run_files
from reportmine.settings import Settings
from reportmine.store.rows import build_tables

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symbolic links are POSIX")]

OPTIONS = Settings(stages=("parse", "extract"))
FOLDER_NAMES = ("hospitalA", "hospitalB", "2016", "sub", ".hidden")
#: Names of files, links and FIFOs: report suffixes, other suffixes, none, hidden, Word's lock file, a folder's name.
ENTRY_NAMES = ("2016.txt", "2017.md", "report.text", "notes.csv", "README", ".draft.txt", "~$2016.docx", "link.txt",
               "hospitalB", "2016")
KINDS = ("file", "file", "file", "empty", "fifo", "broken", "file_link", "folder_link")


def report(n: int) -> str:
    return f"20{10 + n % 10}年工作总结\n一、加强质量管理\n全年开展检查{n + 3}次，合格率达到9{n % 10}%。\n二、人才培养\n培训{n + 5}小时。\n"


@dataclass
class Folder:
    name: str
    children: list[int] = field(default_factory=list)                      # real subfolders, by index
    entries: dict[str, tuple[str, int]] = field(default_factory=dict)      # name -> (kind, target index)


@st.composite
def trees(draw) -> list[Folder]:
    folders = [Folder("corpus")]
    for _ in range(draw(st.integers(0, 4))):
        parent = draw(st.integers(0, len(folders) - 1))
        name = draw(st.sampled_from(FOLDER_NAMES))
        taken = {folders[c].name for c in folders[parent].children}
        if name in taken:
            continue
        folders[parent].children.append(len(folders))
        folders.append(Folder(name))
    for folder in folders:
        taken = {folders[c].name for c in folder.children}
        for name in draw(st.lists(st.sampled_from(ENTRY_NAMES), max_size=5, unique=True)):
            if name in taken:
                continue
            kind = draw(st.sampled_from(KINDS))
            folder.entries[name] = (kind, draw(st.integers(0, len(folders) - 1)))
    return folders


def build(root: Path, folders: list[Folder]) -> dict[int, Path]:
    """Make the tree under ``root``; folder index -> its path."""
    where = {0: root / folders[0].name}
    for index, folder in enumerate(folders):
        for child in folder.children:
            where[child] = where[index] / folders[child].name
    for path in where.values():
        path.mkdir(parents=True, exist_ok=True)
    files = []
    for index, folder in enumerate(folders):
        for name, (kind, target) in folder.entries.items():
            path = where[index] / name
            if kind == "file":
                path.write_text(report(index), "utf-8")
                files.append(path)
            elif kind == "empty":
                path.write_bytes(b"")
            elif kind == "fifo":
                os.mkfifo(path)
            elif kind == "broken":
                path.symlink_to(where[index] / "nowhere")
            elif kind == "folder_link":
                path.symlink_to(where[target], target_is_directory=True)
    # Links to files last, once the files exist (a link with no file to point to is broken).
    for index, folder in enumerate(folders):
        for name, (kind, target) in folder.entries.items():
            if kind == "file_link":
                path = where[index] / name
                path.symlink_to(files[target % len(files)] if files else where[index] / "nowhere")
    return where


def expected(folders: list[Folder], where: dict[int, Path]) -> list[tuple[str, str, str | None]]:
    """The model: (path, key, None for ok else part of the error) of every input, in order."""
    rows: list[tuple[str, str, str | None]] = []
    has_files = any(k == "file" for f in folders for k, _ in f.entries.values())

    def walk(index: int, path: Path, prefix: tuple[str, ...], ancestors: frozenset[int]) -> None:
        folder = folders[index]
        items = {folders[c].name: ("folder", c) for c in folder.children} | folder.entries
        for name in sorted(items):
            if name.startswith("."):
                continue
            kind, target = items[name]
            suffix = PurePath(name).suffix.lower()
            report_name = suffix in REPORT_SUFFIXES and not name.startswith("~$")
            here, key = str(path / name), "/".join((*prefix, name))
            if kind == "file_link" and not has_files:
                kind = "broken"
            if kind in ("folder", "folder_link"):
                # A folder already on the way down (reached again through a link) is a loop, listed once.
                if target in ancestors:
                    rows.append((here, key, "symbolic link loop"))
                else:
                    walk(target, path / name, (*prefix, name), ancestors | {target})
            elif kind == "broken":
                if suffix in REPORT_SUFFIXES or not suffix:
                    rows.append((here, key, "broken symbolic link"))
            elif report_name:
                rows.append((here, key, {"file": None, "file_link": None, "empty": "empty file",
                                         "fifo": "not a regular file"}[kind]))

    walk(0, where[0], (), frozenset({0}))
    return rows


@pytest.mark.timeout(300)
@settings(max_examples=15, deadline=None)
@given(trees(), st.booleans())
def test_every_input_once_with_a_unique_key_and_unique_ids(folders: list[Folder], name_one_again: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        where = build(Path(tmp), folders)
        model = expected(folders, where)
        named = [str(where[0])]
        files = [path for path, _, _ in model if not os.path.isdir(path)]  # a folder named would be expanded
        if name_one_again and files:
            named.append(files[0])  # a file named and also found in the folder named: one input
        assert [str(p) for p in iter_input_paths(named)] == [path for path, _, _ in model]
        from reportmine.inputs import list_inputs

        inputs = list_inputs(named)
        assert [(i.path, i.key) for i in inputs] == [(path, key) for path, key, _ in model]

        results = list(run_files(inputs, OPTIONS))
        assert [r.path for r in results] == [path for path, _, _ in model]
        for result, (path, _, reason) in zip(results, model, strict=True):
            if reason is None:
                assert result.ok, result.error
            else:
                assert not result.ok and path in result.error and reason in result.error, (reason, result.error)

        tables = build_tables(results)
        assert list(tables["files"].file) == [key for _, key, _ in model]
        for name, column in (("files", "file"), ("documents", "doc_id"), ("sections", "section_id"),
                             ("mentions", "mention_id")):
            assert tables[name][column].is_unique, f"{name}.{column} repeats"
        assert tables["mentions"].shape[0] >= sum(reason is None for _, _, reason in model)
