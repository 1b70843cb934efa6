"""The executor seam of ``compare``: a trial runs from its job (JSON) and an empty folder, in this process or in
a fresh interpreter, with an agent home of its own; a worker that dies is an infrastructure error."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import anyio
import pytest
from support.loop import EXAMPLE, VERIFY, result, script, step

from harnessgym.compare.executors import LocalExecutor, ProcessExecutor, TrialJob
from harnessgym.compare.spec import TaskSpec
from harnessgym.compare.trial_worker import agent_home_env
from harnessgym.events import RunEvent
from harnessgym.records import RunSummary
from mcp_host import run_process
from runners import RunnerOptions

pytestmark = pytest.mark.anyio

FIXER = """from pathlib import Path
p = Path("numerics.py")
old = "    return math.log(sum(math.exp(x) for x in xs))"
new = "    m = max(xs)\\n    return m + math.log(sum(math.exp(x - m) for x in xs))"
p.write_text(p.read_text().replace(old, new, 1))
"""
USE_FIXER = step(
    "attempt",
    {"do": "run", "argv": ["{python}", ".harnessgym/tools/fixer.py"], "optional": True},
    result(status="solved", verified=True),
)


def bundle(tmp_path: Path) -> Path:
    ws = tmp_path / "bundle"
    (ws / ".harnessgym" / "tools").mkdir(parents=True, exist_ok=True)
    (ws / ".harnessgym" / "tools" / "fixer.py").write_text(FIXER)
    entry = {"kind": "tool", "path": ".harnessgym/tools/fixer.py", "state": "active"}
    (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"schema_version": 1, "artifacts": [entry]}))
    return ws


def user_home(tmp_path: Path) -> Path:
    """A stand-in for the user's home, with Claude and Codex configuration (and a history that stays behind)."""
    home = tmp_path / "user-home"
    (home / ".claude" / "projects").mkdir(parents=True, exist_ok=True)
    (home / ".claude" / "settings.json").write_text('{"model": "x"}')
    (home / ".claude" / "projects" / "history.jsonl").write_text("old sessions\n")
    (home / ".codex").mkdir(exist_ok=True)
    (home / ".codex" / "config.toml").write_text('model = "y"\n')
    (home / ".claude.json").write_text('{"hasCompletedOnboarding": true}')
    return home


def job(tmp_path: Path, fake: Path, **fields: object) -> TrialJob:
    spec = TaskSpec(name="numerics", workspace_template=EXAMPLE, task_text="Fix numerics.py.", task_file="task.md",
                    verify_command=VERIFY, attempt_timeout=30)  # fmt: skip
    options = RunnerOptions(fake_script=fake, agent_env={"HOME": str(user_home(tmp_path))})
    base: dict[str, object] = {"trial_id": "numerics/harnessed/1", "spec": spec, "group": "harnessed",
                               "task": "numerics", "runner_options": options, "index": 1,
                               "bundle_dir": bundle(tmp_path), "require_active_harness": False}  # fmt: skip
    return TrialJob.model_validate({**base, **fields})


async def test_a_trial_runs_from_a_fresh_interpreter_given_only_its_job_and_folder(tmp_path: Path) -> None:
    the_job = job(tmp_path, script(tmp_path, USE_FIXER))
    job_path, trial_dir = tmp_path / "job.json", tmp_path / "trial"
    job_path.write_text(the_job.model_dump_json())
    argv = [sys.executable, "-I", "-m", "harnessgym.compare.trial_worker", str(job_path), str(trial_dir)]
    with anyio.fail_after(60):
        done = await run_process(argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr_tail
    record = json.loads((trial_dir / "trial.json").read_text())
    assert (record["trial_id"], record["solved"], record["valid"], record["evidence"]) == (
        "numerics/harnessed/1", True, True, "verified")  # fmt: skip
    assert record["copied_artifacts"] == ["tool:.harnessgym/tools/fixer.py"]
    # The agent got its own home, seeded with the user's configuration files but not their history.
    home = trial_dir / "home"
    assert Path(record["agent_home"]) == home
    assert (home / ".claude" / "settings.json").read_text() == '{"model": "x"}'
    assert (home / ".codex" / "config.toml").read_text() == 'model = "y"\n'
    assert (home / ".claude.json").is_file() and not (home / ".claude" / "projects").exists()
    assert list((home / ".fake" / "sessions").glob("fake-*.json")), "the fake agent kept its session in the trial"
    run_dir = trial_dir / "workspace" / ".harnessgym" / "runs" / "compare-harnessed-1"
    summary = RunSummary.model_validate_json((run_dir / "summary.json").read_text())
    assert summary.solved and summary.evidence == "verified"


def test_the_agent_home_points_every_cli_at_the_trial_and_leaves_the_users_untouched(tmp_path: Path) -> None:
    user = user_home(tmp_path)
    before = {p: p.read_bytes() for p in user.rglob("*") if p.is_file()}
    os.symlink("/etc/passwd", user / ".codex" / "auth.json")  # a symlink is never followed into the trial
    env = agent_home_env(tmp_path / "trial-home", {"HOME": str(user)})
    assert env == {"HOME": str(tmp_path / "trial-home"), "CLAUDE_CONFIG_DIR": str(tmp_path / "trial-home" / ".claude"),
                   "CODEX_HOME": str(tmp_path / "trial-home" / ".codex")}  # fmt: skip
    assert not (tmp_path / "trial-home" / ".codex" / "auth.json").exists()
    assert {p: p.read_bytes() for p in user.rglob("*") if p.is_file() and not p.is_symlink()} == before


async def test_local_and_process_executors_record_the_same_trial_and_stream_the_same_events(tmp_path: Path) -> None:
    fake = script(tmp_path, USE_FIXER)
    seen: dict[str, list[RunEvent]] = {"local": [], "process": []}
    with anyio.fail_after(90):
        local = await LocalExecutor().run(job(tmp_path, fake), tmp_path / "local", seen["local"].append)
        # a stale event file from an earlier try in the folder is not this run's
        (tmp_path / "process").mkdir()
        (tmp_path / "process" / "events.jsonl").write_text('{"kind": "warning", "message": "old"}\nnot json\n')
        remote = await ProcessExecutor().run(job(tmp_path, fake), tmp_path / "process", seen["process"].append)
    for record, folder in ((local, tmp_path / "local"), (remote, tmp_path / "process")):
        assert (record.solved, record.valid, record.workspace) == (True, True, folder / "workspace")
    # the worker's run events came back while it ran, as the local executor hands them over
    kinds = {name: [e.kind for e in events] for name, events in seen.items()}
    assert kinds["process"] == kinds["local"] and "agent_action" in kinds["process"], kinds
    assert kinds["process"][0] == "run_started" and "old" not in [e.message for e in seen["process"]]


async def test_a_worker_that_dies_mid_trial_is_an_infra_error_and_leaves_no_process(tmp_path: Path) -> None:
    started = tmp_path / "agent-started"
    fake = script(tmp_path, step("attempt", {"do": "write", "path": str(started), "text": "x"},
                                 {"do": "sleep", "seconds": 60}))  # fmt: skip
    trial_dir = tmp_path / "trial"
    outcome = {}

    async def run() -> None:
        outcome["record"] = await ProcessExecutor().run(job(tmp_path, fake), trial_dir)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            while not started.exists():  # noqa: ASYNC110 - written by the agent in another process
                await anyio.sleep(0.05)
            for pid in _pids_with(str(trial_dir)):
                os.kill(pid, signal.SIGKILL)
    record = outcome["record"]
    assert (record.valid, record.invalid_kind) == (False, "infra_error")
    assert "the trial worker died without a record" in record.invalid_reason
    assert not (trial_dir / "trial.json").exists()


def _pids_with(*needles: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "harnessgym.compare.trial_worker" in cmdline and any(n in cmdline for n in needles):
            found.append(int(entry))
    return found


@pytest.mark.parametrize(
    ("fields", "infra"),
    [
        ({"status": "failed", "error_kind": "not_started", "session_id": None}, True),  # the CLI did not start
        ({"status": "failed", "error_kind": "api_error", "session_id": "s"}, True),  # could not reach its model
        ({"status": "interrupted", "error_kind": "interrupted", "session_id": "s"}, True),  # killed from outside
        ({"status": "timeout", "error_kind": "timeout", "session_id": None}, True),  # timed out before any event
        ({"status": "failed", "error_kind": "nonzero_exit", "session_id": None}, True),  # crashed before any event
        ({"status": "timeout", "error_kind": "timeout", "session_id": "s"}, False),  # the agent ran out of time
        ({"status": "failed", "error_kind": "turn_failed", "session_id": "s"}, False),  # the agent failed
        ({"status": "failed", "error_kind": "budget_exhausted", "session_id": "s"}, False),
    ],
)
def test_infrastructure_failures_are_told_from_the_agents(fields: dict[str, object], infra: bool) -> None:
    from harnessgym.compare.trial_worker import _infra_failure
    from runners import PhaseOutcome

    assert _infra_failure(PhaseOutcome.model_validate({"phase": "attempt", **fields})) is infra


async def test_the_process_executor_shows_a_trials_events_while_it_runs(tmp_path: Path) -> None:
    """The agent waits for a file that only the display writes, on seeing the agent's first tool call: the trial
    can finish only if its events arrive while it runs, not after."""
    go = tmp_path / "seen-live"
    wait = {"do": "wait_for", "path": str(go), "seconds": 25}
    fake = script(tmp_path, step("attempt", {"do": "run", "argv": ["{python}", "-c", "pass"]}, wait,
                                 *USE_FIXER["actions"]))  # fmt: skip

    def on_event(event: RunEvent) -> None:
        if event.kind == "agent_action":
            go.write_text("x")

    with anyio.fail_after(90):
        record = await ProcessExecutor().run(job(tmp_path, fake), tmp_path / "trial", on_event)
    assert go.exists() and (record.solved, record.valid) == (True, True), record.invalid_reason
