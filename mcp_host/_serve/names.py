"""Qualified tool names on the host: ``<server>__<tool>``, within client limits, collisions made explicit.

Claude Code allows 64 characters for a tool name *including* its own ``mcp__harnessgym__`` prefix, and
providers accept only ``[A-Za-z0-9_-]``; so our part is at most :data:`MAX_NAME` (47) characters of that
alphabet. A name that would be too long, that needed sanitising, or that collides with another gets a
deterministic suffix: ``_`` plus the first 6 hex digits of sha256(``server\\0tool``), after truncation. The
suffix depends only on the pair, so adding a server never renames another server's unique tools. The
reverse map (qualified name → (server, tool)) is explicit, and the original names are kept in the tool's
``title`` and ``_meta``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MAX_NAME", "SEPARATOR", "build_catalog", "qualify_names"]

MAX_NAME = 64 - len("mcp__harnessgym__")
SEPARATOR = "__"
_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def _hashed(server: str, tool: str, base: str, digits: int) -> str:
    suffix = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:digits]
    return f"{base[: MAX_NAME - digits - 1]}_{suffix}"


def qualify_names(pairs: Iterable[tuple[str, str]], *, prefix: bool = True) -> dict[str, tuple[str, str]]:
    """Map each (server, tool) to a unique client-safe name; returns qualified name → (server, tool)."""
    pairs = sorted(set(pairs))
    bases: dict[tuple[str, str], str] = {}
    clean: dict[tuple[str, str], bool] = {}
    for server, tool in pairs:
        raw = f"{server}{SEPARATOR}{tool}" if prefix else tool
        base = _BAD.sub("_", raw)
        bases[(server, tool)] = base
        clean[(server, tool)] = base == raw and 0 < len(base) <= MAX_NAME
    counts: dict[str, int] = {}
    for base in bases.values():
        counts[base] = counts.get(base, 0) + 1
    out: dict[str, tuple[str, str]] = {}
    for pair in pairs:
        base = bases[pair]
        if clean[pair] and counts[base] == 1:
            out[base] = pair
    for pair in pairs:
        base = bases[pair]
        if clean[pair] and counts[base] == 1:
            continue
        digits = 6
        name = _hashed(*pair, base or "tool", digits)
        while name in out:
            digits += 2
            name = _hashed(*pair, base or "tool", digits)
        out[name] = pair
    return out


def build_catalog(
    servers: Sequence[tuple[str, list[dict[str, Any]]]], *, prefix: bool = True
) -> tuple[dict[str, tuple[str, str]], list[dict[str, Any]]]:
    """The reverse map and the client-facing tool list for ``(server, tools)`` in order.

    A renamed tool keeps its original name as ``title`` (unless it has one) and both originals in ``_meta``
    (``harnessgym/server``, ``harnessgym/tool``).
    """
    names = qualify_names(((server, t["name"]) for server, tools in servers for t in tools), prefix=prefix)
    reverse = {pair: qualified for qualified, pair in names.items()}
    catalog: list[dict[str, Any]] = []
    for server, tools in servers:
        for tool in tools:
            qualified = reverse[(server, tool["name"])]
            entry = dict(tool)
            entry["name"] = qualified
            if qualified != tool["name"]:
                entry.setdefault("title", tool["name"])
                # A server's own ``_meta`` is kept only when it is an object (dict() of 5 or "ab" would raise).
                own_meta = entry.get("_meta")
                meta = dict(own_meta) if isinstance(own_meta, dict) else {}
                meta.update({"harnessgym/server": server, "harnessgym/tool": tool["name"]})
                entry["_meta"] = meta
            catalog.append(entry)
    return names, catalog
