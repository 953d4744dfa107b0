"""What a test sees of an output folder: the files of the run it shows, and anything a run should not have left."""

from __future__ import annotations

from pathlib import Path

from reportmine.outputs import STATE_DIR, current_run, is_own_link


def published_files(out: Path) -> dict[str, bytes]:
    """Every file of the run ``out`` shows, by path relative to it (the run's own record aside)."""
    run = current_run(out)
    assert run is not None, f"{out} shows no complete run"
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".written.json"}


def leftovers(out: Path) -> list[str]:
    """Files a finished run should not leave: temporary or staged files, other runs, the per-file cache."""
    found = [p.name for p in out.iterdir() if p.name != STATE_DIR and not is_own_link(p)]
    state = out / STATE_DIR
    run = current_run(out)
    found += [f"{STATE_DIR}/{p.name}" for p in state.iterdir() if p.name not in ("lock", "current", "runs")]
    found += [f"{STATE_DIR}/runs/{p.name}" for p in (state / "runs").iterdir() if p != run]
    if run is not None:
        found += [p.relative_to(run).as_posix() for p in run.rglob(".*") if p.name != ".written.json"]
    return found
