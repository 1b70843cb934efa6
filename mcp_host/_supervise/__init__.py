"""Supervision: manifests, the one process helper, the environment servers get, one supervised server
(start, handshake, health, restart), qualification and its verdicts."""
