"""The statistics of an experiment's conversion rates (docs/experiments.md): a proportion's confidence interval by
Wilson's score method, and the two-proportion z-test. Pure arithmetic over counts; the standard library's normal
distribution, no statistics package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


def z_for(confidence: float) -> float:
    """The two-sided critical value: 1.959964 for 0.95."""
    return _NORMAL.inv_cdf(1 - (1 - confidence) / 2)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval of successes / trials (E. B. Wilson, 1927), without continuity correction; None
    for no trials. Unlike the textbook p ± z·SE it stays within [0, 1] and keeps its coverage near 0 and 1 and with
    few trials, where conversion rates live."""
    if trials <= 0:
        return None
    z = z_for(confidence)
    p = successes / trials
    shrink = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / shrink
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / shrink
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ZTest:
    z: float  # positive when the first proportion is the higher
    p_value: float  # two-sided


def two_proportion_z_test(successes_1: int, trials_1: int, successes_2: int, trials_2: int) -> ZTest:
    """The pooled two-proportion z-test of H0: p1 = p2 against p1 ≠ p2: z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2))
    with p the pooled proportion; p-value = 2·(1 - Φ(|z|)). Both proportions 0 % (or both 100 %) differ by nothing:
    z = 0, p = 1. Raises ValueError when a sample is empty."""
    if trials_1 <= 0 or trials_2 <= 0:
        raise ValueError("each sample needs at least one trial")
    pooled = (successes_1 + successes_2) / (trials_1 + trials_2)
    error = math.sqrt(pooled * (1 - pooled) * (1 / trials_1 + 1 / trials_2))
    if error == 0:
        return ZTest(0.0, 1.0)
    z = (successes_1 / trials_1 - successes_2 / trials_2) / error
    return ZTest(z, math.erfc(abs(z) / math.sqrt(2)))  # = 2·(1 - Φ(|z|)), exact in the far tail too


def bonferroni(p_value: float, comparisons: int) -> float:
    """The p-value of one of `comparisons` tests made together, adjusted so that the chance of any false positive
    among them stays within the level (Bonferroni: multiply, at most 1)."""
    return min(1.0, p_value * max(comparisons, 1))
