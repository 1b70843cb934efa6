"""``harnessgym compare --suite``: suites, arms, parallel isolated trials, resuming, infrastructure retries and the
budget, end to end with the fake agent (examples/suite)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.loop import harnessgym_argv, wait_until

from harnessgym.compare import CompareConfig, CompareReport, TrialRecord, compare_async
from harnessgym.errors import ConfigError
from mcp_host import kill_tree, run_process, spawn
from runners import RunnerOptions

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
SUITE = ROOT / "examples" / "suite"
VERIFY = "python verify.py"


def agent(tmp_path: Path, *before: dict[str, Any], seconds: float = 0.0) -> Path:
    """The example suite's agent script, with ``before`` actions first and ``seconds`` of sleep."""
    steps = json.loads((SUITE / "fake_agent.json").read_text())
    actions = [a for a in steps["steps"][0]["actions"] if a["do"] != "sleep"]
    actions = [*before, *([{"do": "sleep", "seconds": seconds}] if seconds else []), *actions]
    path = tmp_path / f"agent-{len(list(tmp_path.glob('agent-*.json')))}.json"
    path.write_text(json.dumps({"steps": [{"phase": "attempt", "actions": actions}]}))
    return path


def suite_config(tmp_path: Path, fake: Path, **fields: Any) -> CompareConfig:
    fields.setdefault("suite", SUITE / "suite.toml")
    return CompareConfig(output_dir=tmp_path / "out", runner="fake", runner_options=RunnerOptions(fake_script=fake),
                         **fields)  # fmt: skip


async def bounded(config: CompareConfig, seconds: float = 120) -> CompareReport:
    with anyio.fail_after(seconds):
        return await compare_async(config)


def write_suite(tmp_path: Path, text: str) -> Path:
    """The issue's suite: one template ``alpha`` with task.md and verify.py."""
    template = tmp_path / "alpha"
    template.mkdir(exist_ok=True)
    for name in ("verify.py", "expected.txt", "answer.txt", "hint.txt"):
        (template / name).write_bytes((SUITE / "alpha" / name).read_bytes())
    (template / "task.md").write_text("Make answer.txt right.\n")
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


ISSUE_SUITE = """trials = 2
[[tasks]]
name = "alpha"
workspace_template = "alpha"
task = "task.md"
verify_command = "python verify.py"
split = "test"
"""


async def test_the_suite_of_the_issue_works_as_written(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, ISSUE_SUITE)
    config = suite_config(tmp_path, agent(tmp_path), suite=suite, artifact_source=SUITE / "bundle", split="test")
    report = await bounded(config)
    (spec,) = report.tasks
    assert (spec.name, spec.task_file, spec.trials) == ("alpha", "task.md", 2)
    assert spec.workspace_template == tmp_path / "alpha"
    assert spec.task_text == "Make answer.txt right.\n" and spec.split == "test"
    assert sorted(t.trial_id for t in report.trials) == [
        "alpha/harnessed/1", "alpha/harnessed/2", "alpha/plain/1", "alpha/plain/2"]  # fmt: skip
    assert all((tmp_path / "out" / "alpha" / t.arm_name / f"trial_{t.index}" / "trial.json").is_file()
               for t in report.trials)  # fmt: skip
    assert report.suite is not None and report.verdict.primary == "solve_rate"
    assert (report.harnessed.solved, report.plain.solved) == (2, 0)


@pytest.mark.slow
async def test_three_tasks_with_ablation_in_parallel_name_the_artifact_that_carries_the_effect(tmp_path: Path) -> None:
    # Each attempt sleeps, so trials that run at once overlap in time.
    config = suite_config(tmp_path, agent(tmp_path, seconds=1.0), arms=("plain", "harnessed", "ablate"), jobs=4)
    report = await bounded(config, 240)
    assert report.status == "completed" and len(report.trials) == 3 * 5 * 2  # plain, harnessed, 3 leave-one-out
    suite = report.suite
    assert suite is not None and suite.tasks == ["alpha", "beta", "gamma"]
    rate = next(e for e in suite.effects if e.measure == "solve_rate")
    assert (rate.mean_difference, rate.improved, rate.regressed, rate.unchanged) == (pytest.approx(2 / 3), 2, 0, 1)
    keep = {a.artifact: a.suggestion for a in suite.artifacts}
    assert keep == {"tool:.harnessgym/tools/fixer.py": "keep", "tool:.harnessgym/tools/decoy.py": "retire",
                    "mcp:.harnessgym/mcp/probe/harnessgym-mcp.json": "retire"}  # fmt: skip
    harnessed = next(a for a in suite.arms if a.arm == "harnessed")
    assert harnessed.tool_use_rate == 1.0  # every harnessed trial called the probe through the host
    assert any("hierarchical" in m for m in suite.methods) and any("sign-flip" in m for m in suite.methods)
    # Every trial had its own workspace and agent home; no two shared one.
    homes = {t.agent_home for t in report.trials}
    assert len(homes) == len(report.trials) and len({t.workspace for t in report.trials}) == len(report.trials)
    # At most 4 ran at once, and some did run at once.
    spans = [(t.started_at, t.finished_at) for t in report.trials]
    most = max(sum(s <= start < e for s, e in spans if e is not None) for start, _ in spans)
    assert 1 < most <= 4
    # The order interleaves arms and tasks: the first round holds every task and arm before any second trial.
    first_round = report.order[: 3 * 5]
    arms = ("plain", "harnessed", *{k.arm for k in first_round if k.arm})
    assert len(arms) == 5 and {k.index for k in first_round} == {1}
    assert {(k.task, k.arm_name) for k in first_round} == {(t, a) for t in ("alpha", "beta", "gamma") for a in arms}


@pytest.mark.parametrize(
    ("suite_text", "message"),
    [
        ('[[tasks]]\nname = "a"\nworkspace_template = "nope"\ntask_text = "x"\nverify_command = "true"\n',
         r"task 'a', field workspace_template: .*nope is not a directory"),
        ('[[tasks]]\nname = "a"\nworkspace_template = "alpha"\ntask = "missing.md"\nverify_command = "true"\n',
         r"task 'a', field task: no file .*missing.md"),
        ('[[tasks]]\nname = "a"\nworkspace_template = "alpha"\ntask_text = "x"\nverify_command = "true"\n' * 2,
         r"task 'a', field name: two tasks are called 'a'"),
        ('[[tasks]]\nname = "a"\nworkspace_template = "alpha"\ntask_text = "x"\ntrials = "many"\n',
         r"task 'a', field trials: Input should be a valid integer"),
        ('[[tasks]]\nname = "a"\nworkspace_template = "alpha"\ntask_text = "x"\nverfy_command = "true"\n',
         r"task 'a', field verfy_command: Extra inputs are not permitted"),
        ('[[tasks]]\nname = "a"\nworkspace_template = "alpha"\ntask_text = "x"\n',
         r"task 'a', field verify_command: the task needs evidence"),
        ('[[tasks]]\nname = "a b"\n', r"task 'a b', field name: a task name is"),
        ('[[tasks]]\nworkspace_template = "alpha"\n', r"task #1, field name: Field required"),
        ("tasks = [\n", r"is not valid TOML"),
    ],
)  # fmt: skip
async def test_a_bad_suite_gets_one_message_naming_the_task_and_field(
    tmp_path: Path, suite_text: str, message: str
) -> None:
    suite = write_suite(tmp_path, suite_text)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    config = suite_config(tmp_path, agent(tmp_path), suite=suite, artifact_source=SUITE / "bundle")
    with pytest.raises(ConfigError, match=message):
        await bounded(config)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # nothing started, nothing lost


async def test_an_unknown_split_and_jobs_0_are_refused_before_any_trial(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=r"has no task in split 'dev'; its splits: test, train"):
        await bounded(suite_config(tmp_path, agent(tmp_path), split="dev"))
    assert not out.exists()
    argv = harnessgym_argv("compare", "--suite", str(SUITE / "suite.toml"), "--output-dir", str(out), "--jobs", "0")
    done = await run_process(argv, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and "--jobs" in done.stderr_tail and "x>=1" in done.stderr_tail, done.stderr_tail
    assert not out.exists()


async def test_schema_suite_prints_the_json_schema_of_the_suite_file(tmp_path: Path) -> None:
    done = await run_process(harnessgym_argv("schema", "suite"), timeout=60, stdout_path=tmp_path / "s.json")
    schema = json.loads((tmp_path / "s.json").read_text())
    assert done.returncode == 0 and "tasks" in schema["properties"] and "SuiteTask" in schema["$defs"]


@pytest.mark.slow
async def test_an_infra_error_is_retried_and_never_counted_as_the_task_failing(tmp_path: Path) -> None:
    # The first attempt of the whole comparison crashes its CLI (SIGKILL); every later one works.
    crash_once = {"do": "once", "marker": str(tmp_path / "crashed"), "actions": [{"do": "die"}]}
    config = suite_config(tmp_path, agent(tmp_path, crash_once), split="train")  # gamma only: solved either way
    report = await bounded(config)
    retried = [t for t in report.trials if t.tries > 1]
    assert len(retried) == 1 and retried[0].valid and retried[0].solved
    assert "interrupted" in retried[0].infra_errors[0]
    folder = tmp_path / "out" / "gamma" / retried[0].arm_name
    assert (folder / f"trial_{retried[0].index}.infra-1" / "trial.json").is_file()  # the failed try is kept
    # Without retries the trial stays an infra_error, and is in no statistic.
    again = suite_config(tmp_path, agent(tmp_path, {**crash_once, "marker": str(tmp_path / "m2")}), split="train",
                         max_retries=0, overwrite=True)  # fmt: skip
    report = await bounded(again)
    (broken,) = [t for t in report.trials if not t.valid]
    assert broken.invalid_kind == "infra_error" and broken.tries == 1
    group = report.harnessed if broken.group == "harnessed" else report.plain
    assert group.invalid_reasons == {"infra_error": 1} and group.solved == group.n_valid == 1


async def test_the_budget_stops_new_trials_and_a_larger_one_resumes(tmp_path: Path) -> None:
    fake = agent(tmp_path, {"do": "cost", "usd": 0.5})
    config = suite_config(tmp_path, fake, split="train", budget_usd=1.0)  # gamma: 2 arms × 2 trials
    report = await bounded(config)
    assert report.status == "budget_stopped" and len(report.trials) == 2 and len(report.not_run) == 2
    assert report.spent_usd == pytest.approx(1.0)
    more = await bounded(config.model_copy(update={"budget_usd": 10.0}))
    assert more.status == "completed" and len(more.trials) == 4 and not more.not_run
    assert {t.trial_id for t in report.trials} <= {t.trial_id for t in more.trials}
    assert more.suite is not None
    harnessed = next(a for a in more.suite.arms if a.arm == "harnessed")
    assert harnessed.cost_per_solved_task == pytest.approx(0.5) and harnessed.cost_usd == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "process"])
async def test_killed_half_way_the_same_command_finishes_with_every_trial_run_exactly_once(
    tmp_path: Path, executor: str
) -> None:
    log = tmp_path / "attempts.log"
    fake = agent(tmp_path, {"do": "write", "path": str(log), "text": "{workspace}\n", "append": True}, seconds=1.0)
    out = tmp_path / "out"
    argv = harnessgym_argv("compare", "--suite", str(SUITE / "suite.toml"), "--output-dir", str(out),
                           "--runner", "fake", "--fake-script", str(fake), "--jobs", "2",
                           "--executor", executor)  # fmt: skip

    def records() -> dict[str, bytes]:
        return {str(p.parent): p.read_bytes() for p in out.glob("*/*/trial_*/trial.json")}

    proc = await spawn(argv, cwd=tmp_path, stdin=None, stdout=None, stderr=None)
    try:
        await wait_until(lambda: len(records()) >= 5, 120)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        await kill_tree(proc.pid)
        await proc.wait()
    before, logged = records(), log.read_text().splitlines()
    assert 5 <= len(before) < 12
    with anyio.fail_after(180):
        done = await run_process(argv, cwd=tmp_path, timeout=170)
    assert done.returncode == 0, done.stderr_tail
    after = records()
    assert len(after) == 12
    assert {k: after[k] for k in before} == before  # finished trials were not run again
    new = log.read_text().splitlines()[len(logged) :]
    # Attempts after the kill came only from trials without a final record at the kill (those cut short).
    assert {str(Path(line).parent) for line in new} == set(after) - set(before)
    report = CompareReport.model_validate_json((out / "compare_report.json").read_text())
    assert sorted(t.trial_id for t in report.trials) == sorted({t.trial_id for t in report.trials})
    assert len(report.trials) == 12 and report.status == "completed"
    assert all(isinstance(t, TrialRecord) and t.tries == 1 for t in report.trials)
