"""The best-workspace checkpoint of an optimization run and the baseline measurement.

A checkpoint is the whole workspace but its top-level ``.harnessgym`` (so ``.git``, agent folders, caches and
``.so``/``.dylib`` files at any depth too), copied exactly by :mod:`harnessgym.store.tree` to
``checkpoints/best/workspace/`` with ``best_manifest.json`` beside it. Restoring it clears the workspace but
``.harnessgym`` and copies the snapshot back, so afterwards the workspace equals the snapshot: every file, link,
empty folder and mode, nothing added and nothing lost.

A checkpoint is replaced whole: written as ``best.partial``, then swapped in by two renames. A crash between
them leaves ``best.partial`` or ``best.old`` behind, and :func:`_settle` picks the complete one up again, so a
reader only ever sees one whole checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

from harnessgym.evidence.scores import BestCheckpoint, Measurement
from harnessgym.records import utcnow
from harnessgym.store.files import read_model, write_model
from harnessgym.store.layout import HARNESS_DIR, Layout, RunLayout
from harnessgym.store.tree import clear_tree, copy_tree, same_tree, tree_entries

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
            _rmtree(leftover)


_OUTSIDE = (HARNESS_DIR,)
"""What a checkpoint leaves out: only the harness folder at the top (it holds the checkpoint itself)."""


def _rmtree(path: Path) -> None:
    clear_tree(path)
    path.rmdir()


def _files(root: Path) -> list[str]:
    """Relative paths of the files and symlinks a checkpoint of ``root`` holds."""
    return [rel for rel, entry in tree_entries(root, _OUTSIDE).items() if entry.kind != "dir"]


def save_best_checkpoint(layout: Layout, run_id: str, iteration: int, score: float) -> BestCheckpoint:
    """Snapshot the workspace as the run's best (iteration 0 is the untouched workspace), replacing the last."""
    run = layout.run(run_id)
    run.checkpoints.mkdir(parents=True, exist_ok=True)
    _settle(run)
    partial, old = _aside(run, "partial"), _aside(run, "old")
    copy_tree(layout.workspace, partial / _FILES, _OUTSIDE)
    files = _files(partial / _FILES)
    manifest = BestCheckpoint(iteration=iteration, score=score, files=files, file_count=len(files),
                              created_at=utcnow())  # fmt: skip
    write_model(partial / _MANIFEST, manifest)  # written last: a folder with a manifest is complete
    if run.best_checkpoint.exists():
        os.replace(run.best_checkpoint, old)
    os.replace(partial, run.best_checkpoint)
    if old.exists():
        _rmtree(old)
    return manifest


def read_best_checkpoint(layout: Layout, run_id: str) -> BestCheckpoint | None:
    run = layout.run(run_id)
    if not run.checkpoints.is_dir():
        return None
    _settle(run)
    return read_model(run.best_checkpoint / _MANIFEST, BestCheckpoint)


def workspace_matches_checkpoint(layout: Layout, run_id: str) -> bool:
    """Whether the workspace (but ``.harnessgym``) is exactly the checkpoint: entries, modes, links, bytes."""
    return same_tree(layout.workspace, layout.run(run_id).best_checkpoint / _FILES, _OUTSIDE)


def restore_best_checkpoint(layout: Layout, run_id: str) -> int:
    """Put the checkpoint back: clear the workspace but ``.harnessgym``, copy the snapshot in exactly. Returns
    the number of files and links restored."""
    snapshot = layout.run(run_id).best_checkpoint / _FILES
    if not snapshot.is_dir() or snapshot.is_symlink():
        raise FileNotFoundError(f"the best checkpoint {snapshot} is missing")
    clear_tree(layout.workspace, _OUTSIDE)
    # The snapshot lives where the agent can write; a .harnessgym in it never reaches the real one, and the
    # copy makes every folder itself in the cleared workspace, so nothing is written through a link.
    return copy_tree(snapshot, layout.workspace, _OUTSIDE)
