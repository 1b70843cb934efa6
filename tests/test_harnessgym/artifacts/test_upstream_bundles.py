"""Bundles made by HarnessGym 0.1.1 work: its ``runtime/mcp_call.py`` helper exists, its servers get their
variables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from hostile.helpers import host_client, make_manifest
from support.loop import config, example_workspace, marked_processes, run_bounded, script, step

from mcp_host import load_manifest, write_active_servers
from mcp_host._supervise.procs import kill_tree

pytestmark = pytest.mark.anyio


async def test_activation_writes_the_mcp_call_helper_and_a_call_through_it_is_recorded_with_the_phase(
    tmp_path: Path,
) -> None:
    ws = example_workspace(tmp_path)
    helper = [".harnessgym/runtime/mcp_call.py", "--server", "lines", "--tool", "inspect", "--arguments", '{"x": 2}']
    fake = script(
        tmp_path,
        step("build", {"do": "mcp_server", "name": "lines", "framing": "ndjson", "tools": ["inspect"]}, iteration=1),
        step("attempt", {"do": "run", "argv": ["python3", *helper]},
             {"do": "result", "set": {"status": "blocked"}}, iteration=2),
    )  # fmt: skip
    try:
        summary = await run_bounded(config(ws, tmp_path, fake, iterations=2), 90)
    finally:
        for pid in marked_processes(ws):
            await kill_tree(pid, grace=1.0)
    assert (ws / ".harnessgym" / "runtime" / "mcp_call.py").is_file()
    lines = [json.loads(line) for line in (ws / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    assert [(c["tool_name"], c["status"], c["iteration"], c["phase"]) for c in lines] == [
        ("inspect", "completed", 2, "attempt")
    ]
    assert summary.run_id == lines[0]["run_id"]


async def test_a_manifest_passes_on_the_variables_it_names_but_a_secret_named_one_only_when_the_user_does(
    tmp_path: Path,
) -> None:
    make_manifest(tmp_path, "gpu", framing="newline",
                  pass_env=["HARNESSGYM_GPU_HOST", "HARNESSGYM_GPU_KEY"])  # fmt: skip
    write_active_servers(tmp_path, [load_manifest(tmp_path / ".harnessgym" / "mcp" / "gpu", tmp_path)])
    env = {"HARNESSGYM_GPU_HOST": "10.0.0.7", "HARNESSGYM_GPU_KEY": "k-123", "PATH": os.environ["PATH"]}

    async def names(*extra: str) -> set[str]:
        with anyio.fail_after(60):
            async with host_client(tmp_path, "--no-socket", *extra, env=env) as client:
                result = await client.call_tool("gpu__env", {})
        return set(json.loads(result.content[0].text))  # type: ignore[union-attr]

    assert {"HARNESSGYM_GPU_HOST"} <= await names() and "HARNESSGYM_GPU_KEY" not in await names()
    assert {"HARNESSGYM_GPU_HOST", "HARNESSGYM_GPU_KEY"} <= await names("--pass-env", "HARNESSGYM_GPU_KEY")
