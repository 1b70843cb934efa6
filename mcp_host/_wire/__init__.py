"""The wire: framing codecs (newline JSON, Content-Length), JSON-RPC helpers, non-blocking fd streams and the
waiters that match answers to requests. Knows nothing of processes or servers.

The protocol versions and harnessgym's own ``_meta`` key live here, declared once, so that ``harnessgym mcp
call``'s standard-library fast path (:mod:`mcp_host._serve.quickcall`) reads them without importing
:mod:`mcp_host._wire.jsonrpc` (its regex).
"""

SUPPORTED_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""The MCP protocol versions the host speaks, oldest first."""
LATEST_VERSION = SUPPORTED_VERSIONS[-1]
"""What harnessgym asks for as a client, and answers to a client asking for a version it does not know."""
PAIR_META = "harnessgym/pair"
"""A ``tools/call`` may name its tool by ``[server, tool]`` under this ``_meta`` key instead of by the host's
qualified name: ``harnessgym mcp call`` then needs no ``tools/list`` first. A pair the host does not serve is
a JSON-RPC error whose ``data`` is ``{PAIR_META: "unknown"}``, never a call; the host strips the key before
the server sees the call."""
