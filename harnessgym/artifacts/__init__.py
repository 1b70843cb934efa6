"""Artifacts: the registry of what agents built, their qualification in a clean copy, activation for the next
fresh session (skill links, MCP servers for the host) and the operations on them outside a run."""
