"""Qualification: smoke-check and self-test servers concurrently, and cache verdicts by artifact digest.

The gate (as upstream): the smoke check passed (start, ``initialize``, ``tools/list`` within the startup
timeout), the self-test passed (a missing self-test is ``not_configured``, which fails), and the tool
inventory is not empty. Each server is guarded on its own: whatever goes wrong with one becomes its failed
verdict and never stops the others.

Qualification is bounded whatever a manifest asks (manifests may ask for up to a day): a start gets at most
:data:`MAX_STARTUP_SECONDS`, a self-test at most :data:`MAX_SELF_TEST_SECONDS`, so an agent-written manifest
cannot hold a run hostage.

Only *passed* verdicts are cached (:mod:`mcp_host._supervise.verdicts`, by artifact digest): a pass is evidence
about the artifact, while a failure may be the machine's (a timeout under load) and is cheap to retry. The
host reads the same cache for the framing a server answered in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from mcp_host._errors import ServerError, ServerStartError
from mcp_host._paths import logs_dir
from mcp_host._supervise import procs
from mcp_host._supervise.downstream import Downstream
from mcp_host._supervise.env import passed_on, scrubbed_env
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.spec import SelfTestSpec
from mcp_host._supervise.verdicts import ServerVerdict, read_verdict, write_verdict
from mcp_host._wire.framing import WireFraming

__all__ = [
    "MAX_SELF_TEST_SECONDS",
    "MAX_STARTUP_SECONDS",
    "SelfTestRun",
    "ServerVerdict",
    "capped",
    "qualified_tools",
    "qualify_servers",
    "run_self_test",
]

MAX_STARTUP_SECONDS = 120.0
"""The longest a server may take to answer ``initialize`` and ``tools/list`` when it is qualified."""
MAX_SELF_TEST_SECONDS = 900.0
"""The longest a self-test may run when it is qualified."""


def capped(asked: float, limit: float) -> tuple[float, str]:
    """(the timeout to use, a note for the message when the manifest asked for more than ``limit``)."""
    if asked <= limit:
        return asked, ""
    return limit, f" (it asks for {asked:g} s; qualification allows at most {limit:g} s)"


log = logging.getLogger(__name__)

_OUTPUT_CHARS = 8000


async def qualify_servers(
    specs: Sequence[ServerSpec], *, workspace: Path, verdicts_of: Path | None = None, pass_env: Sequence[str] = ()
) -> list[ServerVerdict]:
    """Qualify every server concurrently; verdicts come back in the order of ``specs``.

    ``verdicts_of`` is the workspace whose verdict cache is read and written (default ``workspace``): a fresh
    copy made for qualification shares the cache of the workspace it was copied from.
    """
    cache_of = verdicts_of if verdicts_of is not None else workspace
    verdicts: list[ServerVerdict | None] = [None] * len(specs)

    async def one(i: int, spec: ServerSpec) -> None:
        verdicts[i] = await _qualify_guarded(spec, workspace, cache_of, frozenset(pass_env))

    async with anyio.create_task_group() as tg:
        for i, spec in enumerate(specs):
            tg.start_soon(one, i, spec)
    return [v for v in verdicts if v is not None]


def _cached(spec: ServerSpec, cache_of: Path) -> ServerVerdict | None:
    verdict = read_verdict(cache_of, spec.digest)
    if verdict is None or verdict.status != "passed":
        return None
    return verdict.model_copy(update={"cached": True, "duration_seconds": 0.0, "manifest_path": spec.manifest_path})


def qualified_tools(cache_of: Path, spec: ServerSpec) -> list[dict[str, Any]] | None:
    """The tool definitions qualification recorded for ``spec``'s content, or None when none is recorded."""
    verdict = _cached(spec, cache_of) if spec.digest else None
    if verdict is None or not verdict.definitions:
        return None
    return [dict(d) for d in verdict.definitions]


async def _qualify_guarded(
    spec: ServerSpec, workspace: Path, cache_of: Path, pass_env: frozenset[str]
) -> ServerVerdict:
    if spec.digest:
        hit = _cached(spec, cache_of)
        if hit is not None:
            return hit
    started = time.monotonic()
    try:
        verdict = await _qualify(spec, workspace, pass_env)
    except Exception as exc:  # the per-server guard: one broken server never stops the others
        log.exception("qualifying %s failed unexpectedly", spec.name)
        verdict = ServerVerdict(
            name=spec.name,
            manifest_path=spec.manifest_path,
            digest=spec.digest,
            status="failed",
            smoke_status="failed",
            self_test_status="not_run",
            message=f"qualifying {spec.name!r} failed unexpectedly: {type(exc).__name__}: {exc}",
        )
    verdict.duration_seconds = round(time.monotonic() - started, 3)
    if verdict.status == "passed" and spec.digest:
        write_verdict(cache_of, verdict)
    return verdict


SmokeStatus = Literal["passed", "failed", "timeout"]


Smoke = tuple[SmokeStatus, list[dict[str, Any]], str, WireFraming | None]


async def smoke(spec: ServerSpec, workspace: Path, pass_env: frozenset[str] = frozenset()) -> Smoke:
    """Start the server, initialize, list its tools, stop it: (status, tool definitions, message, framing).

    On a pass the message says which tool definitions were repaired or dropped, if any."""
    outcome: Smoke = ("failed", [], "not run", None)
    async with anyio.create_task_group() as tg:
        server = Downstream(spec, workspace=workspace, task_group=tg, log_dir=logs_dir(workspace), pass_env=pass_env)
        try:
            await server.ensure_running()
            outcome = ("passed", list(server.tools), "; ".join(server.tool_notes), server.framing)
        except ServerError as exc:
            timed_out = isinstance(exc, ServerStartError) and exc.timed_out
            outcome = ("timeout" if timed_out else "failed", [], str(exc), None)
        finally:
            await server.stop()
            server.stderr.close()
            tg.cancel_scope.cancel()
    return outcome


@dataclass(frozen=True)
class SelfTestRun:
    """How one self-test went."""

    status: Literal["passed", "failed", "timeout"]
    returncode: int | None
    output: str
    """The tails of its stdout and stderr."""
    message: str
    """Why it did not pass (empty when it passed)."""


async def run_self_test(test: SelfTestSpec, *, env: dict[str, str], out_stem: Path) -> SelfTestRun:
    """Run ``test`` (agent-written code) in its own process group within :data:`MAX_SELF_TEST_SECONDS`, its
    output kept in ``<out_stem>.self_test.{stdout,stderr}.txt``: the one way MCP servers' and other artifacts'
    self-tests are run."""
    limit, note = capped(test.timeout, MAX_SELF_TEST_SECONDS)
    result = await procs.run_process(
        list(test.argv), cwd=test.cwd, env=env, timeout=limit,
        stdout_path=out_stem.with_name(f"{out_stem.name}.self_test.stdout.txt"),
        stderr_path=out_stem.with_name(f"{out_stem.name}.self_test.stderr.txt"), grace=1.0,
    )  # fmt: skip
    output = "\n".join((result.stdout_tail[-_OUTPUT_CHARS:], result.stderr_tail[-_OUTPUT_CHARS:])).strip()
    command = " ".join(test.argv)
    if result.timed_out:
        message = f"self-test timed out after {limit:g} s{note}: {command}"
        return SelfTestRun("timeout", result.returncode, output, message)
    if not result.ok:
        detail = result.error or f"exit code {result.returncode}"
        return SelfTestRun("failed", result.returncode, output, f"self-test failed ({detail}): {command}")
    return SelfTestRun("passed", result.returncode, output, "")


async def _qualify(spec: ServerSpec, workspace: Path, pass_env: frozenset[str]) -> ServerVerdict:
    startup, note = capped(spec.startup_timeout, MAX_STARTUP_SECONDS)
    smoke_status, tools, smoke_message, framing = await smoke(spec.model_copy(update={"startup_timeout": startup}),
                                                              workspace, pass_env)  # fmt: skip
    smoke_message += note if smoke_status == "timeout" else ""
    verdict = ServerVerdict(
        name=spec.name,
        manifest_path=spec.manifest_path,
        digest=spec.digest,
        status="failed",
        smoke_status=smoke_status,
        self_test_status="not_run",
        tools=[str(t["name"]) for t in tools],
        definitions=tools,
        framing=framing,
    )
    if smoke_status != "passed":
        verdict.message = f"smoke check {smoke_status}: {smoke_message}"
        return verdict
    if spec.self_test is None:
        verdict.self_test_status = "not_configured"
        verdict.message = "no self_test is configured in the manifest; a self-test is required to qualify"
        return verdict
    out_dir = logs_dir(workspace)
    env = {**scrubbed_env(spec.env, workspace=workspace), **passed_on(spec.pass_env, pass_env)}
    run = await run_self_test(spec.self_test, env=env,
                              out_stem=out_dir / spec.name)  # fmt: skip
    verdict.self_test_returncode, verdict.self_test_output = run.returncode, run.output
    verdict.self_test_status = run.status
    if run.status != "passed":
        verdict.message = run.message
        return verdict
    if not tools:
        verdict.message = "the server offers no tools" + (
            f" (enabled_tools {list(spec.enabled_tools)} matched none)" if spec.enabled_tools else ""
        )
        return verdict
    verdict.status = "passed"
    verdict.message = f"{len(tools)} tool(s); smoke and self-test passed" + (
        f"; tool definitions repaired or dropped: {smoke_message}" if smoke_message else ""
    )
    return verdict
