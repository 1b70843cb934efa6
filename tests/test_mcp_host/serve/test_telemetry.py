"""Telemetry lines never tear or interleave, even from several writers at once."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from mcp_host import summarize_calls
from mcp_host._serve.telemetry import TelemetryWriter

pytestmark = pytest.mark.anyio


async def test_concurrent_writers_append_whole_lines_and_the_summary_counts_them(tmp_path: Path) -> None:
    path = tmp_path / ".harnessgym" / "mcp_calls.jsonl"
    writers = [TelemetryWriter(path, interval=0.001) for _ in range(3)]  # three descriptors, as three processes

    async def produce(w: int, writer: TelemetryWriter) -> None:
        for i in range(400):
            writer.record(
                {
                    "created_at": "t",
                    "server": f"s{w}",
                    "request_id": i,
                    "method": "tools/call",
                    "tool_name": "tool",
                    "duration_ms": 1,
                    "status": "completed" if i % 4 else "error",
                    "error_message": "x" * (i % 300),
                    "argument_keys": [],
                    "argument_json_bytes": 2,
                    "result_json_bytes": 3,
                    "run_id": "r",
                    "iteration": w,
                    "phase": "attempt",
                }
            )
            if i % 50 == 0:
                await anyio.lowlevel.checkpoint()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for writer in writers:
                await tg.start(writer.run)
            async with anyio.create_task_group() as producers:
                for w, writer in enumerate(writers):
                    producers.start_soon(produce, w, writer)
            for writer in writers:
                writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 1200 and all(json.loads(line)["method"] == "tools/call" for line in lines)
    summary = summarize_calls(tmp_path, run_id="r")
    assert (summary.count, summary.ok_count) == (1200, 900)
    assert summary.by_iteration == {0: 400, 1: 400, 2: 400}
    assert summary.by_tool == {"s0__tool": 400, "s1__tool": 400, "s2__tool": 400}
