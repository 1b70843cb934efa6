"""The ``codex app-server`` client against a stand-in server process: requests the server asks are answered by
policy at once (never left hanging), a server that stops answering is a bounded error, and closing the client
leaves no process behind, not even one the server started in its own session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.real_clis import pid_gone

from runners._codex_app_server import CLOSED, AppServer, AppServerError, approval_answer

pytestmark = pytest.mark.anyio

# Asks its client three questions when told "ask", reports the answers; "hide" starts an escaped sleeper.
STAND_IN = r"""
import json, os, subprocess, sys
def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()
def read():
    line = sys.stdin.readline()
    return json.loads(line) if line else None
while True:
    msg = read()
    if msg is None:
        break
    if msg.get("method") == "ask":
        answers = []
        for n, method in enumerate(["item/commandExecution/requestApproval", "item/fileChange/requestApproval",
                                    "item/tool/requestUserInput"]):
            send({"id": f"s{n}", "method": method, "params": {"threadId": "t"}})
            answers.append(read())
        send({"method": "note", "params": {"n": 1}})
        send({"id": msg["id"], "result": {"answers": answers}})
    elif msg.get("method") == "hide":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        send({"id": msg["id"], "result": {"pid": child.pid}})
    elif msg.get("method") == "ignore":
        pass
"""


async def _with_server(tmp_path: Path, bypass: bool, body: Any) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            server = await AppServer.start(
                [sys.executable, str(script)], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                stdout_path=tmp_path / "out.jsonl", stderr_path=tmp_path / "err.txt", on_notification=notes.append,
                bypass=bypass, tg=tg,
            )  # fmt: skip
            try:
                await body(server)
            finally:
                await server.close()
            tg.cancel_scope.cancel()
    return notes


@pytest.mark.parametrize(("bypass", "decision"), [(True, "accept"), (False, "decline")])
async def test_approvals_are_answered_by_policy_and_other_questions_refused(
    tmp_path: Path, bypass: bool, decision: str
) -> None:
    got: dict[str, Any] = {}

    async def ask(server: AppServer) -> None:
        got.update(await server.request("ask", {}, timeout=20))

    notes = await _with_server(tmp_path, bypass, ask)
    command, change, question = got["answers"]
    assert command["result"] == {"decision": decision} and change["result"] == {"decision": decision}
    assert "error" in question and "does not answer" in question["error"]["message"]
    assert notes == [{"method": "note", "params": {"n": 1}}, {"method": CLOSED}], "and the end is told, too"
    assert '"note"' in (tmp_path / "out.jsonl").read_text(), "the traffic is recorded"


async def test_an_unanswered_request_is_a_bounded_error_and_close_leaves_nothing_running(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    async def body(server: AppServer) -> None:
        seen["pid"] = (await server.request("hide", {}, timeout=20))["pid"]
        seen["server"] = server.proc.pid
        with pytest.raises(AppServerError, match=r"did not answer within 0\.5 s"):
            await server.request("ignore", {}, timeout=0.5)

    await _with_server(tmp_path, True, body)
    assert pid_gone(seen["pid"]) and pid_gone(seen["server"]), "the escaped child must die with the server"


def test_the_policy_table() -> None:
    assert approval_answer("execCommandApproval", True) == {"decision": "approved"}
    assert approval_answer("applyPatchApproval", False) == {"decision": "denied"}
    assert approval_answer("mcpServer/elicitation/request", True) == {"action": "decline"}
    assert approval_answer("attestation/generate", True) is None
