"""A real MCP SDK server (MCPServer): echo, and a slow tool that reports progress."""

from __future__ import annotations

import os
import sys

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

mcp = MCPServer("sdk-toy")


@mcp.tool()
def echo(text: str) -> str:
    """Echo the text."""
    return text


@mcp.tool()
def secrets() -> list[str]:
    """Names of environment variables that look secret."""
    return sorted(k for k in os.environ if any(w in k.upper() for w in ("KEY", "TOKEN", "SECRET", "PASSWORD")))


@mcp.tool()
async def slow(seconds: float, ctx: Context) -> str:
    """Sleep, reporting progress."""
    await ctx.report_progress(0.5, 1.0, "halfway")
    await anyio.sleep(seconds)
    return "done"


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        print("ok")
        sys.exit(0)
    mcp.run()
