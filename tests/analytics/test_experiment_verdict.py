"""The verdict of an experiment: no winner before every variant has its sample (peeking), then a two-proportion
z-test of the best variant against each other one, Bonferroni-adjusted for the pairs compared."""

from __future__ import annotations

from overture.analytics.experiments import Arm, verdict


def test_no_winner_is_named_before_every_variant_has_its_sample_however_large_the_gap() -> None:
    found = verdict([Arm("a", 1000, 10), Arm("b", 199, 150)], minimum_sample=200)
    assert found.kind == "not_enough_data" and found.winner is None
    assert found.text == "Not enough data yet (199 of 200 visitors in variant b)."


def test_a_clear_difference_names_the_winner_with_its_lead_and_p_value() -> None:
    # 118/3303 against 80/3303: p = 0.0061 (test_proportions.py), one pair, nothing to adjust
    found = verdict([Arm("a", 3303, 80), Arm("b", 3303, 118)], minimum_sample=1000)
    assert found.kind == "winner" and found.winner == "b" and found.compared_with == "a"
    assert found.text == "Variant b wins (+1.2 points over a, p = 0.006)."
    assert found.p_value is not None and round(found.p_value, 5) == 0.00611


def test_a_small_difference_is_no_clear_difference() -> None:
    found = verdict([Arm("a", 44_925, 500), Arm("b", 44_910, 505)], minimum_sample=1000)
    assert found.kind == "no_clear_difference" and found.winner is None
    assert found.text.startswith("No clear difference: the best, variant b, is not clearly ahead of a (p = 0.8")


def test_with_three_variants_a_p_value_under_five_percent_is_not_enough_after_the_bonferroni_correction() -> None:
    # b leads a by 3 points, p = 0.03: a winner between two variants; among three variants (three pairs
    # compared) the adjusted p is 0.10: no clear difference.
    two = verdict([Arm("a", 1000, 100), Arm("b", 1000, 130)], minimum_sample=100)
    three = verdict([Arm("a", 1000, 100), Arm("b", 1000, 130), Arm("c", 1000, 95)], minimum_sample=100)
    assert two.p_value is not None and 0.025 < two.p_value < 0.05 and two.kind == "winner"
    assert three.comparisons == 3 and three.kind == "no_clear_difference"


def test_equal_rates_never_win() -> None:
    assert verdict([Arm("a", 500, 50), Arm("b", 500, 50)], minimum_sample=100).kind == "no_clear_difference"
