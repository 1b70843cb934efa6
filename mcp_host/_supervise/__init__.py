"""Supervision: manifests, processes and their health (private to :mod:`mcp_host`)."""
