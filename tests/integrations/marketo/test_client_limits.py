"""The limits that keep the Marketo client inside Marketo's: the sliding window, the in-flight gate, the daily
quota with its reset at midnight US Central (across daylight saving time) and the retry policy's verdicts; then the
client against the fake Marketo: no 606 or 615 when another app takes the other half, 607 stops until the reset."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from overture.integrations.marketo.errors import QuotaExhausted
from overture.integrations.marketo.limits import (
    DailyQuota,
    InFlightGate,
    Limits,
    RetryPolicy,
    SlidingWindow,
    Verdict,
    next_reset,
)

from .client_support import Clock, StartMarketo, calls_to, marketo

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def test_the_window_admits_50_calls_in_20_seconds_and_says_how_long_the_51st_waits() -> None:
    window = SlidingWindow()
    admitted = [window.reserve(T0 + timedelta(seconds=i * 0.1)) for i in range(50)]
    assert admitted == [0.0] * 50
    assert window.reserve(T0 + timedelta(seconds=5)) == pytest.approx(15.0)


def test_a_call_is_admitted_again_once_the_oldest_start_leaves_the_window() -> None:
    window = SlidingWindow(calls=2, seconds=20)
    window.reserve(T0)
    window.reserve(T0 + timedelta(seconds=10))
    assert window.reserve(T0 + timedelta(seconds=19)) == pytest.approx(1.0)
    assert window.reserve(T0 + timedelta(seconds=20)) == 0.0
    assert window.reserve(T0 + timedelta(seconds=21)) == pytest.approx(9.0)


def test_a_refused_call_takes_no_place_in_the_window() -> None:
    window = SlidingWindow(calls=1, seconds=20)
    window.reserve(T0)
    for second in range(1, 20):
        window.reserve(T0 + timedelta(seconds=second))
    assert window.reserve(T0 + timedelta(seconds=20)) == 0.0


def test_the_gate_holds_five_calls_in_flight_and_lets_the_sixth_in_when_one_ends() -> None:
    gate = InFlightGate()
    assert [gate.try_enter() for _ in range(5)] == [True] * 5
    assert gate.try_enter() is False
    gate.leave()
    assert gate.try_enter() is True


def test_the_gate_size_is_settable() -> None:
    gate = InFlightGate(limit=2)
    assert [gate.try_enter() for _ in range(3)] == [True, True, False]


def test_the_quota_resets_at_midnight_central_standard_time_in_winter() -> None:
    assert next_reset(datetime(2025, 1, 15, 23, 0, tzinfo=UTC)) == datetime(2025, 1, 16, 6, 0, tzinfo=UTC)


def test_the_quota_resets_at_midnight_central_daylight_time_in_summer() -> None:
    assert next_reset(datetime(2025, 7, 15, 23, 0, tzinfo=UTC)) == datetime(2025, 7, 16, 5, 0, tzinfo=UTC)


def test_a_utc_evening_still_on_the_central_day_before_resets_that_night() -> None:
    # 03:00 UTC on 16 January is 21:00 on the 15th in Chicago: the reset is three hours away, not a day.
    assert next_reset(datetime(2025, 1, 16, 3, 0, tzinfo=UTC)) == datetime(2025, 1, 16, 6, 0, tzinfo=UTC)


def test_the_reset_follows_chicago_across_the_spring_and_autumn_clock_changes() -> None:
    # 9 March 2025: the clocks go forward at 02:00; 2 November 2025: back at 02:00.
    assert next_reset(datetime(2025, 3, 8, 18, 0, tzinfo=UTC)) == datetime(2025, 3, 9, 6, 0, tzinfo=UTC)
    assert next_reset(datetime(2025, 3, 9, 18, 0, tzinfo=UTC)) == datetime(2025, 3, 10, 5, 0, tzinfo=UTC)
    assert next_reset(datetime(2025, 11, 1, 18, 0, tzinfo=UTC)) == datetime(2025, 11, 2, 5, 0, tzinfo=UTC)
    assert next_reset(datetime(2025, 11, 2, 18, 0, tzinfo=UTC)) == datetime(2025, 11, 3, 6, 0, tzinfo=UTC)


def test_the_quota_stops_the_call_past_it_with_the_reset_instant_and_counts_again_after_the_reset() -> None:
    quota = DailyQuota(limit=3)
    for minute in range(3):
        quota.count(T0 + timedelta(minutes=minute))
    with pytest.raises(QuotaExhausted) as refused:
        quota.count(T0 + timedelta(minutes=3))
    assert refused.value.reset_at == datetime(2025, 1, 16, 6, 0, tzinfo=UTC)
    quota.count(datetime(2025, 1, 16, 6, 0, tzinfo=UTC))
    assert quota.used(datetime(2025, 1, 16, 6, 0, tzinfo=UTC)) == 1


def test_a_607_stops_every_call_until_the_reset_though_the_own_count_is_low() -> None:
    quota = DailyQuota()
    error = quota.exhausted(T0)
    with pytest.raises(QuotaExhausted) as refused:
        quota.count(T0 + timedelta(hours=5))
    assert refused.value.reset_at == error.reset_at == datetime(2025, 1, 16, 6, 0, tzinfo=UTC)
    quota.count(datetime(2025, 1, 16, 6, 0, 1, tzinfo=UTC))


def test_the_quota_message_says_when_it_resets_in_central_and_utc_time() -> None:
    error = QuotaExhausted(datetime(2025, 7, 16, 5, 0, tzinfo=UTC))
    assert "2025-07-16 00:00 US Central time (2025-07-16 05:00 UTC)" in error.message


@pytest.mark.parametrize("code", ["502", "604", "606", "608", "615", "713", "1029"])
def test_the_codes_the_reference_backs_off_on_are_backed_off(code: str) -> None:
    assert RetryPolicy().verdict(code, "Some message") is Verdict.BACK_OFF


@pytest.mark.parametrize("code", ["603", "605", "609", "610", "611", "612", "701", "702", "709", "1003", "1004"])
def test_every_other_code_is_fatal(code: str) -> None:
    assert RetryPolicy().verdict(code, "Some message") is Verdict.FATAL


def test_an_expired_or_invalid_token_renews_it_and_a_607_stops_for_the_day() -> None:
    policy = RetryPolicy()
    assert [policy.verdict("601"), policy.verdict("602"), policy.verdict("607")] == [
        Verdict.RENEW_TOKEN,
        Verdict.RENEW_TOKEN,
        Verdict.STOP_FOR_THE_DAY,
    ]


def test_the_export_daily_quota_is_fatal_while_a_full_export_queue_is_waited_for() -> None:
    policy = RetryPolicy()
    assert policy.verdict("1029", "Export daily quota exceeded") is Verdict.FATAL
    assert policy.verdict("1029", "Export daily quota 500MB exceeded") is Verdict.FATAL
    assert policy.verdict("1029", "Export 'ce45a7a1' already queued") is Verdict.FATAL
    assert policy.verdict("1029", "Too many jobs (10) in queue") is Verdict.BACK_OFF


def test_server_errors_are_backed_off_and_other_http_errors_are_fatal() -> None:
    policy = RetryPolicy()
    assert [policy.verdict_for_status(status) for status in (500, 502, 503, 504, 400, 413)] == [
        Verdict.BACK_OFF,
        Verdict.BACK_OFF,
        Verdict.BACK_OFF,
        Verdict.BACK_OFF,
        Verdict.FATAL,
        Verdict.FATAL,
    ]


def test_waits_double_from_the_first_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=8, first_wait=2.0, max_wait=20.0)
    assert [policy.wait(retry) for retry in range(6)] == [2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_a_naive_time_is_refused_with_a_sentence_saying_so() -> None:
    with pytest.raises(ValueError, match="aware time"):
        SlidingWindow().reserve(datetime(2025, 1, 15, 12, 0))


def test_a_retry_policy_without_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="attempts >= 1"):
        RetryPolicy(attempts=0)


def test_the_client_waits_for_the_window_so_marketo_never_answers_606_when_another_app_takes_half(
    start_marketo: StartMarketo,
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        fake.rate_limit = 50  # the other 50 of the instance's 100 are another app's
        client.authenticate()
        for _ in range(60):
            client.activity_types()
        assert calls_to(fake, "/rest/v1/activities/types.json") == 60
    assert clock.sleeps == [20.0]


def test_the_window_s_size_is_settable(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, limits=Limits(window=SlidingWindow(calls=10, seconds=20))) as (_, client):
        for _ in range(11):
            client.activity_types()
    assert clock.sleeps == [20.0]


def test_no_more_than_five_calls_are_in_flight_so_marketo_never_answers_615_when_another_app_takes_half(
    start_marketo: StartMarketo,
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        fake.concurrency_limit = 5
        client.authenticate()
        fake.slow_next(0.2, times=10)
        done: list[int] = []

        def read() -> None:
            done.append(len(client.describe_leads().fields))

        threads = [threading.Thread(target=read) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(done) == 10
    assert clock.sleeps == []


def test_607_stops_with_the_reset_instant_and_nothing_is_sent_until_then(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.authenticate()
        fake.fail_next("607")
        with pytest.raises(QuotaExhausted) as stopped:
            client.describe_leads()
        answered = len(fake.calls)
        with pytest.raises(QuotaExhausted):
            client.describe_companies()
        assert len(fake.calls) == answered
        clock.advance((stopped.value.reset_at - clock()).total_seconds())
        assert client.describe_companies().fields
    assert stopped.value.reset_at == datetime(2025, 1, 16, 6, 0, tzinfo=UTC)
    assert clock.sleeps == []


def test_the_client_s_own_daily_count_stops_it_before_marketo_has_to(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), limits=Limits(daily=DailyQuota(limit=2))) as (fake, client):
        client.activity_types()
        client.activity_types()
        with pytest.raises(QuotaExhausted):
            client.activity_types()
        assert calls_to(fake, "/rest/v1/activities/types.json") == 2
