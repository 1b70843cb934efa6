"""Supervising servers: what is trusted to run, and how."""
