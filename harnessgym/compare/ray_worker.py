"""The worker's half of ``--executor ray``: one trial on a Ray worker, from bytes in to bytes out.

No filesystem is assumed to be shared with the machine that planned the comparison. What a trial needs ships as
tar archives: the template (less what a trial's copy leaves out anyway), the bundle (its registry and the
artifacts it names) and the fake runner's script. On the worker, :func:`run_on_worker` unpacks them into a
private folder, ``$TMPDIR/harnessgym-ray/<pid namespace>-<worker pid>-<random>/``, rewrites the job's paths
with ``model_copy(update=...)`` and runs ``python -I -m harnessgym.compare.trial_worker JOB.json TRIAL_DIR``
there, with a state folder of its own beside the trial for the verdicts harnessgym trusts (the process
executor's worker inherits the planner's). The trial folder goes back as a tar, less the credentials seeded
into the agent's home; the private folder is removed.

A Ray worker killed mid-trial (``ray.cancel(force=True)``, a crash) cannot clean up after itself, and Ray kills
only its direct children, not the trial's agent below them. So each trial gets a watcher (:func:`main`, detached
from the worker) that waits for the worker's death and then kills every process marked with the trial's
workspace; it ends with the trial. Should the watcher die too, the next trial on that node kills every process
whose folder belongs to a worker no longer alive, and removes the folder.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from harnessgym import store
from harnessgym.compare.executors import RECORD_NAME, TrialJob, run_id_of
from harnessgym.compare.models import TrialRecord
from harnessgym.store.layout import Layout

__all__ = ["LEFT_ON_WORKER", "ROOT_NAME", "main", "pack_bundle", "pack_template", "run_on_worker", "unpack"]

ROOT_NAME = "harnessgym-ray"
"""The folder under the worker's temporary directory that holds its trials while they run."""
LEFT_ON_WORKER = ("home/.claude/.credentials.json", "home/.codex/auth.json")
"""The credentials seeded into a trial's agent home from the worker's user: never shipped back."""


def _tar(add: Callable[[tarfile.TarFile], None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        add(tar)
    return buffer.getvalue()


def _add_walk(tar: tarfile.TarFile, root: Path, skip: Callable[[str, list[str]], set[str]], arc: str = "") -> None:
    """Add ``root`` (a folder) below ``arc``, leaving out what ``skip`` says per folder; links stay links."""
    for folder, dirs, files in os.walk(root):
        dropped = skip(folder, sorted(dirs + files))
        rel = Path(folder).relative_to(root)
        links = [d for d in dirs if Path(folder, d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in dropped and d not in links]
        for name in sorted(dirs + files + links):
            if name not in dropped:
                tar.add(Path(folder, name), arcname=str(Path(arc, rel, name)), recursive=False)


def pack_template(template: Path, trial_dir: Path) -> bytes:
    """The template as a trial's copy takes it: without harness, VCS, agent config, caches or binaries, and
    without the folder holding ``trial_dir`` (the output folder may sit inside the template)."""

    def skip(directory: str, names: list[str]) -> set[str]:
        skipped = store.ignore_for_template(directory, names)
        return skipped | {n for n in names if trial_dir.is_relative_to(Path(directory, n).absolute())}

    return _tar(lambda tar: _add_walk(tar, template, skip))


def pack_bundle(bundle: Path) -> bytes:
    """The bundle's registry (as it is, so the worker finds the same problems) and every non-quarantined artifact
    it names that exists inside the workspace."""
    layout = Layout(bundle)

    def add(tar: tarfile.TarFile) -> None:
        if layout.registry.is_file():
            tar.add(layout.registry, arcname=str(layout.registry.relative_to(bundle)))
        registry, _ = store.read_registry(layout)
        for entry in registry.artifacts:
            root = store.artifact_root(layout, entry)
            if entry.state == "quarantined" or not root.exists() or not store.is_inside(bundle, root):
                continue
            arc = str(root.relative_to(bundle))
            if root.is_dir() and not root.is_symlink():
                tar.add(root, arcname=arc, recursive=False)
                _add_walk(tar, root, lambda _d, _n: set(), arc)
            else:
                tar.add(root, arcname=arc, recursive=False)

    return _tar(add)


def _kept(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """What the agent wrote comes back only as plain files, folders and links that stay inside the trial."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def unpack(data: bytes, dest: Path, *, trusted: bool = False) -> None:
    """Unpack ``data`` into ``dest``: ``trusted`` archives (made by :func:`pack_template`, :func:`pack_bundle`)
    as they are; a trial folder (the agent's to write) without links out, devices or absolute names."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="tar" if trusted else _kept)


def _localized(job: TrialJob, work: Path, template: bytes, bundle: bytes | None, fake: bytes | None) -> TrialJob:
    """The job with its paths moved to what was unpacked on this worker."""
    unpack(template, work / "template", trusted=True)
    update: dict[str, Any] = {"spec": job.spec.model_copy(update={"workspace_template": work / "template"})}
    if bundle is not None and job.bundle_dir is not None:
        unpack(bundle, work / "bundle", trusted=True)
        update["bundle_dir"] = work / "bundle"
    if fake is not None and job.runner_options.fake_script is not None:
        script = work / "fake_script.json"
        script.write_bytes(fake)
        update["runner_options"] = job.runner_options.model_copy(update={"fake_script": script})
    return job.model_copy(update=update)


def _prefix() -> str:
    """``<pid namespace>-<pid>-``: a worker's folders, told from those of workers in other PID namespaces (other
    containers on the node) whose pids mean nothing here."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{namespace}-{os.getpid()}-"


def _owner(folder: str) -> int | None:
    """The pid of the worker that made ``folder`` when it was made in this PID namespace, else None."""
    namespace = _prefix().partition("-")[0]
    head, sep, pid = folder.partition("-")
    pid = pid.split("-", 1)[0]
    return int(pid) if sep and head == namespace and pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _sweep(root: Path) -> None:
    """Kill what trials of dead workers left running, then remove their folders."""
    from harnessgym.jobs.orphans import WORKSPACE_ENV
    from mcp_host import kill_tree, scan_environ

    for pid, env in scan_environ([WORKSPACE_ENV]):
        path = Path(env[WORKSPACE_ENV])
        if path.is_relative_to(root) and len(path.relative_to(root).parts) > 1:
            owner = _owner(path.relative_to(root).parts[0])
            if owner is not None and not _alive(owner):
                await kill_tree(pid, grace=0.5)
    for folder in root.iterdir():
        owner = _owner(folder.name)
        if owner is not None and not _alive(owner) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


async def _reap(workspace: Path) -> None:
    """Kill every process still marked with the trial's workspace (a host daemon started on demand ...)."""
    from harnessgym.jobs.orphans import WORKSPACE_ENV
    from mcp_host import kill_tree, scan_environ

    for pid, env in scan_environ([WORKSPACE_ENV]):
        if env[WORKSPACE_ENV] == str(workspace):
            await kill_tree(pid, grace=0.5)


class EventBox:
    """The comparison's mailbox for its trials' run events, a Ray actor of no CPU (``ray.remote(num_cpus=0)``):
    each Ray worker puts the lines its trial worker writes, the comparison takes them per trial while the trial
    runs. Bounded: a trial's oldest lines go first when nobody takes them."""

    MAX_LINES = 10_000

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}

    def put(self, trial_id: str, lines: list[str]) -> None:
        kept = self.lines.setdefault(trial_id, [])
        kept.extend(lines)
        del kept[: max(0, len(kept) - self.MAX_LINES)]

    def take(self, trial_id: str) -> list[str]:
        return self.lines.pop(trial_id, [])


async def _run_trial(job: TrialJob, work: Path, trial_dir: Path, events: Any = None) -> str | None:
    """Run the trial in a fresh interpreter, watched by a process that outlives this worker should it be killed;
    returns why the trial left no record, or None. ``events``: the comparison's :class:`EventBox`, which gets
    the trial's run events as they are written."""
    from harnessgym.compare.trial_events import EVENTS_NAME, following
    from harnessgym.jobs.orphans import marker_env
    from mcp_host import STATE_DIR_VAR, reap, run_process, spawn_detached, wait_exited

    job_path = work / "job.json"
    job_path.write_text(job.model_dump_json(indent=2) + "\n", encoding="utf-8")
    watch = [sys.executable, "-I", "-m", "harnessgym.compare.ray_worker", str(work), str(os.getpid())]
    # It starts the watcher proper, detached, and exits; not waited for (the trial need not wait for it to start).
    first = spawn_detached(watch, log_path=work / "watch.log")
    argv = [sys.executable, "-I", "-m", "harnessgym.compare.trial_worker", str(job_path), str(trial_dir)]
    # Marked like the process executor's worker: what the watcher and the next trial here kill once it is dead.
    env = {**os.environ, STATE_DIR_VAR: str(work / "state"), **marker_env(trial_dir / "workspace", run_id_of(job))}

    def post(lines: list[str]) -> None:
        try:  # submitted, not waited for: the actor gets one caller's calls in order
            events.put.remote(job.trial_id, lines)
        except Exception:  # the display's mailbox is gone: the trial goes on
            pass

    try:
        result = await following(trial_dir / EVENTS_NAME, post if events is not None else None, functools.partial(
            run_process, argv, cwd=trial_dir, env=env, stdout_path=trial_dir / "worker.stdout.txt",
            stderr_path=trial_dir / "worker.stderr.txt"))  # fmt: skip
    finally:
        await _reap(trial_dir / "workspace")
        if not reap(first):
            await wait_exited(first, 5)
            reap(first)
    record = store.read_model(trial_dir / RECORD_NAME, TrialRecord)
    if record is not None and record.trial_id == job.trial_id:
        return None
    tail = result.stderr_tail.strip()[-400:]
    why = result.error or f"exit code {result.returncode}"
    return f"the trial worker died without a record ({why})" + (f": {tail}" if tail else "")


async def _watch(work: Path, worker: int) -> int:
    """Until ``work`` is removed (the trial ended), wait for the Ray worker ``worker`` to die (killed by
    ``ray.cancel(force=True)``, crashed); then kill what its trial left running and remove ``work``."""
    from mcp_host import wait_exited

    while work.exists():
        if await wait_exited(worker, timeout=0.5):
            await _reap(work / "trial" / "workspace")
            shutil.rmtree(work, ignore_errors=True)
            break
    return 0


def _placement() -> tuple[dict[str, float], str | None]:
    """What Ray reserved for the running task and the id of the Ray node it runs on (``{}`` and None outside
    one: never starts Ray, which asking would). Several nodes may share a host name; their ids differ."""
    try:
        import ray

        if not ray.is_initialized():
            return {}, None
        context: Any = ray.get_runtime_context()
        resources = {str(k): float(v) for k, v in context.get_assigned_resources().items()}
        return resources, str(context.get_node_id())
    except Exception:  # outside a Ray task, or a Ray without the call: nothing to report
        return {}, None


def run_on_worker(
    job_json: str, template: bytes, bundle: bytes | None, fake: bytes | None, version: str, events: Any = None
) -> dict[str, Any]:
    """The Ray task: run the trial ``job_json`` describes; returns ``worker_dir`` (where it ran), ``trial`` (the
    trial folder as a tar), ``error`` (why there is no record, else None), ``node`` (this host's name) and
    ``resources`` (what Ray reserved for this task: ``{"CPU": 1.0}``) and ``node_id`` (Ray's id of the node).
    ``events``: the comparison's :class:`EventBox`, for the live display, or None."""
    from mcp_host import __version__

    node = os.uname().nodename
    resources, node_id = _placement()
    if version != __version__:
        return {"error": f"the Ray worker on {node} has harnessgym {__version__}, the comparison {version}; install "
                "the same version on every node", "node": node, "resources": resources, "node_id": node_id}  # fmt: skip
    root = Path(tempfile.gettempdir()) / ROOT_NAME
    root.mkdir(mode=0o700, exist_ok=True)
    anyio.run(_sweep, root)
    work = Path(tempfile.mkdtemp(prefix=_prefix(), dir=root))
    try:
        job = _localized(TrialJob.model_validate_json(job_json), work, template, bundle, fake)
        trial_dir = work / "trial"
        trial_dir.mkdir()
        error = anyio.run(_run_trial, job, work, trial_dir, events)
        secrets = {str(trial_dir / s) for s in LEFT_ON_WORKER}

        def add(tar: tarfile.TarFile) -> None:
            tar.add(trial_dir, arcname=".", filter=lambda m: None if str(trial_dir / m.name) in secrets else m)

        return {"worker_dir": str(trial_dir), "trial": _tar(add), "error": error, "node": node,
                "resources": resources, "node_id": node_id}  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python -I -m harnessgym.compare.ray_worker WORK WORKER_PID``: start the watcher of the trial in ``WORK``,
    detached (Ray kills a dying worker's children, not their children), and exit."""
    from mcp_host import spawn_detached

    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3) or not args[1].isdigit():
        print("usage: python -I -m harnessgym.compare.ray_worker WORK WORKER_PID", file=sys.stderr)
        return 2
    if len(args) == 2:
        spawn_detached([sys.executable, "-I", "-m", "harnessgym.compare.ray_worker", *args, "watch"],
                       log_path=Path(args[0]) / "watch.log")  # fmt: skip
        return 0
    return anyio.run(_watch, Path(args[0]), int(args[1]))


if __name__ == "__main__":
    sys.exit(main())
