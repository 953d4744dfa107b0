"""Output folders: one writer at a time, runs published whole, nothing of the user's touched.

A run never writes straight into ``OUT``. It writes into a private folder
``OUT/.reportmine/runs/<token>/`` and, once every output is complete,
publishes it by swapping one symbolic link, ``OUT/.reportmine/current``, in a
single atomic rename. The names a person opens (``OUT/report.html``,
``OUT/documents.csv``, ``OUT/tables/`` …) are symbolic links through
``current``, so a reader, or a run killed at any moment, sees the previous
complete run or the new complete run, never a mix::

    OUT/
      report.html -> .reportmine/current/report.html    (one link per output)
      .reportmine/
        lock                 held (flock) by the run writing OUT; says who it is
        current -> runs/<token>
        runs/<token>/        a run's outputs, and .written.json: what it wrote
        cache/               per-file results of an unfinished run (--resume)

Rules that keep a user's files safe:

- a non-empty ``OUT`` that is not a reportmine output folder is refused, and
  so is one where a file reportmine did not write sits at an output's name;
  ``overwrite=True`` (``--overwrite``) allows both, replacing only those names;
- only what lies under ``OUT/.reportmine`` and reportmine's own links is ever
  deleted;
- a second run into the same ``OUT`` fails at once, naming the run that holds it.

Where the file system has no symbolic links (Windows without developer mode),
each output is moved into ``OUT`` by itself instead: safe, but not atomic as a
whole.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

from .errors import OutputBusyError, OutputError

#: The state folder inside every output folder.
STATE_DIR = ".reportmine"
#: Top-level names a run may write (the tables in their formats, the database, folders, the report).
#: A file reportmine did not write under one of these names is never replaced without ``overwrite``.
OUTPUT_NAMES = frozenset(
    [f"{table}.{suffix}" for table in ("files", "documents", "sections", "mentions", "section_themes")
     for suffix in ("parquet", "csv")]
    + ["reportmine.duckdb", "tables", "comparison", "graphs", "report.html", "run.json"]
)
_WRITTEN = ".written.json"
# File descriptors of locks this process holds: a forked worker closes its copies (see close_inherited_locks),
# so a lock dies with the run that took it.
_HELD_LOCKS: list[int] = []


def _link_target(name: str) -> str:
    return f"{STATE_DIR}/current/{name}"


def is_own_link(path: Path) -> bool:
    """``path`` is a link reportmine made to publish an output (``-> .reportmine/current/<name>``)."""
    try:
        return path.is_symlink() and os.readlink(path) == _link_target(path.name)
    except OSError:
        return False


def is_output_folder(path: str | os.PathLike[str]) -> bool:
    """``path`` holds reportmine's state folder: outputs of a run (or of a run under way)."""
    return (Path(path) / STATE_DIR).is_dir()


def foreign_entries(out: Path) -> list[str]:
    """Names in ``out`` that reportmine did not write (its state folder and its own links aside)."""
    try:
        names = sorted(entry.name for entry in os.scandir(out))
    except FileNotFoundError:
        return []
    return [name for name in names if name != STATE_DIR and not is_own_link(out / name)]


def check_output_folder(out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that a run may write ``out``, before any work: raises :class:`OutputError` saying what to do.

    ``out`` must be a folder or not exist yet; its nearest existing parent
    must be writable; if it is not empty it must be a reportmine output
    folder, and no file reportmine did not write may sit at an output's name
    (unless ``overwrite``).
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputError(path, "exists and is not a folder; choose another output folder (-o)")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(path, f"{existing} is a file, so the output folder cannot be made there")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(path, f"cannot write there ({existing} is read-only); choose another output folder (-o)")
    if path.is_dir() and not overwrite:
        foreign = foreign_entries(path)
        if foreign and not is_output_folder(path):
            raise OutputError(path, f"is not empty and is not a reportmine output folder ({_names(foreign)}); "
                                    "choose an empty or new folder, or pass --overwrite to write into it anyway")
        clashes = [name for name in foreign if name in OUTPUT_NAMES]
        if clashes:
            raise OutputError(path, f"holds {_names(clashes)}, which reportmine did not write; move "
                                    f"{'it' if len(clashes) == 1 else 'them'} away, or pass --overwrite to replace "
                                    f"{'it' if len(clashes) == 1 else 'them'}")
    return path


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that one output file (``--codebook``) can be written; raises :class:`OutputError`."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(target, "is a folder; give a file name")
    if not target.parent.is_dir():
        raise OutputError(target, f"cannot be written: the folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OutputError(target, "cannot be written (permission denied)")
    return target


def _names(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def close_inherited_locks() -> None:
    """In a forked worker: close the output locks the parent holds, so they end with the parent."""
    while _HELD_LOCKS:
        try:
            os.close(_HELD_LOCKS.pop())
        except OSError:
            pass


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(lock: Path) -> str:
    try:
        info = json.loads(lock.read_text("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another reportmine run"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("started", 0)))
    return (f"the reportmine run of pid {info.get('pid')} on {info.get('host')}, started {started}"
            f" ({info.get('command', '')})")


class OutputRun:
    """One run's claim on an output folder: the lock, a private run folder, and publishing it.

    Use :meth:`start`; write every output under :attr:`path`; call
    :meth:`publish`; then :meth:`close` (or use it as a context manager, which
    closes it and, if the block raised, discards the unpublished run).

    Attributes:
        out: the output folder.
        path: this run's private folder, ``OUT/.reportmine/runs/<token>``.
        cache: the folder of per-file results for ``--resume``, ``OUT/.reportmine/cache``.
        published: :meth:`publish` has completed.
    """

    def __init__(self, out: Path, lock_fd: int, path: Path, overwrite: bool) -> None:
        self.out = out
        self.path = path
        self.cache = out / STATE_DIR / "cache"
        self.published = False
        self._lock_fd: int | None = lock_fd
        self._overwrite = overwrite

    @classmethod
    def start(cls, out: str | os.PathLike[str], *, overwrite: bool = False, resume: bool = True) -> OutputRun:
        """Claim ``out`` for a run: check it, lock it, clear what killed runs left, make the run's folder.

        Args:
            out: the output folder (made if missing).
            overwrite: allow a non-empty folder reportmine did not write, replacing files at output names.
            resume: keep the per-file results an unfinished run left (else they are cleared).

        Raises:
            OutputError: the folder cannot be used (it says why and how to proceed).
            OutputBusyError: another run holds it.
        """
        path = check_output_folder(out, overwrite=overwrite)
        state = path / STATE_DIR
        try:
            (state / "runs").mkdir(parents=True, exist_ok=True)
            fd = os.open(state / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(path, f"cannot be written ({exc.strerror or exc})") from None
        if not _try_lock(fd):
            os.close(fd)
            raise OutputBusyError(path, f"is being written by {_holder(state / 'lock')}; wait for it to finish, "
                                        "or choose another output folder (-o)")
        _HELD_LOCKS.append(fd)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
                "command": " ".join(["reportmine", *sys.argv[1:]]) if sys.argv else "reportmine"}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            current = _current_run(state)
            for stale in (state / "runs").iterdir():  # what killed runs left
                if stale != current:
                    _retire(stale, current)
            for leftover in state.glob("current.*"):
                leftover.unlink(missing_ok=True)
            if not resume:
                shutil.rmtree(state / "cache", ignore_errors=True)
            run_path = state / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
            run_path.mkdir()
        except BaseException:
            _release(fd)
            raise
        return cls(path, fd, run_path, overwrite)

    def publish(self) -> None:
        """Make this run the folder's outputs, all at once; the previous run's files are then removed.

        Writes ``.written.json`` (every file of the run, with its size), swaps
        ``current`` to this run in one rename, links each output's name in
        ``OUT`` and removes the previous run and the per-file cache.
        """
        if self.published:
            return
        state = self.out / STATE_DIR
        names = sorted(entry.name for entry in os.scandir(self.path) if not entry.name.startswith("."))
        existing = set(foreign_entries(self.out))
        foreign = [name for name in names if name in existing]
        if foreign and not self._overwrite:  # appeared while the run went on
            raise OutputError(self.out, f"holds {_names(foreign)}, which reportmine did not write; the run was not "
                                        "published; move them away, or run again with --overwrite")
        self._record()
        previous = _current_run(state)
        if not self._swap_current(state):
            self._publish_by_moving(names)
            return
        for name in names:
            self._link(name)
        for entry in os.scandir(self.out):  # links to outputs this run did not write
            if entry.name not in names and is_own_link(self.out / entry.name):
                os.unlink(self.out / entry.name)
        if previous is not None and previous != self.path:
            _retire(previous, self.path)
        shutil.rmtree(self.cache, ignore_errors=True)
        self.published = True

    def close(self) -> None:
        """Release the folder; an unpublished run's files are removed."""
        if self._lock_fd is None:
            return
        if not self.published:
            shutil.rmtree(self.path, ignore_errors=True)
        _release(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> OutputRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self) -> None:
        written = {}
        for root, _dirs, files in os.walk(self.path):
            for name in files:
                full = Path(root) / name
                written[full.relative_to(self.path).as_posix()] = full.stat().st_size
        record = self.path / _WRITTEN
        record.write_text(json.dumps({"files": dict(sorted(written.items()))}, indent=1) + "\n", "utf-8")

    def _swap_current(self, state: Path) -> bool:
        temporary = state / f"current.{self.path.name}"
        try:
            os.symlink(f"runs/{self.path.name}", temporary)
        except (OSError, NotImplementedError):
            return False
        os.replace(temporary, state / "current")  # the one step that publishes the run
        _sync_folder(state)
        return True

    def _link(self, name: str) -> None:
        link = self.out / name
        if is_own_link(link):
            return
        if link.is_dir() and not link.is_symlink():  # a folder reportmine did not write: allowed by --overwrite
            shutil.rmtree(link)
        temporary = self.out / STATE_DIR / f"link.{name}"
        temporary.unlink(missing_ok=True)
        os.symlink(_link_target(name), temporary)
        os.replace(temporary, link)

    def _publish_by_moving(self, names: list[str]) -> None:  # pragma: no cover - file systems without symlinks
        for name in sorted(names, key=lambda n: n == "run.json"):  # run.json last: it marks a finished run
            target = self.out / name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(self.path / name, target)
        shutil.rmtree(self.path, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)
        self.published = True


def _retire(run: Path, current: Path | None) -> None:
    """Remove a run that is no longer shown, keeping what a user put into it through OUT's links.

    A run that was published has a record of what it wrote: anything else in
    it (``OUT/tables/my-notes.txt`` lands in the run's folder) is moved to the
    same place in ``current`` (with ``.kept`` added if that name is taken).
    A run never published was never visible, so nothing in it is a user's.
    """
    record = run / _WRITTEN
    if record.is_file() and current is not None:
        try:
            ours = set(json.loads(record.read_text("utf-8"))["files"])
        except (OSError, ValueError, KeyError):
            ours = None
        if ours is not None:
            for root, _dirs, files in os.walk(run):
                for name in files:
                    relative = (Path(root) / name).relative_to(run).as_posix()
                    if relative not in ours and relative != _WRITTEN:
                        _keep(Path(root) / name, current / relative)
        else:  # a damaged record: keep the whole run rather than guess
            return
    shutil.rmtree(run, ignore_errors=True)


def _keep(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    while target.exists() or target.is_symlink():
        target = target.with_name(target.name + ".kept")
    os.replace(source, target)


def _current_run(state: Path) -> Path | None:
    current = state / "current"
    if not current.is_symlink():
        return None
    return state / os.readlink(current)


def current_run(out: str | os.PathLike[str]) -> Path | None:
    """The folder of the run ``out`` shows now (resolved once, so reading it never straddles two runs)."""
    run = _current_run(Path(out) / STATE_DIR)
    return run if run is not None and run.is_dir() else None


def _release(fd: int) -> None:
    if fd in _HELD_LOCKS:
        _HELD_LOCKS.remove(fd)
    os.close(fd)  # closing the descriptor releases the flock


def _sync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def written_files(out: str | os.PathLike[str]) -> dict[str, Any]:
    """What the run ``out`` shows wrote: ``{relative path: bytes}`` (empty before any run)."""
    run = current_run(out)
    if run is None:
        return {}
    return json.loads((run / _WRITTEN).read_text("utf-8"))["files"]
