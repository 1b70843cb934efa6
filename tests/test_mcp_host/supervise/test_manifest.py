"""Manifests as upstream HarnessGym 0.1.1 writes them, plus framing and env; precise errors."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from harnessgym import parse_duration
from mcp_host import ManifestError, load_manifest, load_manifests
from mcp_host._supervise.env import scrubbed_env
from mcp_host._supervise.fields import parse_seconds


def _write(workspace: Path, body: Any, name: str = "srv", filename: str = "mcp.json") -> Path:
    directory = workspace / ".harnessgym" / "mcp" / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / filename).write_text(body if isinstance(body, str) else json.dumps(body))
    (directory / "server.py").write_text("print('hi')\n")
    return directory


@pytest.mark.parametrize(
    ("fields", "startup", "tool", "self_test"),
    [
        ({}, 10.0, 60.0, 20.0),
        ({"startup_timeout_sec": 5, "tool_timeout_sec": 7, "self_test_timeout_sec": 9}, 5.0, 7.0, 9.0),
        ({"test_timeout_sec": 3}, 10.0, 60.0, 3.0),
        ({"timeouts": {"startup_seconds": 4, "tool_seconds": 8, "self_test_seconds": 12}}, 4.0, 8.0, 12.0),
        ({"timeouts": {"startup_timeout_sec": 2, "tool_timeout_sec": 3, "self_test_timeout_sec": 4}}, 2.0, 3.0, 4.0),
        ({"timeouts": {"initialize_ms": 1500, "tool_call_ms": 2500, "self_test_ms": 500}}, 1.5, 2.5, 0.5),
        ({"timeouts": {"startup_ms": 100, "tool_ms": 200, "test_ms": 300}}, 0.1, 0.2, 0.3),
        ({"timeouts": {"startup_seconds": "2m", "tool_seconds": "1500ms"}}, 120.0, 1.5, 20.0),
    ],
)
def test_every_upstream_timeout_spelling_is_read(
    tmp_path: Path, fields: dict[str, Any], startup: float, tool: float, self_test: float
) -> None:
    spec = load_manifest(
        _write(tmp_path, {"command": "python3", "args": ["server.py"], "self_test": True, **fields}), tmp_path
    )
    assert (spec.startup_timeout, spec.tool_timeout) == (startup, tool)
    assert spec.self_test is not None and spec.self_test.timeout == self_test


def test_self_test_forms_true_string_list_and_object(tmp_path: Path) -> None:
    base = {"command": "python3", "args": [".harnessgym/mcp/srv/server.py"]}
    forms: list[tuple[Any, tuple[str, ...], float]] = [
        (True, (sys.executable, ".harnessgym/mcp/srv/server.py", "--self-test"), 20.0),
        ("python3 -m pytest -q 'a b'", (sys.executable, "-m", "pytest", "-q", "a b"), 20.0),
        (["bash", "check.sh"], ("bash", "check.sh"), 20.0),
        ({"command": "make test", "args": ["-s"], "timeout_ms": 2500}, ("make", "test", "-s"), 2.5),
        ({"command": ["node", "t.js"], "timeout_seconds": 7}, ("node", "t.js"), 7.0),
    ]
    for form, argv, timeout in forms:
        spec = load_manifest(_write(tmp_path, {**base, "self_test": form}), tmp_path)
        assert spec.self_test is not None
        assert (spec.self_test.argv, spec.self_test.timeout, spec.self_test.cwd) == (argv, timeout, tmp_path.resolve())
    assert load_manifest(_write(tmp_path, {**base, "self_test": False}), tmp_path).self_test is None
    assert load_manifest(_write(tmp_path, base), tmp_path).self_test is None


def test_names_are_sanitised_and_default_to_the_directory(tmp_path: Path) -> None:
    assert load_manifest(_write(tmp_path, {"command": "x", "name": "my server/v2!"}), tmp_path).name == "my_server_v2"
    assert load_manifest(_write(tmp_path, {"command": "x", "name": "***"}), tmp_path).name == "harnessgym_mcp"
    assert load_manifest(_write(tmp_path, {"command": "x"}, name="plan.tool"), tmp_path).name == "plan_tool"
    wrapped = {"mcpServers": {"inner": {"command": "x", "args": ["a"], "framing": "content-length"}}}
    spec = load_manifest(_write(tmp_path, wrapped, name="w"), tmp_path)
    assert (spec.name, spec.args, spec.framing) == ("inner", ("a",), "content-length")


def test_manifest_precedence_and_artifact_paths(tmp_path: Path) -> None:
    directory = _write(tmp_path, {"command": "x", "name": "from_harnessgym"}, filename="harnessgym-mcp.json")
    assert load_manifest(directory, tmp_path).name == "from_harnessgym"
    (directory / "server.json").write_text(json.dumps({"command": "x", "name": "from_server"}))
    assert load_manifest(directory, tmp_path).name == "from_server"
    assert load_manifest(directory / "server.py", tmp_path).name == "from_server"
    (directory / "mcp.json").write_text(json.dumps({"command": "x", "name": "from_mcp"}))
    assert load_manifest(directory, tmp_path).name == "from_mcp"


def test_cwd_is_relative_to_the_workspace_and_a_foreign_absolute_cwd_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    spec = load_manifest(_write(tmp_path, {"command": "x", "cwd": "sub"}), tmp_path)
    assert spec.cwd == (tmp_path / "sub").resolve()
    moved = {"command": "python3", "args": [".harnessgym/mcp/srv/server.py"], "cwd": "/somewhere/else"}
    spec = load_manifest(_write(tmp_path, moved), tmp_path)
    assert spec.cwd == tmp_path.resolve()
    assert any("rewritten" in w for w in spec.warnings)
    assert spec.command == sys.executable


@pytest.mark.parametrize("text", ["45", 45, "45s", "45 s", "2m", "1h30m", "1h 30m", "500ms", "2.5", "1e2", "1."])
def test_a_manifest_and_the_command_line_read_a_duration_with_one_grammar(tmp_path: Path, text: str | int) -> None:
    spec = load_manifest(_write(tmp_path, {"command": "x", "tool_timeout_sec": text}), tmp_path)
    assert spec.tool_timeout == parse_duration(text) == parse_seconds(text)
    # The upstream *_ms keys count bare numbers in milliseconds; a unit still says what it means.
    spec = load_manifest(_write(tmp_path, {"command": "x", "timeouts": {"tool_ms": text}}), tmp_path)
    unit_given = isinstance(text, str) and text.strip()[-1:].isalpha()
    assert spec.tool_timeout == parse_seconds(text, unitless=1.0 if unit_given else 0.001)


@pytest.mark.parametrize("text", ["0", 0, "-2", "0s", "-5m"])
def test_a_manifest_timeout_of_zero_or_less_is_refused_as_not_positive(tmp_path: Path, text: str | int) -> None:
    with pytest.raises(ManifestError, match="field 'tool_timeout_sec': must be positive"):
        load_manifest(_write(tmp_path, {"command": "x", "tool_timeout_sec": text}), tmp_path)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("{not json", None, "is not JSON (line 1"),
        ([1, 2], None, "must be a JSON object"),
        ({"args": ["a"]}, "command", "is required"),
        ({"command": "x", "args": "a b"}, None, None),
        ({"command": "x", "args": [{"a": 1}]}, "args", "list of strings"),
        ({"command": "x", "timeouts": {"tool_seconds": "soon"}}, "timeouts.tool_seconds", "number of seconds"),
        ({"command": "x", "startup_timeout_sec": -1}, "startup_timeout_sec", "must be positive"),
        ({"command": "x", "framing": "lsp"}, "framing", "auto, newline or content-length"),
        ({"command": "x", "self_test": 5}, "self_test", "true, a string, a list or an object"),
        ({"command": "x", "self_test": {"args": ["x"]}}, "self_test.command", "is required"),
        ({"command": "x", "cwd": "missing"}, "cwd", "is not a directory"),
        ({"command": "x", "env": {"A": {"b": 1}}}, "env.A", "must be a string"),
    ],
)
def test_a_bad_manifest_names_the_file_and_the_field(
    tmp_path: Path, body: Any, field: str | None, words: str | None
) -> None:
    directory = _write(tmp_path, body)
    if words is None:
        load_manifest(directory, tmp_path)  # a single string for args is tolerated
        return
    with pytest.raises(ManifestError) as info:
        load_manifest(directory, tmp_path)
    assert info.value.path == directory / "mcp.json"
    assert info.value.field == field
    assert words in str(info.value) and str(directory / "mcp.json") in str(info.value)


def test_one_bad_manifest_never_stops_the_others(tmp_path: Path) -> None:
    _write(tmp_path, {"command": "x"}, name="good")
    _write(tmp_path, "{oops", name="bad")
    _write(tmp_path, {"command": "y", "name": "good"}, name="zdup")
    specs, errors = load_manifests(tmp_path)
    assert [s.name for s in specs] == ["good"]
    assert sorted((e.path.parent.name, e.field) for e in errors) == [("bad", None), ("zdup", "name")]


def test_secret_variables_never_reach_a_server_even_when_the_manifest_asks(tmp_path: Path) -> None:
    env = {"API_KEY": "k", "GITHUB_TOKEN": "t", "MODE": "fast", "DB_PASSWORD": "p"}
    spec = load_manifest(_write(tmp_path, {"command": "x", "env": env}), tmp_path)
    assert spec.env == {"MODE": "fast"}
    assert len(spec.warnings) == 3
    base = {
        "PATH": "/bin",
        "HOME": "/h",
        "LC_ALL": "C",
        "ANTHROPIC_API_KEY": "sk",
        "OPENAI_API_KEY": "sk",
        "AWS_SECRET_ACCESS_KEY": "s",
        "CLAUDE_CODE_SESSION_ID": "x",
        "RANDOM_VAR": "r",
        "PYTHONPATH": "/p",
    }
    child = scrubbed_env({"MODE": "fast", "MY_TOKEN": "t"}, workspace=tmp_path, base=base)
    assert child == {
        "PATH": "/bin",
        "HOME": "/h",
        "LC_ALL": "C",
        "PYTHONPATH": "/p",
        "MODE": "fast",
        "HARNESSGYM_WORKSPACE": str(tmp_path),
    }


def test_the_digest_follows_the_artifact_not_the_workspace_path(tmp_path: Path) -> None:
    first = tmp_path / "a"
    directory = _write(first, {"command": "python3", "args": [".harnessgym/mcp/srv/server.py"], "self_test": True})
    digest = load_manifest(directory, first).digest
    second = tmp_path / "b"
    shutil.copytree(first, second)
    assert load_manifest(second / ".harnessgym/mcp/srv", second).digest == digest
    (second / ".harnessgym/mcp/srv/server.py").write_text("print('changed')\n")
    assert load_manifest(second / ".harnessgym/mcp/srv", second).digest != digest
