"""The CLI covers what `serve` does: runs list|show, artifacts list|show|qualify|promote|quarantine (with --all),
taking in a bundle made elsewhere, `harnessgym host` with nothing active, and the small things a user trips on."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.server import MCPServer
from mcp.types import Tool
from support.loop import VERIFY, config, example_workspace, harnessgym_argv, run_bounded
from support.terminal import run_in_terminal

from harnessgym.serve._server import build_server
from harnessgym.serve._settings import ServeSettings
from mcp_host import ProcResult, run_process

pytestmark = pytest.mark.anyio

SERVER_ID = "mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json"


async def cli(tmp_path: Path, *args: str, timeout: float = 90) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    result = await run_process(harnessgym_argv(*args), timeout=timeout, stdout_path=out, stderr_path=err,
                               cwd=tmp_path)  # fmt: skip
    return result, out.read_text(), err.read_text()


async def demo(tmp_path: Path) -> tuple[Path, str]:
    ws = example_workspace(tmp_path)
    summary = await run_bounded(config(ws, tmp_path, verify_command=VERIFY), 90)
    assert summary.solved
    return ws, summary.run_id


@pytest.mark.slow
async def test_runs_list_and_show_read_the_workspaces_runs(tmp_path: Path) -> None:
    ws, run_id = await demo(tmp_path)
    ok, out, _ = await cli(tmp_path, "runs", "list", "--workspace", str(ws))
    assert ok.returncode == 0 and run_id in out and "solved" in out and "2/2" in out
    ok, out, _ = await cli(tmp_path, "runs", "list", "--workspace", str(ws), "--json")
    [listed] = json.loads(out)
    assert (listed["run_id"], listed["status"], listed["evidence"]) == (run_id, "solved", "verified")
    ok, out, _ = await cli(tmp_path, "runs", "show", run_id, "--workspace", str(ws))
    assert ok.returncode == 0
    assert f"Run id: {run_id}\nStatus: solved\n" in out
    assert f"iteration 1: {SERVER_ID}: passed qualification, active, tools: failing_cases" in out
    assert "best so far" in out and "claims solved" in out
    ok, out, _ = await cli(tmp_path, "runs", "show", run_id, "--workspace", str(ws), "--json")
    assert [i["mcp_calls"] for i in json.loads(out)["iterations"]] == [0, 1]


async def test_an_unknown_run_points_to_runs_list(tmp_path: Path) -> None:
    for args in (("runs", "show", "nope"), ("run", "--resume", "nope")):
        failed, _, err = await cli(tmp_path, *args, "--workspace", str(tmp_path))
        assert failed.returncode == 1 and f"`harnessgym runs list --workspace {tmp_path}`" in err, err
        assert "harnessgym.list_runs" not in err and "Traceback" not in err
    ok, out, _ = await cli(tmp_path, "runs", "list", "--workspace", str(tmp_path))
    assert ok.returncode == 0 and "no runs in" in out and "harnessgym run" in out


@pytest.mark.slow
async def test_artifacts_are_listed_quarantined_requalified_and_promoted_from_the_cli(tmp_path: Path) -> None:
    ws, _ = await demo(tmp_path)
    ok, out, _ = await cli(tmp_path, "artifacts", "list", "--workspace", str(ws), "--json")
    assert [(a["id"], a["state"]) for a in json.loads(out)] == [(SERVER_ID, "active")]
    ok, out, _ = await cli(tmp_path, "artifacts", "list", "--workspace", str(ws))
    [row] = [line.split() for line in out.splitlines() if line.lstrip().startswith("mcp:")]
    assert row[2:5] == ["active", "passed", "1"], out  # the iteration that qualified it, when the entry names none
    ok, out, _ = await cli(tmp_path, "artifacts", "show", SERVER_ID, "--workspace", str(ws))
    assert json.loads(out)["kind"] == "mcp"
    ok, out, _ = await cli(tmp_path, "artifacts", "quarantine", "--all", "--reason", "flaky", "--workspace", str(ws))
    assert ok.returncode == 0 and out == f"{SERVER_ID}: quarantined (flaky)\n"
    refused, _, err = await cli(tmp_path, "artifacts", "promote", SERVER_ID, "--workspace", str(ws))
    assert refused.returncode == 1 and f"qualify it first (`harnessgym artifacts qualify {SERVER_ID}`" in err
    ok, out, _ = await cli(tmp_path, "artifacts", "qualify", SERVER_ID, "--no-promote", "--workspace", str(ws))
    assert ok.returncode == 0 and out.startswith(f"{SERVER_ID}: passed, now qualified (tools: failing_cases)")
    ok, out, _ = await cli(tmp_path, "artifacts", "promote", "--all", "--workspace", str(ws))
    assert (ok.returncode, out) == (0, f"{SERVER_ID}: active\n")
    missing, _, err = await cli(tmp_path, "artifacts", "show", "nope", "--workspace", str(ws))
    assert missing.returncode == 1 and "`harnessgym artifacts list --workspace" in err
    usage, _, err = await cli(tmp_path, "artifacts", "qualify", "--workspace", str(ws))
    assert usage.returncode == 2 and "or pass --all" in err


@pytest.mark.slow
async def test_a_bundle_made_elsewhere_is_qualified_with_all_and_then_served_by_the_host(tmp_path: Path) -> None:
    made, _ = await demo(tmp_path / "elsewhere")
    ws = example_workspace(tmp_path, "mine")
    (ws / ".harnessgym").mkdir()
    shutil.copytree(made / ".harnessgym" / "mcp", ws / ".harnessgym" / "mcp")
    shutil.copy(made / ".harnessgym" / "registry.json", ws / ".harnessgym" / "registry.json")

    ok, out, err = await cli(tmp_path, "artifacts", "qualify", "--all", "--workspace", str(ws))
    assert ok.returncode == 0, err
    assert out == (f"{SERVER_ID}: passed, now active (tools: failing_cases)\n"
                   f"Serve them with: harnessgym host --workspace {ws}\n")  # fmt: skip
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "harnessgym", "host", "--workspace", str(ws), "--no-socket"],
        cwd=str(tmp_path),
        env=dict(os.environ),
    )  # fmt: skip  (the state folder the verdicts are in)
    with anyio.fail_after(60):
        async with Client(params, read_timeout_seconds=30) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["numcheck__failing_cases"]
            result = await client.call_tool("numcheck__failing_cases", {})
    report = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert (report["status"], len(report["failing"])) == ("failed", 4)


async def test_the_host_with_nothing_active_says_why_and_what_to_run(tmp_path: Path) -> None:
    errlog = tmp_path / "host.err"
    host = 'exec "$0" -m harnessgym host --workspace "$1" --no-socket 2>"$2"'  # stderr kept in a file
    params = StdioServerParameters(command="/bin/sh", args=["-c", host, sys.executable, str(tmp_path), str(errlog)])
    with anyio.fail_after(60):
        async with Client(params, read_timeout_seconds=30) as client:  # an MCP client (stdin a pipe): it serves
            assert (await client.list_tools()).tools == []
    said = errlog.read_text()
    assert "nothing is active in" in said and "serving no tools until one is activated" in said
    assert "harnessgym artifacts qualify --all" in said and "harnessgym run" in said

    # A person at a terminal gets an error and exit 1 instead of a silent server.
    code, output = await run_in_terminal(harnessgym_argv("host", "--workspace", str(tmp_path)), cwd=tmp_path)
    assert code == 1 and "Error: nothing is active in" in output and "harnessgym artifacts list" in output


async def test_zero_and_negative_durations_say_why_they_are_not_allowed(tmp_path: Path) -> None:
    for value in ("0", "-1m"):
        bad, _, err = await cli(tmp_path, "run", "--task-text", "t", "--workspace", str(tmp_path),
                                "--attempt-timeout", value)  # fmt: skip
        assert bad.returncode == 2 and f"'{value}' is not allowed: a time limit must be positive" in err, err


def _formats(tools: list[Tool]) -> set[str]:
    text = json.dumps([[t.input_schema, t.output_schema] for t in tools])
    return set(re.findall(r'"format": "([^"]+)"', text))


async def test_serve_lists_tool_schemas_without_the_nonstandard_path_format() -> None:
    server = build_server(ServeSettings())
    assert "path" in _formats(await MCPServer.list_tools(server))  # what the SDK generates from Path fields
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) >= 10 and not _formats(tools) & {"path", "file-path", "directory-path"}, _formats(tools)
    # The rest of each schema is intact: the Path fields are still strings.
    workspace = next(t for t in tools if t.name == "start_run").input_schema["properties"]["workspace"]
    assert "string" in json.dumps(workspace)
