"""The house rules, checked by the test command: ruff, mypy --strict, and the import layers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    proc = _run([sys.executable, "-m", "ruff", "check", "harnessgym", "mcp_host", "runners", "tests", "bench"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_passes_on_the_three_packages() -> None:
    proc = _run([sys.executable, "-m", "mypy"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_imports_go_harnessgym_to_runners_to_mcp_host_never_back() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("lint-imports is not installed; install the dev extra")
    proc = _run([lint_imports])
    assert proc.returncode == 0, proc.stdout + proc.stderr
