"""Activated skills reach the real Claude Code and Codex CLIs, and a quarantined one stops being offered.

A workspace gets two skills under ``.harnessgym/skills/``, activated with
:func:`harnessgym.artifacts.activation.activate`
(the links the loop makes). One attempt phase runs with each runner against the scripted model server; the
model's request log must show each active skill's name and description where the CLI lists skills (Claude
2.1.197: "The following skills are available for use with the Skill tool:", in a ``system``-role message after
the prompt; Codex: the ``<skills_instructions>`` developer message). After ``numerics-check`` is quarantined and
activation runs again, a fresh phase must no longer offer it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel, scripted_model
from support.real_clis import (
    claude_env,
    codex_config,
    codex_env,
    ensure_real_clis,
    phase_request,
)

from harnessgym.artifacts.activation import activate
from harnessgym.artifacts.qualification import trust_without_qualification
from harnessgym.artifacts.registry import ArtifactEntry, Registry
from harnessgym.store.layout import Layout
from runners._base import Runner
from runners._claude import ClaudeRunner
from runners._codex import CodexRunner
from runners._options import RunnerOptions

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]

CHECK = ("numerics-check", "Checks numerical code for overflow and cancellation; use when a verifier reports inf.")
KEPT = ("notes-format", "Formats iteration notes as a short table; use when writing notes.md.")
SCRIPT: dict[str, Any] = {
    "scripts": [
        {"marker": "HG_SKILLS_ON", "steps": [{"text": "skills on"}]},
        {"marker": "HG_SKILLS_OFF", "steps": [{"text": "skills off"}]},
    ]
}
# Where each CLI lists the skills it offers, in its requests to the model.
LISTING = {"claude": "The following skills are available for use with the Skill tool", "codex": "<skills_instructions>"}


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ScriptedModel]:
    with scripted_model(SCRIPT, tmp_path / "model") as server:
        yield server


def _skill(workspace: Path, name: str, description: str) -> ArtifactEntry:
    folder = workspace / ".harnessgym" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    body = f"---\nname: {name}\ndescription: {description}\n---\n# {name}\n\nRun `python3 verifier.py` first.\n"
    (folder / "SKILL.md").write_text(body)
    path = f".harnessgym/skills/{name}/SKILL.md"
    return ArtifactEntry(id=f"skill:{path}", kind="skill", path=path, state="active")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _skill_listing(model: ScriptedModel, cli: str, script: str) -> str:
    """The text in which the CLI listed its skills, in its first request of ``script``."""
    api = "anthropic" if cli == "claude" else "openai"
    request = next(r for r in model.requests(api) if r["script"] == script)
    listings = [s for s in _strings(request["body"]) if LISTING[cli] in s]
    assert listings, f"{cli} listed no skills in its request of {script}"
    return "\n".join(listings)


def _runner(cli: str, model: ScriptedModel, tmp_path: Path) -> Runner:
    clis = ensure_real_clis()
    if cli == "claude":
        env = claude_env(tmp_path / "home", model.base_url)
        return ClaudeRunner(RunnerOptions(claude_bin=str(clis.claude), claude_model="mock-model", agent_env=env))
    return CodexRunner(
        RunnerOptions(
            codex_bin=str(clis.codex),
            codex_config=codex_config(model.openai_base_url),
            agent_env=codex_env(tmp_path / "home"),
        )
    )


@pytest.mark.parametrize("cli", ["claude", "codex"])
async def test_activated_skills_are_offered_to_the_model_and_a_quarantined_one_is_not(
    cli: str, model: ScriptedModel, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    check, kept = _skill(workspace, *CHECK), _skill(workspace, *KEPT)
    layout = Layout(workspace)
    trust_without_qualification(layout, [check, kept], "the test vouches for its two skills")
    record = activate(layout, Registry(artifacts=[check, kept]))
    assert sorted(s.name for s in record.skills) == sorted([CHECK[0], KEPT[0]]) and not record.warnings
    runner = _runner(cli, model, tmp_path)

    on = await runner.run_phase(phase_request(tmp_path, "attempt-1", "HG_SKILLS_ON solve the task"))
    assert on.status == "completed" and on.final_text == "skills on", on.message
    listing = _skill_listing(model, cli, "HG_SKILLS_ON")
    for name, description in (CHECK, KEPT):
        assert f"- {name}: {description}" in listing

    check.state = "quarantined"
    record = activate(layout, Registry(artifacts=[check, kept]))
    assert record.quarantined == [check.id] and [s.name for s in record.skills] == [KEPT[0]]

    off = await runner.run_phase(phase_request(tmp_path, "attempt-2", "HG_SKILLS_OFF solve the task", iteration=2))
    assert off.status == "completed" and off.final_text == "skills off", off.message
    listing = _skill_listing(model, cli, "HG_SKILLS_OFF")
    assert f"- {KEPT[0]}: {KEPT[1]}" in listing
    offered = "\n".join(s for r in model.requests() if r.get("script") == "HG_SKILLS_OFF" for s in _strings(r["body"]))
    assert CHECK[0] not in offered and CHECK[1] not in offered
