"""The fixed costs of harnessgym, each beside its baseline in one run, and how each grows.

Run: ``python bench/costs.py [--rows start,qualify,disk,mcp_call,telemetry,demo,qualify8,session8,registry]``
``[--repeat 3]``
(``--quick`` uses small series, for a smoke run). HarnessGym 0.1.1 is installed from the package index into
``.cache/bench/`` the first time a row needs it; it runs only as a separate program.

Each row prints ours, the baseline, the ratio and the target. The baselines:

* start: the same run on a 100-file workspace (start-up must not grow with the workspace). Start = from
  spawning ``harnessgym run`` to the fake agent's first action in the attempt.
* qualify: a plain recursive copy (``shutil.copytree``) of the same workspace, against the qualify phase of an
  iteration whose build wrote one self-tested tool (in a fresh copy of the workspace and an empty state folder
  each time, so the tool is new); as root its clean copy is an overlay, and the copy it replaces is printed too.
* disk: the workspace itself (``.harnessgym`` after one iteration against the files outside it).
* mcp_call: HarnessGym 0.1.1's ``harnessgym-mcp-call`` (starts proxy and server per call) against ours with
  its host already running.
* telemetry: reading this run's calls when the workspace's ``mcp_calls.jsonl`` holds 1e3 lines against 1e6.
* demo: HarnessGym 0.1.1's fake demo (``--runner fake``, two iterations) against ours (README command one).
* qualify8: the qualify phase of an iteration whose build wrote 8 servers with the MCP SDK (``MCPServer``),
  with self-tests and without (a recorded note, no repair round), against starting the same 8 servers side by
  side once and listing their tools directly with the SDK's client (the floor: what any check must pay).
* session8: a fresh session's ``tools/list`` with those 8 servers active, through the relay a run gives its
  sessions (the run's host up) and from a cold ``harnessgym host``, against the target itself (0.5 s).
* registry: an iteration with 10, 100 and 1,000 registered artifacts, qualified by an earlier run (a long
  history), against one with none (added seconds per iteration, so the series shows the slope); a run's start
  and the one-time qualification of that many new artifacts are printed beside it, without a target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import (
    EXAMPLE,
    ROOT,
    Row,
    du,
    fake_script,
    harnessgym_bin,
    header,
    make_workspace,
    median_of,
    timed,
    upstream_bin,
)

TASK = "Fix numerics.py so verifier.py passes."
QUICK = {"start": (100, 2000), "telemetry": (1000, 100_000)}


def _attempt_marker_steps(marker: Path) -> list[dict[str, object]]:
    stamp = f"import time; open({str(marker)!r}, 'w').write(repr(time.time()))"
    return [
        {"phase": "attempt", "actions": [{"do": "run", "argv": [sys.executable, "-c", stamp]},
                                         {"do": "result", "set": {"status": "incomplete"}}]},
        {"phase": "*", "actions": [{"do": "result", "set": {"status": "completed"}}]},
    ]  # fmt: skip


def start_seconds(tmp: Path, files: int, total_bytes: int) -> float:
    ws = make_workspace(tmp / f"ws-{files}-{time.monotonic_ns()}", files, total_bytes)
    marker = tmp / f"marker-{time.monotonic_ns()}"
    script = fake_script(tmp / f"start-{time.monotonic_ns()}.json", _attempt_marker_steps(marker))
    began = time.time()
    timed([harnessgym_bin(), "run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "1",
           "--runner", "fake", "--fake-script", str(script), "--no-qualify-artifacts"])  # fmt: skip
    stamp = float(marker.read_text())
    shutil.rmtree(ws, ignore_errors=True)
    return stamp - began


def row_start(tmp: Path, repeat: int, quick: bool) -> list[Row]:
    base = median_of(repeat, lambda: start_seconds(tmp, 100, 1 << 20))
    series = [(2000, 20 << 20)] if quick else [(10_000, 100 << 20), (50_000, 50 << 20)]
    rows = []
    for files, size in series:
        ours = median_of(repeat, lambda f=files, s=size: start_seconds(tmp, f, s))  # type: ignore[misc]
        what = f"start of a run, {files:,} files / {size >> 20} MB"
        rows.append(Row(what, ours, base, 1.5, baseline_name="100 files"))
    return rows


def _build_steps() -> list[dict[str, object]]:
    return [
        {"phase": "attempt", "actions": [{"do": "result", "set": {"status": "incomplete"}}]},
        {"phase": "reflection", "actions": [{"do": "result", "set": {"status": "completed"}}]},
        {"phase": "build", "actions": [
            {"do": "tool", "name": "probe", "description": "prints ok", "self_test": True},
            {"do": "result", "set": {"status": "tooling_built"}}]},
    ]  # fmt: skip


def qualify_seconds(tmp: Path, ws: Path, extra_env: dict[str, str] | None = None) -> float:
    """One iteration whose build writes a self-tested tool; the qualify phase's time from the run's journal."""
    script = fake_script(tmp / f"q-{time.monotonic_ns()}.json", _build_steps())
    run_id = f"q{time.monotonic_ns()}"
    # A state folder of its own each time: no verdict of an earlier repeat vouches for the same tool's content
    state = tmp / f"q-state-{time.monotonic_ns()}"
    state.mkdir()
    timed([harnessgym_bin(), "run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "1",
           "--runner", "fake", "--fake-script", str(script), "--build-after-solve", "--run-id", run_id],
          env={**os.environ, "HARNESSGYM_STATE_DIR": str(state), **(extra_env or {})})  # fmt: skip
    lines = [json.loads(line) for line in (ws / ".harnessgym" / "runs" / run_id / "journal.jsonl").open()]
    at = {(e["kind"], e.get("phase")): datetime.fromisoformat(e["at"]) for e in lines}
    return (at["phase_completed", "qualify"] - at["phase_started", "qualify"]).total_seconds()


def row_qualify_and_disk(tmp: Path, repeat: int, quick: bool, rows_wanted: set[str]) -> list[Row]:
    files, size = (2000, 20 << 20) if quick else (10_000, 100 << 20)
    ws = make_workspace(tmp / "ws-qualify", files, size)
    rows = []
    if "qualify" in rows_wanted:

        def copy_once() -> float:
            dest = tmp / f"copy-{time.monotonic_ns()}"
            began = time.perf_counter()
            shutil.copytree(ws, dest, symlinks=True, ignore=shutil.ignore_patterns(".harnessgym"))
            elapsed = time.perf_counter() - began
            shutil.rmtree(dest)
            return elapsed

        def qualify_once(extra_env: dict[str, str] | None = None) -> float:
            fresh = tmp / f"ws-qualify-{time.monotonic_ns()}"  # a workspace whose registry has no tool yet
            shutil.copytree(ws, fresh, symlinks=True)
            try:
                return qualify_seconds(tmp, fresh, extra_env)
            finally:
                shutil.rmtree(fresh)

        copy = median_of(repeat, copy_once)
        ours = median_of(repeat, qualify_once)
        copied = median_of(repeat, lambda: qualify_once({"HARNESSGYM_CLEAN_COPY": "copy"}))
        # As root the clean copy is an overlay of the template (harnessgym.store.overlay); elsewhere, a copy.
        how = "an overlay" if os.geteuid() == 0 else "a copy: not root"
        rows.append(Row(f"qualify phase, {files:,} files / {size >> 20} MB ({how})", ours, copy, 0.2,
                        baseline_name="plain recursive copy"))  # fmt: skip
        rows.append(Row("  the same, the clean copy a copy (HARNESSGYM_CLEAN_COPY=copy)", copied, copy, None,
                        baseline_name="plain recursive copy"))  # fmt: skip
    if "disk" in rows_wanted:
        fresh = make_workspace(tmp / "ws-disk", files, size)
        qualify_seconds(tmp, fresh)
        rows.append(Row("disk per run (.harnessgym after one iteration)", du(fresh / ".harnessgym"),
                        du(fresh, skip=".harnessgym"), 0.1, unit="B", baseline_name="the workspace"))  # fmt: skip
    return rows


def row_telemetry(tmp: Path, repeat: int, quick: bool) -> list[Row]:
    from mcp_host import calls_offset, summarize_calls

    def read_at(lines: int) -> float:
        ws = tmp / f"tele-{lines}"
        (ws / ".harnessgym").mkdir(parents=True, exist_ok=True)
        line = {"created_at": "2026-01-01T00:00:00Z", "server": "toy", "request_id": 1, "method": "tools/call",
                "tool_name": "echo", "duration_ms": 1, "status": "completed", "run_id": "older", "iteration": 1,
                "phase": "attempt"}  # fmt: skip
        text = json.dumps(line) + "\n"
        with open(ws / ".harnessgym" / "mcp_calls.jsonl", "w") as fh:
            for _ in range(lines // 1000):
                fh.write(text * 1000)
        offset = calls_offset(ws)  # as the attempt phase does before the agent starts
        with open(ws / ".harnessgym" / "mcp_calls.jsonl", "a") as fh:
            fh.write(json.dumps({**line, "run_id": "this"}) + "\n")
        began = time.perf_counter()
        summary = summarize_calls(ws, "this", since=offset)
        elapsed = time.perf_counter() - began
        assert summary.count == 1, summary
        return elapsed

    small, *larger = (1000, 100_000) if quick else (1000, 100_000, 1_000_000)
    base = median_of(max(repeat, 7), lambda: read_at(small))
    return [
        Row(f"telemetry read after an attempt, {n:.0e} lines of history",
            median_of(max(repeat, 7), lambda n=n: read_at(n)), base, 1.5,  # type: ignore[misc]
            baseline_name=f"{small:.0e} lines")
        for n in larger
    ]  # fmt: skip


def row_demo(tmp: Path, repeat: int) -> list[Row]:
    def ours() -> float:
        ws = tmp / f"demo-ours-{time.monotonic_ns()}"
        shutil.copytree(EXAMPLE, ws)
        # A state folder of its own: a new user's first demo, whose server no verdict of an earlier run vouches for
        state = tmp / f"demo-state-{time.monotonic_ns()}"
        state.mkdir()
        env = {**os.environ, "HARNESSGYM_STATE_DIR": str(state)}
        return timed([harnessgym_bin(), "run", "--task", str(ws / "task.md"), "--workspace", str(ws),
                      "--iterations", "2", "--runner", "fake", "--verify-command", "python verifier.py"],
                     env=env)  # fmt: skip

    upstream = upstream_bin()

    def theirs() -> float:
        ws = tmp / f"demo-theirs-{time.monotonic_ns()}"
        shutil.copytree(EXAMPLE, ws)
        return timed([str(upstream), "run", "--task", str(ws / "task.md"), "--workspace", str(ws),
                      "--iterations", "2", "--runner", "fake"], cwd=ws)  # fmt: skip

    return [Row("offline demo, 2 iterations", median_of(repeat, ours), median_of(repeat, theirs), 3.0,
                baseline_name="HarnessGym 0.1.1 fake demo")]  # fmt: skip


def _toy_manifest(ws: Path) -> Path:
    folder = ws / ".harnessgym" / "mcp" / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    server = ROOT / "tests" / "hostile" / "toy_server.py"
    manifest = folder / "mcp.json"
    # Content-Length framing: what HarnessGym 0.1.1's helper speaks; harnessgym's host detects either
    args = [str(server), "--framing", "content-length"]
    manifest.write_text(json.dumps({"name": "toy", "command": sys.executable, "args": args}))
    return manifest


def row_mcp_call(tmp: Path, repeat: int) -> list[Row]:
    from mcp_host import load_manifest, write_active_servers

    ws = tmp / "mcp-call"
    shutil.copytree(EXAMPLE, ws)
    write_active_servers(ws, [load_manifest(_toy_manifest(ws), ws)])
    args = json.dumps({"text": "hello"})
    call = ["mcp", "call", "--workspace", str(ws), "--server", "toy", "--tool", "echo", "--arguments", args]
    ours_argv = [harnessgym_bin(), *call, "--idle-timeout", "60"]
    timed(ours_argv, expect="hello")  # starts the host daemon; the figure is with it running
    # The same fast path without site (so without the dev install's editable finder): what a console script
    # of a regular install comes near; it needs only the standard library and the source tree.
    entry = f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.argv[0] = 'harnessgym'; " \
        "from harnessgym._entry import main; main()"  # fmt: skip
    no_site_argv = [sys.executable, "-S", "-c", entry, *call]
    theirs_argv = [str(upstream_bin("harnessgym-mcp-call")), "--workspace", str(ws), "--server", "toy", "--tool",
                   "echo", "--arguments", args]  # fmt: skip
    runs = {
        "ours": lambda: timed(ours_argv, expect="hello"),
        "no_site": lambda: timed(no_site_argv, expect="hello"),
        "theirs": lambda: timed(theirs_argv, cwd=ws, expect="hello"),
        "bare": lambda: timed([sys.executable, "-c", "pass"]),
        "bare_S": lambda: timed([sys.executable, "-S", "-c", "pass"]),
        "bare_IS": lambda: timed([sys.executable, "-I", "-S", "-c", "pass"]),
    }
    samples: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(max(repeat, 5) * 2):  # interleaved: the machine's load hits every command alike
        for name, run in runs.items():
            samples[name].append(run())
    m = {k: statistics.median(v) for k, v in samples.items()}
    labels = {
        "ours": "mcp call, host already running",
        "no_site": "  the same, run with -S (no site: no editable finder)",
        "bare": "  floor: a bare interpreter start in this venv (-c pass)",
        "bare_S": "  floor: without site (-S -c pass)",
        "bare_IS": "  floor: isolated, without site (-I -S -c pass)",
    }
    base = "HarnessGym 0.1.1 harnessgym-mcp-call"
    return [Row(label, m[key], m["theirs"], 0.2, baseline_name=base) for key, label in labels.items()]


SDK_SERVER = """from mcp.server import MCPServer
import sys

mcp = MCPServer({name!r})


@mcp.tool()
def echo_{i}(text: str) -> str:
    \"\"\"Echo the text.\"\"\"
    return text


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        print("ok")
        sys.exit(0)
    mcp.run()
"""
SERVERS = 8


def _sdk_servers_steps(self_tests: bool) -> list[dict[str, object]]:
    writes: list[dict[str, object]] = []
    for i in range(SERVERS):
        name, folder = f"sdk{i}", f".harnessgym/mcp/sdk{i}"
        manifest: dict[str, object] = {"name": name, "command": sys.executable, "args": [f"{folder}/server.py"]}
        if self_tests:
            manifest["self_test"] = True
        writes += [{"do": "write", "path": f"{folder}/server.py", "text": SDK_SERVER.format(name=name, i=i)},
                   {"do": "write", "path": f"{folder}/harnessgym-mcp.json", "text": json.dumps(manifest)},
                   {"do": "register", "entry": {"kind": "mcp", "path": f"{folder}/harnessgym-mcp.json"}}]  # fmt: skip
    return [
        {"phase": "attempt", "actions": [{"do": "result", "set": {"status": "incomplete"}}]},
        {"phase": "reflection", "actions": [{"do": "result", "set": {"status": "completed"}}]},
        {"phase": "build", "actions": [*writes, {"do": "result", "set": {"status": "tooling_built"}}]},
        {"phase": "*", "actions": [{"do": "result", "set": {"status": "completed"}}]},
    ]


def _qualify8_seconds(tmp: Path, self_tests: bool) -> float:
    """The qualify phase of one iteration whose build wrote 8 MCP-SDK servers (all must come out active)."""
    ws = tmp / f"q8-{time.monotonic_ns()}"
    shutil.copytree(EXAMPLE, ws)
    script = fake_script(tmp / f"q8-{time.monotonic_ns()}.json", _sdk_servers_steps(self_tests))
    run_id = f"q8{time.monotonic_ns()}"
    timed([harnessgym_bin(), "run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "1",
           "--runner", "fake", "--fake-script", str(script), "--build-after-solve", "--run-id", run_id])  # fmt: skip
    lines = [json.loads(line) for line in (ws / ".harnessgym" / "runs" / run_id / "journal.jsonl").open()]
    at = {(e["kind"], e.get("phase")): datetime.fromisoformat(e["at"]) for e in lines}
    states = [a["state"] for a in json.loads((ws / ".harnessgym" / "registry.json").read_text())["artifacts"]]
    if states != ["active"] * SERVERS:
        raise RuntimeError(f"the 8 servers did not all qualify: {states}")
    shutil.rmtree(ws, ignore_errors=True)
    return (at["phase_completed", "qualify"] - at["phase_started", "qualify"]).total_seconds()


def _list_directly_seconds(tmp: Path) -> float:
    """The floor: start the same 8 servers side by side once, initialize and list their tools (MCP SDK client)."""
    import anyio
    from mcp import Client, StdioServerParameters

    folder = tmp / f"direct-{time.monotonic_ns()}"
    folder.mkdir()
    paths = []
    for i in range(SERVERS):
        path = folder / f"server{i}.py"
        path.write_text(SDK_SERVER.format(name=f"sdk{i}", i=i))
        paths.append(path)

    async def one(path: Path) -> None:
        async with Client(StdioServerParameters(command=sys.executable, args=[str(path)])) as client:
            assert (await client.list_tools()).tools

    async def all_of_them() -> float:
        began = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for path in paths:
                tg.start_soon(one, path)
        return time.perf_counter() - began

    return anyio.run(all_of_them)


def row_qualify8(tmp: Path, repeat: int) -> list[Row]:
    floor = median_of(repeat, lambda: _list_directly_seconds(tmp))
    tested = median_of(repeat, lambda: _qualify8_seconds(tmp, True))
    untested = median_of(repeat, lambda: _qualify8_seconds(tmp, False))
    return [
        Row(f"qualify {SERVERS} MCP-SDK servers, with self-tests", tested, floor, 2.5,
            baseline_name=f"start {SERVERS} servers once, list tools directly"),
        Row(f"qualify {SERVERS} MCP-SDK servers, no self-test (a note)", untested, floor, 1.5,
            baseline_name="the same"),
    ]  # fmt: skip


def row_session8(tmp: Path, repeat: int) -> list[Row]:
    """A fresh agent session's ``tools/list`` when 8 MCP-SDK servers are active: through the relay a run hands
    its sessions (the run's host already up, as it is from the first session on), and from a cold ``harnessgym
    host`` (an IDE's first start: the host's own imports, then the lists qualification recorded; the servers
    start in the background). The target is absolute, 0.5 s, so that is the baseline."""
    import anyio
    from mcp import Client, StdioServerParameters

    from harnessgym.loop.host import host_argv
    from mcp_host import CONNECT_SCRIPT, host_dir, socket_path

    ws = tmp / f"s8-{time.monotonic_ns()}"
    shutil.copytree(EXAMPLE, ws)
    script = fake_script(tmp / f"s8-{time.monotonic_ns()}.json", _sdk_servers_steps(True))
    timed([harnessgym_bin(), "run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "1",
           "--runner", "fake", "--fake-script", str(script), "--build-after-solve"])  # fmt: skip

    async def listed(params: StdioServerParameters) -> float:
        began = time.perf_counter()
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            took = time.perf_counter() - began
        if len(tools) != SERVERS:
            raise RuntimeError(f"{len(tools)} tools listed, not {SERVERS}")
        return took

    cold = StdioServerParameters(command=harnessgym_bin(), args=["host", "--workspace", str(ws)], cwd=str(ws))
    cold_s = median_of(repeat, lambda: anyio.run(listed, cold))
    # The run's host, as a run keeps it: a daemon on the workspace's socket (it exits 10 s after its last client)
    timed([harnessgym_bin(), "mcp", "call", "--workspace", str(ws), "--list-tools", "--idle-timeout", "10"])
    relay = StdioServerParameters(
        command=sys.executable,
        args=["-I", "-S", CONNECT_SCRIPT, "--socket", str(socket_path(ws)), "--tag", "{}",
              "--start", json.dumps(host_argv(str(ws), 10)), "--log", str(host_dir(ws) / "daemon.log")],
        cwd=str(ws),
    )  # fmt: skip
    warm_s = median_of(max(repeat, 5), lambda: anyio.run(listed, relay))
    return [
        Row(f"a fresh session's tools/list, {SERVERS} SDK servers, the run's host up", warm_s, 0.5, 1.0,
            baseline_name="the target: 0.5 s"),
        Row("  the same from a cold `harnessgym host` (an IDE's first start)", cold_s, 0.5, 1.0,
            baseline_name="the target: 0.5 s"),
    ]  # fmt: skip


def row_registry(tmp: Path, repeat: int, quick: bool) -> list[Row]:
    """A long history: ``count`` artifacts that an earlier run qualified. The per-iteration cost is the slope
    between a one-iteration and a five-iteration run on that workspace, (t5 - t1) / 4, interleaved; a run's
    first iteration (its start) and the one-time qualification of that many new artifacts are printed apart."""
    script = fake_script(
        tmp / f"r-{time.monotonic_ns()}.json",
        [{"phase": "*", "actions": [{"do": "result", "set": {"status": "incomplete"}}]}],
    )

    def workspace(count: int) -> tuple[Path, float]:
        ws = tmp / f"reg-{count}-{time.monotonic_ns()}"
        shutil.copytree(EXAMPLE, ws)
        tools = ws / ".harnessgym" / "tools"
        tools.mkdir(parents=True)
        entries = []
        for i in range(count):
            (tools / f"t{i:04d}.py").write_text(f"print({i})\n")
            entries.append({"kind": "tool", "path": f".harnessgym/tools/t{i:04d}.py", "description": f"tool {i}"})
        (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"schema_version": 1, "artifacts": entries}))
        first = run(ws, 1)  # the history: every artifact qualified once, by an earlier run
        return ws, first

    def run(ws: Path, iterations: int) -> float:
        return timed([harnessgym_bin(), "run", "--task-text", TASK, "--workspace", str(ws), "--iterations",
                      str(iterations), "--runner", "fake", "--fake-script", str(script)])  # fmt: skip

    counts = [0, 10, 100] if quick else [0, 10, 100, 1000]
    spaces = {count: workspace(count) for count in counts}
    one: dict[int, list[float]] = {c: [] for c in counts}
    five: dict[int, list[float]] = {c: [] for c in counts}
    for _ in range(max(repeat, 3)):  # interleaved: the machine's load hits every size alike
        for count in counts:
            one[count].append(run(spaces[count][0], 1))
            five[count].append(run(spaces[count][0], 5))
    start = {c: statistics.median(one[c]) for c in counts}
    per_iteration = {c: (statistics.median(five[c]) - start[c]) / 4 for c in counts}
    none = per_iteration[0]
    target = round((none + 0.2) / none, 2)  # at most +0.2 s an iteration, as a ratio to this run's own 0-artifact one
    rows = []
    for count in counts[1:]:
        added = per_iteration[count] - none
        rows.append(Row(f"registry of {count:,}: per iteration, {added:+.2f} s", per_iteration[count], none, target,
                        baseline_name="no artifacts; target +0.2 s"))  # fmt: skip
    for count in counts[1:]:
        rows.append(Row(f"  registry of {count:,}: a run's start and first iteration", start[count], start[0], None,
                        baseline_name="no artifacts"))  # fmt: skip
    for count in counts[1:]:
        rows.append(Row(f"  registry of {count:,}: qualifying them all once, when new", spaces[count][1],
                        spaces[0][1], None, baseline_name="no artifacts"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="start,qualify,disk,mcp_call,telemetry,demo,qualify8,session8,registry")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    wanted = set(args.rows.split(","))
    with tempfile.TemporaryDirectory(prefix="hg-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print(header())
        steps = [
            ("start", lambda: row_start(tmp, args.repeat, args.quick)),
            ("qualify", lambda: row_qualify_and_disk(tmp, args.repeat, args.quick, wanted)),
            ("mcp_call", lambda: row_mcp_call(tmp, args.repeat)),
            ("telemetry", lambda: row_telemetry(tmp, args.repeat, args.quick)),
            ("demo", lambda: row_demo(tmp, args.repeat)),
            ("qualify8", lambda: row_qualify8(tmp, args.repeat)),
            ("session8", lambda: row_session8(tmp, args.repeat)),
            ("registry", lambda: row_registry(tmp, args.repeat, args.quick)),
        ]
        if "disk" in wanted and "qualify" not in wanted:
            steps.append(("disk", lambda: row_qualify_and_disk(tmp, args.repeat, args.quick, wanted)))
        for name, run in steps:
            if name in wanted:
                for row in run():
                    print(row.line(), flush=True)


if __name__ == "__main__":
    main()
