"""Check numerics.py against exact references; print one JSON verdict and exit 0 (passed) or 1 (failed)."""

import json
import math
import sys
from fractions import Fraction

CASES = [
    [0.0, 1.0, 2.0],
    [-1.5, 0.25, 3.0, 3.0],
    [1000.0, 1000.5, 999.0],
    [-1000.0, -1001.0, -999.5],
    [710.0, 0.0],
    [-800.0],
    [1e-3, -1e-3, 5e-4],
]


def reference_lse(xs):
    """log-sum-exp with the maximum factored out, summed exactly."""
    m = max(xs)
    total = sum(Fraction(math.exp(x - m)) for x in xs)
    return m + math.log(float(total))


def close(a, b, tol=1e-9):
    return isinstance(a, float) and math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def check(module, xs):
    want = reference_lse(xs)
    try:
        got = module.logsumexp(xs)
        probs = module.softmax(xs)
        logp = module.log_softmax(xs)
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if not close(got, want):
        return f"logsumexp gave {got!r}, want {want!r}"
    if not close(math.fsum(probs), 1.0):
        return f"softmax sums to {math.fsum(probs)!r}"
    if not all(close(lp, x - want) for lp, x in zip(logp, xs)):
        return "log_softmax is off"
    return None


def main():
    sys.path.insert(0, ".")
    import numerics

    failures = {}
    for xs in CASES:
        problem = check(numerics, xs)
        if problem:
            failures[json.dumps(xs)] = problem
    passed = len(CASES) - len(failures)
    verdict = {
        "status": "passed" if not failures else "failed",
        "score": len(failures) / len(CASES),
        "passed_cases": passed,
        "total_cases": len(CASES),
        "failures": failures,
    }
    print(json.dumps(verdict))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
