"""`harnessgym compare` end to end with the fake agent: trials, validity, the report and its verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.compare import LINES_MCP, USE_FIXER_IF_PRESENT, add_lines_server, artifact_source, fixer_entry
from support.loop import EXAMPLE, VERIFY, harnessgym_argv, marked_processes, result, script, step

from harnessgym.compare import CompareConfig, CompareReport, TrialKey, TrialRecord, compare_async, plan_order
from harnessgym.compare.stats import fisher_exact
from harnessgym.errors import ConfigError
from harnessgym.records import IterationRecord
from mcp_host._supervise.procs import kill_tree, run_process
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio

def compare_config(tmp_path: Path, fake: Path, source: Path | None, **fields: Any) -> CompareConfig:
    fields.setdefault("trials", 2)
    fields.setdefault("runner", "fake")
    return CompareConfig(
        task_text="Fix numerics.py.", workspace_template=EXAMPLE, artifact_source=source,
        output_dir=tmp_path / "out", verify_command=VERIFY, attempt_timeout=30,
        runner_options=RunnerOptions(fake_script=fake, fake_home=tmp_path / "fake-home"), **fields,
    )  # fmt: skip


async def bounded(config: CompareConfig, seconds: float = 30) -> CompareReport:
    with anyio.fail_after(seconds):
        return await compare_async(config)


async def test_a_harness_that_fixes_the_bug_helps_and_the_verdict_follows_fisher(tmp_path: Path) -> None:
    source = artifact_source(tmp_path, fixer_entry(), fixer_entry("quarantined", "broken"))
    config = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT), source, trials=4, seed=3)
    report = await bounded(config)
    assert (report.status, report.verdict.outcome, report.verdict.primary) == ("completed", "helped", "solve_rate")
    assert (report.harnessed.solved, report.harnessed.n_valid, report.plain.solved, report.plain.n_valid) == (
        4, 4, 0, 4)  # fmt: skip
    c = report.comparison
    assert c.fisher_p == pytest.approx(fisher_exact(4, 4, 0, 4)) and report.verdict.p == c.fisher_p < 0.05
    assert c.solve_rate_difference == 1.0 and c.solve_rate_difference_ci is not None
    assert "The harness helped on solve rate: harnessed solved 4/4, plain 0/4" in report.verdict.headline
    # Plain trials measured the unfixed score; the agent's "solved" claim counted for nothing.
    assert report.plain.score is not None and report.plain.score.median == pytest.approx(4 / 7)
    assert c.score is not None and c.score.favours == "harnessed"
    # The report on disk is the one returned, and validates against its model.
    on_disk = CompareReport.model_validate_json((tmp_path / "out" / "compare_report.json").read_text())
    assert on_disk == report and on_disk.schema_version == 1
    # Groups were interleaved in the seeded order, each trial in its own fresh workspace.
    assert [(k.group, k.index) for k in report.order] == [(t.group, t.index) for t in report.trials]
    assert [k.group for k in report.order[:4]].count("plain") == 2
    for trial in report.trials:
        trial_dir = tmp_path / "out" / trial.group / f"trial_{trial.index}"
        assert TrialRecord.model_validate_json((trial_dir / "trial.json").read_text()) == trial
        assert trial.workspace == trial_dir / "workspace" and trial.run_id == f"compare-{trial.group}-{trial.index}"
        assert trial.valid and trial.iterations_completed == 1
        assert trial.attempt_duration_seconds is not None and trial.attempt_duration_seconds > 0
        assert trial.solved == (trial.group == "harnessed")
        assert trial.evidence == ("verified" if trial.solved else "none")
        if trial.group == "harnessed":
            # Only the non-quarantined artifacts were copied, and they were active for the attempt.
            assert trial.copied_artifacts == ["tool:.harnessgym/tools/fixer.py", "mcp:" + LINES_MCP["path"]]
            assert (trial.active_artifact_count, trial.active_artifacts) == (
                2, ["mcp:" + LINES_MCP["path"], "tool:.harnessgym/tools/fixer.py"])  # fmt: skip
            assert (trial.active_mcp_count, trial.active_tool_count) == (1, 1)
            assert not (trial.workspace / ".harnessgym" / "tools" / "broken.py").exists()
        else:
            assert trial.copied_artifacts == [] and trial.active_artifact_count == 0
        # Attempt-only: nothing was reflected on, built or qualified.
        rec = IterationRecord.model_validate_json(
            (trial.workspace / ".harnessgym/runs" / trial.run_id / "iterations/1/iteration.json").read_text()
        )
        assert {"reflection", "build", "qualify", "activate"} <= set(rec.skipped_phases)
        assert not (trial.workspace / ".git").exists()


async def test_a_runner_failure_makes_that_trial_invalid_and_it_is_left_out_of_every_test(tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"  # absolute: the first trial to run fails, whichever group it is in
    fake = script(tmp_path, step("attempt",
                                 {"do": "once", "marker": str(marker), "actions": [{"do": "exit", "code": 3}]},
                                 *USE_FIXER_IF_PRESENT["actions"]))  # fmt: skip
    report = await bounded(compare_config(tmp_path, fake, artifact_source(tmp_path, fixer_entry()), trials=2))
    first, *rest = report.trials
    assert (first.valid, first.invalid_kind) == (False, "runner_failure") and "attempt 1 failed" in first.invalid_reason
    assert all(t.valid for t in rest)
    failed = report.harnessed if first.group == "harnessed" else report.plain
    other = report.plain if first.group == "harnessed" else report.harnessed
    assert (failed.n_trials, failed.n_valid, failed.n_invalid, failed.invalid_reasons) == (
        2, 1, 1, {"runner_failure": 1})  # fmt: skip
    assert (other.n_valid, other.n_invalid) == (2, 0)
    assert report.comparison.fisher_p == pytest.approx(
        fisher_exact(report.harnessed.solved, report.harnessed.n_valid, report.plain.solved, report.plain.n_valid)
    )
    assert any("1 invalid trial(s) were set aside" in note for note in report.verdict.notes)


async def test_a_harnessed_trial_without_a_working_mcp_tool_is_invalid_when_required(tmp_path: Path) -> None:
    fake = script(tmp_path, USE_FIXER_IF_PRESENT)
    no_server = artifact_source(tmp_path, fixer_entry(), mcp=False)
    with pytest.raises(ConfigError, match=r"no artifact of .* is an MCP server .* needs at least one working MCP"):
        await bounded(compare_config(tmp_path, fake, no_server, trials=1))
    assert not (tmp_path / "out").exists()
    # Registered as active, but its server no longer starts: qualified before the first trial, it fails there.
    broken = artifact_source(tmp_path / "a", fixer_entry())
    with open(broken / ".harnessgym/mcp/lines/server.py", "a") as fh:
        fh.write("\n)syntax error(\n")
    with pytest.raises(ConfigError, match=r"no MCP server of .* passed qualification with a tool"):
        await bounded(compare_config(tmp_path, fake, broken, trials=1), 60)

    relaxed = compare_config(tmp_path, fake, broken, trials=1, require_active_harness=False, overwrite=True)
    report = await bounded(relaxed, 60)
    assert all(t.valid for t in report.trials)
    harnessed = next(t for t in report.trials if t.group == "harnessed")
    assert harnessed.copied_artifacts == ["tool:.harnessgym/tools/fixer.py", "mcp:" + LINES_MCP["path"]]
    assert harnessed.active_artifacts == ["tool:.harnessgym/tools/fixer.py"]  # the broken server was never served
    assert (harnessed.active_mcp_count, harnessed.active_tool_count) == (0, 0)
    assert any("failed qualification and was not activated" in p for p in harnessed.problems)
    states = {a["id"]: a["state"] for a in json.loads(
        (harnessed.workspace / ".harnessgym/registry.json").read_text())["artifacts"]}  # fmt: skip
    assert states == {"tool:.harnessgym/tools/fixer.py": "active", "mcp:" + LINES_MCP["path"]: "quarantined"}

    no_calls = compare_config(tmp_path, fake, artifact_source(tmp_path / "b", fixer_entry()), trials=1,
                              require_harness_tool_use=True, overwrite=True)  # fmt: skip
    harnessed = next(t for t in (await bounded(no_calls, 60)).trials if t.group == "harnessed")
    assert (harnessed.valid, harnessed.invalid_kind, harnessed.mcp_call_count) == (False, "no_harness_tool_use", 0)


async def test_earlier_trials_are_kept_unless_overwrite_is_given(tmp_path: Path) -> None:
    config = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT), artifact_source(tmp_path, fixer_entry()),
                            trials=1)  # fmt: skip
    first = await bounded(config)
    before = (tmp_path / "out" / "compare_report.json").read_bytes()
    with pytest.raises(ConfigError, match=r"already holds trials of an earlier comparison \((plain|harnessed)/trial_1"):
        await bounded(config)
    assert (tmp_path / "out" / "compare_report.json").read_bytes() == before
    again = await bounded(config.model_copy(update={"overwrite": True}))
    assert again.created_at > first.created_at and len(again.trials) == 2


async def test_an_interrupted_comparison_keeps_its_finished_trials(tmp_path: Path) -> None:
    config = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT), artifact_source(tmp_path, fixer_entry()))
    with anyio.fail_after(30), anyio.CancelScope() as scope:

        def on_trial(key: TrialKey, position: int, total: int, record: TrialRecord | None) -> None:
            if position == 2 and record is None:
                scope.cancel()

        await compare_async(config, on_trial)
    report = CompareReport.model_validate_json((tmp_path / "out" / "compare_report.json").read_text())
    assert report.status == "interrupted" and len(report.trials) == 1 and len(report.order) == 4
    first = report.order[0]
    assert (tmp_path / "out" / first.group / f"trial_{first.index}" / "trial.json").is_file()


def test_trial_order_is_seeded_and_balanced_in_blocks() -> None:
    order = plan_order(6, seed=11)
    assert order == plan_order(6, seed=11) and order != plan_order(6, seed=12)
    for block in range(6):
        pair = order[2 * block : 2 * block + 2]
        assert {k.group for k in pair} == {"plain", "harnessed"} and {k.index for k in pair} == {block + 1}


async def test_the_cli_prints_the_table_and_an_honest_verdict_for_three_trials_each(tmp_path: Path) -> None:
    source = artifact_source(tmp_path, fixer_entry())
    fake = script(tmp_path, USE_FIXER_IF_PRESENT)
    args = ["compare", "--task", str(EXAMPLE / "task.md"), "--workspace-template", str(EXAMPLE),
            "--artifact-source", str(source / ".harnessgym"), "--output-dir", str(tmp_path / "out"),
            "--verify-command", VERIFY, "--fake-script", str(fake), "--attempt-timeout", "30s"]  # fmt: skip

    async def cli(*extra: str) -> tuple[int | None, str, str]:
        n = len(list(tmp_path.glob("cli-*.out")))
        out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
        proc = await run_process(harnessgym_argv(*args, *extra), timeout=30, stdout_path=out, stderr_path=err,
                                 cwd=tmp_path)  # fmt: skip
        return proc.returncode, out.read_text(), err.read_text()

    code, out, err = await cli()
    assert code == 0, err
    assert "harnessed" in out and "plain" in out and "Fisher exact p = 0.1" in out
    assert "No detectable difference on solve rate: harnessed solved 3/3, plain 0/3" in out
    assert "the smallest achievable p is 0.1; it takes at least 4 valid trials per group" in out
    assert "[6/6]" in err and "solved (verified)" in err
    report = CompareReport.model_validate_json((tmp_path / "out" / "compare_report.json").read_text())
    assert report.verdict.outcome == "no_detectable_difference" and report.verdict.p == pytest.approx(0.1)
    assert report.config.task_path == EXAMPLE / "task.md"
    assert report.artifact_workspace == source

    code, _, err = await cli()
    assert code == 1 and "pass --overwrite" in err and "Traceback" not in err
    code, _, err = await cli("--alpha", "0")
    assert code == 2 and "--alpha" in err


async def test_mcp_calls_of_a_harnessed_trial_are_counted_from_the_hosts_telemetry(tmp_path: Path) -> None:
    source = tmp_path / "source"
    add_lines_server(source)
    (source / ".harnessgym" / "registry.json").write_text(json.dumps({"schema_version": 1, "artifacts": [LINES_MCP]}))
    # The caller exits at once: the on-demand host daemon it started is killed with it (run_process kills what
    # a finished command leaves behind), and the call's telemetry line must survive that.
    call = "{python} -m harnessgym mcp call --workspace . --server lines --tool inspect"
    fake = script(tmp_path, step("attempt", {"do": "run", "argv": ["sh", "-c", call]}, result(status="blocked")))
    config = compare_config(tmp_path, fake, source, trials=1, require_harness_tool_use=True)
    try:
        report = await bounded(config, 60)
    finally:
        for ws in (tmp_path / "out").glob("*/trial_*/workspace"):
            for pid in marked_processes(ws):  # a host daemon started on demand by `harnessgym mcp call`
                await kill_tree(pid, grace=1.0)
    harnessed = next(t for t in report.trials if t.group == "harnessed")
    assert harnessed.valid, harnessed.invalid_reason
    assert (harnessed.mcp_call_count, harnessed.mcp_tools_called) == (1, ["lines__inspect"])
    assert harnessed.active_artifacts == ["mcp:.harnessgym/mcp/lines/harnessgym-mcp.json"]
    assert report.harnessed.mcp_call_count == 1 and report.plain.mcp_call_count == 0


# Upstream-style post command: exits 0 and prints a score with no status, so it passes whenever it measures.
CASES_PASSED = ("python verifier.py > .verdict.json; python -c \"import json; "
                "print(json.dumps({'cases_passed': json.load(open('.verdict.json'))['passed_cases']}))\"")  # fmt: skip


def post_config(tmp_path: Path, **fields: Any) -> CompareConfig:
    fields.setdefault("trials", 4)
    source = artifact_source(tmp_path, fixer_entry())
    config = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT), source, post_command=CASES_PASSED,
                            post_score_key="cases_passed", higher_is_better=True, **fields)  # fmt: skip
    return config.model_copy(update={"verify_command": None})


async def test_without_a_verify_command_the_post_command_is_the_evidence_and_its_score_decides(tmp_path: Path) -> None:
    report = await bounded(post_config(tmp_path, seed=5), 60)
    # The post command passed everywhere, so every trial is solved: the pre-declared fallback, the post score,
    # decides (not the attempt duration).
    assert (report.harnessed.solved, report.plain.solved) == (4, 4)
    assert (report.verdict.outcome, report.verdict.primary) == ("helped", "post_score")
    assert report.verdict.p == pytest.approx(2 / 70) and report.comparison.post_score is not None
    assert report.harnessed.post_score is not None and report.harnessed.post_score.median == 7
    assert report.plain.post_score is not None and report.plain.post_score.median == 3  # 3 of 7 cases pass unfixed
    assert "The harness helped on post score: median difference +4" in report.verdict.headline
    assert report.verdict.notes[0].startswith("Both groups solved all of their valid trials, so the pre-declared "
                                              "fallback outcome, the post command's score, decides.")  # fmt: skip
    for trial in report.trials:
        assert trial.post is not None and trial.post.passed and trial.evidence == "verified"
        assert trial.verify_status is None  # no verify command ran
        assert (tmp_path / "out" / trial.group / f"trial_{trial.index}" / "post.stdout.txt").is_file()


async def test_with_a_stop_score_the_post_command_decides_solved_and_a_failed_post_has_no_score(
    tmp_path: Path,
) -> None:
    # The first trial's post command times out (its whole tree is killed); the others measure.
    marker = tmp_path / "slow-once"
    slow_once = f"if [ ! -e {marker} ]; then touch {marker}; sleep 30; fi; {CASES_PASSED}"
    config = post_config(tmp_path, trials=2, stop_score=7).model_copy(
        update={"post_command": slow_once, "post_timeout": 1.0}
    )
    report = await bounded(config, 60)
    first, *rest = report.trials
    assert first.valid and first.post is not None and first.post.status == "timeout"
    assert (first.post_score, first.solved) == (None, False)
    for trial in rest:
        assert trial.post_score == (7 if trial.group == "harnessed" else 3)
        assert trial.solved == (trial.group == "harnessed")
    group = report.harnessed if first.group == "harnessed" else report.plain
    assert group.post_unmeasured == 1 and group.post_score is not None and group.post_score.n == 1
    assert report.verdict.primary == "solve_rate"  # the solve rates differ, so they decide


async def test_upstream_compare_command_lines_run_unchanged(tmp_path: Path) -> None:
    source = artifact_source(tmp_path, fixer_entry())
    fake = script(tmp_path, USE_FIXER_IF_PRESENT)
    base = ["compare", "--task", str(EXAMPLE / "task.md"), "--workspace-template", str(EXAMPLE),
            "--artifact-source", str(source), "--output-dir", str(tmp_path / "out"), "--fake-script", str(fake),
            "--attempt-timeout", "30s", "--trials", "1"]  # fmt: skip
    # HarnessGym 0.1.1 flags: compat timeouts and --build-after-solve are accepted (compare is attempt-only).
    upstream = ["--build-timeout", "1s", "--reflection-timeout", "1s", "--build-after-solve",
                "--post-command", CASES_PASSED, "--post-score-key", "cases_passed", "--higher-is-better",
                "--post-timeout", "1m"]  # fmt: skip
    out, err = tmp_path / "cli.out", tmp_path / "cli.err"
    with anyio.fail_after(60):
        proc = await run_process(harnessgym_argv(*base, *upstream), timeout=50, stdout_path=out, stderr_path=err,
                                 cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, err.read_text()
    printed = out.read_text()
    assert (
        "7 (0)" in printed and "Post score (cases_passed) (harnessed − plain, higher is better): median +4" in printed
    )
    assert "post score 7" in err.read_text() and "post score 3" in err.read_text()
    report = CompareReport.model_validate_json((tmp_path / "out" / "compare_report.json").read_text())
    assert report.config.verify_command is None and report.config.post_command == CASES_PASSED
    # Neither a verify nor a post command: no evidence, refused before any trial runs.
    with anyio.fail_after(30):
        proc = await run_process(harnessgym_argv(*base, "--overwrite"), timeout=25, stdout_path=out,
                                 stderr_path=err, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2 and "pass --verify-command" in err.read_text() and "--post-command" in err.read_text()


async def test_one_comparison_per_output_folder_at_a_time(tmp_path: Path) -> None:
    from harnessgym import store
    from harnessgym.compare import check_compare
    from harnessgym.store.layout import Layout

    config = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT), artifact_source(tmp_path, fixer_entry()),
                            trials=1)  # fmt: skip
    held = store.WorkspaceLock.acquire(Layout(config.output_dir), "compare-elsewhere")  # as another process would
    try:
        in_use = r"is in use by another comparison \(pid \d+\); wait for it"
        with pytest.raises(ConfigError, match=in_use):
            check_compare(config)
        with pytest.raises(ConfigError, match=in_use):
            await bounded(config)
    finally:
        held.release()
    assert not list((tmp_path / "out").glob("*/trial_*"))  # nothing was started or overwritten
    report = await bounded(config)  # free again
    assert report.status == "completed" and len(report.trials) == 2
