"""What the host costs: tools/call latency direct to a server vs through ``harnessgym host``, and start-up.

Run: ``python bench/host_overhead.py [--small N] [--medium N] [--large N] [--servers 8]``

Both paths use the same raw (SDK-free) newline-JSON client and the same SDK-free server
(``tests/hostile/toy_server.py``), measured side by side in one run, so the difference is the host: one
extra hop of framing, id remapping, name mapping and telemetry. Start-up compares starting ``--servers``
Python servers concurrently (as the host does on activation) with the slowest of them started alone, for
the SDK-free server and for a real ``MCPServer`` one.
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

from mcp_host import load_manifest, write_active_servers  # noqa: E402
from mcp_host._supervise import procs  # noqa: E402
from mcp_host._supervise.downstream import Downstream  # noqa: E402
from mcp_host._wire.framing import Decoder, Frame  # noqa: E402

TOY = ROOT / "tests" / "hostile" / "toy_server.py"
SDK = ROOT / "tests" / "hostile" / "sdk_server.py"


class RawClient:
    """Newline JSON over a child's pipes: one request at a time, no validation."""

    def __init__(self, proc: anyio.abc.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.decoder = Decoder()
        self.next_id = 0
        self.pending: list[bytes] = []

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        await self.stdin.send(json.dumps(msg).encode() + b"\n")
        while True:
            while self.pending:
                body = self.pending.pop(0)
                reply = json.loads(body)
                if reply.get("id") == self.next_id:
                    return reply  # type: ignore[no-any-return]
            for item in self.decoder.feed(await self.stdout.receive(1 << 20)):
                if isinstance(item, Frame):
                    self.pending.append(item.body)

    async def initialize(self) -> None:
        await self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        await self.stdin.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')


async def measure(client: RawClient, tool: str, args: dict[str, Any], count: int) -> tuple[list[float], float]:
    for _ in range(min(20, count)):
        await client.request("tools/call", {"name": tool, "arguments": args})
    samples = []
    started = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        reply = await client.request("tools/call", {"name": tool, "arguments": args})
        samples.append(time.perf_counter() - t)
        assert "result" in reply and not reply["result"].get("isError"), reply
    return samples, time.perf_counter() - started


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(counts: dict[str, int]) -> list[dict[str, Any]]:
    cases = [
        ("small", "echo", {"text": "hello"}),
        ("64KiB", "big", {"size": 65536}),
        ("10MB", "big", {"size": 10_000_000}),
    ]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        directory = ws / ".harnessgym" / "mcp" / "toy"
        directory.mkdir(parents=True)
        manifest = {
            "name": "toy",
            "command": sys.executable,
            "args": [str(TOY)],
            "framing": "newline",
            "timeouts": {"tool_seconds": 60},
        }
        (directory / "mcp.json").write_text(json.dumps(manifest))
        write_active_servers(ws, [load_manifest(directory, ws)])
        direct = await procs.spawn([sys.executable, str(TOY)], stderr=None)
        host = await procs.spawn(
            [sys.executable, "-m", "harnessgym", "host", "--workspace", str(ws), "--no-socket"], cwd=ROOT, stderr=None
        )
        try:
            clients = {"direct": RawClient(direct), "host": RawClient(host)}
            for client in clients.values():
                await client.initialize()
            for label, tool, args in cases:
                count = counts[label]
                if not count:
                    continue
                # Interleave the two paths in rounds so machine noise hits both alike.
                samples: dict[str, list[float]] = {"direct": [], "host": []}
                elapsed = {"direct": 0.0, "host": 0.0}
                rounds = 4 if count >= 8 else 1
                for _ in range(rounds):
                    for path, client in clients.items():
                        name = tool if path == "direct" else f"toy__{tool}"
                        got, took = await measure(client, name, args, max(1, count // rounds))
                        samples[path] += got
                        elapsed[path] += took
                for path in ("direct", "host"):
                    rows.append(
                        {
                            "case": label,
                            "path": path,
                            "n": len(samples[path]),
                            "median_ms": statistics.median(samples[path]) * 1000,
                            "p99_ms": pct(samples[path], 0.99) * 1000,
                            "calls_per_s": len(samples[path]) / elapsed[path],
                        }
                    )
        finally:
            for proc in (direct, host):
                if proc.stdin is not None:
                    await proc.stdin.aclose()
                await procs.kill_tree(proc.pid, grace=1.0)
                await proc.wait()
                await proc.aclose()
    return rows


async def startup(script: Path, servers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        specs = []
        for i in range(servers):
            directory = ws / f"s{i}"
            directory.mkdir()
            (directory / "mcp.json").write_text(
                json.dumps(
                    {
                        "name": f"s{i}",
                        "command": sys.executable,
                        "args": [str(script)],
                        "framing": "newline",
                        "timeouts": {"startup_seconds": 60},
                    }
                )
            )
            specs.append(load_manifest(directory, ws))

        async def start(group: list[Any]) -> float:
            t = time.perf_counter()
            async with anyio.create_task_group() as tg:
                downs = [Downstream(s, workspace=ws, task_group=tg) for s in group]
                try:
                    async with anyio.create_task_group() as starters:
                        for d in downs:
                            starters.start_soon(d.ensure_running)
                    took = time.perf_counter() - t
                finally:
                    for d in downs:
                        await d.stop()
                    tg.cancel_scope.cancel()
            return took

        alone = [await start([s]) for s in specs]
        together = await start(specs)
    cores = len(os.sched_getaffinity(0))
    # Starting is CPU-bound (interpreter + imports): with fewer cores than servers, no scheduler beats this.
    floor = max(max(alone), sum(alone) / cores)
    return {
        "slowest_alone_s": max(alone),
        "together_s": together,
        "ratio": together / max(alone),
        "cpu_floor_s": floor,
        "cores": cores,
    }


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| case | path | n | median ms | p99 ms | calls/s | host adds (median) |", "|---|---|---|---|---|---|---|"]
    direct = {r["case"]: r for r in rows if r["path"] == "direct"}
    for r in rows:
        added = "" if r["path"] == "direct" else f"{r['median_ms'] - direct[r['case']]['median_ms']:+.3f} ms"
        out.append(
            f"| {r['case']} | {r['path']} | {r['n']} | {r['median_ms']:.3f} | {r['p99_ms']:.3f} | "
            f"{r['calls_per_s']:.0f} | {added} |"
        )
    return "\n".join(out)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    rows = await latency({"small": args.small, "64KiB": args.medium, "10MB": args.large})
    starts = {}
    if args.servers:
        starts["sdk-free"] = await startup(TOY, args.servers)
        if not args.skip_sdk:
            starts["MCPServer"] = await startup(SDK, args.servers)
    return {"latency": rows, "startup": starts}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--medium", type=int, default=800)
    parser.add_argument("--large", type=int, default=8)
    parser.add_argument("--servers", type=int, default=8)
    parser.add_argument("--skip-sdk", action="store_true", help="skip the MCPServer start-up measurement")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = anyio.run(main_async, args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result["latency"]))
        for label, s in result["startup"].items():
            print(
                f"start {args.servers} {label} servers: together {s['together_s']:.3f} s, slowest alone "
                f"{s['slowest_alone_s']:.3f} s, ratio {s['ratio']:.2f} (CPU-bound floor on {s['cores']} cores: "
                f"{s['cpu_floor_s']:.3f} s)"
            )
    return result  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
