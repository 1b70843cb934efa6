"""Records: typed durations, atomic writes, lenient reads of what agents wrote, the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harnessgym import DurationError, RunConfig, parse_duration
from harnessgym.records import JournalEntry
from harnessgym.store import (
    TRANSCRIPT_LIMIT_BYTES,
    append_journal,
    read_agent_result,
    read_journal,
    read_phase_files,
    write_atomic,
)
from harnessgym.store.layout import Layout


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45m", 2700), ("1h30m", 5400), ("90s", 90), ("2.5", 2.5), (30, 30), ("1h", 3600), ("500ms", 0.5),
     ("45 s", 45), ("1h 30m", 5400), ("2M", 120), ("1.", 1), ("1e3", 1000)],
)  # fmt: skip
def test_durations_parse_into_seconds(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["45x", "", "m", "1h 30", "1.5.5m", "inf", "nan", True, None, [5]])
def test_bad_durations_are_refused_with_a_hint(text: object) -> None:
    with pytest.raises(DurationError, match="not a duration; write seconds"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0", "-5", "0s", "-5m", "0ms", 0, -1.5])
def test_zero_and_negative_durations_are_refused_because_a_limit_must_be_positive(text: object) -> None:
    with pytest.raises(DurationError, match="is not allowed: a time limit must be positive") as info:
        parse_duration(text)
    assert str(text) in str(info.value)
    with pytest.raises(ValueError, match=r"(?s)attempt_timeout.*a time limit must be positive"):
        RunConfig(workspace=Path("/tmp"), task_text="t", attempt_timeout=text)  # type: ignore[arg-type]


def test_run_config_is_frozen_strict_and_parses_durations(tmp_path: Path) -> None:
    cfg = RunConfig(workspace=tmp_path, task_text="t", attempt_timeout="1h30m", attempt_timeouts=("5m", "8m"))
    assert (cfg.attempt_timeout, cfg.attempt_timeout_for(1), cfg.attempt_timeout_for(5)) == (5400, 300, 480)
    assert cfg.reflection_limit == cfg.build_timeout == 1200
    with pytest.raises(ValueError, match="extra"):
        RunConfig(workspace=tmp_path, task_text="t", surprise=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown runner"):
        RunConfig(workspace=tmp_path, task_text="t", runner="gpt")
    assert RunConfig.model_validate_json(cfg.model_dump_json()) == cfg


def test_atomic_write_replaces_whole_files_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "record.json"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two" and [p.name for p in target.parent.iterdir()] == ["record.json"]
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"


def test_an_atomic_write_that_cannot_finish_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    target.mkdir()  # the rename onto it fails, after the temp file was written
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"] and target.is_dir()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "result.json of iteration 2 was not written; the attempt is recorded as incomplete"),
        ("", "result.json of iteration 2 is empty; the attempt is recorded as incomplete"),
        ("{\"status\": ", "result.json of iteration 2 is not JSON (line 1, column 12); the attempt is recorded as "
                         "incomplete"),
        ("[1, 2]", "result.json of iteration 2 holds a JSON list, not an object; the attempt is recorded as "
                   "incomplete"),
    ],
)  # fmt: skip
def test_unreadable_result_json_becomes_a_problem_not_an_exception(tmp_path: Path, text: str | None,
                                                                   problem: str) -> None:  # fmt: skip
    path = tmp_path / "result.json"
    if text is not None:
        path.write_text(text)
    assert read_agent_result(path, 2) == (None, [problem])


def test_upstream_result_json_is_read_with_unknown_keys_kept(tmp_path: Path) -> None:
    upstream = {
        "run_id": "r", "iteration": 1, "status": "blocked", "verified": False, "summary": "s",
        "blockers": ["b"], "missing_tooling": ["m"], "phases": {"attempt": {"status": "completed"}},
        "reflection": {"recommendations": ["x"], "selected_improvement": {"kind": "tool", "name": "p",
                                                                          "target_path": ".harnessgym/tools/p.py"}},
        "verification": {"status": "not_run"}, "metrics": {"score": 1.5}, "used_tools": ["p"],
    }  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(upstream))
    result, problems = read_agent_result(path, 1)
    assert problems == [] and result is not None
    assert result.reflection and result.reflection.selected_improvement
    assert result.reflection.selected_improvement.target_path == ".harnessgym/tools/p.py"
    assert result.model_extra == {"run_id": "r", "iteration": 1, "phases": upstream["phases"], "used_tools": ["p"]}


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = Layout(tmp_path).run("r").journal
    for seq, kind in enumerate(["run_started", "phase_started"]):
        append_journal(path, JournalEntry.model_validate({"seq": seq, "kind": kind}))
    with open(path, "a") as fh:
        fh.write('{"schema_version": 1, "seq": 2, "ki')
    assert [e.kind for e in read_journal(path)] == ["run_started", "phase_started"]


def test_every_public_name_resolves_and_the_list_is_exact() -> None:
    import harnessgym

    assert sorted(harnessgym.__all__) == sorted(set(harnessgym.__all__))
    for name in harnessgym.__all__:
        assert getattr(harnessgym, name) is not None
    with pytest.raises(AttributeError):
        _ = harnessgym.not_a_name  # type: ignore[attr-defined]


def test_phase_files_are_read_back_from_their_end_with_what_was_left_out_noted(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    run = layout.run("r1")
    files = run.phase(2, "attempt")
    files.transcript.parent.mkdir(parents=True)
    files.transcript.write_bytes(b"x" * 10 + b"y" * TRANSCRIPT_LIMIT_BYTES)
    files.stdout.write_text('{"type": "result"}\n')
    run.result(2).write_text('{"status": "solved", "verified": "sure"}')

    texts = read_phase_files(layout, "r1", 2, "attempt")
    assert texts.transcript == "[... the first 10 bytes are omitted ...]\n" + "y" * TRANSCRIPT_LIMIT_BYTES
    assert (texts.stdout, texts.stderr) == ('{"type": "result"}\n', None)
    assert texts.result is not None and texts.result.status == "solved"
    assert texts.problems == ["result.json of iteration 2: field 'verified' has the wrong shape and was ignored"]
    empty = read_phase_files(layout, "r1", 3, "build")
    assert (empty.result, empty.problems, empty.transcript, empty.stdout, empty.stderr) == (None, [], None, None, None)


def test_the_three_packages_report_the_version_of_the_installed_distribution() -> None:
    import importlib.metadata

    import harnessgym
    import mcp_host

    assert harnessgym.__version__ == mcp_host.__version__ == importlib.metadata.version("harnessgym")
