"""What ``/proc`` says about processes: the table (pid, parent, group), a process's state, its environment.

The one place that reads ``/proc`` for the three packages: the process helper walks trees and sweeps tagged
escapees with it, the host's health watch asks whether a server is stopped, and harnessgym finds what a killed
run left behind by its environment markers. Everything here is a snapshot that may be stale a moment later
(processes come and go), so every reader treats a vanished process as absent, never as an error.
"""

from __future__ import annotations

import os
from collections.abc import Collection

__all__ = ["alive", "descendants", "environ", "pids", "process_table", "scan_environ", "start_time", "state"]


def pids() -> list[int]:
    """Every process id visible now."""
    try:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, ... (None if gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; fields restart after the last ')'.
    rest = stat[stat.rfind(b")") + 2 :].split()
    return rest if len(rest) >= 3 else None


def start_time(pid: int) -> int | None:
    """When ``pid`` started (field 22 of /proc/<pid>/stat, ticks since boot): with the pid, one process for good."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def state(pid: int) -> str | None:
    """The process's state letter (``R``, ``S``, ``T`` for stopped, ``Z`` for a zombie, ...); None if gone."""
    fields = _stat_fields(pid)
    return fields[0].decode(errors="replace") if fields is not None else None


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is neither a zombie nor dead."""
    return state(pid) not in (None, "Z", "X")


def process_table() -> list[tuple[int, int, int]]:
    """(pid, ppid, pgid) of every process, read once."""
    table: list[tuple[int, int, int]] = []
    for pid in pids():
        fields = _stat_fields(pid)
        if fields is not None:
            table.append((pid, int(fields[1]), int(fields[2])))
    return table


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for child, parent, _ in process_table():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        if child in found:
            continue
        found.append(child)
        stack.extend(children.get(child, []))
    return found


def environ(pid: int, names: Collection[str] | None = None) -> dict[str, str]:
    """The environment ``pid`` started with (only ``names`` when given); empty when it cannot be read."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            raw = fh.read()
    except OSError:
        return {}
    wanted = None if names is None else {name.encode() for name in names}
    env: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and (wanted is None or key in wanted):
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def scan_environ(names: Collection[str]) -> list[tuple[int, dict[str, str]]]:
    """(pid, the ``names`` it carries) of every live process but this one that carries at least one of them.

    The environment scan: how escaped processes are found by the marker variables they inherited.
    """
    me = os.getpid()
    found: list[tuple[int, dict[str, str]]] = []
    for pid in pids():
        if pid == me:
            continue
        env = environ(pid, names)
        if env and alive(pid):
            found.append((pid, env))
    return found
