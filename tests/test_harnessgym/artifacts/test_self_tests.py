"""A server whose manifest declares no self-test: a recorded note by default, a failure when the user asks for
self-tests (``require_self_tests``), a cached pass from the lenient default included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.loop import config, example_workspace, record, run_bounded, script, states, step

from harnessgym.artifacts.qualification import qualify_in_fresh_copy
from harnessgym.artifacts.registry import ArtifactEntry
from harnessgym.artifacts.servers import NO_SELF_TEST_NOTE
from harnessgym.config import RunConfig
from harnessgym.store.layout import Layout
from runners.fake_agent import MCP_SERVER

pytestmark = pytest.mark.anyio


def _server(ws: Path, name: str = "plain") -> ArtifactEntry:
    folder = ws / ".harnessgym" / "mcp" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.py").write_text(MCP_SERVER.format(framing="content-length", self_test=False, name=name,
                                                        tools=["inspect"]))  # fmt: skip
    manifest = {"name": name, "command": "python3", "args": [f".harnessgym/mcp/{name}/server.py"]}
    (folder / "harnessgym-mcp.json").write_text(json.dumps(manifest))
    path = f".harnessgym/mcp/{name}/harnessgym-mcp.json"
    return ArtifactEntry(id=f"mcp:{path}", kind="mcp", path=path)


def _template(tmp_path: Path, ws: Path) -> Path:
    template = tmp_path / "template"
    template.mkdir()
    (template / "task.md").write_text("x\n")
    return template


async def test_a_server_without_a_self_test_qualifies_on_its_smoke_test_with_a_note(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    entry = _server(ws)
    report = await qualify_in_fresh_copy(Layout(ws), _template(tmp_path, ws), tmp_path / "q", [entry])
    [verdict] = report.artifacts
    assert report.status == "passed" and verdict.status == "passed", verdict.message
    assert verdict.tools == ["inspect"] and "mcp_self_test:not_configured" in verdict.checks
    assert NO_SELF_TEST_NOTE in verdict.message
    assert report.notes == [f"{entry.id}: {NO_SELF_TEST_NOTE}"] and not report.warnings
    saved = json.loads((tmp_path / "q" / "qualification.json").read_text())
    assert saved["notes"] == report.notes


async def test_require_self_tests_fails_a_server_without_one_even_after_a_lenient_pass(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    entry = _server(ws, "strict")
    template = _template(tmp_path, ws)
    strict = await qualify_in_fresh_copy(Layout(ws), template, tmp_path / "s1", [entry], require_self_tests=True)
    assert strict.status == "failed" and "require-self-tests" in strict.artifacts[0].message
    lenient = await qualify_in_fresh_copy(Layout(ws), template, tmp_path / "l", [entry])
    assert lenient.status == "passed"
    # the lenient pass is cached for this content; asking for self-tests still fails it
    again = await qualify_in_fresh_copy(Layout(ws), template, tmp_path / "s2", [entry], require_self_tests=True)
    assert again.status == "failed" and "require-self-tests" in again.artifacts[0].message
    assert not again.notes


def test_require_self_tests_is_an_option_of_the_run_and_a_flag_of_the_cli() -> None:
    from click.testing import CliRunner

    from harnessgym.cli import cli

    assert RunConfig.model_fields["require_self_tests"].default is False
    assert "--require-self-tests" in CliRunner().invoke(cli, ["run", "--help"]).output


def _build_untested_server(tmp_path: Path) -> Path:
    source = MCP_SERVER.format(framing="content-length", self_test=False, name="plain", tools=["inspect"])
    manifest = {"name": "plain", "command": "python3", "args": [".harnessgym/mcp/plain/server.py"]}
    path = ".harnessgym/mcp/plain/harnessgym-mcp.json"
    return script(
        tmp_path,
        step("attempt", {"do": "result", "set": {"status": "incomplete"}}),
        step("reflection", {"do": "result", "set": {"status": "completed"}}),
        step("build",
             {"do": "write", "path": ".harnessgym/mcp/plain/server.py", "text": source},
             {"do": "write", "path": path, "text": json.dumps(manifest)},
             {"do": "register", "entry": {"kind": "mcp", "path": path}},
             {"do": "result", "set": {"status": "tooling_built"}}),
    )  # fmt: skip


@pytest.mark.parametrize("require", [False, True])
async def test_a_missing_self_test_costs_no_repair_round_unless_self_tests_are_required(
    tmp_path: Path, require: bool
) -> None:
    ws = example_workspace(tmp_path)
    fake = _build_untested_server(tmp_path)
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, require_self_tests=require), 60)
    rec = record(ws, summary.run_id, 1)
    [state] = states(ws).values()
    if require:
        assert state == "quarantined" and "repair_1" in rec.phases
    else:
        assert state == "active" and not any(k.startswith("repair") for k in rec.phases)
        report = json.loads(Path(str(rec.qualification_report)).read_text())
        assert report["notes"] and NO_SELF_TEST_NOTE in report["notes"][0]
