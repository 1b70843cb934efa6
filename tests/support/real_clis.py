"""The pinned real agent CLIs for tests, and how to point them at the scripted model server.

:func:`ensure_real_clis` installs ``@anthropic-ai/claude-code@2.1.197`` and ``@openai/codex@0.169.0`` under
``<repo>/.cache/real_clis`` when their native binaries are missing (npm, bounded, under a file lock so parallel
sessions do not race) and returns the native binaries. It skips the test when npm is unavailable (CI turns the
skip into a failure). The native binaries are used directly: the npm ``codex`` launcher is a Node process that
leaves the real binary orphaned when killed, and ``.bin/claude`` is a stub when install scripts are blocked.

:func:`claude_env` and :func:`codex_config` give an isolated HOME/CODEX_HOME, the scripted server's URL and no
retries, so nothing outside the test's temporary directory is read or written and nothing but 127.0.0.1 is
contacted.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import pytest

from mcp_host._supervise.procs import run_process
from mcp_host._supervise.proctable import alive
from runners._base import McpLaunch, Phase, PhaseRequest

__all__ = [
    "CLAUDE_VERSION",
    "CODEX_VERSION",
    "RealClis",
    "claude_env",
    "codex_config",
    "codex_env",
    "ensure_real_clis",
    "phase_request",
    "pid_gone",
    "write_codex_provider_config",
]

CLAUDE_VERSION = "2.1.197"
CODEX_VERSION = "0.169.0"
REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".cache" / "real_clis"
_CLAUDE = Path("node_modules/@anthropic-ai/claude-code-linux-x64/claude")
_CODEX = Path("node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex")
INSTALL_TIMEOUT = 600.0


@dataclass(frozen=True)
class RealClis:
    claude: Path
    codex: Path


def _version(prefix: Path, package: str) -> str | None:
    try:
        return str(json.loads((prefix / "node_modules" / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _present(prefix: Path) -> RealClis | None:
    """The binaries, when both are installed at the pinned versions."""
    clis = RealClis(claude=prefix / _CLAUDE, codex=prefix / _CODEX)
    if not (clis.claude.is_file() and clis.codex.is_file()):
        return None
    pinned = (_version(prefix, "@anthropic-ai/claude-code"), _version(prefix, "@openai/codex"))
    return clis if pinned == (CLAUDE_VERSION, CODEX_VERSION) else None


def ensure_real_clis(prefix: Path = PREFIX) -> RealClis:
    """The native Claude Code and Codex binaries, installed with npm first if needed."""
    found = _present(prefix)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the pinned Claude Code and Codex CLIs cannot be installed")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing; wait for it
        found = _present(prefix)
        if found is not None:
            return found
        argv = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix)]
        argv += [f"@anthropic-ai/claude-code@{CLAUDE_VERSION}", f"@openai/codex@{CODEX_VERSION}"]
        proc = anyio.run(partial(run_process, argv, timeout=INSTALL_TIMEOUT))
        if proc.timed_out:
            pytest.skip(f"npm install of the real CLIs took longer than {INSTALL_TIMEOUT:g} s")
        found = _present(prefix)
        if found is None:
            pytest.skip(f"npm install of the real CLIs failed (exit {proc.returncode}): {proc.stderr_tail[-2000:]}")
        return found


def claude_env(home: Path, base_url: str) -> dict[str, str]:
    """Environment for Claude Code against the scripted server, with its own HOME and no retries."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }


def codex_env(home: Path) -> dict[str, str]:
    """Environment for Codex: its own HOME and CODEX_HOME."""
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "CODEX_HOME": str(home / ".codex")}


def codex_config(openai_base_url: str, model: str = "mock-model") -> tuple[str, ...]:
    """``RunnerOptions.codex_config`` entries for a ``mock`` provider at the scripted server, without retries.

    ``mock-model`` is an unknown slug on purpose: Codex then offers MCP tools directly (a known slug such as
    ``gpt-5.5`` defers them behind ``tool_search``).
    """
    return (
        "model_provider=mock",
        "model_providers.mock.name=mock",
        f"model_providers.mock.base_url={openai_base_url}",
        "model_providers.mock.wire_api=responses",
        "model_providers.mock.supports_websockets=false",
        "model_providers.mock.request_max_retries=0",
        "model_providers.mock.stream_max_retries=0",
        f"model={model}",
    )


def phase_request(
    root: Path,
    label: str,
    prompt: str,
    *,
    phase: Phase = "attempt",
    session_id: str | None = None,
    timeout: float = 60.0,
    mcp: McpLaunch | None = None,
    run_id: str = "test-run",
    iteration: int = 1,
) -> PhaseRequest:
    """A :class:`PhaseRequest` with workspace ``root/ws`` and its files under ``root/phases/<label>/``."""
    workspace = root / "ws"
    workspace.mkdir(parents=True, exist_ok=True)
    files = root / "phases" / label
    files.mkdir(parents=True, exist_ok=True)
    (files / "prompt.md").write_text(prompt)
    return PhaseRequest(
        phase=phase,
        prompt=prompt,
        workspace=workspace,
        run_id=run_id,
        iteration=iteration,
        timeout_seconds=timeout,
        session_id=session_id,
        result_path=workspace / ".harnessgym" / "result.json",
        prompt_path=files / "prompt.md",
        stdout_path=files / "stdout.jsonl",
        stderr_path=files / "stderr.txt",
        transcript_path=files / "transcript.log",
        mcp=mcp,
    )


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (gone, or a zombie waiting to be reaped)."""
    return not alive(pid)


def write_codex_provider_config(codex_home: Path, openai_base_url: str, model: str = "mock-model") -> Path:
    """Write ``$CODEX_HOME/config.toml`` selecting the scripted server as the provider (no retries).

    For tests that drive ``harnessgym run --runner codex`` and cannot pass ``-c`` flags themselves.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    lines = [f"model = {json.dumps(model)}", 'model_provider = "mock"', "", "[model_providers.mock]"]
    lines += ['name = "mock"', f"base_url = {json.dumps(openai_base_url)}", 'wire_api = "responses"']
    lines += ["supports_websockets = false", "request_max_retries = 0", "stream_max_retries = 0", ""]
    path = codex_home / "config.toml"
    path.write_text("\n".join(lines))
    return path
