"""Evidence: how a verify command's output becomes a verdict and a score."""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import pytest

from harnessgym import score_workspace
from harnessgym.evidence.verify import extract_score, parse_verdict


@pytest.mark.parametrize(
    ("stdout", "code", "status", "decided_by"),
    [
        ('{"status": "passed"}', 1, "passed", "json_status"),
        ('{"status": "OK"}', 0, "passed", "json_status"),
        ('{"status": "success"}', 0, "passed", "json_status"),
        ('{"status": "solved"}', 0, "passed", "json_status"),
        ('{"status": "failed"}', 0, "failed", "json_status"),
        ('log line\n{"status": "pass", "score": 3}', 0, "passed", "json_status"),
        ('{"score": 1}', 0, "passed", "exit_code"),
        ("all good", 0, "passed", "exit_code"),
        ("broken", 2, "failed", "exit_code"),
    ],
)
def test_verdict_follows_json_status_else_exit_code(stdout: str, code: int, status: str, decided_by: str) -> None:
    verdict = parse_verdict("cmd", stdout, code)
    assert (verdict.status, verdict.decided_by) == (status, decided_by)


def test_timeout_is_never_a_pass() -> None:
    assert parse_verdict("cmd", '{"status": "passed"}', None, timed_out=True).status == "timeout"


@pytest.mark.parametrize(
    ("payload", "score"),
    [
        ({"loss": 2, "score": 1}, 2.0),
        ({"score": "0.5"}, 0.5),
        ({"metrics": {"loss": 3}}, 3.0),
        ({"metrics": {"score": 4}}, 4.0),
        ({"objective": {"loss": 5}}, 5.0),
        ({"verification": {"score": 6}}, 6.0),
        ({"loss": True, "score": "nan"}, None),
        ({}, None),
    ],
)
def test_score_is_found_where_upstream_looked(payload: dict[str, object], score: float | None) -> None:
    assert extract_score(payload, "loss") == score


@pytest.mark.anyio
async def test_score_workspace_runs_the_command_like_the_loop(tmp_path: Path) -> None:
    (tmp_path / "v.py").write_text('import json; print(json.dumps({"status": "failed", "score": 0.25}))')
    with anyio.fail_after(20):
        verdict = await score_workspace(tmp_path, "python v.py", output_dir=tmp_path / "out")
        slow = await score_workspace(tmp_path, "sleep 30", timeout=0.5)
        missing = await score_workspace(tmp_path, "no-such-program-xyz")
    assert (verdict.status, verdict.score, verdict.return_code) == ("failed", 0.25, 0)
    assert verdict.stdout_path == tmp_path / "out" / "score.stdout.txt" and "0.25" in verdict.stdout_path.read_text()
    assert (slow.status, slow.timed_out) == ("timeout", True)
    assert (missing.status, missing.return_code) == ("failed", 127)


@pytest.mark.anyio
async def test_score_workspace_without_an_output_dir_leaves_nothing_in_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    (tmp_path / "v.py").write_text('import json; print(json.dumps({"status": "passed", "score": 1}))')
    with anyio.fail_after(20):
        verdict = await score_workspace(tmp_path, "python v.py")
        slow = await score_workspace(tmp_path, "sleep 30", timeout=0.5)
        missing = await score_workspace(tmp_path, "no-such-program-xyz")
    assert (verdict.status, verdict.score, verdict.stdout_path, verdict.stderr_path) == ("passed", 1.0, None, None)
    assert (slow.status, missing.status) == ("timeout", "failed")
    assert list(temp.iterdir()) == []
