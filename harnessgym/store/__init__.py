"""Every read and write under ``<workspace>/.harnessgym``: atomic record writes, lenient reads of what agents
wrote, the append-only run journal, the registry, the copies qualification and task-state reset need, the
best-workspace checkpoint of optimization runs, the workspace lock, and reading a run's records back for
clients (summary, iteration records, phase logs).

Nothing else in harnessgym opens these paths (they are computed by :mod:`harnessgym.store.layout`). This package must
never raise for what an agent wrote: malformed files become problem strings for the caller to record.

Names load on first use (as in :mod:`harnessgym`), so importing :mod:`harnessgym.store.layout` alone, as the
artifact registry does, pulls in nothing else of the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harnessgym.store.bundle import (
        Identity,
        artifact_digest,
        artifact_root,
        capture_template,
        copy_bundle,
        copy_usable_artifacts,
        discover_artifacts,
        ensure_workspace,
        files_identity,
        fresh_copy,
        ignore_for_template,
        ignore_special,
        is_inside,
        read_registry,
        restore_task_state,
        settled,
        snapshot_task_state,
        sync_registry,
        write_registry,
    )
    from harnessgym.store.checkpoint import (
        read_baseline,
        read_best_checkpoint,
        restore_best_checkpoint,
        save_baseline,
        save_best_checkpoint,
        workspace_matches_checkpoint,
    )
    from harnessgym.store.files import (
        append_journal,
        append_line,
        read_agent_result,
        read_journal,
        read_lines,
        read_model,
        read_regular,
        write_atomic,
        write_model,
    )
    from harnessgym.store.lock import WorkspaceLock, lock_holder, lock_holder_run, lock_is_held
    from harnessgym.store.reading import (
        OUTPUT_LIMIT_BYTES,
        TRANSCRIPT_LIMIT_BYTES,
        PhaseTexts,
        iteration_records,
        read_iteration,
        read_phase_files,
        read_summary,
        read_tail,
    )

__all__ = [
    "OUTPUT_LIMIT_BYTES",
    "TRANSCRIPT_LIMIT_BYTES",
    "Identity",
    "PhaseTexts",
    "WorkspaceLock",
    "append_journal",
    "append_line",
    "artifact_digest",
    "artifact_root",
    "capture_template",
    "copy_bundle",
    "copy_usable_artifacts",
    "discover_artifacts",
    "ensure_workspace",
    "files_identity",
    "fresh_copy",
    "ignore_for_template",
    "ignore_special",
    "is_inside",
    "iteration_records",
    "lock_holder",
    "lock_holder_run",
    "lock_is_held",
    "read_agent_result",
    "read_baseline",
    "read_best_checkpoint",
    "read_iteration",
    "read_journal",
    "read_lines",
    "read_model",
    "read_phase_files",
    "read_registry",
    "read_regular",
    "read_summary",
    "read_tail",
    "restore_best_checkpoint",
    "restore_task_state",
    "save_baseline",
    "save_best_checkpoint",
    "settled",
    "snapshot_task_state",
    "sync_registry",
    "workspace_matches_checkpoint",
    "write_atomic",
    "write_model",
    "write_registry",
]

_HOME: dict[str, str] = {
    **dict.fromkeys(
        [
            "Identity",
            "artifact_digest",
            "artifact_root",
            "capture_template",
            "copy_bundle",
            "copy_usable_artifacts",
            "discover_artifacts",
            "ensure_workspace",
            "files_identity",
            "fresh_copy",
            "ignore_for_template",
            "ignore_special",
            "is_inside",
            "read_registry",
            "restore_task_state",
            "settled",
            "snapshot_task_state",
            "sync_registry",
            "write_registry",
        ],
        "harnessgym.store.bundle",
    ),
    **dict.fromkeys(
        [
            "read_baseline",
            "read_best_checkpoint",
            "restore_best_checkpoint",
            "save_baseline",
            "save_best_checkpoint",
            "workspace_matches_checkpoint",
        ],
        "harnessgym.store.checkpoint",
    ),
    **dict.fromkeys(
        [
            "append_journal",
            "append_line",
            "read_agent_result",
            "read_journal",
            "read_lines",
            "read_model",
            "read_regular",
            "write_atomic",
            "write_model",
        ],
        "harnessgym.store.files",
    ),
    **dict.fromkeys(
        [
            "WorkspaceLock",
            "lock_holder",
            "lock_holder_run",
            "lock_is_held",
        ],
        "harnessgym.store.lock",
    ),
    **dict.fromkeys(
        [
            "OUTPUT_LIMIT_BYTES",
            "PhaseTexts",
            "TRANSCRIPT_LIMIT_BYTES",
            "iteration_records",
            "read_iteration",
            "read_phase_files",
            "read_summary",
            "read_tail",
        ],
        "harnessgym.store.reading",
    ),
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'harnessgym.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
