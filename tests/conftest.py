"""Suite-wide rules: anyio on asyncio, no skips in CI, no process left behind, and nothing written into the
repository's own tree (the examples and a ``.harnessgym`` at its root are inputs, copied before any run)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from mcp_host._supervise.procs import descendants

# harnessgym keeps verdicts and active sets in a state directory outside the workspace (by default under the
# real home): every test, and every process a test starts, uses a temporary one instead.
_STATE_DIR = tempfile.mkdtemp(prefix="harnessgym-test-state-")
os.environ["HARNESSGYM_STATE_DIR"] = _STATE_DIR


_REPO = Path(__file__).resolve().parent.parent
_WATCHED = ("examples", ".harnessgym")
"""Where a test that forgot to copy its input first would write: the examples, and the repository root's own
``.harnessgym`` (a command run with the repository as its workspace)."""


_HOME_STATE = (".claude", ".claude.json", ".codex", ".ray")
"""The real home's agent and Ray state, which no test may write: watched in CI (``HARNESSGYM_NO_SKIP=1``) only,
since a developer's own agent sessions change them while the suite runs."""


def _tree_listing() -> dict[str, tuple[int, int]]:
    """Each file's (size, mtime) under the watched folders (bytecode caches aside), and in CI the real home's
    agent and Ray state (each entry's own size and mtime, and that of what is right inside it)."""
    found: dict[str, tuple[int, int]] = {}
    if os.environ.get("HARNESSGYM_NO_SKIP") == "1":
        home = Path.home()
        for name in _HOME_STATE:
            for path in [home / name, *(sorted((home / name).iterdir()) if (home / name).is_dir() else [])]:
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                found[str(path)] = (st.st_size, st.st_mtime_ns)
    for top in _WATCHED:
        for root, dirs, files in os.walk(_REPO / top):
            dirs[:] = [d for d in dirs if d not in {"__pycache__", ".pytest_cache"}]
            for name in files:
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                found[os.path.relpath(path, _REPO)] = (st.st_size, st.st_mtime_ns)
    return found


_LISTING_BEFORE = _tree_listing()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote, changed or removed a file in the repository's examples or at its root's
    ``.harnessgym`` (or, in CI, the real home's agent and Ray state)."""
    after = _tree_listing()
    touched = sorted(k for k in after.keys() | _LISTING_BEFORE.keys() if after.get(k) != _LISTING_BEFORE.get(k))
    if touched:
        shown = "\n  ".join(touched[:20])
        print(f"\ntests wrote where no test may ({len(touched)} files):\n  {shown}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _sweep_overlays(session)


def _sweep_overlays(session: pytest.Session) -> None:
    """Unmount the clean-copy overlays that runs killed outright in a test left in its folders (a next
    qualification there would have); the machine's mount table keeps nothing of this session."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or os.geteuid() != 0:
        return
    import anyio

    from harnessgym.store.overlay import sweep

    left = anyio.run(sweep, factory.getbasetemp())
    if left:
        print(f"\nunmounted {len(left)} clean-copy overlay(s) that killed runs left in the tests' folders")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_STATE_DIR, ignore_errors=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if os.environ.get("HARNESSGYM_NO_SKIP") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {reason}"
    return report


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Generator[None, None, None]:
    """Every test must leave no child process of the test runner behind."""
    before = set(descendants(os.getpid()))
    yield
    left = [pid for pid in descendants(os.getpid()) if pid not in before]
    if left:
        from mcp_host._supervise.procs import kill_tree_sync

        cmds = []
        for pid in left:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
                cmds.append(f"{pid}: {cmdline[:200]}")
            except OSError:
                continue
            kill_tree_sync(pid, grace=0.5)
        if cmds:
            pytest.fail("the test left processes running:\n" + "\n".join(cmds))


SLOW_TIMEOUT_SECONDS = 240
"""The timeout of a test marked ``slow``; every other test has the 30 s of pyproject.toml."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test marked ``slow`` the longer timeout (unless it names its own), then install the npm tools."""
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_SECONDS))
    _install_npm_tools(items)


def _install_npm_tools(items: list[pytest.Item]) -> None:
    """Install the pinned npm tools (and Chromium, from Debian's packages) once, before any test runs, when a
    collected test needs them.

    On a fresh machine this downloads about 640 MB from the npm registry; doing it here keeps that outside
    the per-test timeout of whichever test happens to ask first. A failure here is not fatal: the tests that
    need the tools call the same installer and skip with its reason (a failure in CI).
    """
    import importlib

    needed: set[str] = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        names = vars(module)
        if "ensure_real_clis" in names:
            needed.add("real_clis")
        if "ensure_node22" in names:
            needed.add("node22")
        if "ensure_chromium" in names:
            needed.add("chromium")
    for name in sorted(needed):
        support = importlib.import_module(f"support.{name}")
        installer = getattr(support, f"ensure_{name}")
        try:
            installer()
        except BaseException as exc:  # pytest.skip raises a BaseException; each test reports it
            if isinstance(exc, KeyboardInterrupt):
                raise
