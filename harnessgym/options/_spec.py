"""What a config model says about each of its fields, read once for every front end.

A field's name, type, default, constraints and docstring come from pydantic; the front-end hints come from its
``json_schema_extra`` (they also show in the model's JSON Schema, where a UI may use them):

``section``
    The heading ``--help`` lists the option under.
``input``
    ``"front_end"``: each front end gathers the field its own way (the workspace, the task); ``"derived"``: the
    library sets it, nobody gives it. Absent: an ordinary option, generated everywhere.
``flags``
    The command-line spellings, replacing ``--field-name`` (upstream's singular ``--claude-extra-arg``).
``metavar``
    The placeholder ``--help`` shows for the value.
``path``
    Checks the command line makes of a path before the run (``click.Path``'s ``exists``, ``file_okay``,
    ``dir_okay``); the library checks again what matters.

Only the standard library is imported at the top: pydantic comes with the model passed in.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

__all__ = ["FieldSpec", "Input", "field_specs", "is_model", "one_line", "unwrap_optional"]

Input = Literal["option", "front_end", "derived"]
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"'`]\.)\s+(?=[A-Z])")
_LITERAL = re.compile(r"``([^`]+)``")
"""Where the first sentence ends (not after "e.g.": the next one starts with a capital)."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a config model (or of a model nested in it, such as ``runner_options``)."""

    name: str
    """The field's name; unique across the model and the models nested in it."""
    parent: str | None
    """The nested model's field (``runner_options``) this field belongs to, or None at the top."""
    annotation: Any
    """The declared type, without ``Annotated`` (``metadata`` holds what it carried)."""
    metadata: tuple[Any, ...]
    """Constraints and validators (``Gt(0)``, the duration parser, ...)."""
    required: bool
    default: Any
    """The default; None when required or built by a factory."""
    has_default_value: bool
    """Whether ``default`` is a real default (not required, not a factory)."""
    doc: str
    """The docstring on one line, its ````literals```` kept (a field named so is spelled by each front end)."""
    section: str
    input: Input
    flags: tuple[str, ...]
    metavar: str | None
    path: dict[str, bool]

    @property
    def dotted(self) -> str:
        """``runner_options.claude_bin``: how the library names the field in an error."""
        return f"{self.parent}.{self.name}" if self.parent else self.name

    @property
    def description(self) -> str:
        """The docstring as plain text on one line."""
        return self.doc.replace("``", "")

    def summary(self, spell: Callable[[str], str | None] = lambda _: None) -> str:
        """The first sentence of the docstring, the one line ``--help`` shows; a ````literal```` naming a field
        is written as ``spell`` gives it (``--score-key``), other literals plainly."""
        first = _SENTENCE_END.split(self.doc, maxsplit=1)[0]
        return _LITERAL.sub(lambda m: spell(m[1]) or m[1], first)

    @property
    def is_duration(self) -> bool:
        """A :data:`~harnessgym.duration.Duration` (or an optional one)."""
        from harnessgym.duration import is_duration

        return is_duration(self.metadata) or is_duration(unwrap_optional(self.annotation)[0])


def one_line(text: str | None) -> str:
    """A docstring on one line, without reST roles (its ````literals```` are kept)."""
    return " ".join(_ROLE.sub(r"\1", text or "").split())


def is_model(annotation: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None``, else ``(annotation, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) < len(get_args(annotation)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return annotation, False


def field_specs(model: type[Any], *, flatten: bool = True) -> list[FieldSpec]:
    """Every field of ``model`` in declaration order; with ``flatten``, a nested model's fields (each with its
    ``parent``) stand in place of the field holding it."""
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if flatten and is_model(info.annotation):
            for inner in field_specs(info.annotation, flatten=False):
                specs.append(_replace_parent(inner, name, extra))
            continue
        specs.append(_spec(name, info, extra))
    names = [s.name for s in specs]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise TypeError(f"{model.__name__}: nested fields clash with others ({', '.join(clashes)})")
    return specs


def _spec(name: str, info: Any, extra: dict[str, Any]) -> FieldSpec:
    from pydantic_core import PydanticUndefined

    required = info.is_required()
    factory = info.default_factory is not None
    flags = extra.get("flags")
    path = extra.get("path")
    return FieldSpec(
        name=name,
        parent=None,
        annotation=info.annotation,
        metadata=tuple(info.metadata),
        required=required,
        default=None if required or factory or info.default is PydanticUndefined else info.default,
        has_default_value=not required and not factory,
        doc=one_line(info.description),
        section=str(extra.get("section", "Other options")),
        input=extra.get("input", "option"),
        flags=tuple(str(f) for f in flags) if isinstance(flags, list) else (),
        metavar=str(extra["metavar"]) if "metavar" in extra else None,
        path=dict(path) if isinstance(path, dict) else {},
    )


def _replace_parent(spec: FieldSpec, parent: str, extra: dict[str, Any]) -> FieldSpec:
    from dataclasses import replace

    derived: Input = "derived" if extra.get("input") == "derived" else spec.input
    return replace(spec, parent=parent, input=derived)
