"""The experiment statistics against published worked examples."""

from __future__ import annotations

import pytest

from overture.analytics.proportions import bonferroni, two_proportion_z_test, wilson_interval


# Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion: comparison of seven methods",
# Statistics in Medicine 17, 857-872, Table II, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
     (29, 29, 0.8830, 1.0)],
)  # fmt: skip
def test_the_wilson_interval_matches_newcombes_worked_examples(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_a_rate_with_no_visitors_has_no_interval() -> None:
    assert wilson_interval(0, 0) is None


def test_the_z_test_matches_the_mammogram_example_of_openintro_statistics() -> None:
    # Diez, Çetinkaya-Rundel, Barr, OpenIntro Statistics (4th ed.), section 6.2.3: 500 deaths of 44,925 women in
    # the mammogram group, 505 of 44,910 in the control group; the book finds Z = -0.17 and a p-value of 0.87
    # (with rounded intermediate values, hence the tolerance on z).
    test = two_proportion_z_test(500, 44_925, 505, 44_910)
    assert test.z == pytest.approx(-0.17, abs=0.01)
    assert round(test.p_value, 2) == 0.87


def test_the_z_test_matches_a_published_two_sided_example() -> None:
    # MeasuringU's "Ask Stats" (usablestats.com/askstats/question/866): 118 of 3,303 against 80 of 3,303,
    # test statistic 2.742, two-sided p-value 0.00611.
    test = two_proportion_z_test(118, 3_303, 80, 3_303)
    assert round(test.z, 3) == 2.742
    assert round(test.p_value, 5) == 0.00611


def test_two_rates_of_zero_do_not_differ() -> None:
    test = two_proportion_z_test(0, 50, 0, 80)
    assert (test.z, test.p_value) == (0.0, 1.0)


def test_bonferroni_multiplies_by_the_comparisons_and_stops_at_one() -> None:
    assert bonferroni(0.02, 3) == pytest.approx(0.06)
    assert bonferroni(0.4, 3) == 1.0
