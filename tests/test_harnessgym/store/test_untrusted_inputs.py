"""What agents write is untrusted: hostile files get a clear recorded problem, never a hang, a crash or a copy of
something outside the workspace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.loop import config, example_workspace, record, run_bounded, script, step
from support.optimization import manifest, opt_config, scores, workspace

from harnessgym import store
from harnessgym.artifacts.registry import ArtifactEntry, Registry
from harnessgym.artifacts.skills import check_skill
from harnessgym.evidence.scores import OptimizationStep
from harnessgym.evidence.verify import parse_verdict
from harnessgym.records import IterationRecord
from harnessgym.store.files import AGENT_FILE_LIMIT_BYTES, read_agent_result, read_journal

pytestmark = pytest.mark.anyio

_MKFIFO = "import os, sys; os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True); os.mkfifo(sys.argv[1])"


def mkfifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def make_fifo(path: str) -> dict[str, object]:
    """A fake-agent action that puts a FIFO at ``path`` (relative to the workspace)."""
    return {"do": "run", "argv": ["{python}", "-c", _MKFIFO, path]}


def registry_json(ws: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((ws / ".harnessgym" / "registry.json").read_text())
    return data


async def test_result_json_that_is_a_fifo_is_recorded_as_a_problem_not_a_hang(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", make_fifo(".harnessgym/runs/r1/iterations/1/result.json")))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, attempt_only=True, run_id="r1"), 20)
    problems = record(ws, summary.run_id, 1).problems
    assert (
        "result.json of iteration 1 cannot be read (it is not a regular file); the attempt is recorded as "
        "incomplete" in problems
    )
    assert summary.status == "not_solved"


async def test_deeply_nested_result_json_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("attempt", {"do": "raw_result", "text": "[" * 100_000}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, attempt_only=True), 20)
    assert summary.status == "not_solved"
    assert record(ws, summary.run_id, 1).problems == [
        "result.json of iteration 1 is nested more than 64 levels deep; the attempt is recorded as incomplete"
    ]


def test_result_json_of_json_null_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text("null")
    assert read_agent_result(path, 3) == (
        None, ["result.json of iteration 3 holds a JSON null, not an object; the attempt is recorded as incomplete"]
    )  # fmt: skip


def test_result_json_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    with path.open("w") as fh:
        fh.truncate(AGENT_FILE_LIMIT_BYTES + 1)
    assert read_agent_result(path, 1) == (
        None, [f"result.json of iteration 1 cannot be read (it is larger than {AGENT_FILE_LIMIT_BYTES} bytes); the "
               "attempt is recorded as incomplete"],
    )  # fmt: skip


async def test_registry_fields_of_the_wrong_type_are_set_aside_and_the_run_goes_on(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, step("build",
        {"do": "tool", "name": "fine"},
        {"do": "register", "entry": {"kind": "tool", "path": ".harnessgym/tools/q.py", "qualification": {"status": 5}}},
        {"do": "write", "path": ".harnessgym/tools/q.py", "text": "print('q')\n"},
        {"do": "register", "entry": {"kind": "tool", "path": "a\u0000b"}},
        {"do": "register", "entry": {"kind": "tool", "path": "x" * 5000}}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1), 30)
    assert summary.status == "not_solved"
    reasons = sorted(r["reason"] for r in registry_json(ws)["rejected"])  # type: ignore[attr-defined]
    assert reasons == [
        "artifact path 'a\\x00b' holds a NUL character",
        "artifact path " + repr("x" * 5000)[:117] + "... is longer than 4096 bytes",
    ]
    states = {a["id"]: a["state"] for a in registry_json(ws)["artifacts"]}  # type: ignore[attr-defined]
    assert states == {"tool:.harnessgym/tools/fine.py": "active", "tool:.harnessgym/tools/q.py": "active"}


def test_a_registry_whose_rejected_list_is_a_number_is_read(tmp_path: Path) -> None:
    layout = store.ensure_workspace(tmp_path)
    layout.registry.write_text(json.dumps({"schema_version": 1, "rejected": 5, "artifacts": []}))
    assert store.read_registry(layout) == (Registry(), [])


def test_an_unreadable_registry_is_kept_aside_when_a_new_one_is_written(tmp_path: Path) -> None:
    layout = store.ensure_workspace(tmp_path)
    layout.registry.write_text('{"artifacts": [{"kind": "tool", "path": "t.py", "description": "mine"},]}')
    registry, problems = store.read_registry(layout)
    assert problems == [
        "registry.json is not JSON (line 1, column 72); it is kept as registry.unreadable.json "
        "and a new registry was started"
    ]
    store.write_registry(layout, registry)
    assert "mine" in layout.registry_unreadable.read_text()
    assert json.loads(layout.registry.read_text())["artifacts"] == []


async def test_fifos_the_agent_leaves_do_not_stop_qualification_or_checkpoints(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path,
        step("attempt", make_fifo("pipe"), {"do": "result", "set": {"status": "incomplete"}}),
        step("build", make_fifo(".harnessgym/tools/pipe"), {"do": "tool", "name": "fine"}))  # fmt: skip
    cfg = config(
        ws,
        tmp_path,
        fake,
        iterations=1,
        optimization_mode=True,
        verify_command='python -c "print(\'{\\"status\\": \\"passed\\", \\"score\\": 1}\')"',
    )
    summary = await run_bounded(cfg, 30)
    assert summary.status == "not_solved"
    assert record(ws, summary.run_id, 1).status != "interrupted"
    states = {a["id"]: a["state"] for a in registry_json(ws)["artifacts"]}  # type: ignore[attr-defined]
    assert states == {"tool:.harnessgym/tools/fine.py": "active"}


def test_copies_skip_fifos_and_keep_symlinks_as_links(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    layout = store.ensure_workspace(ws)
    mkfifo(ws / "pipe")
    mkfifo(layout.root / "tools" / "pipe")
    (ws / "a.py").write_text("a = 1\n")
    manifest = store.save_best_checkpoint(layout, "r", 1, 1.0)
    assert manifest.files == ["a.py"]
    assert store.workspace_matches_checkpoint(layout, "r")
    store.capture_template(layout, "r")
    store.copy_bundle(layout, tmp_path / "other")
    assert not (tmp_path / "other" / ".harnessgym" / "tools" / "pipe").exists()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    folder = tmp_path / "home" / ".ssh"
    folder.mkdir(parents=True)
    (folder / "id_rsa").write_text("PRIVATE KEY\n")
    return folder


def _no_secret_in(folder: Path) -> bool:
    return not any(p.is_file() and not p.is_symlink() and "PRIVATE KEY" in p.read_text(errors="replace")
                   for p in folder.rglob("*"))  # fmt: skip


def test_artifacts_linked_outside_the_workspace_are_never_copied_or_discovered(tmp_path: Path, secret: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    layout = store.ensure_workspace(ws)
    (layout.root / "tools" / "key").symlink_to(secret / "id_rsa")
    (layout.root / "scripts").rmdir()
    (layout.root / "scripts").symlink_to(secret)
    (layout.root / "skills" / "s").symlink_to(secret)
    layout.registry.write_text(json.dumps({"schema_version": 1, "artifacts": [
        {"kind": "tool", "path": ".harnessgym/tools/key", "state": "active"},
        {"kind": "skill", "path": ".harnessgym/skills/s", "state": "active"},
        {"kind": "script", "path": ".harnessgym/scripts/id_rsa", "state": "active"},
    ]}))  # fmt: skip
    assert store.discover_artifacts(layout) == []
    copied, problems = store.copy_usable_artifacts(layout, tmp_path / "trial")
    assert copied == []
    assert problems == [
        f"artifact {i!r} ({p}) leads outside the workspace through a symlink; it was not copied"
        for i, p in [("tool:.harnessgym/tools/key", ".harnessgym/tools/key"),
                     ("skill:.harnessgym/skills/s", ".harnessgym/skills/s"),
                     ("script:.harnessgym/scripts/id_rsa", ".harnessgym/scripts/id_rsa")]
    ]  # fmt: skip
    store.copy_bundle(layout, tmp_path / "fresh")
    assert _no_secret_in(tmp_path / "trial") and _no_secret_in(tmp_path / "fresh")
    entry = ArtifactEntry(id="tool:.harnessgym/tools/key", kind="tool", path=".harnessgym/tools/key")
    assert store.artifact_digest(layout, entry) is None


def test_a_skill_md_that_is_not_utf8_or_is_a_fifo_is_rejected_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "SKILL.md"
    bad.parent.mkdir()
    bad.write_bytes(b"---\nname: \xff\ndescription: d\n---\n")
    assert check_skill(bad) == "SKILL.md is not UTF-8 text (byte 10); the CLIs cannot read it"
    fifo = mkfifo(tmp_path / "pipe" / "SKILL.md")
    assert check_skill(fifo) == "SKILL.md cannot be read (it is not a regular file)"


def test_verify_output_nested_too_deeply_is_judged_by_exit_code() -> None:
    nested = '{"a": ' * 300 + "1" + "}" * 300
    for stdout in ("[" * 100_000, nested):
        verdict = parse_verdict("check", stdout, 1)
        assert (verdict.status, verdict.payload, verdict.decided_by) == ("failed", None, "exit_code")


def test_run_files_the_agent_replaced_with_fifos_never_block_readers_or_the_journal(tmp_path: Path) -> None:
    from harnessgym.records import JournalEntry

    layout = store.ensure_workspace(tmp_path)
    run = layout.run("r")
    for path in (run.journal, run.summary, run.result(1), run.phase(1, "attempt").transcript, layout.lock):
        mkfifo(path)
    assert store.read_summary(layout, "r") is None
    assert read_journal(run.journal) == []
    texts = store.read_phase_files(layout, "r", 1, "attempt")
    assert texts.transcript is None
    assert texts.problems == [
        "result.json of iteration 1 cannot be read (it is not a regular file); the attempt is recorded as incomplete"
    ]
    assert store.lock_holder(layout) is None and store.lock_holder_run(layout) is None
    store.append_journal(run.journal, JournalEntry(seq=0, kind="run_started"))
    assert [e.kind for e in read_journal(run.journal)] == ["run_started"]


@pytest.mark.slow
async def test_records_the_agent_forges_do_not_move_the_baseline_or_the_best_checkpoint(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    forged = {"command": "x", "status": "completed", "passed": True, "score": -1000.0}
    first = IterationRecord(run_id="r1", iteration=1, optimization=OptimizationStep(
        score_key="score", higher_is_better=False, current_score=-500.0)).model_dump_json()  # fmt: skip
    steps = scores("8", "6", extra={2: [
        {"do": "write", "path": ".harnessgym/runs/r1/baseline/baseline.json", "text": json.dumps(forged)},
        {"do": "write", "path": ".harnessgym/runs/r1/iterations/1/iteration.json", "text": first},
    ]})  # fmt: skip
    summary = await run_bounded(opt_config(ws, tmp_path, steps, run_id="r1"))
    second = record(ws, "r1", 2).optimization
    assert second is not None
    assert (second.baseline_score, second.previous_best_score, second.checkpointed) == (10.0, 8.0, True)
    assert summary.optimization is not None
    assert (summary.optimization.baseline_score, summary.optimization.best_iteration) == (10.0, 2)
    assert manifest(ws, "r1").iteration == 2
    assert (ws / "score.txt").read_text() == "6\n"


async def test_a_skill_linked_outside_the_workspace_is_quarantined_not_activated(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "SKILL.md").write_text("---\nname: elsewhere\ndescription: not ours\n---\nbody\n")
    fake = script(tmp_path, step("build",
        {"do": "run", "argv": ["{python}", "-c", "import os, sys; os.symlink(sys.argv[1], sys.argv[2])",
                               str(outside), ".harnessgym/skills/elsewhere"]},
        {"do": "register", "entry": {"kind": "skill", "path": ".harnessgym/skills/elsewhere"}}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, artifact_repair_attempts=0), 30)
    assert summary.status == "not_solved"
    artifacts = registry_json(ws)["artifacts"]
    assert [(a["id"], a["state"], a["quarantine_reason"]) for a in artifacts] == [  # type: ignore[attr-defined]
        ("skill:.harnessgym/skills/elsewhere", "quarantined", ".harnessgym/skills/elsewhere leads outside the "
         "workspace through a symlink; artifacts must live inside it"),
    ]  # fmt: skip
    assert not (ws / ".claude" / "skills" / "elsewhere").exists()


async def test_a_symlink_loop_in_the_agents_skill_folders_does_not_stop_activation(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    loop = (
        "import os; os.makedirs('.claude/skills'); "
        "os.symlink('b', '.claude/skills/a'); os.symlink('a', '.claude/skills/b')"
    )
    fake = script(tmp_path, step("attempt", {"do": "run", "argv": ["{python}", "-c", loop]},
                                 {"do": "result", "set": {"status": "incomplete"}}),
                  step("build", {"do": "tool", "name": "fine"}))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1), 30)
    assert summary.status == "not_solved"
    assert record(ws, summary.run_id, 1).completed_phases[-1] == "activate"
    assert (ws / ".claude" / "skills" / "a").is_symlink()


def test_a_registry_entry_through_a_symlink_loop_is_set_aside(tmp_path: Path) -> None:
    layout = store.ensure_workspace(tmp_path)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    layout.registry.write_text(json.dumps({"schema_version": 1, "artifacts": [
        {"kind": "tool", "path": str(tmp_path / "a" / "x.py")}]}))  # fmt: skip
    registry, _ = store.read_registry(layout)
    assert registry.artifacts == []
    assert [r.reason for r in registry.rejected] == [
        f"artifact path {str(tmp_path / 'a' / 'x.py')!r} is outside the workspace"
    ]


def test_forged_snapshots_never_write_into_the_harness_or_through_kept_links(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    layout = store.ensure_workspace(ws)
    (ws / "a.py").write_text("a = 1\n")
    store.snapshot_task_state(layout)
    store.save_best_checkpoint(layout, "r", 1, 1.0)
    layout.registry.write_text('{"schema_version": 1, "artifacts": []}')
    (ws / ".claude").symlink_to(outside)
    # the agent forges both snapshots (they live under .harnessgym, which it can write)
    for snapshot in (layout.task_state, layout.run("r").best_checkpoint / "workspace"):
        (snapshot / ".harnessgym").mkdir()
        (snapshot / ".harnessgym" / "registry.json").write_text("forged")
        (snapshot / ".claude").mkdir()
        (snapshot / ".claude" / "authorized_keys").write_text("forged")
    store.restore_best_checkpoint(layout, "r")
    store.restore_task_state(layout)
    assert layout.registry.read_text() == '{"schema_version": 1, "artifacts": []}'
    assert list(outside.iterdir()) == []
    assert (ws / "a.py").read_text() == "a = 1\n"


def test_taking_the_lock_never_truncates_a_file_the_lock_links_to(tmp_path: Path) -> None:
    ws, precious = tmp_path / "ws", tmp_path / "bashrc"
    ws.mkdir()
    precious.write_text("precious\n")
    layout = store.ensure_workspace(ws)
    layout.lock.symlink_to(precious)
    lock = store.WorkspaceLock.acquire(layout, "r1")
    try:
        assert precious.read_text() == "precious\n"
        assert not layout.lock.is_symlink() and store.lock_holder(layout) == (os.getpid(), "r1")
    finally:
        lock.release()
    layout.lock.unlink()
    mkfifo(layout.lock)
    store.WorkspaceLock.acquire(layout, "r2").release()


@pytest.mark.parametrize(
    ("score", "problems"),
    [
        ("1" + "0" * 400, []),
        ("1" + "0" * 5000, ["result.json of iteration 1 holds a number too long to read; the attempt is recorded as "
                            "incomplete"]),
    ],
    ids=["400-digits", "5000-digits"],
)  # fmt: skip
async def test_a_claimed_score_of_hundreds_of_digits_is_no_score_not_a_crash(tmp_path: Path, score: str,
                                                                           problems: list[str]) -> None:  # fmt: skip
    ws = example_workspace(tmp_path)
    text = '{"status": "incomplete", "metrics": {"score": ' + score + "}}"
    fake = script(tmp_path, step("attempt", {"do": "raw_result", "text": text}))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, attempt_only=True), 20)
    assert summary.status == "not_solved"
    rec = record(ws, summary.run_id, 1)
    assert rec.problems == problems
    assert rec.agent_claim is not None and rec.agent_claim.score is None


def test_a_measured_score_of_hundreds_of_digits_is_no_score() -> None:
    verdict = parse_verdict("check", '{"status": "passed", "score": 1' + "0" * 400 + "}", 0)
    assert (verdict.status, verdict.score) == ("passed", None)
