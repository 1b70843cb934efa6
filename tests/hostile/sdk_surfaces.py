"""A real MCP SDK server (MCPServer) with prompts, resources and a resource template besides its one tool, which
adds a resource and tells the client its resource list changed. ``--name`` changes the resource texts, so two
copies of it show how the host handles a URI offered twice."""

from __future__ import annotations

import sys

from mcp.server import MCPServer
from mcp.server.mcpserver import Context

NAME = sys.argv[sys.argv.index("--name") + 1] if "--name" in sys.argv else "surfaces"
mcp = MCPServer(NAME)


@mcp.prompt()
def review(path: str) -> str:
    """Ask for a review of one file."""
    return f"[{NAME}] Review {path} for numerical stability."


@mcp.resource("docs://guide")
def guide() -> str:
    """How to use this server."""
    return f"guide from {NAME}"


@mcp.resource("notes://{topic}")
def note(topic: str) -> str:
    """A note on a topic."""
    return f"{NAME} note on {topic}"


@mcp.tool()
async def add_resource(uri: str, text: str, ctx: Context) -> str:
    """Add a static resource and announce that the resource list changed."""
    mcp.resource(uri, name=uri)(lambda: text)
    await ctx.session.send_resource_list_changed()  # the 2025-era notification the host listens for
    return "added"


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        print("ok")
        sys.exit(0)
    mcp.run()
