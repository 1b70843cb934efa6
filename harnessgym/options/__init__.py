"""One declaration, three front ends: every option is a field of a config model (``RunConfig``,
``CompareConfig``, ``RunnerOptions``), and the command line's options and the control server's tool parameters
are generated from those fields.

:mod:`~harnessgym.options._spec` reads the fields and their front-end hints (the keys are documented there),
:mod:`~harnessgym.options._cli` builds click options and spells errors as flags, :mod:`~harnessgym.options._tool`
builds tool parameters. Importing this package imports neither pydantic nor the MCP SDK.
"""

from __future__ import annotations

from typing import Any

from harnessgym.options._cli import (
    SECTION_ORDER,
    ConfigCommand,
    cli_config,
    cli_errors,
    cli_message,
    cli_spelling,
    click_options,
    fields_from_cli,
    flag_of,
)
from harnessgym.options._spec import FieldSpec, field_specs
from harnessgym.options._tool import fields_from_tool, tool_options, tool_parameters

__all__ = [
    "SECTION_ORDER",
    "ConfigCommand",
    "FieldSpec",
    "build_config",
    "cli_config",
    "cli_errors",
    "cli_message",
    "cli_spelling",
    "click_options",
    "field_specs",
    "fields_from_cli",
    "fields_from_tool",
    "flag_of",
    "tool_options",
    "tool_parameters",
]


def build_config(model: type[Any], fields: dict[str, Any]) -> Any:
    """``model`` validated from ``fields``; every problem becomes one :class:`~harnessgym.errors.ConfigError`
    naming its fields, for the front end to spell."""
    from pydantic import ValidationError

    from harnessgym.errors import ConfigError

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError.from_validation(exc) from None
