"""Serving: the host endpoint, its message router and client sessions, relayed calls and their telemetry,
the active server set, and the clients that reach a running host (``mcp call``, the bridge)."""
