"""Tool definitions a client will accept: a server's bad one is repaired or dropped, never passed on.

One invalid definition makes an SDK client reject a host's whole ``tools/list``, so the healthy servers'
tools would be gone too. Each definition is checked on its own: a missing ``inputSchema`` becomes the empty
object schema, optional fields of the wrong type are removed, and a definition that cannot be repaired (no
usable name, an input schema that is not an object schema, a name seen before) is dropped. Every change is
returned as a sentence, for the server's log and its qualification verdict.
"""

from __future__ import annotations

from typing import Any

__all__ = ["clean_tools"]

_MAX_NAME = 128
_OPTIONAL_TYPES: dict[str, type | tuple[type, ...]] = {
    "description": str,
    "title": str,
    "annotations": dict,
    "_meta": dict,
    "icons": list,
    "execution": dict,
}


def _object_schema(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "object"


def _clean(tool: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(tool, dict):
        return None, [f"dropped a tool definition that is not an object ({type(tool).__name__})"]
    name = tool.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        return None, [f"dropped a tool without a usable name ({str(name)[:60]!r})"]
    out = dict(tool)
    notes: list[str] = []
    schema = out.get("inputSchema")
    if schema is None:
        out["inputSchema"] = {"type": "object", "properties": {}}
        notes.append(f"tool {name!r} has no inputSchema; it is offered with an empty object schema")
    elif isinstance(schema, dict) and "type" not in schema:
        out["inputSchema"] = {**schema, "type": "object"}
        notes.append(f"tool {name!r} has an inputSchema without a type; it is offered as an object schema")
    elif not _object_schema(schema):
        return None, [f"dropped tool {name!r}: its inputSchema is not an object schema ({str(schema)[:80]})"]
    if "outputSchema" in out and not _object_schema(out["outputSchema"]):
        del out["outputSchema"]
        notes.append(f"tool {name!r}: its outputSchema is not an object schema; it was removed")
    for key, kind in _OPTIONAL_TYPES.items():
        if key in out and not isinstance(out[key], kind):
            del out[key]
            notes.append(f"tool {name!r}: its {key} has the wrong type; it was removed")
    return out, notes


def clean_tools(tools: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The definitions of ``tools`` a client accepts, unique by name, and what was changed or dropped."""
    kept: list[dict[str, Any]] = []
    notes: list[str] = []
    seen: set[str] = set()
    for tool in tools:
        cleaned, problems = _clean(tool)
        notes += problems
        if cleaned is None:
            continue
        if cleaned["name"] in seen:
            notes.append(f"dropped a second tool named {cleaned['name']!r}")
            continue
        seen.add(cleaned["name"])
        kept.append(cleaned)
    return kept, notes
