"""Evidence, not claims: run a verify (or score) command the way the loop does and turn it into a Verdict.

The command runs through :func:`mcp_host._supervise.procs.run_process` (own process group, timeout that kills the tree,
output streamed to files). Its stdout is read as a JSON verdict when it is one, else the exit code decides.

A verify command is the user's, but what it runs is mostly the agent's (the code under test), so it gets the
environment minus every variable named like a key, token, secret or password
(:func:`mcp_host.is_secret_name`),
except the names the user passes on deliberately (``--verify-pass-env NAME``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from harnessgym.evidence.scores import PASSING_STATUSES, Measurement
from harnessgym.records import Verdict, json_too_deep
from harnessgym.secrecy import seal_environ
from mcp_host import is_secret_name, run_process

__all__ = [
    "PASSING_STATUSES",
    "command_env",
    "extract_score",
    "measurement_of",
    "parse_verdict",
    "run_measurement",
    "run_verify",
    "score_workspace",
]

STDOUT_LIMIT_BYTES = 16 * 1024 * 1024
"""How much of a verify command's stdout is read for its verdict: the end, where verifiers print it."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def extract_score(payload: Mapping[str, Any], key: str = "score") -> float | None:
    """The first number at ``d[key]``, ``d.score``, ``metrics[key]``, ``metrics.score``, ``objective.*``,
    ``verification.*`` (upstream's order)."""
    candidates: list[Any] = [payload.get(key), payload.get("score")]
    for section in ("metrics", "objective", "verification"):
        inner = payload.get(section)
        if isinstance(inner, Mapping):
            candidates += [inner.get(key), inner.get("score")]
    for value in candidates:
        number = _number(value)
        if number is not None:
            return number
    return None


def _json_object(stdout: str) -> dict[str, Any] | None:
    """The whole stdout as a JSON object, else its last non-empty line (verifiers often log first)."""
    text = stdout.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    for candidate in (text, lines[-1] if lines else ""):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and not json_too_deep(value):
            return value
    return None


def parse_verdict(
    command: str, stdout: str, return_code: int | None, *, timed_out: bool = False, score_key: str = "score"
) -> Verdict:
    """Decide pass/fail from one finished command."""
    payload = _json_object(stdout)
    score = extract_score(payload, score_key) if payload is not None else None
    if timed_out:
        return Verdict(
            command=command,
            status="timeout",
            score=score,
            score_key=score_key,
            return_code=return_code,
            timed_out=True,
            payload=payload,
            message="the verify command timed out; its tree was killed",
        )
    status_value = payload.get("status") if payload is not None else None
    if isinstance(status_value, str):
        passed = status_value.strip().lower() in PASSING_STATUSES
        decided_by = "json_status"
        message = f"the verifier reported status {status_value!r}"
    else:
        passed = return_code == 0
        decided_by = "exit_code"
        message = f"the verifier exited with {return_code}"
    return Verdict(
        command=command,
        status="passed" if passed else "failed",
        score=score,
        score_key=score_key,
        return_code=return_code,
        payload=payload,
        decided_by=decided_by,
        message=message,
    )


def command_env(pass_env: Collection[str] = (), extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a verify, post or score command: ours without secret-named variables (but those in
    ``pass_env``), plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if k in pass_env or not is_secret_name(k)}
    return {**kept, **(extra or {})}


async def run_verify(
    command: str,
    *,
    workspace: Path,
    timeout: float,
    stdout_path: Path,
    stderr_path: Path,
    score_key: str = "score",
    env: Mapping[str, str] | None = None,
    pass_env: Collection[str] = (),
) -> Verdict:
    """Run ``command`` with ``/bin/sh -c`` in ``workspace`` and return its verdict (never raises for failures)."""
    seal_environ()  # the command is agent-written code: it must not read this process's keys from /proc
    child_env = command_env(pass_env, env)
    result = await run_process(
        ["/bin/sh", "-c", command],
        cwd=workspace,
        env=child_env,
        timeout=timeout,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )
    if result.error is not None:
        return Verdict(
            command=command,
            status="error",
            score_key=score_key,
            message=result.error,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
        )
    try:
        with stdout_path.open("rb") as fh:
            # A verdict is small; a command that prints gigabytes is judged by its tail (its last line).
            size = fh.seek(0, 2)
            fh.seek(max(0, size - STDOUT_LIMIT_BYTES))
            stdout = fh.read(STDOUT_LIMIT_BYTES).decode("utf-8", errors="replace")
    except OSError:
        stdout = result.stdout_tail
    verdict = parse_verdict(command, stdout, result.returncode, timed_out=result.timed_out, score_key=score_key)
    return verdict.model_copy(
        update={"duration_seconds": result.duration_seconds, "stdout_path": stdout_path, "stderr_path": stderr_path}
    )


def measurement_of(verdict: Verdict, rule: Literal["post_attempt", "verify"]) -> Measurement:
    """A finished command's :class:`Measurement`; ``rule`` picks the pass rule
    (see :mod:`harnessgym.evidence.scores`)."""
    if verdict.status == "error":
        status: Literal["completed", "failed", "timeout", "error"] = "error"
    elif verdict.timed_out:
        status = "timeout"
    else:
        status = "completed" if verdict.return_code == 0 else "failed"
    if rule == "verify":
        passed = verdict.passed
    else:
        reported = verdict.payload.get("status") if verdict.payload is not None else None
        passed = (
            status == "completed"
            and verdict.payload is not None
            and (reported is None or str(reported).strip().lower() in PASSING_STATUSES)
        )
    message = verdict.message
    if status == "timeout":
        message = "the command timed out; its process tree was killed"
    elif rule == "post_attempt" and status == "completed" and verdict.payload is None:
        message = "the command exited 0 but printed no JSON object, so it does not count as passed"
    return Measurement(
        command=verdict.command, rule=rule, status=status, passed=passed, score=verdict.score,
        score_key=verdict.score_key, return_code=verdict.return_code, timed_out=verdict.timed_out,
        duration_seconds=verdict.duration_seconds, stdout_path=verdict.stdout_path, stderr_path=verdict.stderr_path,
        payload=verdict.payload, message=message,
    )  # fmt: skip


async def run_measurement(
    command: str,
    rule: Literal["post_attempt", "verify"],
    *,
    workspace: Path,
    timeout: float,
    stdout_path: Path,
    stderr_path: Path,
    score_key: str = "score",
    env: Mapping[str, str] | None = None,
    pass_env: Collection[str] = (),
) -> Measurement:
    """Run ``command`` exactly like a verify command and measure it by ``rule`` (never raises for failures)."""
    verdict = await run_verify(command, workspace=workspace, timeout=timeout, stdout_path=stdout_path,
                               stderr_path=stderr_path, score_key=score_key, env=env,
                               pass_env=pass_env)  # fmt: skip
    return measurement_of(verdict, rule)


async def score_workspace(
    workspace: Path,
    command: str,
    *,
    score_key: str = "score",
    timeout: float = 120.0,
    output_dir: Path | None = None,
) -> Verdict:
    """Run a verify/score command on ``workspace`` now, outside any run.

    Its stdout and stderr are kept as ``score.stdout.txt`` and ``score.stderr.txt`` in ``output_dir`` when one
    is given (the verdict names them); otherwise they go to a temporary folder that is removed before this
    returns, so the verdict names no files and nothing is left behind.
    """
    if output_dir is not None:
        return await _score(Path(workspace), command, Path(output_dir), score_key, timeout)
    with tempfile.TemporaryDirectory(prefix="harnessgym-score-") as tmp:
        verdict = await _score(Path(workspace), command, Path(tmp), score_key, timeout)
    return verdict.model_copy(update={"stdout_path": None, "stderr_path": None})


async def _score(workspace: Path, command: str, out_dir: Path, score_key: str, timeout: float) -> Verdict:
    return await run_verify(
        command,
        workspace=workspace,
        timeout=timeout,
        stdout_path=out_dir / "score.stdout.txt",
        stderr_path=out_dir / "score.stderr.txt",
        score_key=score_key,
    )
