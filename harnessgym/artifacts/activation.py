"""Activation: hand the active artifacts to the next fresh session (skill links, MCP servers, tool list).

An entry the registry calls ``active`` is handed over only while harnessgym's own verdict store holds a pass
for its content as it stands (:func:`harnessgym.artifacts.qualification.has_verdict`): the registry is the
agent's to write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harnessgym import store
from harnessgym.artifacts import servers as mcp_artifacts
from harnessgym.artifacts.qualification import has_verdict
from harnessgym.artifacts.registry import (
    ActivationGate,
    ActivationRecord,
    QuarantinedRef,
    Registry,
    SkillActivation,
)
from harnessgym.artifacts.skills import link_skill, remove_stale_links
from harnessgym.store.layout import Layout
from mcp_host import VerdictStore

__all__ = ["CALL_HELPER", "activate"]

CALL_HELPER = '''"""Call a tool of this workspace's harnessgym host:
``python3 .harnessgym/runtime/mcp_call.py --server S --tool T --arguments JSON``
(the helper HarnessGym 0.1.1 bundles name; written by harnessgym on activation).

Every flag goes on to ``harnessgym mcp call``, which reaches the host serving this workspace, so the call is
recorded with the session's run, iteration and phase. Exits 1 when the tool reports an error.
"""
import os
import sys

PYTHON = {python!r}
WORKSPACE = {workspace!r}
args = sys.argv[1:]
if "--workspace" not in args:
    args = ["--workspace", WORKSPACE, *args]
os.execv(PYTHON, [PYTHON, "-I", "-m", "harnessgym", "mcp", "call", *args])
'''


def activate(
    layout: Layout,
    registry: Registry,
    *,
    run_id: str | None = None,
    iteration: int | None = None,
    copy_to: Path | None = None,
    checked: frozenset[str] = frozenset(),
) -> ActivationRecord:
    """Make exactly the ``active`` artifacts visible; write ``.harnessgym/activation.json`` (and ``copy_to``).

    ``checked``: ids whose verdict the caller asked :func:`has_verdict` about a moment ago, in the same step
    (nothing awaited in between), and found passing; they are not asked again."""
    record = ActivationRecord(run_id=run_id, iteration=iteration)
    active = []
    verdicts = VerdictStore(layout.workspace)
    for entry in registry.artifacts:
        if entry.state != "active":
            continue
        if entry.id in checked or has_verdict(layout, entry, verdicts):
            active.append(entry)
        else:
            record.warnings.append(
                f"artifact {entry.id!r} is marked active, but harnessgym has no passing verdict "
                "for its current content; it was not activated (it needs qualification)"
            )
    record.quarantined = [a.id for a in registry.artifacts if a.state == "quarantined"]
    keep: set[str] = set()
    for entry in active:
        if entry.kind != "skill":
            continue
        root = store.artifact_root(layout, entry)
        if not (root / "SKILL.md").is_file():
            record.warnings.append(f"skill {entry.id!r} has no SKILL.md; it was not linked")
            continue
        links, warnings = link_skill(layout, root)
        record.warnings += warnings
        keep.add(root.name)
        record.skills.append(SkillActivation(artifact_id=entry.id, name=root.name, skill_dir=root, links=links,
                                             artifact_path=entry.path))  # fmt: skip
    remove_stale_links(layout, keep)
    servers, warnings = mcp_artifacts.activate_servers(layout.workspace, [a for a in active if a.kind == "mcp"])
    record.mcp_servers = servers
    record.warnings += warnings
    record.tools = [a.id for a in active if a.kind not in ("skill", "mcp")]
    record.quarantined_artifacts = [QuarantinedRef(kind=a.kind, path=a.path) for a in registry.artifacts
                                    if a.state == "quarantined"]  # fmt: skip
    served = {m.artifact_id for m in servers}
    record.quality_gate = ActivationGate(
        status="failed" if record.warnings else "passed", active_mcp_count=len(servers),
        inactive_mcp_count=sum(a.kind == "mcp" and a.id not in served for a in registry.artifacts),
        active_tool_count=sum(len(m.enabled_tools) or 1 for m in servers), warnings=list(record.warnings),
    )  # fmt: skip
    if servers:
        store.write_atomic(
            layout.mcp_call_helper, CALL_HELPER.format(python=sys.executable, workspace=str(layout.workspace))
        )
    store.write_model(layout.activation, record)
    if copy_to is not None:
        store.write_model(copy_to, record)
    return record
