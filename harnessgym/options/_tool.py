"""MCP tool parameters, generated from a config model, and the tool arguments back as model fields.

Each ordinary field becomes an optional keyword parameter (a required field stays required) whose input schema
is the field's own (choices, bounds, the duration grammar, a nested model's properties), its description the
field's docstring and default. A parameter left out stays out of the model, so the model's default applies.
The SDK checks nothing beyond JSON itself: the config model validates the arguments, so a mistake is one
:class:`~harnessgym.errors.ConfigError` naming its field, the same as on the command line. A ``Path`` field is
a string the front end resolves (``serve`` resolves it inside its allowed roots). The MCP SDK is not imported.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from harnessgym.options._spec import FieldSpec, field_specs, unwrap_optional

__all__ = ["fields_from_tool", "tool_options", "tool_parameters"]

F = TypeVar("F", bound=Callable[..., Any])


def _is_path(spec: FieldSpec) -> bool:
    return unwrap_optional(spec.annotation)[0] is Path


def _schema(spec: FieldSpec) -> dict[str, Any]:
    from pydantic import TypeAdapter

    if _is_path(spec):
        return {"type": "string"}
    annotation = unwrap_optional(spec.annotation)[0]
    target: Any = Annotated[(annotation, *spec.metadata)] if spec.metadata else annotation
    schema: dict[str, Any] = TypeAdapter(target).json_schema(mode="validation")
    if "$defs" in schema:  # nothing resolves references inside a tool's parameter
        raise TypeError(f"field {spec.name}: its schema refers to $defs; declare it flat")
    schema.pop("title", None)
    return schema


def _described(spec: FieldSpec, path_note: str) -> str:
    text = spec.description
    if _is_path(spec) and path_note:
        text += f" {path_note}"
    if spec.has_default_value and spec.default not in (None, ()):
        from harnessgym.duration import format_duration, is_duration

        shown = format_duration(spec.default) if is_duration(spec.metadata) else json.dumps(spec.default)
        text += f" Default: {shown}."
    return text


def tool_parameters(
    model: type[Any], *, only: Collection[str] | None = None, path_note: str = ""
) -> list[inspect.Parameter]:
    """Keyword parameters for the ordinary fields of ``model`` (those in ``only``, when given); ``path_note``
    is added to the description of every path (e.g. where it may point)."""
    from pydantic import Field, WithJsonSchema

    params = []
    for spec in field_specs(model, flatten=False):
        if spec.input != "option" or (only is not None and spec.name not in only):
            continue
        schema = _schema(spec)
        if not spec.required:
            schema = {"anyOf": [schema, {"type": "null"}]}
        described = Field(description=_described(spec, path_note))
        annotation = Annotated[Any, WithJsonSchema(schema), described]
        default = inspect.Parameter.empty if spec.required else None
        params.append(inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))  # fmt: skip
    return params


def tool_options(model: type[Any], *, only: Collection[str] | None = None, path_note: str = "") -> Callable[[F], F]:
    """Give a tool function ``fn(ctx, ..., **options)`` the parameters of ``model``'s fields in place of
    ``**options``, so the SDK lists them in the tool's input schema and passes them in ``options``."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        taken = {p.name for p in own}
        generated = [p for p in tool_parameters(model, only=only, path_note=path_note) if p.name not in taken]

        @functools.wraps(fn)  # the original stays reachable as __wrapped__, to be given another model
        async def tool(*args: Any, **kwargs: Any) -> Any:
            return await fn(*args, **kwargs)

        tool.__signature__ = signature.replace(parameters=[*own, *generated])  # type: ignore[attr-defined]
        # The SDK finds the context argument through the annotations, not the signature.
        tool.__annotations__ = {
            **{p.name: p.annotation for p in (*own, *generated)},
            "return": signature.return_annotation,
        }
        return tool  # type: ignore[return-value]

    return decorate


def fields_from_tool(
    model: type[Any], options: Mapping[str, Any], resolve_path: Callable[[str, str], Path]
) -> dict[str, Any]:
    """The model fields of the arguments that were given (``None`` = left out); a path is passed through
    ``resolve_path(value, field name)``."""
    from harnessgym.errors import ConfigError

    fields: dict[str, Any] = {}
    for spec in field_specs(model, flatten=False):
        value = options.get(spec.name)
        if spec.input != "option" or value is None:
            continue
        if _is_path(spec):  # every path goes through resolve_path: nothing else may decide where it points
            if not isinstance(value, str):
                raise ConfigError(f"{value!r} is not a path; pass a string", spec.name)
            value = resolve_path(value, spec.name)
        fields[spec.name] = value
    return fields
