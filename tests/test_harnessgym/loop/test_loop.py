"""The loop end to end with the fake agent as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.loop import (
    VERIFY,
    config,
    example_workspace,
    record,
    registry,
    result,
    run_bounded,
    script,
    states,
    step,
)

from harnessgym.artifacts.registry import QualificationReport

pytestmark = pytest.mark.anyio


async def test_demo_is_solved_at_iteration_two_with_verified_evidence(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    summary = await run_bounded(config(ws, tmp_path, verify_command=VERIFY))
    assert (summary.status, summary.solved, summary.evidence, summary.solved_iteration) == (
        "solved", True, "verified", 2)  # fmt: skip
    run_dir = ws / ".harnessgym" / "runs" / summary.run_id
    one = run_dir / "iterations" / "1"
    for phase in ("attempt", "reflection", "build"):
        for kind in ("prompt", "stdout", "stderr", "transcript"):
            assert (one / f"{phase}.{kind}.txt").is_file(), f"{phase}.{kind}.txt"
    for name in (
        "verify.json",
        "verify.stdout.txt",
        "result.json",
        "iteration.json",
        "activation.json",
        "post_build_activation.json",
        "qualification/attempt_1/qualification.json",
    ):
        assert (one / name).exists(), name
    assert (run_dir / "summary.json").is_file() and (run_dir / "journal.jsonl").is_file()
    first, second = record(ws, summary.run_id, 1), record(ws, summary.run_id, 2)
    assert (first.status, first.verdict and first.verdict.status, second.status) == (
        "tooling_built",
        "failed",
        "solved",
    )
    assert second.verdict is not None and second.verdict.passed and second.score == 0.0
    assert "m = max(xs)" in (ws / "numerics.py").read_text()
    assert states(ws) == {"mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json": "active"}
    assert "numcheck" in (run_dir / "iterations" / "2" / "attempt.prompt.txt").read_text()
    # Iteration 2's attempt called the server iteration 1 built, through the host, before fixing the bug.
    [call] = [json.loads(line) for line in (ws / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    assert {k: call[k] for k in ("run_id", "iteration", "phase", "server", "tool_name", "status")} == {
        "run_id": summary.run_id, "iteration": 2, "phase": "attempt", "server": "numcheck",
        "tool_name": "failing_cases", "status": "completed"}  # fmt: skip
    assert (second.mcp_calls, [b.mcp_calls for b in summary.iterations]) == (1, [0, 1])
    [note] = summary.iterations[0].artifacts
    assert (note.artifact_id, note.verdict, note.state, note.tools) == (
        "mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json", "passed", "active", ["failing_cases"])  # fmt: skip


async def test_without_verify_command_solved_rests_on_the_agents_claim(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    summary = await run_bounded(config(ws, tmp_path))
    assert (summary.solved, summary.evidence) == (True, "agent_claim")
    assert summary.iterations[1].verdict_status is None


async def test_verdict_overrides_an_agent_that_claims_solved(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", result(status="solved", verified=True, metrics={"score": 0.0})))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, verify_command=VERIFY))
    assert (summary.solved, summary.evidence) == (False, "none")
    rec = record(ws, summary.run_id, 1)
    assert rec.agent_claim is not None and (rec.agent_claim.status, rec.agent_claim.score) == ("solved", 0.0)
    assert rec.verdict is not None and rec.score == rec.verdict.score and rec.score == pytest.approx(4 / 7)
    assert any("claimed iteration 1 solved" in p for p in rec.problems)


async def test_failing_agent_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", {"do": "exit", "code": 3, "message": "model unavailable"}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=2, verify_command=VERIFY))
    assert summary.status == "not_solved" and len(summary.iterations) == 2
    attempt = record(ws, summary.run_id, 1).phases["attempt"]
    assert (attempt.status, attempt.return_code, attempt.error_kind) == ("failed", 3, "nonzero_exit")
    assert "model unavailable" in attempt.message


async def test_malformed_result_json_marks_attempt_incomplete(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", {"do": "raw_result", "text": "{oops"}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1))
    rec = record(ws, summary.run_id, 1)
    assert rec.status == "incomplete"
    assert "result.json of iteration 1 is not JSON (line 1, column 2); the attempt is recorded as incomplete" in (
        rec.problems)  # fmt: skip


async def test_partial_result_json_keeps_good_fields_and_reports_bad_ones(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step(
            "attempt",
            {
                "do": "raw_result",
                "text": json.dumps({"status": "blocked", "verified": "maybe", "blockers": "not a list", "extra": 1}),
            },
        ),
    )
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1))
    rec = record(ws, summary.run_id, 1)
    assert rec.agent_claim is not None and rec.agent_claim.status == "blocked"
    assert any("'verified'" in p for p in rec.problems) and any("'blockers'" in p for p in rec.problems)


async def test_timeout_kills_the_agent_and_the_children_it_holds(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", {"do": "hang", "children": 2}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, attempt_timeout=1.5))
    rec = record(ws, summary.run_id, 1)
    assert (rec.phases["attempt"].status, rec.phases["attempt"].timed_out) == ("timeout", True)
    transcript = (ws / ".harnessgym" / "runs" / summary.run_id / "iterations/1/attempt.transcript.txt").read_text()
    line = next(ln for ln in transcript.splitlines() if ln.startswith("[action]") and '"children"' in ln)
    children = json.loads(line.split(" ", 1)[1])["children"]
    from support.loop import alive

    assert len(children) == 2 and not any(alive(pid) for pid in children)


async def test_bad_registry_entries_are_set_aside_with_their_reasons(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("build",
        {"do": "register", "entry": {"path": ".harnessgym/tools/x.py"}},
        {"do": "register", "entry": {"kind": "tool"}},
        {"do": "register", "entry": {"kind": "tool", "path": "/etc/passwd"}},
        {"do": "register", "entry": {"kind": "tool", "path": "../../outside.py"}},
        {"do": "tool", "name": "fine"}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1))
    reasons = sorted(r["reason"] for r in registry(ws)["rejected"])
    assert reasons == [
        "artifact entry has no 'kind'",
        "artifact entry has no 'path'",
        "artifact path '../../outside.py' is outside the workspace",
        "artifact path '/etc/passwd' is outside the workspace",
    ]
    assert states(ws) == {"tool:.harnessgym/tools/fine.py": "active"}
    assert sum("set aside" in p for p in record(ws, summary.run_id, 1).problems) == 4


async def test_only_the_failing_artifact_is_quarantined(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("build",
        {"do": "skill", "name": "good-skill", "description": "Stable log-sum-exp."},
        {"do": "skill", "name": "bad-skill", "front_matter": {"name": "bad-skill"}},
        {"do": "tool", "name": "probe"}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, artifact_repair_attempts=0))
    assert states(ws) == {
        "skill:.harnessgym/skills/good-skill/SKILL.md": "active",
        "skill:.harnessgym/skills/bad-skill/SKILL.md": "quarantined",
        "tool:.harnessgym/tools/probe.py": "active",
    }
    bad = next(a for a in registry(ws)["artifacts"] if "bad-skill" in a["id"])
    assert bad["quarantine_reason"] == "SKILL.md front matter has no 'description'"
    for base in (".agents/skills", ".claude/skills"):
        assert (ws / base / "good-skill").is_symlink() and not (ws / base / "bad-skill").exists()
        assert (ws / base / "good-skill" / "SKILL.md").read_text().startswith("---")
    assert summary.quarantined_artifacts == ["skill:.harnessgym/skills/bad-skill/SKILL.md"]


async def test_repair_resumes_the_build_session_and_fixes_the_artifact(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step("build", {"do": "skill", "name": "s1", "front_matter": {"name": "s1"}}),
        step("repair", {"do": "check_prompt", "contains": "no 'description'"},
             {"do": "skill", "name": "s1", "description": "Fixed.", "register": False}),
    )  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1))
    rec = record(ws, summary.run_id, 1)
    assert rec.phases["repair_1"].status == "completed"
    assert rec.phases["repair_1"].session_id == rec.phases["attempt"].session_id
    assert states(ws) == {"skill:.harnessgym/skills/s1/SKILL.md": "active"}
    run_dir = ws / ".harnessgym" / "runs" / summary.run_id / "iterations" / "1"
    assert (run_dir / "repair_1" / "build.prompt.txt").is_file()
    assert (run_dir / "qualification" / "attempt_2" / "qualification.json").is_file()


async def test_deleted_artifact_leaves_the_registry_and_its_links(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step("build", {"do": "skill", "name": "gone", "description": "Soon deleted."}, iteration=1),
        step("attempt", {"do": "delete", "path": ".harnessgym/skills/gone"}, iteration=2),
    )
    await run_bounded(config(ws, tmp_path, fake, iterations=2))
    assert states(ws) == {}
    assert not (ws / ".claude" / "skills" / "gone").is_symlink()


async def test_stop_score_ends_the_run_when_the_measured_score_reaches_it(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    summary = await run_bounded(config(ws, tmp_path, iterations=3, verify_command=VERIFY, stop_score=0.6))
    assert (summary.solved_iteration, summary.evidence, len(summary.iterations)) == (1, "verified", 1)
    assert record(ws, summary.run_id, 1).target_reached


async def test_task_state_reset_restores_the_workspace_before_later_iterations(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step("attempt", {"do": "write", "path": "scratch.txt", "text": "junk"}, iteration=1),
        step("attempt", {"do": "run", "argv": ["test", "!", "-e", "scratch.txt"]}, iteration=2),
    )
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=2, task_state="reset"))
    assert record(ws, summary.run_id, 2).phases["attempt"].status == "completed"
    assert not (ws / "scratch.txt").exists()


async def test_build_after_solve_still_reflects_and_builds(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", result(status="solved")), step("build", {"do": "tool", "name": "t"}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=3, build_after_solve=True))
    rec = record(ws, summary.run_id, 1)
    assert (summary.solved_iteration, len(summary.iterations), rec.skipped_phases) == (1, 1, [])
    assert states(ws) == {"tool:.harnessgym/tools/t.py": "active"} and rec.status == "solved"


SELF_TESTING_TOOL = """import sys
if "--self-test" in sys.argv:
    print("self-test ok")
    sys.exit(0)
print("probing")
"""


async def test_a_tools_declared_self_test_runs_in_the_clean_copy_and_decides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-not-for-agent-code")
    no_secrets = ("python3 -c \"import os, sys; bad = [k for k in os.environ if 'KEY' in k]; print(bad); "
                  "sys.exit(1 if bad else 0)\"")  # fmt: skip
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("build",
        {"do": "tool", "name": "good", "text": SELF_TESTING_TOOL, "self_test": True},
        {"do": "tool", "name": "clean_env", "self_test": no_secrets},
        {"do": "tool", "name": "broken", "self_test": ["python3", "-c", "print('numerics off'); raise SystemExit(3)"]},
        {"do": "tool", "name": "slow", "self_test": "sleep 30", "self_test_timeout_sec": 0.5},
        {"do": "tool", "name": "unsplittable", "self_test": "python3 'unterminated"},
        {"do": "tool", "name": "untested"}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, artifact_repair_attempts=0))
    assert states(ws) == {
        "tool:.harnessgym/tools/good.py": "active",
        "tool:.harnessgym/tools/clean_env.py": "active",
        "tool:.harnessgym/tools/broken.py": "quarantined",
        "tool:.harnessgym/tools/slow.py": "quarantined",
        "tool:.harnessgym/tools/unsplittable.py": "quarantined",
        "tool:.harnessgym/tools/untested.py": "active",  # no self-test declared: the static checks decide
    }
    reasons = {a["id"].split("/")[-1]: a["quarantine_reason"] for a in registry(ws)["artifacts"]}
    assert reasons["broken.py"].startswith("self-test failed (exit code 3)") and "numerics off" in reasons["broken.py"]
    assert reasons["slow.py"].startswith("self-test timed out after 0.5 s: sleep 30")
    assert "self_test" in reasons["unsplittable.py"] and "cannot be split" in reasons["unsplittable.py"]
    rec = record(ws, summary.run_id, 1)
    assert rec.qualification_report is not None
    report = QualificationReport.model_validate_json(rec.qualification_report.read_text())
    checks = {v.path.split("/")[-1]: v.checks for v in report.artifacts}
    assert checks["good.py"] == ["exists", "python_syntax", "self_test"] and "self_test" not in checks["untested.py"]
    # The output of every self-test is kept beside the qualification report.
    qual = ws / ".harnessgym" / "runs" / summary.run_id / "iterations" / "1" / "qualification" / "attempt_1"
    assert "self-test ok" in (qual / ".harnessgym_tools_good.py.self_test.stdout.txt").read_text()


async def test_verify_and_post_commands_get_no_secret_unless_it_is_passed_on_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a verify command runs is mostly the agent's code: it sees no key or token but the ones named.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-never-for-agent-code")
    monkeypatch.setenv("JUDGE_API_TOKEN", "judge-token")
    monkeypatch.setenv("HARNESSGYM_TEST_PLAIN", "kept")
    probe = ("python3 -c \"import json, os; print(json.dumps({'status': 'passed', 'seen': sorted(k for k in "
             "('ANTHROPIC_API_KEY', 'JUDGE_API_TOKEN', 'HARNESSGYM_TEST_PLAIN') if k in os.environ)}))\"")  # fmt: skip
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", result(status="blocked")))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, verify_command=probe,
                                       post_attempt_command=probe, verify_pass_env=("JUDGE_API_TOKEN",)))  # fmt: skip
    rec = record(ws, summary.run_id, 1)
    assert rec.verdict is not None and rec.verdict.payload is not None
    assert rec.verdict.payload["seen"] == ["HARNESSGYM_TEST_PLAIN", "JUDGE_API_TOKEN"]
    assert rec.post_attempt is not None and rec.post_attempt.payload is not None
    assert rec.post_attempt.payload["seen"] == ["HARNESSGYM_TEST_PLAIN", "JUDGE_API_TOKEN"]
    # Without passing it on, the token stays out too.
    ws2 = example_workspace(tmp_path / "again")
    summary = await run_bounded(config(ws2, tmp_path, fake, iterations=1, verify_command=probe))
    verdict = record(ws2, summary.run_id, 1).verdict
    assert verdict is not None and verdict.payload is not None and verdict.payload["seen"] == ["HARNESSGYM_TEST_PLAIN"]
