"""The ``harnessgym`` command line: a thin click shell over the library.

Each subcommand lives in its own module under ``harnessgym.commands`` and keeps its top-level imports light
(click and the standard library), importing the SDK and the loop inside the command body, so that
``harnessgym --help`` stays instant. Errors become one clear message here: :class:`click.ClickException`
(exit 1) or :class:`click.UsageError` (exit 2).
"""

from __future__ import annotations

import importlib

import click

__all__ = ["cli", "main"]

# (module under harnessgym.commands, attribute): every subcommand, in help order.
_COMMANDS: tuple[tuple[str, str], ...] = (
    ("run", "run"),
    ("compare", "compare"),
    ("runs", "runs"),
    ("artifacts", "artifacts"),
    ("compares", "compares"),
    ("report", "report"),
    ("schema", "schema"),
    ("host", "host"),
    ("mcp", "mcp"),
    ("serve", "serve"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="harnessgym")
def cli() -> None:
    """Run a coding agent on a task, let it build the instruments it missed, qualify them, and hand them to
    the next fresh session over MCP."""
    from harnessgym.secrecy import seal_environ

    seal_environ()  # this process may hold keys; the agent code it runs must not read them from /proc


def _register() -> None:
    for module_name, attr in _COMMANDS:
        module = importlib.import_module(f"harnessgym.commands.{module_name}")
        command = getattr(module, attr)
        cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="harnessgym")


if __name__ == "__main__":  # ``python3 -m harnessgym.cli run ...``, the form HarnessGym 0.1.1's README uses
    main()
