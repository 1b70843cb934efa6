"""Adversarial checks of the host's prompt and resource routing, artifact self-tests and compare's analysis:
what a hostile server, a hostile registry entry or an unlucky post command can do to them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from hostile.helpers import host_client, text_of

from harnessgym.artifacts.qualification import _self_tested, artifact_self_test
from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict
from harnessgym.compare.analysis import analyse
from harnessgym.compare.models import Comparison, GroupSummary, TrialRecord
from harnessgym.evidence.scores import Measurement
from mcp_host import load_manifest, write_active_servers

pytestmark = pytest.mark.anyio

SCRIPTED = r"""
import json, sys
plan = json.load(open(sys.argv[1]))
tools = [{"name": n, "inputSchema": {"type": "object"}} for n in ("echo", "flood", "count")]
counts = {}
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    method, rid = msg.get("method"), msg.get("id")
    counts[method] = counts.get(method, 0) + 1
    if rid is None:
        continue
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": plan["capabilities"],
                  "serverInfo": {"name": "scripted", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": tools}
    elif method == "tools/call" and msg["params"]["name"] == "flood":
        for _ in range(plan.get("flood", 0)):
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/resources/list_changed"}) + "\n")
        result = {"content": [{"type": "text", "text": "flooded"}]}
    elif method == "tools/call" and msg["params"]["name"] == "count":
        result = {"content": [{"type": "text", "text": json.dumps(counts)}]}
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": "echoed"}]}
    elif method == "ping":
        result = {}
    elif method in plan["answers"]:
        result = plan["answers"][method]
        if result is None:
            continue  # never answered
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "nope"}}) + "\n")
        sys.stdout.flush()
        continue
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}) + "\n")
    sys.stdout.flush()
"""


def scripted_server(workspace: Path, name: str, plan: dict[str, Any], **extra: Any) -> Path:
    """A manifest for a tiny server that answers as ``plan`` says (``answers[method] = None``: never)."""
    script = workspace / "scripted_server.py"
    script.write_text(SCRIPTED)
    directory = workspace / ".harnessgym" / "mcp" / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "plan.json").write_text(json.dumps(plan))
    manifest = {"name": name, "command": sys.executable, "args": [str(script), str(directory / "plan.json")],
                "framing": "newline", **extra}  # fmt: skip
    (directory / "mcp.json").write_text(json.dumps(manifest))
    return directory


# -- the host: prompts and resources ---------------------------------------------------------------------------


async def test_a_prompt_whose_meta_is_not_an_object_is_offered_and_does_not_take_the_host_down(
    tmp_path: Path,
) -> None:
    prompts = [{"name": "review", "_meta": 5}, {"name": "pairs", "_meta": "ab"}]
    hi = {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}]}
    plan = {"capabilities": {"tools": {}, "prompts": {}}, "answers": {"prompts/list": {"prompts": prompts},
                                                                      "prompts/get": hi}}  # fmt: skip
    write_active_servers(tmp_path, [load_manifest(scripted_server(tmp_path, "meta", plan), tmp_path)])
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            assert prompts == {"meta__review", "meta__pairs"}
            got = await client.get_prompt("meta__review", {})
            assert got.messages[0].content.text == "hi"  # type: ignore[union-attr]
            assert text_of(await client.call_tool("meta__echo", {})) == "echoed"


async def test_a_server_that_never_answers_its_prompt_list_still_serves_its_tools(tmp_path: Path) -> None:
    plan = {"capabilities": {"tools": {}, "prompts": {}, "resources": {}},
            "answers": {"prompts/list": None, "resources/list": {"resources": [{"uri": "docs://a", "name": "a"}]},
                        "resources/templates/list": {"resourceTemplates": []}}}  # fmt: skip
    write_active_servers(tmp_path, [load_manifest(scripted_server(tmp_path, "mute", plan, startup_timeout_sec=3),
                                                  tmp_path)])  # fmt: skip
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            assert "mute__echo" in {t.name for t in (await client.list_tools()).tools}
            assert (await client.list_prompts()).prompts == []
            assert [str(r.uri) for r in (await client.list_resources()).resources] == ["docs://a"]
            assert text_of(await client.call_tool("mute__echo", {})) == "echoed"


# -- artifact self-tests ------------------------------------------------------------------------------------


def tool_entry(workspace: Path, path: str, **metadata: Any) -> ArtifactEntry:
    file = workspace / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("print('ok')\n")
    return ArtifactEntry(id=f"tool:{path}", kind="tool", path=path, metadata=metadata)


def passed(entry: ArtifactEntry) -> ArtifactVerdict:
    return ArtifactVerdict(artifact_id=entry.id, kind=entry.kind, path=entry.path, status="passed", checks=["exists"])


async def test_a_self_test_object_whose_command_cannot_be_split_fails_that_artifact(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    entry = tool_entry(ws, "tools/t.py", self_test={"command": "python3 'unterminated"})
    with anyio.fail_after(20):
        verdict = await _self_tested(ws, entry, passed(entry), tmp_path / "out")
    assert verdict.status == "failed" and "cannot be split" in verdict.message


def test_a_self_test_cannot_run_outside_the_clean_copy(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    for cwd in ("..", str(tmp_path)):
        entry = tool_entry(ws, "tools/t.py", self_test={"command": ["python3", "-c", "pass"], "cwd": cwd})
        spec = artifact_self_test(ws, entry)
        assert isinstance(spec, str) and "self_test.cwd" in spec and "outside" in spec
    # A cwd no file system can hold is refused too (checking it raises ENAMETOOLONG).
    entry = tool_entry(ws, "tools/t.py", self_test={"command": ["python3", "-c", "pass"], "cwd": "d" * 300})
    spec = artifact_self_test(ws, entry)
    assert isinstance(spec, str) and "self_test.cwd" in spec


async def test_a_self_test_of_an_artifact_with_a_long_path_keeps_its_output(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    path = f"tools/{'d' * 200}/{'t' * 100}.py"
    entry = tool_entry(ws, path, self_test=["python3", "-c", "print('long ok')"])
    out = tmp_path / "out"
    with anyio.fail_after(20):
        verdict = await _self_tested(ws, entry, passed(entry), out)
    assert verdict.status == "passed", verdict.message
    assert any("long ok" in p.read_text() for p in out.glob("*.self_test.stdout.txt"))


# -- compare's analysis -------------------------------------------------------------------------------------


def scored(group: str, index: int, score: float) -> TrialRecord:
    post = Measurement(command="score", status="completed", passed=True, score=score)
    return TrialRecord(group=group, index=index, workspace=Path("/nowhere"), run_id=f"compare-{group}-{index}",  # type: ignore[arg-type]
                       solved=True, evidence="verified", attempt_duration_seconds=5.0,
                       cumulative_attempt_duration_seconds=5.0, post=post, post_score=score)  # fmt: skip


def test_huge_post_scores_give_a_readable_report_not_an_overflow() -> None:
    # Finite numbers a post command may print; their sums and differences overflow a float.
    trials = [scored("harnessed", 1, 1e308), scored("harnessed", 2, 1.7e308), scored("harnessed", 3, -1e308)]
    trials += [scored("plain", 1, -1.7e308), scored("plain", 2, -1e308), scored("plain", 3, 1e308)]
    plain, harnessed, comparison, verdict = analyse(trials, alpha=0.05, higher_is_better=True, seed=0,
                                                    post_primary=True)  # fmt: skip
    assert verdict.primary == "post_score"
    # The report is written as JSON and read back (get_compare): every number must survive the round trip.
    for model in (plain, harnessed, comparison):
        again = type(model).model_validate_json(model.model_dump_json())
        assert again == model
    assert isinstance(comparison, Comparison) and isinstance(plain, GroupSummary)


async def test_a_manifest_argument_longer_than_a_file_name_is_served(tmp_path: Path) -> None:
    # ``python3 -c "<a long program>"`` is a common way to write a server; no argument is a file name then.
    plan = {"capabilities": {"tools": {}}, "answers": {}}
    directory = scripted_server(tmp_path, "inline", plan)
    manifest = json.loads((directory / "mcp.json").read_text())
    manifest["args"].append("note=" + "x" * 300)
    del manifest["framing"]  # auto: the framing is sniffed from the arguments that are files
    (directory / "mcp.json").write_text(json.dumps(manifest))
    write_active_servers(tmp_path, [load_manifest(directory, tmp_path)])
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            assert text_of(await client.call_tool("inline__echo", {})) == "echoed"


async def test_a_flood_of_list_changed_notices_is_coalesced_into_a_few_relists(tmp_path: Path) -> None:
    # One relist at a time per server, and notices arriving meanwhile make it go round once more: 300 notices
    # must not become 300 concurrent relists (each four requests), whose answers could land out of order.
    listed = {"resources": [{"uri": "docs://a", "name": "a"}]}
    plan = {"capabilities": {"tools": {}, "resources": {}}, "flood": 300,
            "answers": {"resources/list": listed, "resources/templates/list": {"resourceTemplates": []}}}  # fmt: skip
    write_active_servers(tmp_path, [load_manifest(scripted_server(tmp_path, "noisy", plan), tmp_path)])
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            assert text_of(await client.call_tool("noisy__flood", {})) == "flooded"
            counts: dict[str, int] = {}
            for _ in range(100):  # until the relists began and settled: two reads in a row count the same lists
                seen = json.loads(text_of(await client.call_tool("noisy__count", {})))
                if seen.get("resources/list", 0) >= 2 and seen.get("resources/list") == counts.get("resources/list"):
                    break
                counts = seen
                await anyio.sleep(0.2)
            assert [str(r.uri) for r in (await client.list_resources()).resources] == ["docs://a"]
    # One at start, then a handful of coalesced rounds, not one per notice.
    assert 2 <= counts["resources/list"] <= 10, counts
