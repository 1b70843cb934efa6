"""``harnessgym serve`` as a real process: stdio for Claude Code and IDEs, streamable HTTP with a bearer token.

Loopback here means exactly 127.0.0.1, ::1 and localhost: those may serve without a token. Any other bind,
including another loopback address such as 127.0.0.2 (which is what these tests use, since only 127.0.0.x
traffic is allowed in this environment), counts as reachable by others and must have a token.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from support.serve_client import EXAMPLE, VERIFY, call, hang_script
from support.serve_http import serve_http
from support.waiting import wait_for_file

from harnessgym.jobs import JOBS
from mcp_host._supervise.procs import kill_tree, run_process

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token-for-tests"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def stdio_params(tmp_path: Path, root: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "harnessgym", "serve", "--allow-root", str(root), "--state-dir", str(tmp_path / "state")],
        cwd=str(tmp_path),
        env=dict(os.environ),
    )


@pytest.mark.slow
async def test_over_stdio_a_run_survives_the_client_leaving_and_a_restarted_server_stops_and_resumes_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "task")
    fake_script = hang_script(root)
    with anyio.fail_after(90):
        async with Client(stdio_params(tmp_path, root), read_timeout_seconds=30) as first:
            assert len((await first.list_tools()).tools) == 14
            started = await call(
                first,
                "start_run",
                workspace="task",
                task_text="write done.txt",
                iterations=1,
                verify_command="test -f done.txt",
                runner_options={"fake_script": fake_script},
            )
            run_id = started["run_id"]
            await wait_for_file(root / "task" / ".hang_once")  # the agent is another process
        # The client closed the session and its server is gone; the run's job worker is not (its attempt hangs).
        [job] = JOBS.jobs(root / "task", "run", run_id)
        try:
            assert JOBS.is_alive(job)
            async with Client(stdio_params(tmp_path, root), read_timeout_seconds=40) as second:
                listing = await call(second, "list_runs")
                assert [(r["run_id"], r["status"]) for r in listing["runs"]] == [(run_id, "running")]
                cancelled = await call(second, "cancel_run", run_id=run_id)
                assert (cancelled["run"]["status"], cancelled["live"]) == ("interrupted", False)
                await call(second, "resume_run", run_id=run_id)
                finished = await call(second, "get_run", run_id=run_id, wait_seconds=30)
                assert (finished["run"]["status"], finished["run"]["evidence"]) == ("solved", "verified")
        finally:
            if JOBS.is_alive(job):  # its server is gone, so it is no descendant of ours: stop it here
                await kill_tree(job.pid, grace=0.5)
        assert not JOBS.is_alive(job)


@pytest.mark.slow
async def test_over_http_the_sdk_client_starts_and_follows_a_run_in_both_protocol_eras(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "task")
    with anyio.fail_after(90):
        async with serve_http(tmp_path) as url:
            assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
            async with Client(url, mode="legacy", read_timeout_seconds=30) as legacy:
                assert len((await legacy.list_tools()).tools) == 14
            async with Client(url, read_timeout_seconds=30) as modern:
                run_id = (
                    await call(modern, "start_run", workspace="task", task_file="task/task.md", verify_command=VERIFY)
                )["run_id"]
            # A new connection finds the run the server kept going.
            async with Client(url, read_timeout_seconds=70) as again:
                view = await call(again, "get_run", run_id=run_id, wait_seconds=60)
            assert (view["run"]["status"], len(view["run"]["iterations"])) == ("solved", 2)


async def test_a_non_loopback_bind_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HARNESSGYM_SERVE_TOKEN"}
    result = await run_process(
        [
            sys.executable,
            "-m",
            "harnessgym",
            "serve",
            "--transport",
            "http",
            "--host",
            "127.0.0.2",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        cwd=tmp_path,
        env=env,
        timeout=30,
    )
    assert result.returncode == 2
    assert "refusing to bind 127.0.0.2 without a token" in result.stderr_tail


async def test_with_a_token_every_request_needs_the_bearer_header_and_dns_rebinding_stays_blocked(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HARNESSGYM_SERVE_TOKEN": TOKEN}
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    with anyio.fail_after(60):
        async with serve_http(tmp_path, host="127.0.0.2", env=env) as url, httpx2.AsyncClient(timeout=10) as http:
            assert url.startswith("http://127.0.0.2:")
            for auth in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}):
                response = await http.post(url, json=INITIALIZE, headers={**headers, **auth})
                assert response.status_code == 401, auth
                assert response.headers["www-authenticate"] == 'Bearer realm="harnessgym"'
            rebound = await http.post(
                url, json=INITIALIZE, headers={**headers, "authorization": f"Bearer {TOKEN}", "host": "evil.example"}
            )
            assert rebound.status_code == 421

            authed = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            async with authed, Client(streamable_http_client(url, http_client=authed), read_timeout_seconds=30) as c:
                listing = await call(c, "list_runs")
            assert listing == {"runs": [], "workspaces": []}
