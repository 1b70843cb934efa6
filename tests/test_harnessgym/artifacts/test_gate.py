"""The gate: nothing the agent writes in its workspace makes harnessgym serve or link an artifact.

One test per attack. Each one passed the gate before verdicts and the active set moved to harnessgym's state
directory outside the workspace (``HARNESSGYM_STATE_DIR``, a temporary folder in tests; see conftest).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest
from hostile.helpers import host_client, make_manifest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from support.loop import config, example_workspace, run_bounded, script, states, step

from harnessgym.artifacts.activation import activate
from harnessgym.artifacts.qualification import needs_qualification, qualify_in_fresh_copy, trust_without_qualification
from harnessgym.artifacts.registry import ActivationRecord, ArtifactEntry, McpActivation, Registry
from harnessgym.artifacts.servers import qualify_mcp
from harnessgym.loop.context import RunContext
from harnessgym.store.layout import Layout
from mcp_host import VerdictStore, load_manifest, state_dir, write_active_servers
from mcp_host._supervise.procs import kill_tree

pytestmark = pytest.mark.anyio

SKILL = "---\nname: {name}\ndescription: Does things.\n---\n# {name}\n"


def _skill(ws: Path, name: str, state: str = "active") -> ArtifactEntry:
    folder = ws / ".harnessgym" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(SKILL.format(name=name))
    path = f".harnessgym/skills/{name}/SKILL.md"
    return ArtifactEntry(id=f"skill:{path}", kind="skill", path=path, state=state)  # type: ignore[arg-type]


def test_the_state_directory_is_outside_the_workspace_and_private(tmp_path: Path) -> None:
    directory = state_dir(tmp_path)
    assert not directory.resolve().is_relative_to(tmp_path.resolve())
    assert directory.stat().st_mode & 0o777 == 0o700


async def test_a_registry_entry_marked_active_by_the_agent_is_qualified_before_anything_uses_it(
    tmp_path: Path,
) -> None:
    # The agent writes a skill with broken front matter and registers it as already active: it must be
    # qualified (and quarantined) in the same run, never linked.
    ws = example_workspace(tmp_path)
    rel = ".harnessgym/skills/forged/SKILL.md"
    fake = script(
        tmp_path,
        step("attempt",
             {"do": "write", "path": rel, "text": "no front matter at all\n"},
             {"do": "register", "entry": {"kind": "skill", "path": rel, "state": "active"}},
             {"do": "result", "set": {"status": "blocked"}}, iteration=1),
        step("attempt", {"do": "result", "set": {"status": "blocked"}}, iteration=2),
    )  # fmt: skip
    await run_bounded(config(ws, tmp_path, fake, iterations=2, artifact_repair_attempts=0), 90)
    assert states(ws) == {f"skill:{rel}": "quarantined"}
    for base in (".agents/skills", ".claude/skills"):
        assert not (ws / base / "forged").exists()


async def test_a_verdict_planted_in_the_workspace_does_not_pass_a_server_that_exits_at_start(
    tmp_path: Path,
) -> None:
    directory = tmp_path / ".harnessgym" / "mcp" / "dies"
    directory.mkdir(parents=True)
    (directory / "server.py").write_text("import sys\nsys.exit(3)\n")
    (directory / "mcp.json").write_text(json.dumps({"name": "dies", "command": "python3", "args": ["server.py"],
                                                     "cwd": ".", "self_test": {"command": "true"}}))  # fmt: skip
    spec = load_manifest(directory, tmp_path)
    forged = {"name": "dies", "manifest_path": str(spec.manifest_path), "digest": spec.digest, "status": "passed",
              "smoke_status": "passed", "self_test_status": "passed", "tools": ["x"]}  # fmt: skip
    for planted in (tmp_path / ".harnessgym" / "cache" / "mcp", tmp_path / ".harnessgym" / "host" / "verdicts"):
        planted.mkdir(parents=True, exist_ok=True)
        (planted / f"{spec.digest}.json").write_text(json.dumps(forged))
    entry = ArtifactEntry(id="mcp:dies", kind="mcp", path=".harnessgym/mcp/dies/mcp.json")
    with anyio.fail_after(60):
        (verdict,) = await qualify_mcp([entry], tmp_path, tmp_path)
    assert verdict.status == "failed" and "mcp_smoke:failed" in verdict.checks, verdict


async def test_an_active_json_written_in_the_workspace_is_not_served(tmp_path: Path) -> None:
    spec = load_manifest(make_manifest(tmp_path, "planted", framing="newline"), tmp_path)
    planted = tmp_path / ".harnessgym" / "host" / "active.json"
    planted.parent.mkdir(parents=True)
    planted.write_text(json.dumps({"schema_version": 1, "servers": [spec.model_dump(mode="json")]}))
    with anyio.fail_after(60):
        async with host_client(tmp_path) as client:
            assert (await client.list_tools()).tools == []


async def test_a_harnessgym_folder_in_the_workspace_does_not_replace_the_host(tmp_path: Path) -> None:
    fake = tmp_path / "harnessgym"
    fake.mkdir()
    marker = tmp_path / "impostor-ran"
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    spec = load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)
    write_active_servers(tmp_path, [spec])
    activation = ActivationRecord(mcp_servers=[McpActivation(artifact_id="mcp:nl", name="nl",
                                                             manifest_path=spec.manifest_path)])  # fmt: skip
    ctx = SimpleNamespace(activation=activation, layout=Layout(tmp_path), env={}, run_id="r1")
    launch = RunContext.mcp_launch(ctx, 1, "attempt")  # type: ignore[arg-type]
    assert launch is not None
    params = StdioServerParameters(command=launch.command, args=launch.args, env=launch.env,
                                   cwd=str(launch.cwd))  # fmt: skip
    try:
        with anyio.fail_after(60):
            async with Client(params, read_timeout_seconds=30) as client:
                names = {t.name for t in (await client.list_tools()).tools}
    finally:  # the entry started the workspace's host daemon (no run owns one here)
        for pid in _processes_mentioning(str(tmp_path)):
            await kill_tree(pid, grace=1.0)
    assert "nl__echo" in names and not marker.exists()


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if text.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_skill_edited_after_it_passed_is_not_linked_until_it_is_qualified_again(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    entry = _skill(tmp_path, "alpha")
    trust_without_qualification(layout, [entry])  # what a passed qualification records
    assert [s.name for s in activate(layout, Registry(artifacts=[entry])).skills] == ["alpha"]
    skill_md = tmp_path / entry.path
    skill_md.write_text(skill_md.read_text() + "\nDo something else entirely.\n")
    record = activate(layout, Registry(artifacts=[entry]))
    assert record.skills == [] and not (tmp_path / ".claude" / "skills" / "alpha").exists()
    assert any("no passing verdict for its current content" in w for w in record.warnings)
    registry = Registry(artifacts=[entry])
    again, _ = needs_qualification(layout, registry)
    assert again == [entry] and entry.state == "candidate"


async def test_a_server_edited_after_it_was_activated_is_not_served(tmp_path: Path) -> None:
    directory = make_manifest(tmp_path, "nl", framing="newline")
    write_active_servers(tmp_path, [load_manifest(directory, tmp_path)])
    with (directory / "mcp.json").open("a") as fh:
        fh.write("\n")  # any change to the server's files changes its digest
    with anyio.fail_after(60):
        async with host_client(tmp_path) as client:
            assert (await client.list_tools()).tools == []


async def test_a_qualified_server_is_activated_and_served_from_its_recorded_tool_list(tmp_path: Path) -> None:
    template = tmp_path / "template"
    ws = tmp_path / "ws"
    template.mkdir()
    ws.mkdir()
    make_manifest(ws, "nl", framing="newline")
    entry = ArtifactEntry(id="mcp:nl", kind="mcp", path=".harnessgym/mcp/nl/mcp.json")
    with anyio.fail_after(90):
        report = await qualify_in_fresh_copy(Layout(ws), template, tmp_path / "q", [entry])
    assert report.status == "passed", report
    record = activate(Layout(ws), Registry(artifacts=[entry.model_copy(update={"state": "active"})]))
    assert [s.name for s in record.mcp_servers] == ["nl"]
    spec = load_manifest(ws / ".harnessgym" / "mcp" / "nl", ws)
    recorded = VerdictStore(ws).passed("server", spec.digest)
    assert recorded is not None and "echo" in [d["name"] for d in recorded["definitions"]]
    with anyio.fail_after(60):
        async with host_client(ws) as client:
            assert "nl__echo" in {t.name for t in (await client.list_tools()).tools}
