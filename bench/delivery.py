"""Delivery costs, side by side in one run: what a fresh agent session waits for before its first turn.

Run: ``python bench/delivery.py [--repeat N] [--servers 8] [--calls N]``

Printed, each beside its baseline:

1. ``harnessgym serve``: spawn to the ``initialize`` answer, against a standard-library Python MCP server's
   (``tests/hostile/toy_server.py``). Target: at most 4x.
2. A fresh agent-side connection (the MCP entry a runner hands the CLI: ``mcp_host/_serve/connect.py``) to
   the run's host with ``--servers`` MCP-SDK servers active: spawn to the ``tools/list`` answer, against
   spawning one standard-library server and asking it directly. Target: at most 2x.
3. A fresh host (cold, started like the run starts it) with those servers: spawn to ``tools/list``, answered
   from the tool lists qualification recorded while the servers start. Target (issue 13): within 0.5 s.
4. The per-call overhead of the host (``bench/host_overhead.py``'s latency rows). Target: +0.3 ms or less.

Verdicts and the active set go to a temporary state directory (``HARNESSGYM_STATE_DIR``), never the home.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["HARNESSGYM_STATE_DIR"] = tempfile.mkdtemp(prefix="harnessgym-bench-state-")

from bench.host_overhead import RawClient, latency, table  # noqa: E402
from mcp_host import (  # noqa: E402
    CONNECT_SCRIPT,
    list_tools,
    load_manifest,
    qualify_servers,
    socket_path,
    write_active_servers,
)
from mcp_host._supervise import procs  # noqa: E402

TOY = ROOT / "tests" / "hostile" / "toy_server.py"
SDK = ROOT / "tests" / "hostile" / "sdk_server.py"
INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}


async def _spawned(argv: list[str], until: str, cwd: Path = ROOT) -> float:
    """Seconds from spawning ``argv`` to its answer to ``until`` (``initialize`` or ``tools/list``)."""
    started = time.perf_counter()
    proc = await procs.spawn(argv, cwd=cwd, stderr=None)
    try:
        client = RawClient(proc)
        await client.request("initialize", INIT)
        if until == "tools/list":
            assert proc.stdin is not None
            await proc.stdin.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            reply = await client.request("tools/list")
            assert reply["result"]["tools"], reply
        return time.perf_counter() - started
    finally:
        if proc.stdin is not None:
            await proc.stdin.aclose()
        await procs.kill_tree(proc.pid, grace=1.0)
        await proc.wait()
        await proc.aclose()


async def _median(repeat: int, argv: list[str], until: str, cwd: Path = ROOT) -> float:
    return statistics.median([await _spawned(argv, until, cwd) for _ in range(repeat)])


async def _qualified_workspace(ws: Path, servers: int) -> None:
    specs = []
    for i in range(servers):
        directory = ws / ".harnessgym" / "mcp" / f"sdk{i}"
        directory.mkdir(parents=True)
        (directory / "mcp.json").write_text(json.dumps({
            "name": f"sdk{i}", "command": sys.executable, "args": [str(SDK)], "framing": "newline",
            "self_test": {"command": "true"}, "timeouts": {"startup_seconds": 120}}))  # fmt: skip
        specs.append(load_manifest(directory, ws))
    verdicts = await qualify_servers(specs, workspace=ws)
    assert all(v.status == "passed" for v in verdicts), [v.message for v in verdicts if v.status != "passed"]
    write_active_servers(ws, specs)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    toy = [sys.executable, str(TOY)]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        out["stdlib_initialize_s"] = await _median(args.repeat, toy, "initialize")
        serve = [sys.executable, "-I", "-m", "harnessgym", "serve", "--allow-root", str(ws),
                 "--state-dir", str(Path(tmp) / "serve-state")]  # fmt: skip
        out["serve_initialize_s"] = await _median(args.repeat, serve, "initialize")

        await _qualified_workspace(ws, args.servers)
        cold_host = [sys.executable, "-I", "-m", "harnessgym", "host", "--workspace", str(ws), "--no-socket"]
        out["fresh_host_tools_list_s"] = await _median(args.repeat, cold_host, "tools/list")
        daemon = await procs.spawn([sys.executable, "-I", "-m", "harnessgym", "host", "--workspace", str(ws),
                                    "--no-stdio", "--idle-timeout", "600"], cwd=ws, stderr=None)  # fmt: skip
        try:
            with anyio.fail_after(120):
                while True:
                    try:
                        await list_tools(ws, start=False, timeout=60)
                        break
                    except Exception:
                        await anyio.sleep(0.05)
            entry = [sys.executable, "-I", "-S", CONNECT_SCRIPT, "--socket", str(socket_path(ws)), "--tag",
                     json.dumps({"run_id": "bench", "iteration": 1, "phase": "attempt"})]  # fmt: skip
            out["entry_tools_list_s"] = await _median(args.repeat, entry, "tools/list", cwd=ws)
        finally:
            await procs.kill_tree(daemon.pid, grace=2.0)
            await daemon.wait()
        out["stdlib_tools_list_s"] = await _median(args.repeat, toy, "tools/list")
    out["latency"] = await latency({"small": args.calls, "64KiB": max(1, args.calls // 3), "10MB": 0})
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="spawns per measured start (the median is shown)")
    parser.add_argument("--servers", type=int, default=8, help="MCP-SDK servers active in the host")
    parser.add_argument("--calls", type=int, default=1500, help="tools/call round trips for the overhead rows")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = anyio.run(main_async, args)
    if args.json:
        print(json.dumps(r, indent=2))
        return r

    def row(what: str, ours: float, base: float, baseline: str, target: str) -> str:
        return f"| {what} | {ours * 1000:.0f} ms | {baseline} {base * 1000:.0f} ms | {ours / base:.2f}x | {target} |"

    print("| what | harnessgym | baseline | ratio | target |\n|---|---|---|---|---|")
    print(row("`serve`: spawn to initialize", r["serve_initialize_s"], r["stdlib_initialize_s"],
              "stdlib server", "<= 4x"))  # fmt: skip
    print(row(f"agent entry: spawn to tools/list ({args.servers} SDK servers, host up)", r["entry_tools_list_s"],
              r["stdlib_tools_list_s"], "one stdlib server", "<= 2x"))  # fmt: skip
    fresh = r["fresh_host_tools_list_s"]
    print(
        f"| fresh host: spawn to tools/list ({args.servers} SDK servers) | {fresh * 1000:.0f} ms | - | - | <= 500 ms |"
    )
    print()
    print(table(r["latency"]))
    return r


if __name__ == "__main__":
    main()
