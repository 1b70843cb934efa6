"""Hostile manifests: every one is reported as a ManifestError naming the file, none stops the others."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from hostile.helpers import make_manifest

from mcp_host import ManifestError, ServerSpec, load_manifest, load_manifests, qualify_servers

pytestmark = pytest.mark.anyio


def _raw(workspace: Path, name: str, text: str) -> None:
    directory = workspace / ".harnessgym" / "mcp" / name
    directory.mkdir(parents=True)
    (directory / "mcp.json").write_text(text)


def test_hostile_manifests_are_reported_and_never_stop_the_others(tmp_path: Path) -> None:
    make_manifest(tmp_path, "good")
    cmd = '"command": "python3"'
    _raw(tmp_path, "nan_timeout", f'{{{cmd}, "startup_timeout_sec": NaN}}')
    _raw(tmp_path, "inf_timeout", f'{{{cmd}, "tool_timeout_sec": 1e999}}')
    _raw(tmp_path, "inf_self_test", f'{{{cmd}, "self_test": {{"command": "x", "timeout_seconds": Infinity}}}}')
    _raw(tmp_path, "huge_int_timeout", f'{{{cmd}, "timeouts": {{"tool_ms": {"9" * 400}}}}}')
    _raw(tmp_path, "deep", f'{{{cmd}, "args": {"[" * 100_000}{"]" * 100_000}}}')
    _raw(tmp_path, "env_name", json.dumps({"command": "python3", "env": {"A=B": "x"}}))
    _raw(tmp_path, "env_nul", json.dumps({"command": "python3", "env": {"A": "x\0y"}}))
    _raw(tmp_path, "arg_nul", json.dumps({"command": "python3", "args": ["x\0y"]}))
    _raw(tmp_path, "test_nul", json.dumps({"command": "python3", "self_test": ["python3", "a\0b"]}))
    _raw(tmp_path, "huge", json.dumps({"command": "python3", "args": ["x" * (2 << 20)]}))

    specs, errors = load_manifests(tmp_path)

    assert [s.name for s in specs] == ["good"]
    assert all(isinstance(e, ManifestError) for e in errors)
    assert sorted(Path(str(e.path)).parent.name for e in errors) == sorted(
        [
            "nan_timeout",
            "inf_timeout",
            "inf_self_test",
            "huge_int_timeout",
            "deep",
            "env_name",
            "env_nul",
            "arg_nul",
            "test_nul",
            "huge",
        ]
    )


def test_a_fifo_manifest_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    directory = tmp_path / ".harnessgym" / "mcp" / "fifo"
    directory.mkdir(parents=True)
    os.mkfifo(directory / "server.json")

    with pytest.raises(ManifestError, match="not a regular file"):
        load_manifest(directory / "server.json", tmp_path)


async def test_a_spec_no_program_can_start_with_fails_its_smoke_check_without_leaking(tmp_path: Path) -> None:
    # active.json is a file in the workspace: a spec may arrive without passing through load_manifest.
    good = load_manifest(make_manifest(tmp_path, "good"), tmp_path)
    bad = good.model_copy(update={"name": "bad", "env": {"A=B": "x"}, "digest": ""})
    nul = good.model_copy(update={"name": "nul", "args": ("a\0b",), "digest": ""})
    fds_before = len(os.listdir("/proc/self/fd"))

    with anyio.fail_after(30):
        verdicts = await qualify_servers([bad, nul], workspace=tmp_path, verdicts_of=tmp_path / "elsewhere")

    for verdict in verdicts:
        assert (verdict.status, verdict.smoke_status) == ("failed", "failed")
        assert "cannot start" in verdict.message and "unexpectedly" not in verdict.message
    assert len(os.listdir("/proc/self/fd")) <= fds_before
    assert isinstance(bad, ServerSpec)
