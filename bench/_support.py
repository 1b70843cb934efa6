"""What the bench scripts share: generated workspaces, timed commands, HarnessGym 0.1.1 in a venv of its own,
and the printed table (one row per figure: ours, the baseline, the ratio, the target, met or not)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "numerical_debug_task"
UPSTREAM_VENV = ROOT / ".cache" / "bench" / "harnessgym-0.1.1"


@dataclass
class Row:
    what: str
    ours: float
    baseline: float
    target: float | None
    """The largest ratio ours / baseline that meets the target; None for a figure printed to read beside one."""
    unit: str = "s"
    baseline_name: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline > 0 else float("inf")

    def line(self) -> str:
        if self.target is None:
            verdict = "(no target)"
        else:
            verdict = f"<= {self.target:g}x  {'met' if self.ratio <= self.target else 'NOT met'}"
        return (
            f"{self.what:<58} {fmt(self.ours, self.unit):>10} {fmt(self.baseline, self.unit):>10} "
            f"{self.ratio:>7.2f}x  {verdict}   ({self.baseline_name})"
        )


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "B":
        return f"{value / 2**20:.1f} MiB"
    return f"{value:.3g} {unit}"


def header() -> str:
    return f"{'figure':<58} {'ours':>10} {'baseline':>10} {'ratio':>8}  target"


def make_workspace(dest: Path, files: int, total_bytes: int) -> Path:
    """The example task plus ``files`` generated files (``total_bytes`` in all) in nested folders."""
    shutil.copytree(EXAMPLE, dest)
    per_file = max(1, total_bytes // max(files, 1))
    chunk = os.urandom(min(per_file, 1 << 20))
    for i in range(files):
        folder = dest / "data" / f"d{i // 500:03d}" / f"e{(i // 50) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"f{i:06d}.bin", "wb") as fh:
            left = per_file
            while left > 0:
                fh.write(chunk[:left])
                left -= len(chunk)
    return dest


def du(path: Path, *, skip: str | None = None) -> int:
    """Bytes on disk below ``path`` (hard links counted once), optionally leaving out a top-level name."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, dirs, names in os.walk(path):
        if skip and Path(folder) == path and skip in dirs:
            dirs.remove(skip)
        for name in names:
            st = os.lstat(os.path.join(folder, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def timed(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, expect: str | None = None
) -> float:
    """Seconds ``argv`` took; it must exit 0 or 1 (a run that did not solve) and print ``expect`` if given."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1) or (expect is not None and expect not in proc.stdout):
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return elapsed


def median_of(k: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(k))


def harnessgym_bin() -> str:
    return str(Path(sys.executable).parent / "harnessgym")


def upstream_bin(name: str = "harnessgym") -> Path:
    """A console script of HarnessGym 0.1.1, installed once from the package index into ``.cache/bench``."""
    exe = UPSTREAM_VENV / "bin" / name
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(UPSTREAM_VENV)], check=True)
        subprocess.run(
            [str(UPSTREAM_VENV / "bin" / "pip"), "install", "-q", "harnessgym==0.1.1"], check=True, timeout=600
        )
    return exe


def fake_script(path: Path, steps: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"steps": steps}))
    return path


def in_namespaces(argv: Sequence[str]) -> int:
    """Run ``argv`` as the first process of new network, PID and mount namespaces with only loopback up (root):
    a Ray head there advertises 127.0.0.1, ``ray stop`` sees only its own processes, and what is left at the end
    dies with the namespace."""
    shell = 'ip link set lo up && exec "$@"'
    wrapper = ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--", "sh", "-c", shell, "sh"]
    return subprocess.run([*wrapper, *argv], check=False).returncode


@contextmanager
def ray_head(cpus: int = 2) -> Iterator[str]:
    """A local Ray head on 127.0.0.1 (``ray start --head``), stopped with ``ray stop --force``; yields its address."""
    import socket
    import tempfile

    ray = str(Path(sys.executable).parent / "ray")
    temp = Path(tempfile.mkdtemp(prefix="hg-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    (temp / "tmp").mkdir()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TMPDIR": str(temp / "tmp")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = [ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(cpus),
             "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", str(temp / "ray")]  # fmt: skip
    try:
        subprocess.run(start, env=env, check=True, capture_output=True, timeout=120)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, check=False, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)
