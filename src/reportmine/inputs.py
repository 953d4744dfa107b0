"""Stage 1, finding inputs: files and folders named on the command line -> the run's inputs.

A file named is an input whatever it is; a folder gives every report file
under it (by suffix, see :data:`REPORT_SUFFIXES`), in sorted order. Each
input has a key unique in the run that ids are built on (see
:func:`list_inputs` and :class:`InputFile`). Nothing found is dropped
silently: what cannot be read is still an input, and reading it
(:func:`reportmine.reading.read_file`) fails naming the problem.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from .readers import DOCX_SUFFIXES, HTML_SUFFIXES

#: File endings picked up when a directory is given. A file named explicitly
#: is always read, whatever its ending.
REPORT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"}) | HTML_SUFFIXES | DOCX_SUFFIXES
_LOOP = "symbolic link loop: leads back to a folder that holds it"


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input of a run: where it is read from, and the key its ids are built on.

    Attributes:
        path: the file as named, or the named folder joined with its path below it.
        key: unique within the run, the same in every run of the same inputs:
            the path below the named folder the file was found in (POSIX
            separators, ``hospitalA/2016.txt``), or the name of a file named
            directly. Inputs that would share a key (two named folders both
            holding ``2016.txt``) keep their path as given instead (see
            :func:`list_inputs`). ``doc_id``, ``section_id`` and ``mention_id``
            are built on it, and the tables' ``file`` column holds it.
        problem: why it cannot be read, when listing its folder already found
            out (a symbolic link leading back to a folder that holds it), else ``None``.
    """

    path: str
    key: str
    problem: str | None = None

    def __fspath__(self) -> str:  # read_file, open() … take it as its path (and honour its problem)
        return self.path

    def __str__(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        """The file's name, as :attr:`pathlib.Path.name`."""
        return PurePath(self.path).name


def iter_input_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files and folders into the paths to read, in the order of :func:`list_inputs`.

    A path that does not exist or cannot be read is yielded as it is, so that
    reading it fails with a clear error and it still appears in the run's
    manifest.
    """
    for item in list_inputs(paths):
        yield Path(item.path)


def list_inputs(paths: Iterable[str | os.PathLike[str]], *, exclude: str | os.PathLike[str] | None = None
                ) -> list[InputFile]:
    """Expand files and folders into the run's inputs, each with a unique key.

    A folder gives its report files (by suffix, see :data:`REPORT_SUFFIXES`),
    sorted by their path below it, skipping hidden files and folders and
    Word's ``~$`` lock files. Symbolic links to folders are followed, except
    one leading back to a folder that holds it (an input whose ``problem``
    says so). Nothing found is dropped silently: a subfolder that cannot be
    listed, a broken symbolic link (whose name has a report suffix or none)
    and anything with a report suffix that is not a regular file (a FIFO, a
    socket, a device) is an input too, and reading it fails naming the
    problem. A path named directly is always an input, whatever it is.

    Keys (see :class:`InputFile`) depend only on the inputs: a found file's
    path below its folder, a named file's name; where two inputs would share
    one, both keep their path as given (normalised, POSIX separators). A path
    met twice (named twice, or named and also found in a named folder) is
    one input.

    ``exclude`` is a run's output folder: nothing under it is ever an input
    (a second ``reportmine analyze .`` must not read the first one's report
    and CSVs). Folders under it are not walked; a path named inside it is an
    input whose ``problem`` says so.
    """
    skip = _node(exclude) if exclude is not None else None
    outputs = os.path.realpath(exclude) if exclude is not None else None
    found: list[tuple[str, str, str | None]] = []  # (path, preferred key, problem)
    for raw in paths:
        root = Path(raw)
        if outputs is not None and _is_within(os.path.realpath(root), outputs):
            found.append((str(root), root.name or root.as_posix(),
                          f"inside the output folder {exclude}: outputs are never read as inputs"))
        elif _is_folder(root):
            found.extend(_walk(root, skip))
        else:
            found.append((str(root), root.name or root.as_posix(), None))
    seen: set[str] = set()
    unique = []
    for path, key, problem in found:
        if path not in seen:
            seen.add(path)
            unique.append((path, key, problem))
    keys = _unique_keys([key for _, key, _ in unique], [path for path, _, _ in unique])
    return [InputFile(path, key, problem) for (path, _, problem), key in zip(unique, keys, strict=True)]


def keyed_inputs(paths: Iterable[str | os.PathLike[str] | InputFile]) -> list[InputFile]:
    """The given files as :class:`InputFile` with unique keys, none expanded, dropped or reordered.

    An :class:`InputFile` keeps its key where no other input shares it; any
    other path gets its file name (its path where names clash, as in
    :func:`list_inputs`), and a path given twice gets `` (2)``, `` (3)`` … after it.
    """
    items = [p if isinstance(p, InputFile) else InputFile(str(p), PurePath(p).name or str(p)) for p in paths]
    keys = _unique_keys([i.key for i in items], [i.path for i in items])
    return [i if i.key == key else InputFile(i.path, key, i.problem) for i, key in zip(items, keys, strict=True)]


def _unique_keys(preferred: list[str], paths: list[str]) -> list[str]:
    """Each input's preferred key, or where another input has the same one, its path; unique either way."""
    fallback = [PurePath(p).as_posix() for p in paths]
    keys = list(preferred)
    while True:  # a path may in turn clash with another input's preferred key: ends when only paths clash
        counts = Counter(keys)
        clashing = [i for i, key in enumerate(keys) if counts[key] > 1 and key != fallback[i]]
        if not clashing:
            break
        for i in clashing:
            keys[i] = fallback[i]
    used = set(keys)
    seen: set[str] = set()
    for i, key in enumerate(keys):  # only the same path given twice is left
        if key in seen:
            n = 2
            while f"{key} ({n})" in used:
                n += 1
            keys[i] = f"{key} ({n})"
            used.add(keys[i])
        seen.add(keys[i])
    return keys


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False  # missing, unreachable or a bad name: read_file says which


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _node(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _walk(root: Path, skip: tuple[int, int] | None = None) -> Iterator[tuple[str, str, str | None]]:
    """(path, key, problem) of what a named folder holds, depth first, each folder's entries sorted by name."""
    try:
        info = os.stat(root)
    except OSError:
        yield str(root), root.name or root.as_posix(), None
        return
    # Each folder carries those on its way down, by (device, inode): a symbolic link to one of them is a loop.
    # The stack holds found inputs and folders still to list, so that the order is that of the sorted paths.
    stack: list[tuple[str, Any]] = [("folder", (root, (), frozenset({(info.st_dev, info.st_ino)})))]
    while stack:
        kind, item = stack.pop()
        if kind == "input":
            yield item
            continue
        folder, parts, ancestors = item
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: os.path.normcase(e.name))
        except OSError:
            # read_file says why (``cannot list folder: permission denied``); a named folder's key is its name.
            yield str(folder), "/".join(parts) or root.name or root.as_posix(), None
            continue
        below: list[tuple[str, Any]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden, as are the folders under it
            path, key = folder / entry.name, "/".join((*parts, entry.name))
            suffix = PurePath(entry.name).suffix.lower()
            try:
                target = os.stat(entry.path)
            except OSError:
                # A broken or looping link, or an entry the folder does not let us look at: an input if it
                # may have been a report (or a folder of them), so that read_file names the problem.
                if suffix in REPORT_SUFFIXES or not suffix:
                    below.append(("input", (str(path), key, None)))
                continue
            if stat.S_ISDIR(target.st_mode):
                node = (target.st_dev, target.st_ino)
                if node == skip:
                    continue  # the run's output folder
                if node in ancestors:
                    below.append(("input", (str(path), key, _LOOP)))
                else:
                    below.append(("folder", (path, (*parts, entry.name), ancestors | {node})))
            elif suffix in REPORT_SUFFIXES and not entry.name.startswith("~$"):  # Word's lock file
                below.append(("input", (str(path), key, None)))  # a FIFO, socket or device too: read_file refuses it
        stack.extend(reversed(below))
