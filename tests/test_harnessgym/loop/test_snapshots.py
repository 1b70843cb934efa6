"""A whole run with the fake agent, as records a reader can check field by field: the summary, an iteration's
record, and the prompts each phase was given (whole, in ``snapshots/``).

After a deliberate change, ``pytest <this file> --inline-snapshot=fix`` rewrites them; read the diff."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from inline_snapshot import external_file, snapshot
from support.loop import VERIFY, config, example_workspace, record
from support.snapshots import normalized, normalized_text

from harnessgym import run_async
from harnessgym.artifacts.registry import ArtifactVerdict, QualificationReport
from harnessgym.loop.prompting import repair_prompt

pytestmark = pytest.mark.anyio


async def test_a_run_solved_at_iteration_two_is_recorded_whole(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    with anyio.fail_after(60):
        summary = await run_async(config(ws, tmp_path, verify_command=VERIFY))
    names = {"ws": str(ws), "run": summary.run_id}

    assert normalized(summary, **names) == snapshot(
        {
            "schema_version": 1,
            "run_id": "<run>",
            "workspace": "<ws>",
            "run_dir": "<ws>/.harnessgym/runs/<run>",
            "status": "solved",
            "solved": True,
            "evidence": "verified",
            "runner": "fake",
            "final_status": "solved",
            "solved_iteration": 2,
            "best_score": 0.0,
            "optimization": None,
            "baseline_post_attempt": None,
            "restored_best": None,
            "iterations": [
                {
                    "iteration": 1,
                    "status": "tooling_built",
                    "solved": False,
                    "evidence": "none",
                    "score": 0.5714285714285714,
                    "verdict_status": "failed",
                    "claim_status": "blocked",
                    "attempt_status": "completed",
                    "record_path": "<ws>/.harnessgym/runs/<run>/iterations/1/iteration.json",
                    "cost_usd": None,
                    "result_path": "<ws>/.harnessgym/runs/<run>/iterations/1/result.json",
                    "best_score": 0.5714285714285714,
                    "mcp_calls": 0,
                    "duration_seconds": "<timing>",
                    "artifacts": [
                        {
                            "artifact_id": "mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json",
                            "kind": "mcp",
                            "verdict": "passed",
                            "state": "active",
                            "tools": ["failing_cases"],
                            "message": "",
                        }
                    ],
                },
                {
                    "iteration": 2,
                    "status": "solved",
                    "solved": True,
                    "evidence": "verified",
                    "score": 0.0,
                    "verdict_status": "passed",
                    "claim_status": "solved",
                    "attempt_status": "completed",
                    "record_path": "<ws>/.harnessgym/runs/<run>/iterations/2/iteration.json",
                    "cost_usd": None,
                    "result_path": "<ws>/.harnessgym/runs/<run>/iterations/2/result.json",
                    "best_score": 0.0,
                    "mcp_calls": 1,
                    "duration_seconds": "<timing>",
                    "artifacts": [],
                },
            ],
            "active_artifacts": ["mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json"],
            "quarantined_artifacts": [],
            "cost_usd": None,
            "started_at": "<time>",
            "finished_at": "<time>",
            "message": "",
        }
    )
    assert normalized(record(ws, summary.run_id, 1), **names) == snapshot(
        {
            "schema_version": 1,
            "run_id": "<run>",
            "iteration": 1,
            "status": "tooling_built",
            "completed_phases": ["prepare", "attempt", "verify", "reflection", "build", "qualify", "activate"],
            "skipped_phases": [],
            "phases": {
                "attempt": {
                    "phase": "attempt",
                    "status": "completed",
                    "session_id": "fake-<uuid>",
                    "return_code": 0,
                    "timed_out": False,
                    "duration_seconds": "<timing>",
                    "message": "",
                    "prompt_path": "<ws>/.harnessgym/runs/<run>/iterations/1/attempt.prompt.txt",
                    "stdout_path": "<ws>/.harnessgym/runs/<run>/iterations/1/attempt.stdout.txt",
                    "stderr_path": "<ws>/.harnessgym/runs/<run>/iterations/1/attempt.stderr.txt",
                    "transcript_path": "<ws>/.harnessgym/runs/<run>/iterations/1/attempt.transcript.txt",
                    "usage": {},
                    "cost_usd": None,
                    "error_kind": None,
                    "permission_denials": [],
                    "final_text": "attempt of iteration 1 done",
                    "details": {},
                    "goal": None,
                    "mcp_delivery": None,
                },
                "reflection": {
                    "phase": "reflection",
                    "status": "completed",
                    "session_id": "fake-<uuid>",
                    "return_code": 0,
                    "timed_out": False,
                    "duration_seconds": "<timing>",
                    "message": "",
                    "prompt_path": "<ws>/.harnessgym/runs/<run>/iterations/1/reflection.prompt.txt",
                    "stdout_path": "<ws>/.harnessgym/runs/<run>/iterations/1/reflection.stdout.txt",
                    "stderr_path": "<ws>/.harnessgym/runs/<run>/iterations/1/reflection.stderr.txt",
                    "transcript_path": "<ws>/.harnessgym/runs/<run>/iterations/1/reflection.transcript.txt",
                    "usage": {},
                    "cost_usd": None,
                    "error_kind": None,
                    "permission_denials": [],
                    "final_text": "reflection of iteration 1 done",
                    "details": {},
                    "goal": None,
                    "mcp_delivery": None,
                },
                "build": {
                    "phase": "build",
                    "status": "completed",
                    "session_id": "fake-<uuid>",
                    "return_code": 0,
                    "timed_out": False,
                    "duration_seconds": "<timing>",
                    "message": "",
                    "prompt_path": "<ws>/.harnessgym/runs/<run>/iterations/1/build.prompt.txt",
                    "stdout_path": "<ws>/.harnessgym/runs/<run>/iterations/1/build.stdout.txt",
                    "stderr_path": "<ws>/.harnessgym/runs/<run>/iterations/1/build.stderr.txt",
                    "transcript_path": "<ws>/.harnessgym/runs/<run>/iterations/1/build.transcript.txt",
                    "usage": {},
                    "cost_usd": None,
                    "error_kind": None,
                    "permission_denials": [],
                    "final_text": "build of iteration 1 done",
                    "details": {},
                    "goal": None,
                    "mcp_delivery": None,
                },
            },
            "agent_claim": {
                "status": "blocked",
                "verified": False,
                "score": None,
                "summary": "logsumexp fails on some inputs; I could not see which cases or why",
                "used_harness_tools": [],
            },
            "verdict": {
                "schema_version": 1,
                "command": "python verifier.py",
                "status": "failed",
                "score": 0.5714285714285714,
                "score_key": "score",
                "return_code": 1,
                "timed_out": False,
                "duration_seconds": "<timing>",
                "stdout_path": "<ws>/.harnessgym/runs/<run>/iterations/1/verify.stdout.txt",
                "stderr_path": "<ws>/.harnessgym/runs/<run>/iterations/1/verify.stderr.txt",
                "payload": {
                    "status": "failed",
                    "score": 0.5714285714285714,
                    "passed_cases": 3,
                    "total_cases": 7,
                    "failures": {
                        "[1000.0, 1000.5, 999.0]": "OverflowError: math range error",
                        "[-1000.0, -1001.0, -999.5]": "ValueError: math domain error",
                        "[710.0, 0.0]": "OverflowError: math range error",
                        "[-800.0]": "ValueError: math domain error",
                    },
                },
                "decided_by": "json_status",
                "message": "the verifier reported status 'failed'",
            },
            "post_attempt": None,
            "solved": False,
            "evidence": "none",
            "score": 0.5714285714285714,
            "optimization": None,
            "target_reached": False,
            "selected_improvement": {
                "kind": "mcp",
                "name": "numcheck",
                "reason": "see the failing cases at once, from any session",
                "target_path": ".harnessgym/mcp/numcheck",
            },
            "qualification_status": "passed",
            "qualification_report": "<ws>/.harnessgym/runs/<run>/iterations/1/qualification/attempt_1/qualification.json",
            "mcp_calls": 0,
            "mcp_calls_from": 0,
            "goal": None,
            "mcp_delivered": None,
            "active_artifacts": ["mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json"],
            "quarantined_artifacts": [],
            "artifacts": [
                {
                    "artifact_id": "mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json",
                    "kind": "mcp",
                    "verdict": "passed",
                    "state": "active",
                    "tools": ["failing_cases"],
                    "message": "",
                }
            ],
            "problems": [],
            "started_at": "<time>",
            "updated_at": "<time>",
        }
    )

    iterations = ws / ".harnessgym" / "runs" / summary.run_id / "iterations"
    for n, phase in ((1, "attempt"), (1, "reflection"), (1, "build"), (2, "attempt")):
        prompt = (iterations / str(n) / f"{phase}.prompt.txt").read_text()
        assert normalized_text(prompt, names) == external_file(f"snapshots/{phase}_{n}.txt")


def test_the_repair_prompt_names_each_failed_artifact_and_why(tmp_path: Path) -> None:
    report = QualificationReport(
        status="failed",
        artifacts=[
            ArtifactVerdict(
                artifact_id="tool:.harnessgym/tools/probe.py",
                kind="tool",
                path=".harnessgym/tools/probe.py",
                status="failed",
                message="its self-test exited with code 1: AssertionError",
            ),
            ArtifactVerdict(
                artifact_id="skill:.harnessgym/skills/fix/SKILL.md",
                kind="skill",
                path=".harnessgym/skills/fix/SKILL.md",
                status="passed",
                message="ok",
            ),
        ],
    )
    prompt = repair_prompt(
        repair_index=1, report=report, report_path=tmp_path / "qualification.json", result_path=tmp_path / "result.json"
    )
    assert normalized_text(prompt, {"tmp": str(tmp_path)}) == external_file("snapshots/repair_1.txt")
