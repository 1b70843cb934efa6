"""``--executor ray``: each trial a Ray task on an existing Ray cluster (``pip install 'harnessgym[ray]'``).

Ray is imported when the executor is opened, never before. :meth:`RayExecutor.open` connects to the cluster
(``ray_address``; else ``$RAY_ADDRESS``; else ``auto``, the cluster started on this machine) within a bounded
time, or refuses the comparison with a :class:`~harnessgym.errors.ConfigError` before anything is written.

A trial runs as the task :func:`harnessgym.compare.ray_worker.run_on_worker` (one CPU, no Ray-level retries:
the scheduler retries infrastructure errors itself). The template and the bundle are packed once per
comparison, put in Ray's object store, and passed to every trial that uses them; the trial folder comes back as
a tar, is unpacked into the trial's folder here and its record's paths are moved there
(:func:`~harnessgym.compare.executors.relocate_record`). A worker that dies, a node that is lost or a task
that fails is an ``infra_error``. Cancelling a trial cancels its task (``ray.cancel(force=True)``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

import anyio

from harnessgym import store
from harnessgym.compare.executors import JOB_NAME, RECORD_NAME, TrialJob, infra_record, relocate_record
from harnessgym.compare.models import TrialRecord
from harnessgym.errors import ConfigError
from harnessgym.events import EventHandler

__all__ = ["CONNECT_TIMEOUT_SECONDS", "RAY_TASK_NAME", "RayExecutor", "resolve_address"]

CONNECT_TIMEOUT_SECONDS = 30.0
"""How long :meth:`RayExecutor.open` waits for the cluster to answer."""
RAY_TASK_NAME = "ray_task.json"
"""In a trial folder of ``executor`` ray: the node the trial ran on (host name and Ray's node id) and what Ray
reserved for it."""
_PROBE_SECONDS = 5.0
_EVENT_POLL_SECONDS = 0.3
"""How often a running trial's events are fetched from the mailbox for the live display."""
_FIELD = "ray_address"


def resolve_address(address: str | None) -> str:
    """The address to connect to: the given one, else ``$RAY_ADDRESS``, else ``auto``."""
    return address or os.environ.get("RAY_ADDRESS") or "auto"


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``host:port`` or ``ray://host:port`` address; None for ``auto`` and the like."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


async def _probe(address: str) -> None:
    """Refuse at once an address where nothing listens (Ray itself would retry for a long while)."""
    target = _host_port(address)
    if target is None:
        return
    try:
        connection = await anyio.to_thread.run_sync(socket.create_connection, target, _PROBE_SECONDS)
    except TimeoutError:
        raise ConfigError(f"no Ray cluster answers at {address} (no answer within {_PROBE_SECONDS:g} s); check "
                          "the address and that the head node is reachable from here", _FIELD) from None  # fmt: skip
    except OSError as exc:
        why = (exc.strerror or str(exc) or type(exc).__name__).lower()
        raise ConfigError(f"no Ray cluster answers at {address} ({why}); start a cluster there (`ray start` on its "
                          "head node) or give the address of a running one", _FIELD) from None  # fmt: skip
    connection.close()


class RayExecutor:
    """Runs each trial as a Ray task on an existing cluster, shipping what it needs as bytes (no shared
    filesystem is assumed)."""

    name = "ray"

    def __init__(
        self, address: str | None = None, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        cpus_per_trial: float = 1.0,
    ) -> None:  # fmt: skip
        self.address = resolve_address(address)
        self.cpus_per_trial = cpus_per_trial
        self.connect_timeout = connect_timeout
        self._ray: Any = None
        self._task: Any = None
        self._connected_here = False
        self._payloads: dict[tuple[str, Path], Any] = {}
        self._lock = anyio.Lock()
        self._box: Any = None
        """The :class:`~harnessgym.compare.ray_worker.EventBox` actor the trials' events come through."""

    async def open(self) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("{executor=ray} needs Ray, which is not installed: pip install 'harnessgym[ray]' "
                              "(on every node of the cluster too)", "executor") from None  # fmt: skip
        await _probe(self.address)
        try:
            with anyio.fail_after(self.connect_timeout):
                await anyio.to_thread.run_sync(self._connect, ray, abandon_on_cancel=True)
        except TimeoutError:
            raise ConfigError(f"the Ray cluster at {self.address} did not answer within {self.connect_timeout:g} s",
                              _FIELD) from None  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(f"cannot connect to a Ray cluster at {self.address}: {first}", _FIELD) from None
        from harnessgym.compare.ray_worker import run_on_worker

        self._ray = ray
        self._task = ray.remote(num_cpus=self.cpus_per_trial, max_retries=0, retry_exceptions=False)(run_on_worker)

    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            return  # the caller (a library user) connected already; leave the connection to them
        ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False, namespace="harnessgym")
        self._connected_here = True

    async def _payload(self, kind: str, path: Path, trial_dir: Path) -> Any:
        """The object-store reference of ``path`` packed as ``kind`` (template or bundle), packed once."""
        from harnessgym.compare.ray_worker import pack_bundle, pack_template

        async with self._lock:
            ref = self._payloads.get((kind, path))
            if ref is None:
                if kind == "template":
                    data = await anyio.to_thread.run_sync(pack_template, path, trial_dir)
                else:
                    data = await anyio.to_thread.run_sync(pack_bundle, path)
                ref = self._payloads[(kind, path)] = await anyio.to_thread.run_sync(self._ray.put, data)
            return ref

    async def run(self, job: TrialJob, trial_dir: Path, on_event: EventHandler | None = None) -> TrialRecord:
        from mcp_host import __version__

        ray = self._ray
        if ray is None:
            raise RuntimeError("RayExecutor.run before open")
        trial_dir.mkdir(parents=True, exist_ok=True)
        (trial_dir / JOB_NAME).write_text(job.model_dump_json(indent=2) + "\n", encoding="utf-8")
        template = await self._payload("template", job.spec.workspace_template, trial_dir)
        bundle = await self._payload("bundle", job.bundle_dir, trial_dir) if job.bundle_dir is not None else None
        script = job.runner_options.fake_script
        fake = await anyio.to_thread.run_sync(script.read_bytes) if script is not None and script.is_file() else None
        box = await self._event_box() if on_event is not None else None
        ref = self._task.remote(job.model_dump_json(), template, bundle, fake, __version__, box)
        try:
            async with anyio.create_task_group() as tg:
                if box is not None and on_event is not None:  # the trial's events, shown while it runs
                    tg.start_soon(self._relay_events, box, job.trial_id, on_event)
                outcome = await self._outcome(ref)
                tg.cancel_scope.cancel()
        except anyio.get_cancelled_exc_class():
            ray.cancel(ref, force=True)
            raise
        if box is not None and on_event is not None:  # what came in after the last look
            await self._take_events(box, job.trial_id, on_event)
        if isinstance(outcome, ray.exceptions.RayError):
            lines = str(outcome).strip().splitlines()
            why = next((line for line in lines if line.strip()), "")[:300]
            return infra_record(job, trial_dir, f"the Ray task of this trial failed ({type(outcome).__name__}: {why})")
        result: dict[str, Any] = outcome
        node = result.get("node", "?")
        if result.get("trial") is not None:
            from harnessgym.compare.ray_worker import unpack

            await anyio.to_thread.run_sync(unpack, result["trial"], trial_dir)
        # Where the task ran and what Ray reserved for it, as Ray's answer said (written after the unpack: a
        # file of that name in the trial folder that came back is replaced).
        placed = {
            "node": str(node),
            "node_id": result.get("node_id"),
            "assigned_resources": result.get("resources") or {},
        }
        store.write_atomic(trial_dir / RAY_TASK_NAME, json.dumps(placed, indent=2) + "\n")
        if result.get("error"):
            return infra_record(job, trial_dir, f"on Ray node {node}: {result['error']}")
        record = store.read_model(trial_dir / RECORD_NAME, TrialRecord)
        if record is None or record.trial_id != job.trial_id:
            return infra_record(job, trial_dir, f"the trial folder from Ray node {node} holds no record of this trial")
        record = relocate_record(record, Path(result["worker_dir"]), trial_dir)
        store.write_model(trial_dir / RECORD_NAME, record)
        return record

    async def _outcome(self, ref: Any) -> Any:
        """What the task returned, or the Ray error it failed with (returned, not raised)."""
        try:
            return await ref
        except self._ray.exceptions.RayError as exc:
            return exc

    async def _event_box(self) -> Any:
        """The comparison's mailbox for run events, started on first use (an actor of no CPU)."""
        async with self._lock:
            if self._box is None:
                from harnessgym.compare.ray_worker import EventBox

                self._box = self._ray.remote(num_cpus=0)(EventBox).remote()
            return self._box

    async def _take_events(self, box: Any, trial_id: str, on_event: EventHandler) -> None:
        from harnessgym.compare.trial_events import deliver

        try:
            lines: list[str] = await box.take.remote(trial_id)
        except self._ray.exceptions.RayError:
            return  # the mailbox is gone: the display misses those events, the trial goes on
        await deliver(on_event, lines)

    async def _relay_events(self, box: Any, trial_id: str, on_event: EventHandler) -> None:
        while True:
            await anyio.sleep(_EVENT_POLL_SECONDS)
            await self._take_events(box, trial_id, on_event)

    async def aclose(self) -> None:
        box, self._box = self._box, None
        if box is not None and self._ray is not None:
            with contextlib.suppress(Exception):
                self._ray.kill(box)
        ray, self._ray, self._payloads = self._ray, None, {}
        if ray is not None and self._connected_here:
            self._connected_here = False
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(ray.shutdown)
