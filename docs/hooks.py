"""mkdocs hooks: the parts of the docs that are generated from the code at build time, so they never drift.

* ``<!-- schema: NAME -->`` becomes the JSON Schema of record NAME, exactly what ``harnessgym schema NAME``
  prints (``harnessgym.commands.schema.record_schema``): a table of its top-level fields, then the whole
  schema folded below it.
* ``<!-- cli-reference -->`` becomes the ``--help`` of the ``harnessgym`` click group and of every command and
  subcommand under it, rendered in-process with ``ctx.get_help()``.

An unknown schema name fails the build.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import json
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import click
from mkdocs.exceptions import PluginError

SCHEMA_MARKER = re.compile(r"^<!--\s*schema:\s*([A-Za-z0-9_-]+)\s*-->[ \t]*$", re.MULTILINE)
CLI_MARKER = "<!-- cli-reference -->"
HELP_WIDTH = 100
"""Help is rendered at a fixed width, whatever terminal builds the docs."""


def schema_names() -> list[str]:
    """Every name a schema marker may use."""
    from harnessgym.commands.schema import RECORDS

    return sorted(RECORDS)


def model_of(name: str) -> type[Any]:
    """The pydantic model behind ``<!-- schema: NAME -->``."""
    from harnessgym.commands.schema import RECORDS

    if name not in RECORDS:
        raise PluginError(f"unknown schema marker {name!r}; known: {', '.join(schema_names())}")
    module, attr = RECORDS[name]
    model: type[Any] = getattr(importlib.import_module(module), attr)
    return model


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema behind ``<!-- schema: NAME -->``, as ``harnessgym schema NAME`` prints it."""
    from harnessgym.commands.schema import record_schema

    model_of(name)  # an unknown name fails the build here
    return record_schema(name)


def field_docs(model: type[Any]) -> dict[str, str]:
    """The docstring under each field of ``model`` and its bases (the field tables' descriptions), read from
    the source, since not every model puts them into its schema."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "const" in prop:
        return json.dumps(prop["const"])
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in prop:
            return " | ".join(_type_of(p) for p in prop[key])
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items")
        return f"array of {_type_of(items)}" if isinstance(items, dict) and items else "array"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"object of {_type_of(prop['additionalProperties'])}"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    return str(kind) if kind else "any"


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
"""A Sphinx role in a docstring (``:class:`~a.B```), shown as the code span ``B``."""


def _cell(text: str) -> str:
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return " ".join(text.split()).replace("|", "\\|")


def render_schema(name: str) -> str:
    """A field table and the folded JSON Schema of record ``name``, as Markdown."""
    schema = schema_of(name)
    docs = field_docs(model_of(name))
    required = set(schema.get("required", ()))
    command = "`harnessgym schema " + name + "`"
    lines = [f"**`{schema.get('title', name)}`**, the JSON Schema {command} gives:", ""]
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    if properties:
        lines += ["| field | type | default | description |", "|---|---|---|---|"]
        for field, prop in properties.items():
            if field in required:
                default = "required"
            else:
                default = f"`{json.dumps(prop['default'])}`" if "default" in prop else ""
            about = prop.get("description") or docs.get(field, "")
            lines.append(f"| `{field}` | {_cell(_type_of(prop))} | {_cell(default)} | {_cell(about)} |")
        lines.append("")
    body = json.dumps(schema, indent=2)
    lines += [f'??? note "JSON Schema: {name}"', "", "    ```json"]
    lines += [f"    {line}" for line in body.splitlines()]
    lines += ["    ```", ""]
    return "\n".join(lines)


def walk_commands() -> Iterator[tuple[str, click.Context]]:
    """(full command path, its context) for the group and every command and subcommand under it, in order."""
    from harnessgym.cli import cli

    settings = {**cli.context_settings, "terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH}
    root = click.Context(cli, info_name="harnessgym", **settings)

    def visit(ctx: click.Context, path: str) -> Iterator[tuple[str, click.Context]]:
        yield path, ctx
        command = ctx.command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is None or sub.hidden:
                    continue
                child = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                yield from visit(child, f"{path} {name}")

    yield from visit(root, "harnessgym")


def render_cli_reference() -> str:
    """One section per command: its path as a heading and its ``--help`` as text."""
    out: list[str] = []
    for path, ctx in walk_commands():
        depth = 2 + max(path.count(" ") - 1, 0)  # commands at ##, subcommands at ###
        out += [f"{'#' * depth} `{path}`", "", "```text", ctx.get_help().rstrip(), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs' hook: replace the markers of one page before it is rendered."""
    markdown = SCHEMA_MARKER.sub(lambda m: render_schema(m.group(1)), markdown)
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, render_cli_reference())
    return markdown
