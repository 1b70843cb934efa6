"""The house rules, checked by the test command: ruff (with its banned-API rule), ruff format, mypy --strict,
and the import layers."""

from __future__ import annotations

import shutil
import sys
from functools import partial
from pathlib import Path

import anyio
import pytest

from mcp_host import run_process

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["harnessgym", "mcp_host", "runners", "tests", "bench"]


def _run(argv: list[str], tmp_path: Path) -> tuple[int | None, str]:
    out = tmp_path / "out.txt"
    result = anyio.run(partial(run_process, argv, cwd=ROOT, timeout=600, stdout_path=out, stderr_path=out))
    return result.returncode, (result.error or "") + out.read_text(errors="replace")


def test_ruff_finds_nothing(tmp_path: Path) -> None:
    code, output = _run([sys.executable, "-m", "ruff", "check", *PATHS], tmp_path)
    assert code == 0, output


def test_ruff_format_would_change_nothing(tmp_path: Path) -> None:
    code, output = _run([sys.executable, "-m", "ruff", "format", "--check", *PATHS], tmp_path)
    assert code == 0, output


@pytest.mark.parametrize(
    ("where", "banned"),
    [("harnessgym/_probe.py", True), ("tests/_probe.py", True), ("mcp_host/_supervise/procs.py", False),
     ("tests/hostile/_probe.py", False)],
)  # fmt: skip
def test_processes_start_only_in_the_process_helper(tmp_path: Path, where: str, banned: bool) -> None:
    # The banned-API rule of `ruff check`, shown to bite: raw process and wait APIs anywhere but the process
    # helper and the scripted stand-ins (whose raw processes are what they script).
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nimport select\nimport subprocess\n\nos.system('true')\n")
    argv = [sys.executable, "-m", "ruff", "check", "--select", "TID251", "--stdin-filename", where, "-"]
    out = tmp_path / "out.txt"
    result = anyio.run(partial(run_process, argv, cwd=ROOT, timeout=60, stdin_path=probe, stdout_path=out))
    found = out.read_text()
    assert (result.returncode, found.count("TID251")) == ((1, 3) if banned else (0, 0)), found


@pytest.mark.slow
def test_mypy_strict_passes_on_the_three_packages(tmp_path: Path) -> None:
    code, output = _run([sys.executable, "-m", "mypy"], tmp_path)
    assert code == 0, output


def test_imports_go_harnessgym_to_runners_to_mcp_host_never_back(tmp_path: Path) -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("lint-imports is not installed; install the dev extra")
    code, output = _run([lint_imports], tmp_path)
    assert code == 0, output
