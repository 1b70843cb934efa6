"""The best-workspace checkpoint of an optimization run and the baseline measurement.

A checkpoint is the workspace minus what the run template also leaves out (``.harnessgym``, ``.git``, agent
folders, caches, binaries) copied to ``checkpoints/best/workspace/`` with ``best_manifest.json`` beside it. It
is replaced whole: written as ``best.partial``, then swapped in by two renames. A crash between them leaves
``best.partial`` or ``best.old`` behind, and :func:`_settle` picks the complete one up again, so a reader only
ever sees one whole checkpoint.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

from harnessgym.evidence.scores import BestCheckpoint, Measurement
from harnessgym.records import utcnow
from harnessgym.store.bundle import ignore_for_template
from harnessgym.store.files import read_model, write_model
from harnessgym.store.layout import Layout, RunLayout

__all__ = [
    "read_baseline",
    "read_best_checkpoint",
    "restore_best_checkpoint",
    "save_baseline",
    "save_best_checkpoint",
    "workspace_matches_checkpoint",
]

_MANIFEST = "best_manifest.json"
_FILES = "workspace"


def save_baseline(layout: Layout, run_id: str, measurement: Measurement) -> None:
    write_model(layout.run(run_id).baseline, measurement)


def read_baseline(layout: Layout, run_id: str) -> Measurement | None:
    return read_model(layout.run(run_id).baseline, Measurement)


def _aside(run: RunLayout, suffix: str) -> Path:
    return run.best_checkpoint.with_name(f"best.{suffix}")


def _complete(folder: Path) -> bool:
    return (folder / _MANIFEST).is_file() and (folder / _FILES).is_dir()


def _settle(run: RunLayout) -> None:
    """Finish or undo a swap a crash interrupted, and drop leftovers."""
    best, partial, old = run.best_checkpoint, _aside(run, "partial"), _aside(run, "old")
    if not best.exists():
        for candidate in (partial, old):
            if _complete(candidate):
                os.replace(candidate, best)
                break
    for leftover in (partial, old):
        if leftover.exists():
            shutil.rmtree(leftover)


def _files(root: Path) -> list[str]:
    """Relative paths of the files (and symlinks) under ``root``, as a copy with the template rules sees them."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        skip = ignore_for_template(dirpath, [*dirnames, *filenames])
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        here = Path(dirpath)
        for name in filenames:
            if name not in skip:
                found.append((here / name).relative_to(root).as_posix())
        # symlinked folders are copied as links, and os.walk does not descend into them
        found += [(here / d).relative_to(root).as_posix() for d in dirnames if (here / d).is_symlink()]
    return sorted(found)


def save_best_checkpoint(layout: Layout, run_id: str, iteration: int, score: float) -> BestCheckpoint:
    """Snapshot the workspace as the run's best (iteration 0 is the untouched workspace), replacing the last."""
    run = layout.run(run_id)
    run.checkpoints.mkdir(parents=True, exist_ok=True)
    _settle(run)
    partial, old = _aside(run, "partial"), _aside(run, "old")
    shutil.copytree(layout.workspace, partial / _FILES, symlinks=True, ignore=ignore_for_template)
    files = _files(partial / _FILES)
    manifest = BestCheckpoint(iteration=iteration, score=score, files=files, file_count=len(files),
                              created_at=utcnow())  # fmt: skip
    write_model(partial / _MANIFEST, manifest)  # written last: a folder with a manifest is complete
    if run.best_checkpoint.exists():
        os.replace(run.best_checkpoint, old)
    os.replace(partial, run.best_checkpoint)
    if old.exists():
        shutil.rmtree(old)
    return manifest


def read_best_checkpoint(layout: Layout, run_id: str) -> BestCheckpoint | None:
    run = layout.run(run_id)
    if not run.checkpoints.is_dir():
        return None
    _settle(run)
    return read_model(run.best_checkpoint / _MANIFEST, BestCheckpoint)


def workspace_matches_checkpoint(layout: Layout, run_id: str) -> bool:
    """Whether the workspace holds exactly the checkpoint's files with the same contents."""
    snapshot = layout.run(run_id).best_checkpoint / _FILES
    files = _files(layout.workspace)
    if files != _files(snapshot):
        return False
    for rel in files:
        here, there = layout.workspace / rel, snapshot / rel
        if here.is_symlink() or there.is_symlink():
            if not (here.is_symlink() and there.is_symlink() and os.readlink(here) == os.readlink(there)):
                return False
        elif not filecmp.cmp(here, there, shallow=False):
            return False
    return True


def restore_best_checkpoint(layout: Layout, run_id: str) -> int:
    """Put the checkpoint back: remove every top-level entry the checkpoint rules cover, copy the snapshot in.
    Excluded entries (``.harnessgym``, ``.git``, agent folders, ...) are left alone. Returns the file count."""
    snapshot = layout.run(run_id).best_checkpoint / _FILES
    names = [child.name for child in layout.workspace.iterdir()]
    kept = ignore_for_template(str(layout.workspace), names)
    for name in names:
        if name in kept:
            continue
        child = layout.workspace / name
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    # The snapshot lives where the agent can write: copy back only what a checkpoint can hold, so a forged one
    # never writes into .harnessgym or through an agent folder that is kept (and may be a link out).
    shutil.copytree(snapshot, layout.workspace, symlinks=True, dirs_exist_ok=True, ignore=ignore_for_template)
    return len(_files(snapshot))
