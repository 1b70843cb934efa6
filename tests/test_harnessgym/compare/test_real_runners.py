"""``compare --runners claude,codex --jobs 4`` with the real CLIs against the scripted model server: the same bundle
replayed under each runner, trials at once, each CLI in an agent home of its own seeded from the user's."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_model import scripted_model
from support.real_clis import claude_env, codex_env, ensure_real_clis, write_codex_provider_config

from mcp_host import run_process

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
SUITE = REPO / "examples" / "suite"
ATTEMPT = "(iteration 1 of at most"
TIMEOUT = 240.0
USE_FIXER = "test -f .harnessgym/tools/fixer.py && python3 .harnessgym/tools/fixer.py || echo no fixer"


def _script() -> dict[str, Any]:
    shell = {"tool": [{"name": "Bash", "arguments": {"command": USE_FIXER, "description": "use the fixer"}},
                      {"name": "exec_command", "arguments": {"cmd": USE_FIXER}}]}  # fmt: skip
    return {"scripts": [{"marker": ATTEMPT, "steps": [shell, {"text": "Done."}]}], "fallback": "Nothing to do."}


async def test_the_same_bundle_under_claude_and_codex_in_parallel_isolated_homes(tmp_path: Path) -> None:
    clis = ensure_real_clis()
    user = tmp_path / "user-home"
    suite = tmp_path / "suite.toml"
    suite.write_text(f'trials = 1\nverify_command = "python3 verify.py"\nartifact_source = "{SUITE / "bundle"}"\n'
                     f'[[tasks]]\nname = "alpha"\nworkspace_template = "{SUITE / "alpha"}"\n'
                     'task = "task.md"\n')  # fmt: skip
    with scripted_model(_script(), tmp_path / "model", lifetime=TIMEOUT + 30) as model:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_", "CODEX_"))}
        env.update(claude_env(user, model.base_url))
        env.update(codex_env(user))
        write_codex_provider_config(Path(env["CODEX_HOME"]), model.openai_base_url)
        before = sorted(str(p.relative_to(user)) for p in user.rglob("*"))
        argv = [sys.executable, "-m", "harnessgym", "compare", "--suite", str(suite), "--output-dir",
                str(tmp_path / "out"), "--runners", "claude,codex", "--jobs", "4", "--attempt-timeout", "90s",
                "--claude-bin", str(clis.claude), "--claude-model", "mock-model",
                "--codex-bin", str(clis.codex)]  # fmt: skip
        proc = await run_process(argv, cwd=tmp_path, env=env, timeout=TIMEOUT)
        requests = model.requests()
    assert proc.returncode == 0, (proc.stdout_tail + proc.stderr_tail)[-4000:]
    report = json.loads((tmp_path / "out" / "compare_report.json").read_text())
    trials = {t["trial_id"]: t for t in report["trials"]}
    assert set(trials) == {f"alpha/{r}/{a}/1" for r in ("claude", "codex") for a in ("plain", "harnessed")}
    for trial_id, t in trials.items():
        assert t["valid"], (trial_id, t["invalid_reason"])
        assert t["solved"] == trial_id.endswith("harnessed/1"), trial_id  # only the fixer solves it
        task, runner, arm, _ = trial_id.split("/")
        assert Path(t["agent_home"]) == tmp_path / "out" / task / runner / arm / "trial_1" / "home"
    # Each CLI kept its state in its trial's home: Claude's config dir, Codex's sessions and seeded provider.
    claude_home = Path(trials["alpha/claude/plain/1"]["agent_home"])
    codex_home = Path(trials["alpha/codex/harnessed/1"]["agent_home"])
    assert any((claude_home / ".claude").iterdir())
    assert (codex_home / ".codex" / "config.toml").read_text() == (user / ".codex" / "config.toml").read_text()
    assert list((codex_home / ".codex" / "sessions").rglob("*.jsonl"))
    # The user's homes were read, never written.
    assert sorted(str(p.relative_to(user)) for p in user.rglob("*")) == before
    assert {r.get("api") for r in requests if r.get("api")} == {"anthropic", "openai"}
    suite_report = report["suite"]
    assert {e["runner"] for e in suite_report["effects"] if e["measure"] == "solve_rate"} == {"claude", "codex"}
