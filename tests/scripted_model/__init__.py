"""The scripted model server for tests that drive real agent CLIs (script format: see ``server.py``).

Use it in-process (a thread) or as a subprocess (for tests where another process must own it)::

    with scripted_model(script, tmp_path) as model:          # or scripted_model(..., subprocess=True)
        env["ANTHROPIC_BASE_URL"] = model.base_url           # Claude Code
        codex_base_url = model.openai_base_url               # a Codex provider's base_url
        ...
        requests = model.requests()                          # the request log, oldest first

The subprocess form is ``python tests/scripted_model/server.py --script S --log L --port-file P`` (see
:data:`SERVER_SCRIPT`), so code outside the test suite can start it by path too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess as sp
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import ModelServer

__all__ = ["SERVER_SCRIPT", "ScriptedModel", "scripted_model"]

SERVER_SCRIPT = Path(__file__).with_name("server.py")
"""Run with ``sys.executable`` to start the server as its own process."""


@dataclass
class ScriptedModel:
    """A running scripted model server."""

    port: int
    log_path: Path
    pid: int | None = None
    """The server's pid in subprocess mode."""
    _server: ModelServer | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """For ``ANTHROPIC_BASE_URL``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """For a Codex provider's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_stopped(self, timeout: float) -> bool:
        """Wait until the in-process server stopped (its lifetime ran out, or it was stopped); False on timeout."""
        if self._server is None:
            raise RuntimeError("only an in-process server can be waited for")
        return self._server.stopped.wait(timeout)

    def requests(self, api: str | None = None) -> list[dict[str, Any]]:
        """Every logged request (optionally only ``"anthropic"`` or ``"openai"`` model calls), oldest first."""
        entries = [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        return [e for e in entries if api is None or e.get("api") == api]


def _write_script(script: dict[str, Any] | Path, directory: Path) -> Path:
    if isinstance(script, Path):
        return script
    path = directory / "model_script.json"
    path.write_text(json.dumps(script, indent=2))
    return path


@contextmanager
def scripted_model(
    script: dict[str, Any] | Path,
    directory: Path,
    *,
    subprocess: bool = False,
    lifetime: float = 300.0,
    startup_timeout: float = 15.0,
) -> Iterator[ScriptedModel]:
    """Serve ``script`` on 127.0.0.1 until the block ends (or ``lifetime`` runs out); log to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "model_requests.jsonl"
    if not subprocess:
        data = json.loads(script.read_text()) if isinstance(script, Path) else script
        server = ModelServer(data, log_path, lifetime=lifetime)
        server.start()
        try:
            yield ScriptedModel(port=server.port, log_path=log_path, _server=server)
        finally:
            server.stop()
        return
    port_file = directory / "model_port"
    port_file.unlink(missing_ok=True)
    argv = [sys.executable, str(SERVER_SCRIPT), "--script", str(_write_script(script, directory))]
    argv += ["--log", str(log_path), "--port-file", str(port_file), "--lifetime", str(lifetime)]
    proc = sp.Popen(argv, stdin=sp.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + startup_timeout
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the scripted model server did not start (exit code {proc.poll()})")
            time.sleep(0.02)
        yield ScriptedModel(port=int(port_file.read_text()), log_path=log_path, pid=proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except sp.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
