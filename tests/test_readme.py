"""The README's snippets are real: its first two blocks run in CI (.ci/run); the rest are checked here."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest

from harnessgym.cli import cli
from mcp_host import load_manifest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)


def _command_lines() -> list[str]:
    lines: list[str] = []
    for _, body in BLOCKS:
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("harnessgym "):
                lines.append(line)
    return lines


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = cli
    path: list[str] = []
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        path.append(words[0])
        command = command.commands[words.pop(0)]
    return command, path


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


COMMAND_LINES = _command_lines()


def test_the_readme_opens_with_the_demo_and_the_test_command() -> None:
    bash = [body for lang, body in BLOCKS if lang == "bash"]
    assert "harnessgym run" in bash[0] and "--runner fake" in bash[0]
    assert "pip install -e '.[dev]'" in bash[1] and "python -m pytest" in bash[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in ci and "bash -euo pipefail" in ci


@pytest.mark.parametrize("line", COMMAND_LINES, ids=[" ".join(line.split()[:3]) for line in COMMAND_LINES])
def test_every_harnessgym_command_in_the_readme_names_real_subcommands_and_options(line: str) -> None:
    words = shlex.split(line.split("#", 1)[0].replace("[", " ").replace("]", " ").replace("|", " "))[1:]
    if "--" in words:  # what follows `--` is the wrapped program's own command line
        words = words[: words.index("--")]
    command, path = _resolve([w for w in words if not w.startswith("-")][:2])
    assert path, f"no harnessgym subcommand in {line!r}"
    known = _options(command)
    used = {w.split("=", 1)[0] for w in words if w.startswith("--")}
    unknown = sorted(used - known)
    assert not unknown, f"`harnessgym {' '.join(path)}` has no option {unknown} (README line: {line!r})"


def test_every_json_block_in_the_readme_parses() -> None:
    blocks = [body for lang, body in BLOCKS if lang == "json"]
    assert blocks
    for body in blocks:
        json.loads(body)


def test_the_readme_manifest_example_loads_as_a_server_spec(tmp_path: Path) -> None:
    manifest = next(
        json.loads(body) for lang, body in BLOCKS if lang == "json" and '"command"' in body and '"self_test"' in body
    )
    folder = tmp_path / ".harnessgym" / "mcp" / manifest["name"]
    folder.mkdir(parents=True)
    (folder / "server.py").write_text("print('a server')\n")
    (folder / "harnessgym-mcp.json").write_text(json.dumps(manifest))

    spec = load_manifest(folder / "harnessgym-mcp.json", tmp_path)

    assert spec.name == manifest["name"] and spec.framing == "auto"
    assert spec.startup_timeout == 10 and spec.tool_timeout == 60
