"""Experimental live view (``--watch``): a Codex attempt in Codex's interactive UI inside a private tmux server.

A person attaches read-only with the command the transcript names (``tmux -S <socket> attach -r``); harnessgym
itself never reads the screen to decide anything. How it is built, and why (observed with Codex 0.169):

* **Configuration first**: the workspace is marked trusted in ``$CODEX_HOME/config.toml`` (the UI would stop at
  a trust dialog otherwise), and the UI runs with ``--no-daemon`` (without it Codex copies 404 MB into
  ``$CODEX_HOME/packages`` and leaves app-server daemons behind).
* **Input**: the prompt is pasted as a bracketed paste (``tmux paste-buffer -p``, so its newlines do not submit
  it), then a carriage return is sent separately, a moment later: text and newline in one write submit nothing.
* **State from Codex's own files**: the session's rollout (``$CODEX_HOME/sessions/**/rollout-*.jsonl``:
  ``task_started``/``task_complete``, ``token_count``) and the goal's row in ``$CODEX_HOME/goals_1.sqlite``.
* **Bounds**: the token budget (from the rollout's counts; the UI's ``/goal`` has none), the phase timeout, and a
  UI that does not start its turn within :data:`START_SECONDS` is given up: the attempt then runs headless.
* **Cleanup**: ``tmux kill-server`` on the private socket, then every process carrying the phase tag.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from mcp_host import PROC_TAG_VAR, kill_tree, spawn, sweep_tagged

from ._base import PhaseOutcome, PhaseRequest
from ._cli_events import Transcript, summarize, write_prompt_file
from ._goal import GoalOutcome, GoalReport

if TYPE_CHECKING:
    from ._codex import CodexRunner

__all__ = ["START_SECONDS", "run_codex_watch", "trust_workspace"]

START_SECONDS = 45.0
"""How long the UI may take to start the submitted turn before the live view is given up."""
KEY_GAP_SECONDS = 0.4
"""Between the pasted text and the carriage return that submits it (a UI needs them as separate inputs)."""
POLL_SECONDS = 0.25
CLEAR_SECONDS = 10.0
"""How long ``/goal clear`` may take in the UI once the budget or the time is spent."""
DRAW_SECONDS = 3.0
"""How long the UI gets to start before the prompt is pasted (a UI that missed it is caught by START_SECONDS)."""
_ENDINGS: dict[str, GoalOutcome] = {"complete": "met", "blocked": "impossible", "budgetLimited": "budget_exhausted"}
"""Codex's files are the only signal there is (no pipe to the UI), so they are polled."""


def trust_workspace(codex_home: Path, workspace: Path) -> None:
    """Mark ``workspace`` trusted in ``config.toml`` (unless it already is), so the UI starts without a dialog."""
    config = codex_home / "config.toml"
    header = f"[projects.{json.dumps(str(workspace))}]"
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    if header not in text:
        codex_home.mkdir(parents=True, exist_ok=True)
        config.write_text(text + ("\n" if text and not text.endswith("\n") else "")
                          + f"\n{header}\ntrust_level = \"trusted\"\n", encoding="utf-8")  # fmt: skip


class _Rollout:
    """The newest rollout file Codex started after ``since``: its session id, turns and tokens."""

    def __init__(self, codex_home: Path, since: float) -> None:
        self.sessions = codex_home / "sessions"
        self.since = since
        self.path: Path | None = None
        self.session_id: str | None = None
        self.started = self.completed = self.tokens = 0
        self.last_message: str | None = None

    def refresh(self) -> _Rollout:
        self.read()
        return self

    def read(self) -> None:
        if self.path is None:
            found = [p for p in self.sessions.glob("*/*/*/rollout-*.jsonl") if p.stat().st_mtime >= self.since]
            self.path = max(found, key=lambda p: p.stat().st_mtime) if found else None
        if self.path is None:
            return
        self.started = self.completed = 0
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                payload = entry.get("payload") if isinstance(entry, dict) else None
                if not isinstance(payload, dict):
                    continue
                if entry.get("type") == "session_meta":
                    self.session_id = str(payload.get("id") or "") or None
                kind = payload.get("type")
                if kind == "task_started":
                    self.started += 1
                elif kind == "task_complete":
                    self.completed += 1
                    self.last_message = payload.get("last_agent_message") or self.last_message
                elif kind == "token_count" and isinstance(payload.get("info"), dict):
                    total = payload["info"].get("total_token_usage") or {}
                    self.tokens = int(total.get("input_tokens", 0)) + int(total.get("output_tokens", 0))


def _goal_status(codex_home: Path, thread_id: str | None) -> str | None:
    path = codex_home / "goals_1.sqlite"
    if thread_id is None or not path.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("select status from thread_goals where thread_id = ?", (thread_id,)).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


class _Tmux:
    def __init__(self, env: dict[str, str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hg-watch-"))  # short: a socket path has ~100 bytes
        self.socket = self.dir / "tmux.sock"
        self.env = env

    async def run(self, *args: str) -> None:
        """One tmux client command, bounded. Not through ``run_process``: its sweep would kill the tmux server
        (which must outlive the client); the phase's own tag ends the server and the UI at the end."""
        argv = [shutil.which("tmux") or "tmux", "-S", str(self.socket), *args]
        errors = self.dir / "tmux.err"
        with open(errors, "ab") as err, open(os.devnull, "rb") as nothing, open(os.devnull, "wb") as sink:
            proc = await spawn(argv, env=self.env, stdin=nothing, stdout=sink, stderr=err)
        try:
            with anyio.fail_after(15):
                code = await proc.wait()
        finally:
            await kill_tree(proc.pid)
            await proc.aclose()
        if code != 0:
            raise OSError(f"tmux {args[0]} failed: {errors.read_text(errors='replace').strip()[-300:]}")

    @property
    def attach(self) -> str:
        return f"tmux -S {self.socket} attach -r"


async def _submit(tmux: _Tmux, text: str) -> None:
    buffer = tmux.dir / "paste.txt"
    buffer.write_text(text, encoding="utf-8")
    await tmux.run("load-buffer", "-b", "hg", str(buffer))
    await tmux.run("paste-buffer", "-p", "-d", "-b", "hg", "-t", "hg")
    await anyio.sleep(KEY_GAP_SECONDS)
    await tmux.run("send-keys", "-t", "hg", "Enter")


async def _until(check: Any, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if check():
            return True
        await anyio.sleep(POLL_SECONDS)
    return bool(check())


async def run_codex_watch(runner: CodexRunner, request: PhaseRequest) -> PhaseOutcome:
    """The attempt in the UI under tmux (then its goal, if any); headless when the UI does not start."""
    env = runner.environment()
    codex_home = Path(env.get("CODEX_HOME") or Path(env.get("HOME", "~")).expanduser() / ".codex")
    trust_workspace(codex_home, request.workspace)
    write_prompt_file(request)
    tag = uuid.uuid4().hex
    tmux = _Tmux({**env, PROC_TAG_VAR: tag})
    transcript = Transcript(request.transcript_path)
    transcript.header(f"codex {request.phase} (run {request.run_id}, iteration {request.iteration}), live view")
    transcript.write("watch", f"attach read-only with: {tmux.attach}")
    outcome = PhaseOutcome(phase=request.phase, status="completed", prompt_path=request.prompt_path,
                           transcript_path=request.transcript_path, details={"watch_attach": tmux.attach})  # fmt: skip
    started = time.monotonic()
    deadline = started + request.timeout_seconds
    rollout = _Rollout(codex_home, time.time() - 1)
    ending: GoalOutcome = "not_met"
    goal, stuck = request.goal, False
    try:
        await tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "hg", "-x", "200", "-y", "50", "-c",
                       str(request.workspace), "--", *runner.ui_argv(request))  # fmt: skip
        await anyio.sleep(DRAW_SECONDS)  # no file tells that the UI reads input yet; a paste before it is lost
        await _submit(tmux, request.prompt)
        if not await _until(lambda: rollout.refresh().started >= 1, min(deadline, time.monotonic() + START_SECONDS)):
            stuck = True
        elif not await _until(lambda: rollout.refresh().completed >= 1, deadline):
            outcome.status, outcome.error_kind, outcome.timed_out, ending = "timeout", "timeout", True, "timeout"
        elif goal is not None:
            await _submit(tmux, f"/goal {' '.join(goal.condition.split())}")

            def over() -> bool:
                status = _goal_status(codex_home, rollout.refresh().session_id)
                spent = rollout.tokens >= budget
                return spent or (status not in (None, "active") and rollout.completed >= rollout.started)

            budget = goal.token_budget
            if not await _until(over, deadline):
                outcome.status, outcome.error_kind, outcome.timed_out, ending = "timeout", "timeout", True, "timeout"
            else:
                status = str(_goal_status(codex_home, rollout.session_id))
                spent: GoalOutcome = "budget_exhausted" if rollout.tokens >= budget else "not_met"
                ending = _ENDINGS.get(status, spent)
            if _goal_status(codex_home, rollout.session_id) == "active":  # or resuming the thread would go on
                with anyio.CancelScope(shield=True), anyio.move_on_after(CLEAR_SECONDS):
                    await _submit(tmux, "/goal clear")
                    await _until(
                        lambda: _goal_status(codex_home, rollout.session_id) != "active",
                        time.monotonic() + CLEAR_SECONDS,
                    )
    except OSError as exc:
        outcome.status, outcome.error_kind, outcome.message, ending = "failed", "not_started", str(exc), "failed"
    finally:
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(10):
                await tmux.run("kill-server")
            await sweep_tagged(tag)
            shutil.rmtree(tmux.dir, ignore_errors=True)
    if stuck:
        transcript.write("watch", f"the UI did not start the turn within {START_SECONDS:g} s; running headless")
        transcript.close()
        return await runner.run_headless(request)
    rollout.read()
    outcome.session_id, outcome.final_text = rollout.session_id, rollout.last_message
    outcome.duration_seconds = time.monotonic() - started
    outcome.details.update({"turns_completed": rollout.completed, "rollout": str(rollout.path)})
    if goal is not None:
        outcome.goal = GoalReport(condition=goal.condition, outcome=ending, turns=rollout.completed,
                                  tokens_used=rollout.tokens, token_budget=goal.token_budget)  # fmt: skip
    transcript.write("outcome", summarize(outcome))
    transcript.close()
    return outcome
