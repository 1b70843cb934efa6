"""Small numerical helpers used by a classifier's scoring code."""

import math


def logsumexp(xs):
    """log(sum(exp(x) for x in xs)) for a non-empty sequence of floats."""
    return math.log(sum(math.exp(x) for x in xs))


def softmax(xs):
    """Probabilities proportional to exp(x)."""
    lse = logsumexp(xs)
    return [math.exp(x - lse) for x in xs]


def log_softmax(xs):
    lse = logsumexp(xs)
    return [x - lse for x in xs]
