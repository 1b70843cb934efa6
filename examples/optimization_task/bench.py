"""Benchmark of `smaller_after` in counts.py: check every output against a reference, time it, print one JSON line.

    python bench.py --mode dev      # small fixed inputs anyone can look at, quick
    python bench.py --mode final    # held out: fresh random inputs every repeat, answers from the reference here

What makes the number hard to game:

- Every output is compared with the reference implementation below, on the same inputs; a single wrong
  answer is `{"status": "failed", ...}` with no score, and the exit code is 1.
- In final mode the inputs are drawn at run time from a fresh seed per repeat (`secrets`), so answers
  precomputed for the dev inputs, or cached from an earlier repeat or run, do not help.
- The clock is the parent's: each repeat starts a fresh `python -I -B` child of this script, which imports
  counts.py and says "ready"; only then are the inputs written to its stdin, and the time is taken here,
  around that write and the read of the child's answer. Nothing counts.py does in its own process can stop or
  slow this clock, and a fresh process per repeat means nothing carries over between repeats.
- counts.py is read before it runs: it may import only a few pure-computation modules of the standard library
  and may not name clocks, `open`, `eval`/`exec`, `__import__` or `sys.modules`. This is a tripwire against the
  obvious patches, not a sandbox; the parent-side clock and the checked answers are what the score rests on.

The score is the best (smallest) time of the repeats in milliseconds: lower is better. The reference is timed
the same way, so `vs_reference` (candidate / reference, also in `metrics`) is a machine-independent figure
too: `--score-key vs_reference` makes it the score.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FUNCTION = "smaller_after"
DEV_SEED = 20240607
ALLOWED_IMPORTS = frozenset({"array", "bisect", "collections", "functools", "heapq", "itertools", "math", "operator"})
BANNED_NAMES = frozenset(
    {
        "__import__", "breakpoint", "compile", "eval", "exec", "globals", "open", "vars",
        "clock_gettime", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time",
        "process_time_ns", "thread_time", "thread_time_ns", "time_ns",
        "modules", "settrace", "setprofile", "__builtins__", "__loader__", "__spec__",
    }
)  # fmt: skip

CHILD = r"""
import json, sys
sys.dont_write_bytecode = True
answer_to = sys.stdout
sys.stdout = sys.stderr  # whatever the candidate prints goes to stderr, never into the answer
folder, name, function = sys.argv[1:4]
sys.path.insert(0, folder)
fn = getattr(__import__(name), function)
answer_to.write("ready\n")
answer_to.flush()
cases = json.loads(sys.stdin.readline())
answer_to.write(json.dumps([fn(case) for case in cases]) + "\n")
answer_to.flush()
"""


def reference(xs):
    """For each i, how many j > i have xs[j] < xs[i]: a merge sort that counts (O(n log n))."""
    counts = [0] * len(xs)

    def sort(idx):
        if len(idx) <= 1:
            return idx
        mid = len(idx) // 2
        left, right = sort(idx[:mid]), sort(idx[mid:])
        merged, j = [], 0
        for i in left:
            while j < len(right) and xs[right[j]] < xs[i]:
                merged.append(right[j])
                j += 1
            counts[i] += j  # the later items already merged are the strictly smaller ones
            merged.append(i)
        merged.extend(right[j:])
        return merged

    sort(list(range(len(xs))))
    return counts


def cases_for(rng, scale):
    """Inputs of several shapes: distinct-ish values, many duplicates, sorted, reversed, all equal, tiny."""

    def n(size):
        return max(1, int(size * scale * rng.uniform(0.9, 1.1)))

    big = 10**9
    return [
        [rng.randrange(-big, big) for _ in range(n(3000))],
        [rng.randrange(40) for _ in range(n(2000))],
        sorted(rng.randrange(1000) for _ in range(n(500))),
        sorted((rng.randrange(1000) for _ in range(n(500))), reverse=True),
        [rng.randrange(big)] * n(300),
        [],
        [rng.randrange(big)],
        [rng.randrange(3) for _ in range(n(40))],
    ]


def dev_cases():
    """The visible inputs of `--mode dev`: always the same (a fixed seed), about a tenth of the final size."""
    return cases_for(random.Random(DEV_SEED), 0.1)


def check_source(path):
    """Why counts.py may not be benchmarked, or None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot read {path.name}: {exc}"
    defined = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if isinstance(node, ast.ImportFrom) and node.level:
                    return f"{path.name} may not import from the workspace (line {node.lineno})"
                if name.split(".")[0] not in ALLOWED_IMPORTS:
                    return (f"{path.name} imports {name!r} (line {node.lineno}); allowed: "
                            f"{', '.join(sorted(ALLOWED_IMPORTS))}")  # fmt: skip
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in BANNED_NAMES:
                return f"{path.name} uses {name!r} (line {node.lineno}), which the benchmark does not allow"
        elif isinstance(node, ast.FunctionDef) and node.name == FUNCTION and node.col_offset == 0:
            defined = True
    return None if defined else f"{path.name} defines no top-level function {FUNCTION}()"


def timed_child(workdir, module, cases, timeout):
    """Run `module.smaller_after` on every case in a fresh `python -I -B` child: (seconds, answers)."""
    stderr_path = workdir / f"{module.stem}.stderr.txt"
    argv = [sys.executable, "-I", "-B", str(workdir / "child.py"), str(module.parent), module.stem, FUNCTION]
    payload = json.dumps(cases) + "\n"
    with open(stderr_path, "w+") as stderr:
        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                text=True)  # fmt: skip
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            ready = proc.stdout.readline()
            if ready != "ready\n":
                proc.kill()
                proc.wait()
                stderr.seek(0)
                raise BenchError(f"{module.name} did not load: {stderr.read()[-1500:].strip() or 'no output'}")
            start = time.perf_counter()
            try:
                proc.stdin.write(payload)
                proc.stdin.flush()
            except OSError:  # the child died while reading its inputs: no answer, said below
                pass
            line = proc.stdout.readline()
            seconds = time.perf_counter() - start
            try:
                proc.stdin.close()
            except OSError:
                pass
            proc.wait()
        finally:
            watchdog.cancel()
        if not line:
            stderr.seek(0)
            tail = stderr.read()[-1500:].strip()
            killed = proc.returncode is not None and proc.returncode < 0
            raise BenchError(f"{FUNCTION} gave no answer{f' within {timeout:g} s' if killed else ''}: {tail}")
    try:
        answers = json.loads(line)
    except ValueError:
        raise BenchError(f"{FUNCTION}'s answers are not JSON: {line[:200]!r}") from None
    return seconds, answers


def first_difference(got, want):
    if not isinstance(got, list):
        return f"returned {type(got).__name__}, not a list"
    if len(got) != len(want):
        return f"returned {len(got)} counts for {len(want)} items"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if type(g) is not int or g != w:
            return f"at position {i}: got {g!r}, want {w}"
    return None


class BenchError(Exception):
    pass


def run(args):
    module = Path(args.module).resolve()
    problem = check_source(module)
    if problem:
        raise BenchError(problem)
    repeats = args.repeats or (3 if args.mode == "dev" else 5)
    times, reference_times, elements = [], [], 0
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "child.py").write_text(CHILD)
        ref_module = workdir / "reference_impl.py"
        ref_module.write_text(inspect.getsource(reference).replace("def reference(", f"def {FUNCTION}(", 1))
        for repeat in range(repeats):
            seed = DEV_SEED if args.mode == "dev" else secrets.randbits(64)
            cases = dev_cases() if args.mode == "dev" else cases_for(random.Random(seed), 1.0)
            wanted = [reference(case) for case in cases]
            seconds, answers = timed_child(workdir, module, cases, args.timeout)
            if not isinstance(answers, list) or len(answers) != len(cases):
                raise BenchError(f"expected {len(cases)} answers, got {str(answers)[:200]}")
            for k, (got, want) in enumerate(zip(answers, wanted, strict=True)):
                wrong = first_difference(got, want)
                if wrong:
                    shown = f" on {cases[k]}" if args.mode == "dev" and len(cases[k]) <= 40 else ""
                    raise BenchError(f"wrong answer for case {k} (length {len(cases[k])}, repeat {repeat + 1}, "
                                     f"seed {seed}){shown}: {wrong}")  # fmt: skip
            reference_times.append(timed_child(workdir, ref_module, cases, args.timeout)[0])
            times.append(seconds)
            elements = sum(len(c) for c in cases)
    best, best_reference = min(times) * 1000, min(reference_times) * 1000
    return {
        "status": "passed",
        "score": round(best, 3),
        "vs_reference": round(best / best_reference, 4),  # also here, so that --score-key vs_reference finds it
        "metrics": {
            "best_ms": round(best, 3),
            "median_ms": round(statistics.median(times) * 1000, 3),
            "repeats_ms": [round(t * 1000, 3) for t in times],
            "reference_best_ms": round(best_reference, 3),
            "vs_reference": round(best / best_reference, 4),
            "cases_per_repeat": len(wanted),
            "elements_per_repeat": elements,
        },
        "mode": args.mode,
        "repeats": repeats,
        "unit": "ms",
        "lower_is_better": True,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mode", choices=["dev", "final"], default="dev")
    parser.add_argument("--module", default="counts.py", help="the candidate (default: counts.py)")
    parser.add_argument("--repeats", type=int, help="fresh processes to time (default: 3 dev, 5 final)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one child may take")
    args = parser.parse_args(argv)
    try:
        verdict = run(args)
    except BenchError as exc:
        print(json.dumps({"status": "failed", "mode": args.mode, "error": str(exc)}))
        return 1
    print(json.dumps(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
