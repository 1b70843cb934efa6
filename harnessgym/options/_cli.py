"""The command line, generated from a config model: click options, their values back as model fields, and
the command line's spelling of a :class:`~harnessgym.errors.ConfigError` (``--attempt-timeout: ...``).

How a field becomes an option (``--field-name`` unless the field's ``flags`` say otherwise):

- ``bool``: a ``--name/--no-name`` pair with the model's default;
- a duration: text like ``45m``; a tuple of durations: a comma list (``5m,8m``);
- another tuple: a repeatable option; ``dict[str, str]``: a repeatable ``KEY=VALUE``;
- a ``Literal``: a choice; a constrained ``int``/``float``: a range; a ``Path``: a path, made absolute;
- a nested model (``runner_options``): its own fields, each as an option of its own.

Each option's default is read from its field (a factory-made default, such as a new run id, is left to the
model). Options are built when a command is first parsed or asked for help, not when ``harnessgym`` starts,
so ``harnessgym --help`` never imports pydantic.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import click

from harnessgym.commands._help import SectionedCommand, Sections
from harnessgym.options._spec import FieldSpec, field_specs, unwrap_optional

if TYPE_CHECKING:
    from harnessgym.errors import ConfigError

__all__ = [
    "SECTION_ORDER",
    "ConfigCommand",
    "cli_config",
    "cli_errors",
    "cli_message",
    "cli_spelling",
    "click_options",
    "fields_from_cli",
    "flag_of",
]

SECTION_ORDER = ("Task", "Run", "Trials", "Suite", "Running", "Evidence", "Time limits", "Artifacts", "Validity",
                 "Statistics", "Agent", "Claude Code", "Codex", "Transport", "Workspaces")  # fmt: skip
"""The order of the ``--help`` sections; a section not named here follows them, "Other options" comes last."""


def flag_of(spec: FieldSpec) -> str:
    """The field's main command-line spelling."""
    return spec.flags[0].split("/")[0] if spec.flags else "--" + spec.name.replace("_", "-")


def _duration(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    from harnessgym.duration import parse_duration
    from harnessgym.errors import DurationError

    try:
        return parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(exc.problem, param=param) from None


def _durations(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, ...] | None:
    if not value:
        return None
    return tuple(_duration(ctx, param, part.strip()) or 0.0 for part in value.split(",") if part.strip())


def _pairs(_ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str] | None:
    if not value:
        return None
    bad = [v for v in value if "=" not in v or v.startswith("=")]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not KEY=VALUE", param=param)
    return dict(v.split("=", 1) for v in value)


def _default(spec: FieldSpec) -> Any:
    """The model's default as click gets it (a duration as text, for its callback), or None."""
    default = spec.default
    if not spec.has_default_value or default is None or default == ():
        return None
    if spec.is_duration and not isinstance(default, tuple):
        from harnessgym.duration import format_duration

        return format_duration(default)
    return default


def _range(kind: type[Any], metadata: Sequence[Any]) -> Any:
    bounds: dict[str, Any] = {}
    for m in metadata:
        for attr, key, open_key in (("gt", "min", "min_open"), ("ge", "min", None), ("lt", "max", "max_open"),
                                    ("le", "max", None)):  # fmt: skip
            if getattr(m, attr, None) is not None:
                bounds[key] = getattr(m, attr)
                if open_key:
                    bounds[open_key] = True
    if not bounds:
        return kind
    if kind is int and bounds.pop("min_open", False):  # x > 0 reads better as x >= 1 for integers
        bounds["min"] += 1
    return click.IntRange(**bounds) if kind is int else click.FloatRange(**bounds)


def _option(spec: FieldSpec, flags_of: Mapping[str, str]) -> click.Option:
    from harnessgym.duration import is_duration

    annotation, _ = unwrap_optional(spec.annotation)
    flags = list(spec.flags) or ["--" + spec.name.replace("_", "-")]
    help_text = spec.summary(flags_of.get)
    default = _default(spec)
    kwargs: dict[str, Any] = {"metavar": spec.metavar, "required": spec.required, "default": default,
                              "show_default": default is not None, "envvar": spec.envvar}  # fmt: skip
    origin = get_origin(annotation)
    if annotation is bool:
        if not any("/" in f for f in flags):
            flags = [f"{flags[0]}/--no-{flags[0].removeprefix('--')}", *flags[1:]]
        kwargs.update(default=bool(default), show_default=bool(default))
    elif origin is tuple:
        inner = get_args(annotation)[0]
        if is_duration(inner):
            kwargs.update(callback=_durations, metavar=spec.metavar or "D1,D2,...")
        else:
            kwargs.update(multiple=True)
            if inner is Path:
                kwargs.update(type=click.Path(path_type=Path, **spec.path))
            help_text += " Repeatable."
    elif origin is dict:
        kwargs.update(multiple=True, callback=_pairs, metavar=spec.metavar or "KEY=VALUE")
        help_text += " Repeatable."
    elif spec.is_duration:
        kwargs.update(callback=_duration, metavar=spec.metavar or "DURATION")
    elif origin is Literal:
        kwargs.update(type=click.Choice([str(a) for a in get_args(annotation)]))
    elif annotation in (int, float):
        kwargs.update(type=_range(annotation, spec.metadata))
    elif annotation is Path:
        kwargs.update(type=click.Path(path_type=Path, **spec.path))
    if spec.flag_value is not None:
        kwargs.update(is_flag=False, flag_value=spec.flag_value)
    return click.Option([*flags, spec.name], help=help_text, **kwargs)


def click_options(model: type[Any]) -> list[click.Option]:
    """The options of every field of ``model`` that is an ordinary option (see :mod:`harnessgym.options`)."""
    specs = field_specs(model)
    flags_of = {spec.name: flag_of(spec) for spec in specs if spec.input != "derived"}
    return [_option(spec, flags_of) for spec in specs if spec.input == "option"]


def fields_from_cli(model: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The model fields of the options :func:`click_options` added that were given (nested ones gathered
    under their parent field); the rest keep the model's defaults."""
    fields: dict[str, Any] = {}
    for spec in field_specs(model):
        value = values.get(spec.name)
        if spec.input != "option" or value is None or value == ():
            continue
        if isinstance(value, Path):
            value = value.expanduser().absolute()
        elif isinstance(value, tuple) and value and all(isinstance(v, Path) for v in value):
            value = tuple(v.expanduser().absolute() for v in value)
        (fields.setdefault(spec.parent, {}) if spec.parent else fields)[spec.name] = value
    return fields


def cli_spelling(model: type[Any]) -> Callable[[str, str | None], str]:
    """How the command line writes a field of ``model``: ``--attempt-timeout``; with a value,
    ``--no-require-active-harness`` for ``false`` or ``--seed 3``."""
    specs = {key: spec for spec in field_specs(model) for key in (spec.name, spec.dotted)}

    def spell(name: str, value: str | None) -> str:
        spec = specs.get(name) or specs.get(name.split(".")[0])
        if spec is None or spec.input == "derived":
            return name if value is None else f"{name}={value}"
        flag = flag_of(spec)
        if value is None or (unwrap_optional(spec.annotation)[0] is bool and value == "true"):
            return flag
        if value == "false" and unwrap_optional(spec.annotation)[0] is bool:
            return "--no-" + flag.removeprefix("--")
        return f"{flag} {value}"

    return spell


def cli_message(exc: ConfigError, model: type[Any]) -> str:
    """The one place the command line spells a :class:`ConfigError`: ``--attempt-timeout: ...``."""
    return exc.render(cli_spelling(model))


def cli_config(model: type[Any], fields: dict[str, Any]) -> Any:
    """``model`` from the fields the command line gathered; a rejected configuration is a usage error
    (exit 2) naming its options."""
    from harnessgym.errors import ConfigError
    from harnessgym.options import build_config

    try:
        return build_config(model, fields)
    except ConfigError as exc:
        raise click.UsageError(cli_message(exc, model)) from None


@contextmanager
def cli_errors(model: type[Any]) -> Iterator[None]:
    """Library errors while the command runs become one message (exit 1); a :class:`ConfigError` (the library
    refused a valid configuration: a run id already used, trials already there) names its options."""
    from harnessgym.errors import ConfigError, HarnessgymError

    try:
        yield
    except ConfigError as exc:
        raise click.ClickException(cli_message(exc, model)) from None
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None


def _model(path: str) -> type[Any]:
    module, _, attr = path.partition(":")
    model: type[Any] = getattr(importlib.import_module(module), attr)
    return model


class ConfigCommand(SectionedCommand):
    """A command whose options are generated from a config model (a class, or ``"module:Class"`` imported on
    first use), after the options written by hand; ``--help`` groups them by the fields' sections. ``placed``
    gives the section of hand-written options that are no field (``{"resume_id": "Run"}``)."""

    def __init__(
        self, *args: Any, model: str | type[Any], placed: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        self.model_path = model
        self.placed = dict(placed or {})
        self._own: list[click.Parameter] = []
        self._all: list[click.Parameter] | None = None
        super().__init__(*args, **kwargs)

    @property
    def model(self) -> type[Any]:
        return _model(self.model_path) if isinstance(self.model_path, str) else self.model_path

    def with_model(self, model: type[Any]) -> ConfigCommand:
        """The same command with its generated options taken from ``model`` (e.g. a config with one more field)."""
        return ConfigCommand(name=self.name, callback=self.callback, params=list(self._own), help=self.help,
                             model=model, placed=self.placed)  # fmt: skip

    @property  # type: ignore[override]
    def params(self) -> list[click.Parameter]:
        # One list object, built once: click appends its help option to it and pops it again.
        if self._all is None:
            self._all = [*self._own, *click_options(self.model)]
        return self._all

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        self._own, self._all = list(value), None

    def help_sections(self, ctx: click.Context) -> Sections:
        section_of = {spec.name: spec.section for spec in field_specs(self.model)} | self.placed
        grouped: dict[str, list[str]] = {}
        for param in self.get_params(ctx):
            if param.name is not None and section_of.get(param.name, "Other options") != "Other options":
                grouped.setdefault(section_of[param.name], []).append(param.name)
        rank = {title: i for i, title in enumerate(SECTION_ORDER)}
        return [(title, grouped[title]) for title in sorted(grouped, key=lambda t: rank.get(t, len(rank)))]
