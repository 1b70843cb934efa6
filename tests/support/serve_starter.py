"""An MCP client in its own process, for tests that kill the client: ``python serve_starter.py SPEC``.

SPEC is JSON: ``{"serve": [argv of harnessgym serve], "cwd": ..., "tool": "start_run", "arguments": {...}}``.
It starts ``serve`` over stdio with the real SDK client, calls the tool, prints its structured result (or
``{"error": text}``) as one line on stdout, and then waits to be killed, holding the session open.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
from mcp import Client, StdioServerParameters


async def main(spec: dict[str, Any]) -> None:
    params = StdioServerParameters(command=spec["serve"][0], args=spec["serve"][1:], cwd=spec["cwd"],
                                   env=dict(os.environ))  # fmt: skip
    async with Client(params, read_timeout_seconds=60) as client:
        result = await client.call_tool(spec["tool"], spec["arguments"])
        text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
        answer = {"error": text} if result.is_error else result.structured_content
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        await anyio.sleep_forever()


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
