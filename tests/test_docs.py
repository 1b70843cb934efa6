"""The documentation site: ``mkdocs build --strict`` succeeds, the generated parts are there, and the command
lines the pages show parse against the real click commands.

The site is built once, in-process, into a temporary folder. The hook (docs/hooks.py) that generates the CLI
reference and the JSON Schemas is the one mkdocs runs; this test imports it too, to know what to expect.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from harnessgym.cli import cli
from harnessgym.commands.schema import RECORDS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!--\s*schema:\s*([A-Za-z0-9_-]+)\s*-->")
SHELL_OPS = {"&", "&&", "|", "||", ";"}


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("harnessgym_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = _hooks()


def _pages() -> list[str]:
    return sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    config = load_config(config_file=str(ROOT / "mkdocs.yml"), strict=True, site_dir=str(site_dir))
    build(config)  # strict: any warning (a broken link or anchor, a page left out of the nav) aborts
    return site_dir


def _html(site: Path, page: str) -> str:
    stem = page.removesuffix(".md")
    path = site / "index.html" if stem == "index" else site / stem / "index.html"
    return path.read_text()


def test_the_site_builds_strictly_without_network_fetches(site: Path) -> None:
    config = load_config(config_file=str(ROOT / "mkdocs.yml"))
    assert config["theme"]["font"] is False
    for page in _pages():
        html = _html(site, page)
        external = re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*\"", html)
        assert not external, f"{page} fetches from the network: {external}"
    assert not (site / "hooks.py").exists()


def test_every_page_is_in_the_nav() -> None:
    config = load_config(config_file=str(ROOT / "mkdocs.yml"))

    def flat(items: Any) -> Iterator[str]:
        for item in items:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict):
                for value in item.values():
                    yield from flat([value] if isinstance(value, str) else value)

    assert sorted(flat(config["nav"])) == _pages()


def test_the_cli_reference_has_every_command(site: Path) -> None:
    html = _html(site, "reference/cli.md")
    paths = [path for path, _ in HOOKS.walk_commands()]
    assert {"harnessgym run", "harnessgym serve", "harnessgym mcp call", "harnessgym artifacts qualify"} <= set(paths)
    for name in cli.commands:
        assert f"harnessgym {name}" in paths
    for path in paths:
        assert f"<code>{path}</code>" in html, f"no section for {path}"
    assert "--allow-root" in html and "--verify-command" in html
    assert "<!-- cli-reference -->" not in html


def test_every_schema_marker_is_replaced_and_every_record_documented(site: Path) -> None:
    documented: set[str] = set()
    for page in _pages():
        names = MARKER.findall((DOCS / page).read_text())
        documented.update(names)
        html = _html(site, page)
        assert "<!-- schema:" not in html, f"{page} kept a schema marker"
        for name in names:
            schema = HOOKS.schema_of(name)
            assert f"JSON Schema: {name}" in html
            assert schema["title"] in html
            for field in schema.get("properties", {}):
                assert f"<code>{field}</code>" in html, f"{page}: {name} lacks its field {field}"
    assert documented == set(RECORDS)
    assert HOOKS.schema_of("registry") == json.loads(json.dumps(HOOKS.schema_of("registry")))


def test_an_unknown_schema_marker_fails_the_build() -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="no-such-record"):
        HOOKS.on_page_markdown("<!-- schema: no-such-record -->\n", page=None, config=None, files=None)


def _shell_commands(block: str) -> Iterator[list[str]]:
    """Every ``harnessgym ...`` command line of a shell block (continuations and multi-line quotes joined)."""
    pending = ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            tokens = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        pending = ""
        for i, token in enumerate(tokens):
            before = tokens[i - 1] if i else ""
            starts = not before or before in SHELL_OPS or before == "--" or re.fullmatch(r"\w+=.*", before)
            # `claude mcp add harnessgym -- harnessgym serve`: the first one names the server, the second runs it.
            if starts and (token == "harnessgym" or token.endswith("/harnessgym")):
                rest = tokens[i + 1 :]
                end = next((k for k, t in enumerate(rest) if t in SHELL_OPS), len(rest))
                yield rest[:end]
    assert not pending, f"unbalanced command line: {pending!r}"


def _config_commands(data: Any) -> Iterator[list[str]]:
    """The ``args`` of every MCP server entry whose ``command`` is harnessgym (JSON and TOML configs)."""
    if isinstance(data, dict):
        command = data.get("command")
        if isinstance(command, str) and Path(command).name == "harnessgym":
            yield [str(a) for a in data.get("args", [])]
        for value in data.values():
            yield from _config_commands(value)
    elif isinstance(data, list):
        for value in data:
            yield from _config_commands(value)


def _documented_commands() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for page in _pages():
        for lang, block in FENCE.findall((DOCS / page).read_text()):
            if lang in ("bash", "sh", "console"):
                found += [(page, args) for args in _shell_commands(block)]
            elif lang == "json":
                found += [(page, args) for args in _config_commands(json.loads(block))]
            elif lang == "toml":
                found += [(page, args) for args in _config_commands(tomllib.loads(block))]
    return found


def _placeholders(args: list[str], tmp: Path) -> list[str]:
    """Paths in the docs (``~/projects``, ``/home/me/...``, ``$demo``, ``clean/``) become real ones here."""
    folder = tmp / "folder"
    folder.mkdir(exist_ok=True)
    out = []
    for arg in args:
        if arg.startswith("-") or (not re.search(r"[/~$]", arg) and arg != "."):
            out.append(arg)
        elif re.search(r"\.(md|toml|json|py|txt)$", arg):
            file = tmp / Path(arg).name
            file.write_text("")
            out.append(str(file))
        else:
            out.append(str(folder))
    return out


def test_the_command_lines_in_the_docs_parse(tmp_path: Path) -> None:
    commands = _documented_commands()
    lines = {" ".join(args) for _, args in commands}
    # The registration lines the client page promises, checked to be there and, below, to parse.
    assert "serve --allow-root ~/projects" in lines
    assert "serve --allow-root /home/me/projects" in lines
    assert "host --workspace /home/me/projects/mylib" in lines
    assert any(line.startswith("serve --transport http") for line in lines)
    for page, args in commands:
        argv = _placeholders(args, tmp_path)
        ctx = click.Context(cli, info_name="harnessgym")
        command: click.Command = cli
        try:
            while isinstance(command, click.Group) and argv and not argv[0].startswith("-"):
                sub = command.get_command(ctx, argv[0])
                assert sub is not None, f"{page}: no command {argv[0]!r} in `harnessgym {' '.join(args)}`"
                ctx = click.Context(sub, info_name=argv[0], parent=ctx)
                command, argv = sub, argv[1:]
            command.make_context(ctx.info_name, argv, parent=ctx.parent)
        except click.exceptions.Exit:  # --help, --version
            continue
        except click.ClickException as exc:
            pytest.fail(f"{page}: `harnessgym {' '.join(args)}` does not parse: {exc.format_message()}")


def test_the_client_settings_match_what_the_tools_need() -> None:
    from harnessgym.serve._run_tools import _MAX_WAIT_SECONDS

    text = (DOCS / "clients.md").read_text()
    assert "--allowedTools mcp__harnessgym" in text  # claude -p denies MCP tools that are not allowed
    entries = [
        tomllib.loads(block)["mcp_servers"]["harnessgym"] for lang, block in FENCE.findall(text) if lang == "toml"
    ]
    stdio = [entry for entry in entries if "command" in entry]
    assert stdio, "no Codex stdio entry for harnessgym serve"
    for entry in stdio:
        # Codex starts optional servers without waiting (runners/_codex.py sets required too), refuses unapproved
        # MCP calls under `codex exec`, and cuts a call at tool_timeout_sec (get_run waits up to the maximum).
        assert entry["required"] is True
        assert entry["default_tools_approval_mode"] == "approve"
        assert entry["tool_timeout_sec"] > _MAX_WAIT_SECONDS
    assert all(entry.get("default_tools_approval_mode") == "approve" for entry in entries)


def _json_blocks(page: str) -> list[Any]:
    return [json.loads(block) for lang, block in FENCE.findall((DOCS / page).read_text()) if lang == "json"]


def test_the_json_examples_are_what_the_code_writes_and_reads(tmp_path: Path) -> None:
    from mcp_host import CallRecord, load_manifest
    from runners._fake_demo import NUMCHECK_MANIFEST

    # The demo's manifest on the files page is the one the fake agent writes, and the host loads it.
    manifests = [block for block in _json_blocks("files.md") if "command" in block and "enabled_tools" in block]
    assert manifests == [NUMCHECK_MANIFEST]
    folder = tmp_path / ".harnessgym" / "mcp" / "numcheck"
    folder.mkdir(parents=True)
    (folder / "harnessgym-mcp.json").write_text(json.dumps(manifests[0]))
    spec = load_manifest(folder, tmp_path)
    assert (spec.name, spec.enabled_tools, spec.framing) == ("numcheck", ("failing_cases",), "newline")
    # The mcp_calls.jsonl line on the runs page has exactly the fields of a CallRecord.
    calls = [block for block in _json_blocks("how-a-run-goes.md") if "tool_name" in block]
    assert len(calls) == 1
    assert set(calls[0]) == set(HOOKS.schema_of("mcp-call")["properties"])
    assert CallRecord.model_validate(calls[0]).qualified_name == "numcheck__failing_cases"
