"""Headless Chromium for rendering the report pages: Debian's ``chromium`` package, installed with apt-get when
missing (CI runs as root on a fresh machine), the way :mod:`support.real_clis` installs the agent CLIs."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import pytest

from mcp_host import run_process

INSTALL_TIMEOUT = 900.0
_CONSOLE = re.compile(r":CONSOLE(?::\d+)?\]\s*(.*)")
"""How Chromium logs a page's console message with ``--enable-logging=stderr --v=0``."""


def ensure_chromium() -> Path:
    """The chromium binary, installed from Debian's packages first if needed (call outside an event loop)."""
    found = shutil.which("chromium")
    if found is not None:
        return Path(found)
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get cannot install it here (needs root and apt-get)")
    with open(Path(tempfile.gettempdir()) / "harnessgym-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing; wait for it
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        failure = ""
        for argv in ([apt, "install", "-y", "-q", "chromium"], [apt, "update", "-q"],
                     [apt, "install", "-y", "-q", "chromium"]):  # fmt: skip
            if shutil.which("chromium") is not None:
                break
            proc = anyio.run(partial(run_process, argv, env=env, timeout=INSTALL_TIMEOUT))
            if proc.timed_out:
                pytest.skip(f"`{' '.join(argv)}` took longer than {INSTALL_TIMEOUT:g} s")
            failure = f"`{' '.join(argv)}` exited {proc.returncode}: {proc.stderr_tail[-2000:]}"
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(f"apt-get could not install chromium: {failure}")
    return Path(found)


@dataclass(frozen=True)
class Rendering:
    screenshot: Path
    console: list[str]
    """Every console message the page logged (errors included)."""


async def render(page: Path, screenshot: Path, *, width: int = 1100, height: int = 2400) -> Rendering:
    """Load ``page`` in headless Chromium with every host name unresolvable (nothing can be fetched), save a
    screenshot, and collect what the page logged to its console."""
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is installed before the tests run (tests/conftest.py)"
    log = screenshot.with_suffix(".chromium.log")
    with tempfile.TemporaryDirectory(prefix="harnessgym-chromium-") as profile:
        argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--no-first-run", f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--enable-logging=stderr", "--v=0", f"--window-size={width},{height}",
                f"--screenshot={screenshot}", page.resolve().as_uri()]  # fmt: skip
        proc = await run_process(argv, timeout=120, stderr_path=log, env={**os.environ, "HOME": profile})
    stderr = log.read_text(errors="replace")
    assert proc.returncode == 0 and screenshot.is_file(), stderr[-3000:]
    console = [m.group(1) for line in stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Rendering(screenshot=screenshot, console=console)


def ink(screenshot: Path) -> float:
    """The share of the screenshot's pixels that are not page background (white)."""
    from PIL import Image

    with Image.open(screenshot) as image:
        histogram = image.convert("L").histogram()
    total = sum(histogram)
    return 1.0 - sum(histogram[250:]) / total if total else 0.0
