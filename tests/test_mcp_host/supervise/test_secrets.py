"""No secret reaches agent-written code: not through a server's environment, nor through its parent's.

A generated server can read its parent's ``/proc/<pid>/environ``, so the host (started by Claude Code, which
hands it its whole environment, or as a daemon by ``harnessgym mcp call``) must not hold secrets either.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from support.real_clis import phase_request

from mcp_host import HostUnavailableError, call_tool
from mcp_host._supervise import procs
from mcp_host._supervise.env import host_env, is_secret_name, scrubbed_env
from runners._base import McpLaunch
from runners._claude import ClaudeRunner
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio

SECRETS = {
    "GITHUB_PAT": "ghp_x",
    "github_pat": "ghp_y",
    "GH_TOKEN": "t",
    "AWS_ACCESS_KEY_ID": "a",
    "AWS_SECRET_ACCESS_KEY": "s",
    "AWS_SESSION_TOKEN": "t",
    "OPENAI_API_KEY": "k",
    "ANTHROPIC_API_KEY": "k",
    "ANTHROPIC_AUTH_TOKEN": "t",
    "HF_TOKEN": "t",
    "NPM_TOKEN": "t",
    "DB_PASSWD": "p",
    "PGPASSWORD": "p",
    "DATABASE_URL": "postgres://u:p@db/x",
    "SSH_AUTH_SOCK": "/tmp/agent",
    "MY_APIKEY": "k",
    "GOOGLE_APPLICATION_CREDENTIALS": "/k.json",
    "SENTRY_DSN": "https://k@sentry/1",
    "REDIS_URL": "redis://:p@r",
}
HARMLESS = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "HARNESSGYM_RUN_ID": "r1",
    "XDG_RUNTIME_DIR": "/run/user/0",
    "LC_ALL": "C.UTF-8",
}


def test_pat_style_names_are_secret_but_path_and_compat_are_not() -> None:
    assert is_secret_name("GITHUB_PAT") and is_secret_name("PAT") and is_secret_name("gitlab_pat_ci")
    assert not is_secret_name("PATH") and not is_secret_name("COMPAT_MODE") and not is_secret_name("PATTERN")


def test_the_claude_launch_strips_every_variable_the_host_may_not_hold(tmp_path: Path) -> None:
    launch = McpLaunch(command="/usr/bin/python3", args=["-m", "host"], env={"HARNESSGYM_PHASE": "attempt"})
    request = phase_request(tmp_path, "attempt", "prompt", mcp=launch)
    env = {**SECRETS, **HARMLESS, "HARNESSGYM_PHASE": "x", "CLAUDECODE": "1", "PWD": "/w"}

    server = ClaudeRunner(RunnerOptions()).mcp_config(request, launch, env)["mcpServers"]["harnessgym"]

    args = server["args"]
    unset = {args[i + 1] for i, a in enumerate(args[: args.index("--")]) if a == "-u"}
    assert unset == {*SECRETS, "CLAUDECODE", "PWD"}
    assert args[args.index("--") + 1 :] == ["/usr/bin/python3", "-m", "host"]
    kept = set(env) - unset
    assert kept == {*HARMLESS, "HARNESSGYM_PHASE"}
    assert set(scrubbed_env(base=env)) <= kept  # what the host's children get is a part of what it holds


async def test_the_host_daemon_mcp_call_starts_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict[str, str]] = []

    def fake_spawn_detached(argv: list[str], *, env: dict[str, str] | None = None, **kw: object) -> int:
        started.append(dict(env) if env is not None else {"<inherited>": "everything"})
        return 0

    for name, value in {**SECRETS, **HARMLESS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(procs, "spawn_detached", fake_spawn_detached)

    with anyio.fail_after(10), pytest.raises(HostUnavailableError):
        await call_tool(tmp_path, "s", "t", {}, timeout=0.2)

    assert len(started) == 1
    assert not set(SECRETS) & set(started[0])
    assert {"PATH", "HOME", "HARNESSGYM_RUN_ID", "XDG_RUNTIME_DIR"} <= set(started[0])
    assert started[0] == host_env()
