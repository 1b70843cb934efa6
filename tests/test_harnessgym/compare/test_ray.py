"""``compare --executor ray`` on a real Ray cluster the test starts itself, alone in a network and PID namespace
(Ray advertises only 127.0.0.1 there; whatever is left when the driver ends dies with the namespace).

One cluster of two nodes serves four comparisons: an address where nothing listens (refused before anything is
written), a one-task comparison whose two trials run side by side, one on each node, with their transcripts and
MCP telemetry coming back from the workers, one whose first trial kills its Ray worker (an infrastructure error,
retried on the cluster, the retry valid), and one stopped with Ctrl-C while its first trial runs (the Ray task
cancelled, the trial's processes gone)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.compare import artifact_source, fixer_entry
from support.loop import EXAMPLE, VERIFY, harnessgym_argv, result, script, step
from support.ray_cluster_driver import netns_argv

from harnessgym.compare import CompareReport, TrialRecord
from mcp_host import run_process

pytestmark = pytest.mark.anyio

CALL_LINES = {"do": "when", "exists": ".harnessgym/mcp/lines/server.py",
              "actions": [{"do": "mcp_call", "server": "lines", "tool": "inspect", "arguments": {}}]}  # fmt: skip
FIX_WITH_THE_TOOL = {"do": "when", "exists": ".harnessgym/tools/fixer.py",
                     "actions": [{"do": "run", "argv": ["{python}", ".harnessgym/tools/fixer.py"]}]}  # fmt: skip
KILL_MY_RAY_WORKER = """import os, signal
pid = os.getppid()
while pid > 1:
    if open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"ray::"):
        os.kill(pid, signal.SIGKILL)
        break
    pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
"""


TRIAL_PROCESSES = ["harnessgym.compare.trial_worker", "harnessgym.compare.ray_worker", "runners.fake_agent"]
"""What runs a trial on the worker, below the Ray task: gone once the task is cancelled."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _compare(out: Path, fake: Path, source: Path, home: Path, address: str, *extra: str) -> list[str]:
    return harnessgym_argv(
        "compare", "--workspace-template", str(EXAMPLE), "--task", str(EXAMPLE / "task.md"),
        "--verify-command", VERIFY, "--artifact-source", str(source), "--trials", "1", "--runner", "fake",
        "--fake-script", str(fake), "--attempt-timeout", "60", "--agent-env", f"HOME={home}",
        "--executor", "ray", "--ray-address", address, "--output-dir", str(out), *extra,
    )  # fmt: skip


def _records(out: Path) -> dict[str, TrialRecord]:
    report = CompareReport.model_validate_json((out / "compare_report.json").read_text())
    return {t.group: t for t in report.trials}


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare(1)")
async def test_trials_run_as_ray_tasks_and_come_back_whole(tmp_path: Path) -> None:
    source = artifact_source(tmp_path, fixer_entry())
    home = tmp_path / "user-home"  # the agent's home is seeded from it on the worker; its keys stay there
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "auth.json").write_text('{"key": "secret"}')
    (home / ".codex" / "config.toml").write_text('model = "y"\n')
    fake = script(tmp_path, step("attempt", CALL_LINES, FIX_WITH_THE_TOOL, result(status="solved")))
    marker = tmp_path / "killed-once"  # outside every trial: only the first attempt to run kills its worker
    kill = {"do": "run", "argv": ["{python}", "-c", KILL_MY_RAY_WORKER]}
    kill_once = {"do": "once", "marker": str(marker), "actions": [kill, {"do": "sleep", "seconds": 30}]}
    killer = script(tmp_path, step("attempt", kill_once, CALL_LINES, FIX_WITH_THE_TOOL, result(status="solved")))
    started = tmp_path / "started"
    sleeper = script(tmp_path, step("attempt", {"do": "write", "path": str(started), "text": "x"},
                                    {"do": "sleep", "seconds": 60}))  # fmt: skip
    port, closed = _free_port(), _free_port()
    out, out_closed, out_killed = tmp_path / "out", tmp_path / "out-closed", tmp_path / "out-killed"
    out_cancelled = tmp_path / "out-cancelled"
    address = f"127.0.0.1:{port}"
    # Two raylets of one CPU each; a trial reserves 0.75 of one, so the two trials running side by side
    # (--jobs 2) cannot share a node: each node gets one, and ships the trial folder back through Ray.
    plan = {"port": port, "cpus": 1, "nodes": [{"cpus": 1}], "steps": [
        {"name": "closed", "argv": _compare(out_closed, fake, source, home, f"127.0.0.1:{closed}"), "timeout": 60},
        {"name": "compare", "cluster": True, "argv": _compare(out, fake, source, home, address, "--jobs", "2",
                                                              "--ray-cpus-per-trial", "0.75"), "timeout": 120},
        {"name": "killed", "cluster": True, "argv": _compare(out_killed, killer, source, home, address,
                                                             "--max-retries", "1"), "timeout": 120},
        {"name": "cancelled", "cluster": True, "argv": _compare(out_cancelled, sleeper, source, home, address),
         "timeout": 90, "interrupt_when": str(started), "expect_gone": TRIAL_PROCESSES},
    ]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    with anyio.fail_after(200):
        done = await run_process(netns_argv(tmp_path / "plan.json", tmp_path / "result.json"), timeout=190)
    assert done.returncode == 0, done.stderr_tail
    ran: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())
    assert ran["ray_start"]["rc"] == 0, ran["ray_start"]["stderr"]
    assert ran["ray_start_node_1"]["rc"] == 0, ran["ray_start_node_1"]["stderr"]
    assert ran["left_running"] == [], "ray stop --force left processes running"

    # Nothing listens there: one clear line, a failing exit code, and the output folder never made.
    closed_run = ran["steps"]["closed"]
    assert closed_run["rc"] == 1 and "Traceback" not in closed_run["stderr"], closed_run["stderr"]
    refused = f"Error: --ray-address: no Ray cluster answers at 127.0.0.1:{closed} (connection refused)"
    assert refused in closed_run["stderr"]
    assert not out_closed.exists()

    # The trials ran on the cluster and everything they produced came back into the output folder.
    run = ran["steps"]["compare"]
    assert run["rc"] == 0, run["stdout"][-3000:] + run["stderr"][-3000:]
    trials = _records(out)
    nodes = set()
    for group, trial in trials.items():
        trial_dir = out / group / "trial_1"
        assert trial.valid, trial.invalid_reason
        assert (trial.workspace, trial.agent_home) == (trial_dir / "workspace", trial_dir / "home")
        assert trial.run_dir == trial_dir / "workspace" / ".harnessgym" / "runs" / trial.run_id
        assert TrialRecord.model_validate_json((trial_dir / "trial.json").read_text()) == trial
        transcript = trial.run_dir / "iterations" / "1" / "attempt.transcript.txt"
        assert transcript.is_file() and "[action]" in transcript.read_text()
        assert (trial_dir / "worker.stdout.txt").exists() and (trial_dir / "job.json").is_file()
        placed = json.loads((trial_dir / "ray_task.json").read_text())  # Ray reserved what --ray-cpus-per-trial said
        assert placed["assigned_resources"].get("CPU") == 0.75 and placed["node"], placed
        nodes.add(placed["node_id"])
        assert (trial_dir / "home" / ".codex" / "config.toml").read_text() == 'model = "y"\n'
        assert not (trial_dir / "home" / ".codex" / "auth.json").exists(), "the worker's credentials came back"
    assert len(nodes) == 2, f"the two trials ran side by side on one node: {nodes}"
    # the trials' run events reached the comparison's display while they ran on the workers
    said = run["stdout"] + run["stderr"]
    assert "attempt: Bash" in said and "the host served lines__inspect (completed" in said, said[-3000:]
    harnessed, plain = trials["harnessed"], trials["plain"]
    assert (harnessed.solved, plain.solved) == (True, False)
    assert (harnessed.mcp_call_count, harnessed.mcp_tools_called) == (1, ["lines__inspect"])
    telemetry = harnessed.workspace / ".harnessgym" / "mcp_calls.jsonl"
    assert [json.loads(line)["tool_name"] for line in telemetry.read_text().splitlines()] == ["inspect"]
    assert harnessed.copied_artifacts == [
        "tool:.harnessgym/tools/fixer.py",
        "mcp:.harnessgym/mcp/lines/harnessgym-mcp.json",
    ]

    # A worker killed mid-trial: that try is an infrastructure error, kept aside, and the retry is valid.
    killed_run = ran["steps"]["killed"]
    assert killed_run["rc"] == 0, killed_run["stdout"][-3000:] + killed_run["stderr"][-3000:]
    killed = _records(out_killed)
    retried = [t for t in killed.values() if t.tries == 2]
    assert len(retried) == 1 and all(t.valid for t in killed.values()), [t.invalid_reason for t in killed.values()]
    (first_try,) = retried[0].infra_errors
    assert "the Ray task of this trial failed" in first_try and "WorkerCrashedError" in first_try, first_try
    aside = out_killed / retried[0].group / "trial_1.infra-1"
    assert (aside / "job.json").is_file() and not (aside / "trial.json").exists()

    # Ctrl-C while a trial runs on the cluster: its task is cancelled and the trial's processes die with it.
    cancelled = ran["steps"]["cancelled"]
    said = cancelled["stderr"][-3000:]
    assert cancelled["rc"] == 130 and "SIGINT: stopping the running trial" in said, said
    assert cancelled["still_running"] == [], "the cancelled trial's processes outlived its Ray task"
    report = CompareReport.model_validate_json((out_cancelled / "compare_report.json").read_text())
    assert (report.status, report.trials) == ("interrupted", [])


# What ships to a worker and back, without a cluster.


def test_the_template_ships_as_a_trial_copies_it_and_the_bundle_with_only_its_usable_artifacts(tmp_path: Path) -> None:
    from harnessgym.compare.ray_worker import pack_bundle, pack_template, unpack

    template = tmp_path / "template"
    shutil.copytree(EXAMPLE, template)
    (template / ".git").mkdir()
    (template / ".git" / "HEAD").write_text("ref: x\n")
    (template / "link").symlink_to("numerics.py")
    out = template / "out"  # an output folder inside the template stays behind
    (out / "plain" / "trial_1").mkdir(parents=True)
    unpack(pack_template(template, out / "plain" / "trial_1"), tmp_path / "shipped", trusted=True)
    shipped = tmp_path / "shipped"
    assert (shipped / "numerics.py").read_bytes() == (EXAMPLE / "numerics.py").read_bytes()
    assert os.readlink(shipped / "link") == "numerics.py"
    assert not (shipped / ".git").exists() and not (shipped / "out").exists()

    source = artifact_source(tmp_path, fixer_entry(), fixer_entry("quarantined", "broken"))
    (source / "big-unrelated-file").write_bytes(b"x" * 1000)
    unpack(pack_bundle(source), tmp_path / "bundle", trusted=True)
    names = sorted(str(p.relative_to(tmp_path / "bundle")) for p in (tmp_path / "bundle").rglob("*") if p.is_file())
    assert names == [".harnessgym/mcp/lines/harnessgym-mcp.json", ".harnessgym/mcp/lines/server.py",
                     ".harnessgym/registry.json", ".harnessgym/tools/fixer.py"]  # fmt: skip


def test_a_trial_folder_comes_back_without_links_out_of_it(tmp_path: Path) -> None:
    import io
    import tarfile

    from harnessgym.compare.ray_worker import unpack

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("trial.json", b"{}"), ("/etc/evil", b"x"), ("../escape", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (("workspace/passwd", "/etc/passwd"), ("workspace/ok", "../trial.json")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    unpack(buffer.getvalue(), tmp_path / "trial")
    kept = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert kept == ["trial", "trial/etc", "trial/etc/evil", "trial/trial.json", "trial/workspace", "trial/workspace/ok"]
    assert not (tmp_path / "escape").exists()


async def test_an_address_where_nothing_listens_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from harnessgym.compare.ray_executor import RayExecutor, resolve_address
    from harnessgym.errors import ConfigError

    monkeypatch.setenv("RAY_ADDRESS", "10.1.2.3:6379")
    assert (resolve_address(None), resolve_address("127.0.0.1:1")) == ("10.1.2.3:6379", "127.0.0.1:1")
    monkeypatch.delenv("RAY_ADDRESS")
    assert resolve_address(None) == "auto"
    closed = _free_port()
    with anyio.fail_after(10), pytest.raises(ConfigError) as refused:
        await RayExecutor(f"127.0.0.1:{closed}").open()
    assert refused.value.field == "ray_address"
    assert f"no Ray cluster answers at 127.0.0.1:{closed} (connection refused)" in refused.value.problem


def test_a_worker_of_another_harnessgym_version_runs_nothing() -> None:
    from harnessgym.compare.ray_worker import run_on_worker

    done = run_on_worker("{}", b"", None, None, "0.0.0-other")
    assert "has harnessgym" in done["error"] and "the comparison 0.0.0-other" in done["error"]
    assert "trial" not in done


async def test_the_next_trial_on_a_node_kills_what_a_dead_workers_trial_left_and_removes_its_folder(
    tmp_path: Path,
) -> None:
    import sys

    from harnessgym.compare.ray_worker import _prefix, _sweep
    from harnessgym.jobs.orphans import WORKSPACE_ENV
    from mcp_host import is_running, kill_tree, spawn, wait_exited

    gone = await run_process([sys.executable, "-c", "pass"])  # a worker that has ended
    namespace = _prefix().split("-")[0]
    dead = tmp_path / f"{namespace}-{gone.pid}-abc"
    other_namespace = tmp_path / f"1-{gone.pid}-abc"  # another container's worker: its pids mean nothing here
    mine = tmp_path / _prefix().rstrip("-")  # this (live) worker's own trial
    for folder in (dead, other_namespace, mine):
        (folder / "trial" / "workspace").mkdir(parents=True)
    env = {**os.environ, WORKSPACE_ENV: str(dead / "trial" / "workspace")}
    left = await spawn([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        with anyio.fail_after(20):
            await _sweep(tmp_path)
            assert await wait_exited(left.pid, 5)
    finally:
        if is_running(left.pid):
            await kill_tree(left.pid)
        await left.aclose()
    assert not dead.exists() and other_namespace.is_dir() and mine.is_dir()
