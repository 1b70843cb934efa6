"""Prompts come from editable templates, state where result.json goes, and stay bounded."""

from __future__ import annotations

from pathlib import Path

from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict, QualificationReport
from harnessgym.loop.prompting import TEMPLATE_DIR, attempt_prompt, repair_prompt
from harnessgym.store.layout import Layout


def test_templates_are_files_a_reader_can_find() -> None:
    assert sorted(p.name for p in TEMPLATE_DIR.glob("*.md")) == ["attempt.md", "build.md", "reflection.md", "repair.md"]


def test_a_long_qualification_report_is_summarised_with_the_path_to_the_whole(tmp_path: Path) -> None:
    report = QualificationReport(status="failed", artifacts=[
        ArtifactVerdict(artifact_id=f"tool:t{i}.py", kind="tool", path=f"t{i}.py", status="failed", message="x" * 5000)
        for i in range(200)])  # fmt: skip
    path = tmp_path / "qualification.json"
    prompt = repair_prompt(repair_index=1, report=report, report_path=path, result_path=tmp_path / "result.json")
    assert len(prompt) < 8000 and str(path) in prompt and "more characters cut" in prompt


def test_attempt_prompt_lists_the_active_harness_and_hides_quarantined_artifacts(tmp_path: Path) -> None:
    tools = [ArtifactEntry(id=f"tool:{i}", kind="tool", path=f".harnessgym/tools/{i}.py", description="d" * 999)
             for i in range(100)]  # fmt: skip
    prompt = attempt_prompt(
        layout=Layout(tmp_path), iteration=2, iterations=3, task="TASK", task_source="given as text",
        result_path=tmp_path / "r.json", artifacts=tools, quarantined=2, verify_command="make check",
        stop_score=0.5, score_key="loss", mcp_servers=["probe"],
    )  # fmt: skip
    assert "TASK" in prompt and str(tmp_path / "r.json") in prompt and "`make check`" in prompt
    assert "and 60 more" in prompt and "2 quarantined artifact(s) are hidden" in prompt
    assert "harnessgym mcp call" in prompt and "loss = 0.5" in prompt and len(prompt) < 20000
