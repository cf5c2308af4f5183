#!/usr/bin/env python3
"""Reference values for mann-whitney-stats.test.ts, computed independently of the
TypeScript implementation: python3 standard library only (R is not installed here).

It follows R's wilcox.test.default (two-sample, two-sided, mu = 0, correct = TRUE,
conf.int = TRUE) step by step, but by different means:

- exact path: the null distribution of W by brute-force enumeration of every way to
  choose which of the pooled ranks belong to x (itertools.combinations), not by a
  recursion; pwilcox/qwilcox from those counts with exact fractions;
- normal path: R's wdiff function written out literally (ranks of c(x - d, y) with
  midranks, tie table, continuity correction) and R's uniroot replaced by bisection to
  1e-12 on the same bracket [min(x) - max(y), max(x) - min(y)];
- the normal distribution from math.erfc and statistics.NormalDist.

Run: python3 controller/judges/mann-whitney-reference.py
"""
from fractions import Fraction
from itertools import combinations
from math import comb, erfc, sqrt
from statistics import NormalDist, median

N01 = NormalDist()


def pnorm(z):
    return 0.5 * erfc(-z / sqrt(2))


def rank(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def exact_counts(m, n):
    """counts[w] = number of rank subsets of size m (of 1..m+n) whose U equals w."""
    counts = [0] * (m * n + 1)
    for subset in combinations(range(1, m + n + 1), m):
        counts[sum(subset) - m * (m + 1) // 2] += 1
    return counts


def wilcox(x, y, conf_level):
    m, n = len(x), len(y)
    r = rank(x + y)
    W = sum(r[:m]) - m * (m + 1) / 2
    ties = len(set(r)) != len(r)
    alpha = 1 - conf_level
    diffs = sorted(a - b for a in x for b in y)
    if m < 50 and n < 50 and not ties:
        counts = exact_counts(m, n)
        total = comb(m + n, m)
        def p_le(q):
            return Fraction(sum(counts[: int(q) + 1]), total) if q >= 0 else Fraction(0)
        if W > m * n / 2:
            p = 1 - p_le(W - 1)
        else:
            p = p_le(W)
        pval = min(2 * p, 1)
        # qwilcox(alpha/2): smallest q with P(W <= q) >= alpha/2
        qu = 0
        while p_le(qu) < Fraction(alpha / 2) - Fraction(10 * 2.220446049250313e-16):
            qu += 1
        if qu == 0:
            qu = 1
        ql = m * n - qu
        achieved = 2 * p_le(qu - 1)
        level = conf_level if float(achieved) - alpha <= alpha / 2 else 1 - float(achieved)
        return dict(method='exact', W=W, p=float(pval), est=median(diffs), lo=diffs[qu - 1], hi=diffs[ql], level=level)

    def wdiff(d, zq, correct=True):
        dr = rank([a - d for a in x] + y)
        table = {}
        for v in dr:
            table[v] = table.get(v, 0) + 1
        dz = sum(dr[:m]) - m * (m + 1) / 2 - m * n / 2
        corr = (0.5 if dz > 0 else -0.5 if dz < 0 else 0) if correct else 0
        sigma = sqrt((m * n / 12) * ((m + n + 1) - sum(t ** 3 - t for t in table.values()) / ((m + n) * (m + n - 1))))
        return (dz - corr) / sigma - zq

    def bisect(f, lo, hi):
        flo = f(lo)
        for _ in range(200):
            mid = (lo + hi) / 2
            fm = f(mid)
            if fm == 0:
                return mid
            if (fm > 0) == (flo > 0):
                lo, flo = mid, fm
            else:
                hi = mid
            if hi - lo < 1e-12:
                break
        return (lo + hi) / 2

    def root(zq):
        mumin, mumax = min(x) - max(y), max(x) - min(y)
        if wdiff(mumin, zq) <= 0:
            return mumin
        if wdiff(mumax, zq) >= 0:
            return mumax
        return bisect(lambda d: wdiff(d, zq), mumin, mumax)

    table = {}
    for v in r:
        table[v] = table.get(v, 0) + 1
    z = W - m * n / 2
    sigma = sqrt((m * n / 12) * ((m + n + 1) - sum(t ** 3 - t for t in table.values()) / ((m + n) * (m + n - 1))))
    corr = 0.5 if z > 0 else -0.5 if z < 0 else 0
    z = (z - corr) / sigma
    pval = 2 * min(pnorm(z), pnorm(-z))
    zq = N01.inv_cdf(1 - alpha / 2)
    lo = root(zq)
    hi = root(-zq)
    est = bisect(lambda d: wdiff(d, 0, correct=False), min(x) - max(y), max(x) - min(y))
    return dict(method='normal', W=W, p=pval, est=est, lo=lo, hi=hi, level=conf_level)


CASES = {
    # ?wilcox.test: Hollander & Wolfe (1973), p. 69 (depression scores); R documents
    # wilcox.test(x, y, alternative = "g") as W = 35, p-value = 0.1272, so two-sided 0.2544.
    'hollander-wolfe': ([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], [1.15, 0.88, 0.90, 0.74, 1.21]),
    'clear-shift': ([12.1, 13.4, 11.8, 14.2, 12.9, 13.7, 12.5, 14.8], [10.2, 9.8, 11.1, 10.5, 9.4, 10.9, 11.5, 10.0]),
    'overlapping': ([0.21, 0.25, 0.19, 0.30, 0.24, 0.22, 0.27], [0.20, 0.23, 0.18, 0.26, 0.21, 0.24]),
    'three-each': ([5.0, 6.0, 7.0], [1.0, 2.0, 3.0]),
    'ties-normal': ([3, 4, 4, 5, 6, 6, 7, 8, 8, 9], [1, 2, 2, 3, 4, 5, 5, 6, 7, 7]),
    'ties-no-shift': ([1, 2, 2, 3, 3, 3, 4, 4, 5], [1, 2, 3, 3, 3, 4, 4, 4, 5]),
}

if __name__ == '__main__':
    for name, (x, y) in CASES.items():
        for level in (0.98, 0.95):
            out = wilcox([float(v) for v in x], [float(v) for v in y], level)
            print(name, level, {k: (round(v, 12) if isinstance(v, float) else v) for k, v in out.items()})
