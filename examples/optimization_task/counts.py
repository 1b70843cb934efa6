"""Counting, for each item of a list, how many later items are smaller: the core of a ranking-quality metric."""


def smaller_after(xs):
    """For each position i, the number of positions j > i with xs[j] < xs[i]."""
    n = len(xs)
    counts = []
    for i in range(n):
        count = 0
        for j in range(i + 1, n):
            if xs[j] < xs[i]:
                count += 1
        counts.append(count)
    return counts
