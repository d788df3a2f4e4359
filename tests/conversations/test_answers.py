"""Typed answers: checked and normalised by the kind of input the question expects."""

from __future__ import annotations

from typing import Any

import pytest

from overture.conversations.answers import MESSAGES, AnswerKind, check_answer


@pytest.mark.parametrize(
    ("kind", "typed", "region", "value"),
    [
        ("email", "  Bob@Example.COM ", None, "bob@example.com"),
        ("email", "ann.lee+demo@sub.example.org", None, "ann.lee+demo@sub.example.org"),
        ("phone", "+1 415 555 0100", None, "+14155550100"),
        ("phone", "06 12 34 56 78", "FR", "+33612345678"),
        ("phone", "06 12 34 56 78", "fr", "+33612345678"),
        ("phone", "+44 20 7946 0958", "FR", "+442079460958"),
        ("number", "1200", None, 1200),
        ("number", "1,200", None, 1200),
        ("number", "1 200", None, 1200),
        ("number", "-3", None, -3),
        ("number", "1.5", None, 1.5),
        ("number", "2.0", None, 2),
        ("name", "  Ann   Marie\tLee ", None, "Ann Marie Lee"),
        ("name", "Zoë", None, "Zoë"),
        ("name", "李", None, "李"),
        ("text", "  We use Excel  ", None, "We use Excel"),
        ("text", "line one\nline two", None, "line one\nline two"),
        ("text", "nul\x00byte", None, "nulbyte"),
    ],
)
def test_a_valid_answer_is_normalised(kind: AnswerKind, typed: str, region: str | None, value: Any) -> None:
    checked = check_answer(kind, typed, region=region)
    assert checked.ok
    assert checked.value == value
    assert checked.message is None


@pytest.mark.parametrize(
    ("kind", "typed", "region"),
    [
        ("email", "", None),
        ("email", "bob", None),
        ("email", "bob@localhost", None),
        ("email", "bob@@example.com", None),
        ("email", "a" * 250 + "@example.com", None),
        ("phone", "0612345678", None),
        ("phone", "12", "FR"),
        ("phone", "+1 000 000 0000", None),
        ("phone", "call me", "US"),
        ("number", "", None),
        ("number", "1.5k", None),
        ("number", "twelve", None),
        ("number", "12,00", None),
        ("number", "1" * 40, None),
        ("number", "nan", None),
        ("name", "", None),
        ("name", "   ", None),
        ("name", "1234", None),
        ("name", "A" * 101, None),
        ("text", "", None),
        ("text", " \n ", None),
        ("text", "x" * 1001, None),
    ],
)
def test_an_invalid_answer_is_refused_with_a_message(kind: AnswerKind, typed: str, region: str | None) -> None:
    checked = check_answer(kind, typed, region=region)
    assert not checked.ok
    assert checked.value is None
    assert checked.message in MESSAGES.values()


def test_a_too_long_text_says_how_long_it_may_be() -> None:
    assert check_answer("text", "x" * 1001).message == MESSAGES["text_long"]
    assert check_answer("text", "x" * 1000).ok


def test_a_phone_number_without_country_code_needs_a_region() -> None:
    assert not check_answer("phone", "415 555 0100").ok
    assert check_answer("phone", "415 555 0100", region="US").value == "+14155550100"
