"""Qualification and supervision with real processes: both framings, the gate, the cache, the environment."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import anyio
import pytest
from hostile.helpers import SDK_SERVER, TOY, make_manifest

from mcp_host import load_manifest, qualify_servers
from mcp_host._serve.router import Router
from mcp_host._supervise.downstream import Downstream
from mcp_host._supervise.handshake import probe_order
from mcp_host._supervise.trust import VerdictStore
from mcp_host._supervise.verdicts import read_verdict, recall_framing

pytestmark = pytest.mark.anyio


def _meet(folder: Path, me: str, other: str) -> list[str]:
    """A self-test that passes only if ``other``'s self-test runs at the same time: each waits for the other."""
    code = (
        "import pathlib, sys, time\n"
        f"here = pathlib.Path({str(folder)!r}); here.mkdir(exist_ok=True); (here / {me!r}).touch()\n"
        "deadline = time.monotonic() + 20\n"
        f"while not (here / {other!r}).exists():\n"
        "    if time.monotonic() > deadline: sys.exit('the other self-test never ran beside this one')\n"
        "    time.sleep(0.02)\n"
    )
    return ["python3", "-c", code]


_HIDDEN_CL = (
    "import runpy, sys; sys.argv = ['toy', '--framing', 'content-' + 'length']; "
    f"runpy.run_path({TOY!r}, run_name='__main__')"
)


async def test_servers_qualify_concurrently_with_the_upstream_gate_and_passes_are_cached(tmp_path: Path) -> None:
    specs = [
        load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path),
        load_manifest(make_manifest(tmp_path, "cl", "--framing", "content-length"), tmp_path),
        load_manifest(make_manifest(tmp_path, "banner", "--banner", framing="newline"), tmp_path),
        load_manifest(make_manifest(tmp_path, "untested", self_test=False, framing="newline"), tmp_path),
        load_manifest(
            make_manifest(
                tmp_path, "badtest", framing="newline", self_test=["python3", "-c", "import sys; sys.exit(4)"]
            ),
            tmp_path,
        ),
        load_manifest(make_manifest(tmp_path, "dead", "--exit-at-start"), tmp_path),
        load_manifest(
            make_manifest(
                tmp_path,
                "slowtest",
                framing="newline",
                self_test_timeout_sec=0.5,
                self_test=["python3", "-c", "import time; time.sleep(30)"],
            ),
            tmp_path,
        ),
        load_manifest(make_manifest(tmp_path, "filtered", framing="newline", enabled_tools=["nope"]), tmp_path),
        # auto: the toy's source mentions Content-Length, so Content-Length is probed first and newline wins.
        load_manifest(make_manifest(tmp_path, "auto_nl"), tmp_path),
        # auto: nothing to sniff (inline code), so newline is probed first and Content-Length wins.
        load_manifest(
            make_manifest(
                tmp_path, "auto_cl", command="python3", args=["-c", _HIDDEN_CL], self_test=["python3", "-c", "pass"]
            ),
            tmp_path,
        ),
        # Side by side, not one after another: each of these self-tests passes only while the other runs.
        *(
            load_manifest(
                make_manifest(
                    tmp_path,
                    me,
                    framing="newline",
                    self_test_timeout_sec=25,
                    self_test=_meet(tmp_path / "meet", me, other),
                ),
                tmp_path,
            )
            for me, other in (("meet_a", "meet_b"), ("meet_b", "meet_a"))
        ),
    ]
    with anyio.fail_after(30):
        verdicts = await qualify_servers(specs, workspace=tmp_path)
    table = {v.name: (v.status, v.smoke_status, v.self_test_status) for v in verdicts}
    assert table == {
        "nl": ("passed", "passed", "passed"),
        "cl": ("passed", "passed", "passed"),
        "banner": ("passed", "passed", "passed"),
        "untested": ("failed", "passed", "not_configured"),
        "badtest": ("failed", "passed", "failed"),
        "dead": ("failed", "failed", "not_run"),
        "slowtest": ("failed", "passed", "timeout"),
        "filtered": ("failed", "passed", "passed"),
        "auto_nl": ("passed", "passed", "passed"),
        "auto_cl": ("passed", "passed", "passed"),
        "meet_a": ("passed", "passed", "passed"),
        "meet_b": ("passed", "passed", "passed"),
    }
    by_name = {v.name: v for v in verdicts}
    assert by_name["cl"].framing == "content-length" and by_name["nl"].framing == "newline"
    assert (by_name["auto_nl"].framing, by_name["auto_cl"].framing) == ("newline", "content-length")
    assert "echo" in by_name["nl"].tools
    assert "not_configured" not in by_name["untested"].message and "self_test" in by_name["untested"].message
    assert "exit code 4" in by_name["badtest"].message
    assert "cannot start" in by_name["dead"].message  # the stderr tail names the cause
    assert "enabled_tools" in by_name["filtered"].message
    again = await qualify_servers(specs[:2], workspace=tmp_path)
    assert [(v.cached, v.status) for v in again] == [(True, "passed"), (True, "passed")]
    assert not (await qualify_servers(specs[3:4], workspace=tmp_path))[0].cached


@pytest.mark.slow
async def test_a_real_sdk_server_qualifies_and_sees_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    spec = load_manifest(
        make_manifest(tmp_path, "sdk", script=SDK_SERVER, env={"OPENAI_API_KEY": "x", "MODE": "1"}), tmp_path
    )
    with anyio.fail_after(30):
        (verdict,) = await qualify_servers([spec], workspace=tmp_path)
        assert verdict.status == "passed", verdict.message
        assert verdict.framing == "newline"
        async with anyio.create_task_group() as tg:
            server = Downstream(spec, workspace=tmp_path, task_group=tg)
            try:
                await server.ensure_running()
                reply = await server.request("tools/call", {"name": "secrets", "arguments": {}}, 10)
            finally:
                await server.stop()
    names = (
        json.loads(reply["result"]["structuredContent"]["result"])
        if isinstance(reply["result"]["structuredContent"].get("result"), str)
        else reply["result"]["structuredContent"]["result"]
    )
    assert names == []


async def test_a_toy_server_environment_is_the_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    monkeypatch.setenv("SOME_RANDOM_VAR", "x")
    spec = load_manifest(make_manifest(tmp_path, "toy", env={"MODE": "1", "MY_SECRET": "s"}), tmp_path)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            server = Downstream(spec, workspace=tmp_path, task_group=tg)
            try:
                await server.ensure_running()
                reply = await server.request("tools/call", {"name": "env", "arguments": {}}, 5)
            finally:
                await server.stop()
    names = set(json.loads(reply["result"]["content"][0]["text"]))
    assert {"MODE", "HARNESSGYM_WORKSPACE", "PATH"} <= names
    assert not names & {"ANTHROPIC_API_KEY", "SOME_RANDOM_VAR", "MY_SECRET"}
    assert all(n in os.environ or n in {"MODE", "HARNESSGYM_WORKSPACE", "HARNESSGYM_SERVER_TAG"} for n in names)


@pytest.mark.parametrize("framing", ["newline", "content-length", "auto"])
async def test_a_server_that_dies_before_its_first_request_is_reported_with_its_own_words(
    tmp_path: Path, framing: str
) -> None:
    # `sh` exits within a millisecond, so the host's first write usually meets a closed pipe (EPIPE) before it
    # has read the end of stdout: the error must still carry the exit code and the stderr tail, every time.
    specs = [
        load_manifest(
            make_manifest(
                tmp_path,
                f"quick{i}",
                command="sh",
                args=["-c", "echo 'quick: cannot start' >&2; exit 3"],
                framing=framing,
                self_test=["true"],
            ),
            tmp_path,
        )
        for i in range(6)
    ]
    with anyio.fail_after(30):
        verdicts = await qualify_servers(specs, workspace=tmp_path)
    for verdict in verdicts:
        assert (verdict.status, verdict.smoke_status) == ("failed", "failed"), verdict
        assert "quick: cannot start" in verdict.message and "exit code 3" in verdict.message, verdict.message


async def test_a_manifest_cannot_stretch_qualification_past_its_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Manifests may ask for up to a day; qualification caps what it grants (shrunk here so the test is quick).
    import mcp_host._supervise.qualify as qualify

    monkeypatch.setattr(qualify, "MAX_STARTUP_SECONDS", 1.0)
    monkeypatch.setattr(qualify, "MAX_SELF_TEST_SECONDS", 0.5)
    silent = ["-c", "import time; time.sleep(30)"]  # starts, never answers initialize
    specs = [
        load_manifest(make_manifest(tmp_path, "mute", command="python3", args=silent, framing="newline",
                                    timeouts={"startup_seconds": 86400}), tmp_path),
        load_manifest(make_manifest(tmp_path, "lazy", framing="newline", self_test_timeout_sec=86400,
                                    self_test=["python3", "-c", "import time; time.sleep(30)"]), tmp_path),
    ]  # fmt: skip
    with anyio.fail_after(20):
        verdicts = {v.name: v for v in await qualify_servers(specs, workspace=tmp_path)}
    assert verdicts["mute"].smoke_status == "timeout"
    assert "it asks for 86400 s; qualification allows at most 1 s" in verdicts["mute"].message
    assert verdicts["lazy"].self_test_status == "timeout"
    assert "self-test timed out after 0.5 s (it asks for 86400 s; qualification allows at most 0.5 s)" in (
        verdicts["lazy"].message)  # fmt: skip


async def test_qualification_in_a_fresh_copy_fills_the_one_verdict_cache_the_host_starts_servers_from(
    tmp_path: Path,
) -> None:
    ws, fresh = tmp_path / "ws", tmp_path / "fresh"
    # Nothing to sniff (inline code), so without a verdict the host would probe newline first.
    make_manifest(ws, "hidden", command="python3", args=["-c", _HIDDEN_CL], self_test=["python3", "-c", "pass"])
    shutil.copytree(ws, fresh)
    copy = load_manifest(fresh / ".harnessgym" / "mcp" / "hidden", fresh)
    with anyio.fail_after(30):
        (verdict,) = await qualify_servers([copy], workspace=fresh, verdicts_of=ws)
    assert (verdict.status, verdict.framing) == ("passed", "content-length"), verdict.message

    spec = load_manifest(ws / ".harnessgym" / "mcp" / "hidden", ws)
    assert spec.digest == copy.digest
    assert read_verdict(ws, spec.digest) == verdict and read_verdict(fresh, spec.digest) is None
    assert probe_order(spec, None)[0] == "newline"
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            router = Router(workspace=ws, task_group=tg, telemetry=None, log_dir=None)
            try:
                await router.apply([spec])
                server = router.servers["hidden"]
                assert server.learned_framing == "content-length" and server.framing == "content-length"
                assert probe_order(spec, server.learned_framing)[0] == "content-length"
            finally:
                await router.stop_all()
                tg.cancel_scope.cancel()


@pytest.mark.parametrize("content", [b"{not json", b"x" * (2 << 20), None])
def test_an_unreadable_cached_verdict_is_no_verdict(tmp_path: Path, content: bytes | None) -> None:
    digest = "ab" * 32
    path = VerdictStore(tmp_path).dir / "verdicts" / f"server-{digest}.json"  # where verdicts are kept
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        os.mkfifo(path)  # an agent's FIFO must not block the host
    else:
        path.write_bytes(content)
    assert read_verdict(tmp_path, digest) is None and recall_framing(tmp_path, digest) is None
    assert read_verdict(tmp_path, "../../etc/passwd") is None
