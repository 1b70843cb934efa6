"""Continuing a run by more iterations: the same run folder and journal, numbering on from the last iteration."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from support.loop import (
    FIX,
    VERIFY,
    config,
    example_workspace,
    hang_once,
    hanging_children,
    result,
    run_bounded,
    script,
    step,
    wait_until,
)

from harnessgym import ContinueError, RunConfig, RunEvent, continue_async, get_run, resume_async

pytestmark = pytest.mark.anyio


def lifecycle(ws: Path, run_id: str) -> list[str]:
    lines = (ws / ".harnessgym" / "runs" / run_id / "journal.jsonl").read_text().splitlines()
    return [k for k in (json.loads(line)["kind"] for line in lines) if k.startswith("run_")]


def saved_config(ws: Path, run_id: str) -> RunConfig:
    return RunConfig.model_validate_json((ws / ".harnessgym" / "runs" / run_id / "run_config.json").read_text())


@pytest.mark.slow
async def test_continuing_a_finished_run_appends_the_next_iteration_to_the_same_run(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, verify_command=VERIFY, iterations=1)
    first = await run_bounded(cfg)
    assert (first.status, [i.iteration for i in first.iterations]) == ("not_solved", [1])

    events: list[RunEvent] = []
    with anyio.fail_after(40):
        second = await continue_async(ws, cfg.run_id, iterations=1, on_event=events.append)
    assert (second.run_id, second.run_dir, second.status, second.solved_iteration) == (
        cfg.run_id, first.run_dir, "solved", 2)  # fmt: skip
    assert [(i.iteration, i.verdict_status) for i in second.iterations] == [(1, "failed"), (2, "passed")]
    assert events[0].kind == "run_continued" and events[0].iteration == 2
    assert lifecycle(ws, cfg.run_id) == ["run_started", "run_finished", "run_continued", "run_finished"]
    assert saved_config(ws, cfg.run_id) == cfg.model_copy(update={"iterations": 2})
    assert (get_run(ws, cfg.run_id).status, get_run(ws, cfg.run_id).iterations_planned) == ("solved", 2)

    with pytest.raises(ContinueError, match="iteration 2 already solved the task; pass allow_solved"):
        await continue_async(ws, cfg.run_id)
    with anyio.fail_after(40):
        third = await continue_async(ws, cfg.run_id, allow_solved=True)
    assert ([i.iteration for i in third.iterations], third.status, third.solved_iteration) == ([1, 2, 3], "solved", 2)


@pytest.mark.slow
async def test_a_live_run_is_refused_and_an_interrupted_iteration_is_completed_first(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step("attempt", hang_once(), result(status="blocked"), iteration=1),
        step("attempt", hang_once(marker=".hang-two"), FIX, result(status="solved"), iteration=2),
    )
    cfg = config(ws, tmp_path, fake, verify_command=VERIFY, iterations=3)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_bounded, cfg)
        await wait_until(lambda: bool(hanging_children(ws, 1)))
        with pytest.raises(ContinueError, match="it is still running; wait for it to end or cancel it"):
            await continue_async(ws, cfg.run_id)
        tg.cancel_scope.cancel()
    assert get_run(ws, cfg.run_id).status == "interrupted"

    # One more iteration: the interrupted first one is completed, and that is all.
    with anyio.fail_after(40):
        done = await continue_async(ws, cfg.run_id, iterations=1)
    assert (done.status, [(i.iteration, i.status) for i in done.iterations]) == ("not_solved", [(1, "blocked")])
    assert saved_config(ws, cfg.run_id).iterations == 1

    # A continuation that is interrupted in turn is resumable, although the journal holds an earlier finish.
    async with anyio.create_task_group() as tg:
        tg.start_soon(continue_async, ws, cfg.run_id)
        await wait_until(lambda: bool(hanging_children(ws, 2)))
        tg.cancel_scope.cancel()
    assert get_run(ws, cfg.run_id).status == "interrupted"
    with anyio.fail_after(40):
        final = await resume_async(ws, cfg.run_id)
    assert (final.status, final.solved_iteration) == ("solved", 2)
    assert lifecycle(ws, cfg.run_id) == [
        "run_started", "run_interrupted", "run_continued", "run_finished", "run_continued", "run_interrupted",
        "run_resumed", "run_finished",
    ]  # fmt: skip


async def test_continuing_needs_a_saved_run_and_at_least_one_iteration(tmp_path: Path) -> None:
    from harnessgym import ConfigError, RunNotFoundError

    ws = example_workspace(tmp_path)
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        await continue_async(ws, "nope")
    with pytest.raises(ConfigError, match="at least one more iteration, not 0"):
        await continue_async(ws, "nope", iterations=0)
