"""A Ray cluster of its own for a test: ``python ray_cluster_driver.py PLAN.json RESULT.json``.

Meant to run as the first process of a network and PID namespace of its own (see :func:`netns_argv`): Ray then
advertises 127.0.0.1 only, ``ray stop --force`` sees only this cluster's processes, and whatever is left when
this program ends is killed with the namespace. The plan::

    {"port": 6390, "steps": [{"name": "...", "argv": [...], "cluster": false, "timeout": 60}, ...]}

Steps without ``cluster`` run before the head starts (an address where nothing listens yet); the others after
``ray start --head --node-ip-address 127.0.0.1`` (``cpus`` of its own, 2 by default) and, for each of the plan's
``nodes`` (``[{"cpus": 1}, ...]``), a worker node joined to it: a cluster of several raylets on one loopback.
RESULT.json gets each step's exit code, output and seconds, how long the head (and each node) took to start, and
the processes still running in the namespace after ``ray stop --force``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RAY = str(Path(sys.executable).parent / "ray")


def netns_argv(plan: Path, result: Path) -> list[str]:
    """This driver as the first process of new network, PID and mount namespaces, loopback up (root only)."""
    driver = f"ip link set lo up && exec {sys.executable} {Path(__file__).resolve()} {plan} {result}"
    return ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--", "sh", "-c", driver]


def _step(step: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run one step; with ``interrupt_when``, send it SIGINT once that file exists; with ``expect_gone``, wait
    (10 s at most) until no process's command line holds any of those strings, and list the ones that do."""
    start, timeout = time.monotonic(), step.get("timeout", 120)
    proc = subprocess.Popen(step["argv"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    if step.get("interrupt_when"):
        while not Path(step["interrupt_when"]).exists() and proc.poll() is None:
            if time.monotonic() - start > timeout:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - start)))
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code, err = None, f"timed out after {timeout} s\n{err}"
    done = {"rc": code, "stdout": out[-20000:], "stderr": err[-20000:], "seconds": time.monotonic() - start}
    needles = step.get("expect_gone", [])
    deadline = time.monotonic() + 10
    while needles and time.monotonic() < deadline and _others(needles):
        time.sleep(0.1)
    done["still_running"] = _others(needles) if needles else []
    return done


def _others(needles: list[str] | None = None) -> list[str]:
    """Processes of this namespace other than this one (and zombies), with their command lines; with
    ``needles``, only those whose command line holds one of them."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z" and (needles is None or any(n in cmdline for n in needles)):
            found.append(f"{entry}: {cmdline[:200]}")
    return found


def main(plan_path: str, result_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    # Short (Ray's socket paths must fit in 107 bytes) and private: TMPDIR of the workers too.
    temp = Path(tempfile.mkdtemp(prefix="hg-ray-", dir="/tmp"))
    # HOME too: Ray keeps state there (~/.ray, an auth token); the real one is neither read nor written.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TMPDIR": str(temp / "tmp"), "HOME": str(temp / "home")}
    (temp / "tmp").mkdir()
    (temp / "home").mkdir()
    result: dict[str, Any] = {"steps": {}}
    try:
        for step in (s for s in plan["steps"] if not s.get("cluster")):
            result["steps"][step["name"]] = _step(step, env)
        start = _step({"argv": [RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(plan["port"]),
                                "--num-cpus", str(plan.get("cpus", 2)), "--include-dashboard=false",
                                "--disable-usage-stats", "--temp-dir", str(temp / "ray")],
                       "timeout": 60}, env)  # fmt: skip
        result["ray_start"] = start
        for i, node in enumerate(plan.get("nodes", [])):
            if start["rc"] != 0:
                break
            start = _step({"argv": [RAY, "start", "--address", f"127.0.0.1:{plan['port']}", "--node-ip-address",
                                    "127.0.0.1", "--num-cpus", str(node.get("cpus", 1)), "--disable-usage-stats"],
                           "timeout": 60}, env)  # fmt: skip
            result[f"ray_start_node_{i + 1}"] = start
        if start["rc"] == 0:
            for step in (s for s in plan["steps"] if s.get("cluster")):
                result["steps"][step["name"]] = _step(step, env)
    finally:
        result["ray_stop"] = _step({"argv": [RAY, "stop", "--force"], "timeout": 60}, env)
        deadline = time.monotonic() + 10
        while _others() and time.monotonic() < deadline:
            time.sleep(0.1)
        result["left_running"] = _others()
        shutil.rmtree(temp, ignore_errors=True)
        Path(result_path).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
