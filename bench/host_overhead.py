"""What the host costs: tools/call latency direct to a server, through ``harnessgym host``, and through HarnessGym
0.1.1's telemetry proxy; and start-up.

Run: ``python bench/host_overhead.py [--small N] [--medium N] [--large N] [--servers 8] [--no-upstream]``

Every path uses the same raw (SDK-free) client and the same SDK-free server command
(``tests/hostile/toy_server.py``, Content-Length framing by default, the only one 0.1.1's proxy speaks),
measured in one run, interleaved in rounds, so the difference to the direct calls is the hop: for the host
framing, id remapping, name mapping and telemetry; for 0.1.1 (``python -m harnessgym.mcp_telemetry_proxy``,
installed into ``.cache/bench`` by :func:`bench._support.upstream_bin`) its lockstep relay and its telemetry.
The closing rows print the host's added median over 0.1.1's, against the target (at most 0.5x). Start-up
compares starting ``--servers`` Python servers concurrently (as the host does on activation) with the slowest
of them started alone, for the SDK-free server and for a real ``MCPServer`` one.
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

from bench._support import Row, header, upstream_bin  # noqa: E402
from mcp_host import load_manifest, write_active_servers  # noqa: E402
from mcp_host._supervise import procs  # noqa: E402
from mcp_host._supervise.downstream import Downstream  # noqa: E402
from mcp_host._wire.framing import Decoder, Frame  # noqa: E402

TOY = ROOT / "tests" / "hostile" / "toy_server.py"
SDK = ROOT / "tests" / "hostile" / "sdk_server.py"


class RawClient:
    """One request at a time over a child's pipes, no validation; newline JSON or Content-Length framing."""

    def __init__(self, proc: anyio.abc.Process, framing: str = "newline") -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.framing = framing
        self.decoder = Decoder()
        self.next_id = 0
        self.pending: list[bytes] = []

    async def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        if self.framing == "newline":
            await self.stdin.send(body + b"\n")
        else:
            await self.stdin.send(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        await self.send(msg)
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
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


async def measure(client: RawClient, tool: str, args: dict[str, Any], count: int) -> tuple[list[float], float]:
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


UPSTREAM = "0.1.1 proxy"
"""The path through HarnessGym 0.1.1's ``python -m harnessgym.mcp_telemetry_proxy`` (in its own venv)."""


async def latency(counts: dict[str, int], *, upstream: bool, framing: str) -> list[dict[str, Any]]:
    """Median latency per case and path, every path measured in the same rounds, in turn (the order rotating
    each round), so the machine's noise hits them alike. Every path runs the same server command."""
    cases = [
        ("small", "echo", {"text": "hello"}),
        ("64KiB", "big", {"size": 65536}),
        ("10MB", "big", {"size": 10_000_000}),
    ]
    rows: list[dict[str, Any]] = []
    server = [sys.executable, str(TOY), "--framing", framing]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        directory = ws / ".harnessgym" / "mcp" / "toy"
        directory.mkdir(parents=True)
        manifest = {
            "name": "toy",
            "command": server[0],
            "args": server[1:],
            "framing": framing,
            "timeouts": {"tool_seconds": 60},
        }
        (directory / "mcp.json").write_text(json.dumps(manifest))
        write_active_servers(ws, [load_manifest(directory, ws)])
        env = {**os.environ, "HARNESSGYM_MCP_TELEMETRY_PATH": str(ws / "host_calls.jsonl")}
        started = {
            "direct": await procs.spawn(server, stderr=None),
            "host": await procs.spawn(
                [sys.executable, "-m", "harnessgym", "host", "--workspace", str(ws), "--no-socket"],
                cwd=ROOT,
                env=env,
                stderr=None,
            ),
        }
        names = {"direct": "", "host": "toy__"}
        if upstream:
            proxy_env = {**os.environ, "HARNESSGYM_MCP_TELEMETRY_PATH": str(ws / "proxy_calls.jsonl")}
            python = str(upstream_bin().parent / "python")
            proxy = [python, "-m", "harnessgym.mcp_telemetry_proxy", "--cwd", str(ws), "--server-name", "toy"]
            started[UPSTREAM] = await procs.spawn([*proxy, "--", *server], cwd=ws, env=proxy_env, stderr=None)
            names[UPSTREAM] = ""
        try:
            # 0.1.1's proxy speaks only Content-Length; the others answer in the client's framing.
            clients = {path: RawClient(proc, framing) for path, proc in started.items()}
            for client in clients.values():
                await client.initialize()
            paths = list(clients)
            for label, tool, args in cases:
                count = counts[label]
                if not count:
                    continue
                for path, client in clients.items():  # warm-up
                    await measure(client, names[path] + tool, args, min(20, count))
                samples: dict[str, list[float]] = {p: [] for p in paths}
                elapsed = dict.fromkeys(paths, 0.0)
                rounds = min(count, 40)
                for r in range(rounds):
                    order = paths[r % len(paths) :] + paths[: r % len(paths)]
                    for path in order:
                        got, took = await measure(clients[path], names[path] + tool, args, max(1, count // rounds))
                        samples[path] += got
                        elapsed[path] += took
                for path in paths:
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
            for proc in started.values():
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
    out = ["| case | path | n | median ms | p99 ms | calls/s | adds (median) |", "|---|---|---|---|---|---|---|"]
    direct = {r["case"]: r for r in rows if r["path"] == "direct"}
    for r in rows:
        added = "" if r["path"] == "direct" else f"{r['median_ms'] - direct[r['case']]['median_ms']:+.3f} ms"
        out.append(
            f"| {r['case']} | {r['path']} | {r['n']} | {r['median_ms']:.3f} | {r['p99_ms']:.3f} | "
            f"{r['calls_per_s']:.0f} | {added} |"
        )
    return "\n".join(out)


TARGET = 0.5
"""Issue 13: the host adds at most half of what HarnessGym 0.1.1's proxy adds per call."""


def overhead_rows(rows: list[dict[str, Any]]) -> list[Row]:
    """Per case: the host's added median latency against 0.1.1's proxy's, both over the same direct calls."""
    by = {(r["case"], r["path"]): r["median_ms"] for r in rows}
    out = []
    for case in ("small", "64KiB"):
        if (case, UPSTREAM) not in by or (case, "host") not in by:
            continue
        direct = by[(case, "direct")]
        ours, theirs = by[(case, "host")] - direct, by[(case, UPSTREAM)] - direct
        out.append(Row(f"host per-call overhead, {case} result", ours, theirs, TARGET, unit="ms",
                       baseline_name="HarnessGym 0.1.1 mcp_telemetry_proxy"))  # fmt: skip
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    counts = {"small": args.small, "64KiB": args.medium, "10MB": args.large}
    rows = await latency(counts, upstream=not args.no_upstream, framing=args.framing)
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
    parser.add_argument("--no-upstream", action="store_true", help="leave out HarnessGym 0.1.1's proxy")
    parser.add_argument(
        "--framing",
        choices=["content-length", "newline"],
        default="content-length",
        help="what the client and the server speak (0.1.1's proxy speaks only Content-Length)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.no_upstream is False and args.framing != "content-length":
        parser.error("0.1.1's proxy speaks only Content-Length: --framing newline needs --no-upstream")
    result = anyio.run(main_async, args)
    if args.json:
        result["overhead"] = [
            {"case": row.what, "ours_ms": row.ours, "upstream_ms": row.baseline, "ratio": row.ratio,
             "target": row.target, "met": row.target is not None and row.ratio <= row.target}
            for row in overhead_rows(result["latency"])
        ]  # fmt: skip
        print(json.dumps(result, indent=2))
    else:
        print(table(result["latency"]))
        print()
        print(header())
        for row in overhead_rows(result["latency"]):
            print(row.line())
        for label, s in result["startup"].items():
            print(
                f"start {args.servers} {label} servers: together {s['together_s']:.3f} s, slowest alone "
                f"{s['slowest_alone_s']:.3f} s, ratio {s['ratio']:.2f} (CPU-bound floor on {s['cores']} cores: "
                f"{s['cpu_floor_s']:.3f} s)"
            )
    return result  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
