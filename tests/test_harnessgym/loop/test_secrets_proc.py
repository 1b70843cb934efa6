"""No agent-written code reads a secret from harnessgym's own ``/proc/<pid>/environ``.

``harnessgym run`` holds the agent CLI's key and runs verify commands and self-tests, which are agent-written.
The probe below walks its own ancestors and tries to read each one's environment. It runs as an
unprivileged process: the machine's interpreter lives under root's 0700 home, so instead of another uid the
whole run is started as root stripped of every capability (``setpriv``), which is what decides access to
another process's ``/proc`` files of the same user (CAP_SYS_PTRACE); without it, same-user rules apply.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from support.loop import example_workspace, harnessgym_argv, script, step

from mcp_host._supervise.procs import run_process

pytestmark = pytest.mark.anyio

SECRET = "sk-ant-do-not-leak-0451"
PROBE = """
import json, os, sys
out, pid, seen = sys.argv[1], os.getppid(), {}
while pid > 1:
    try:
        seen[pid] = "readable, holds the key" if SECRET in open(f"/proc/{pid}/environ").read() else "readable"
    except OSError as exc:
        seen[pid] = f"denied: {exc.strerror}"
    stat = open(f"/proc/{pid}/stat").read()
    pid = int(stat.rsplit(")", 1)[1].split()[1])
seen["self"] = "holds the key" if SECRET in open("/proc/self/environ").read() else "clean"
open(out, "a").write(json.dumps(seen) + "\\n")
""".replace("SECRET", repr(SECRET))


def _unprivileged() -> list[str]:
    """A prefix that drops every capability (root included) and forbids regaining any."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "setpriv (util-linux) is needed to run the probe without privileges"
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]


async def test_verify_commands_and_self_tests_cannot_read_the_runs_key_from_proc(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    (ws / "probe.py").write_text(PROBE)
    found = tmp_path / "found.jsonl"
    probe = f"{sys.executable} probe.py {found}"
    fake = script(
        tmp_path,
        step("attempt", {"do": "result", "set": {"status": "blocked"}}, iteration=1),
        step("build",
             {"do": "write", "path": ".harnessgym/tools/probe_tool.py", "text": "print('tool')\n"},
             {"do": "register", "entry": {"kind": "tool", "path": ".harnessgym/tools/probe_tool.py",
                                          "self_test": probe}}, iteration=1),
    )  # fmt: skip
    # The verify command fails, so that the build (and the self-test qualification runs) follow.
    argv = [*_unprivileged(), *harnessgym_argv("run", "--task-text", "Fix numerics.py.", "--workspace", str(ws),
                                                 "--iterations", "1", "--runner", "fake", "--fake-script", str(fake),
                                                 "--verify-command", f"{probe}; false")]  # fmt: skip
    env = {**os.environ, "ANTHROPIC_API_KEY": SECRET, "TMPDIR": str(tmp_path)}
    result = await run_process(argv, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr_tail
    probes = [json.loads(line) for line in found.read_text().splitlines()]
    assert len(probes) == 2  # the verify command and the self-test both ran
    for seen in probes:
        assert seen["self"] == "clean"
        assert "readable, holds the key" not in seen.values(), seen
        assert any(v.startswith("denied") for v in seen.values()), seen  # harnessgym itself is sealed
