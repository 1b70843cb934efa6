"""Serving clients: what connects an agent's session to the running host."""
