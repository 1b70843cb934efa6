"""Wedged-server detection: a live server process that stops answering is killed; a busy one is left alone.

A crashed server ends its stdout and the reader notices at once. A wedged one (SIGSTOPped, deadlocked, stuck
in a loop that never reads stdin) keeps its pipes open and would hang every call until its tool timeout, for
ever. :func:`watch` looks at each running server every :attr:`HealthPolicy.interval` seconds and sends it a
``ping`` when one of these holds:

* it was just started (to learn whether it answers pings at all);
* its process is stopped (``/proc/<pid>/stat`` state ``T``): a stopped process is never busy;
* a call to it just timed out;
* it has had nothing in flight for :attr:`HealthPolicy.idle_ping_after` seconds.

A ping unanswered within :attr:`HealthPolicy.ping_timeout` gets the server killed (its whole tree) and
restarted on next use with the usual backoff; its calls in flight fail with a message saying so
(:meth:`mcp_host._supervise.downstream.Downstream.kill_wedged`). Except, when its process is not stopped:

* a call sent before the ping and still within its tool timeout may be what keeps it from answering (a
  single-threaded server busy with a long call): the call's own timeout is the judge of that, and we ask again;
* a server that has never answered a ping may just ignore methods it does not know (some hand-written ones do):
  if it answers ``tools/list`` instead, it is alive, and from then on ``tools/list`` is its health probe.

It must never touch the per-call path: everything here runs on its own timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import anyio
import anyio.abc
from pydantic import BaseModel, ConfigDict

from mcp_host._errors import ServerError, ServerTimeoutError
from mcp_host._supervise import proctable
from mcp_host._supervise.downstream import Downstream

__all__ = ["HealthPolicy", "process_stopped", "watch"]


class HealthPolicy(BaseModel):
    """When the host pings its servers, and how long it waits for the answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval: float = 0.5
    """Seconds between looks at every running server (a ``/proc`` read each; no traffic)."""
    idle_ping_after: float = 30.0
    """Ping a server that has had no call in flight for this many seconds."""
    ping_timeout: float = 5.0
    """Seconds a ping may take before the server counts as wedged."""


def process_stopped(pid: int | None) -> bool:
    """Whether ``pid`` is stopped by a signal (state ``T``); False when unknown."""
    return pid is not None and proctable.state(pid) == "T"


async def watch(
    servers: Callable[[], Iterable[Downstream]], policy: HealthPolicy, task_group: anyio.abc.TaskGroup
) -> None:
    """Look at every server forever; probe the ones that need it (each probe in its own task)."""
    while True:
        await anyio.sleep(policy.interval)
        now = time.monotonic()
        for server in list(servers()):
            if server.is_running and not server.probing and _due(server, policy, now):
                server.probing = True
                task_group.start_soon(_probe, server, policy)


def _due(server: Downstream, policy: HealthPolicy, now: float) -> bool:
    if process_stopped(server.pid):
        return True
    if server.answers_pings is None or server.probe_wanted:
        return True
    idle_since = max(server.last_probe, server.busy_until)
    return now - idle_since >= policy.idle_ping_after and not server.has_live_calls(now)


async def _answers(server: Downstream, method: str, timeout: float) -> bool | None:
    """Whether ``server`` answers ``method`` within ``timeout`` (any answer, even an error); None if it exited."""
    try:
        await server.request(method, None, timeout)
    except ServerTimeoutError:
        return False
    except ServerError:
        return None  # it exited meanwhile; its reader reports that
    return True


async def _probe(server: Downstream, policy: HealthPolicy) -> None:
    pid = server.pid
    ping_id = server.next_id
    method = "tools/list" if server.answers_pings is False else "ping"
    try:
        server.probe_wanted = False
        answered = await _answers(server, method, policy.ping_timeout)
        if server.pid != pid or not server.is_running or answered is None:
            return
        if answered:
            server.answers_pings = server.answers_pings if method != "ping" else True
            return
        stopped = process_stopped(pid)
        if not stopped:
            # Calls sent after the ping cannot be what keeps it from answering it.
            if server.has_live_calls(time.monotonic(), before=ping_id):
                return
            if server.answers_pings is None and await _answers(server, "tools/list", policy.ping_timeout):
                server.answers_pings = False
                server.stderr.note("does not answer ping but answers tools/list; tools/list is its health probe")
                return
        state = f"its process {pid} is stopped" if stopped else f"no answer to {method} in {policy.ping_timeout:g} s"
        await server.kill_wedged(
            f"server {server.name!r} stopped answering pings ({state}); it was killed and is restarted on the next call"
        )
    finally:
        server.last_probe = time.monotonic()
        server.probing = False
