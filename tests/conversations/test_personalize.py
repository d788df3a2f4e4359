"""Personalised texts: the visitor's language, `{{ }}` tokens over fields, and the sandbox around them."""

from __future__ import annotations

import pytest

from overture.conversations.personalize import pick, render, strip_tokens

GREETING = "Hi {{ person.first_name or 'there' }}!"


def test_a_known_field_fills_its_token() -> None:
    assert render(GREETING, {"person.first_name": "Ann"}) == "Hi Ann!"


def test_a_missing_field_renders_empty_so_its_default_applies() -> None:
    assert render(GREETING, {}) == "Hi there!"
    assert render("Hi {{ person.first_name }}!", {}) == "Hi !"
    assert render("Hi {{ person.first_name }}!", {"person.first_name": None}) == "Hi !"


def test_company_and_visit_fields_are_available() -> None:
    values = {"company.name": "Acme", "visit.count": 3}
    assert render("{{ company.name }} on visit {{ visit.count }}", values) == "Acme on visit 3"


def test_a_missing_namespace_chain_renders_empty() -> None:
    assert render("[{{ company.address.city }}]", {}) == "[]"


def test_harmless_filters_work() -> None:
    values = {"person.first_name": "ann"}
    assert render("{{ person.first_name|title }} {{ person.last_name|default('friend') }}", values) == "Ann friend"


def test_a_visitor_value_is_never_evaluated_as_a_template() -> None:
    assert render(GREETING, {"person.first_name": "{{ 7*7 }}"}) == "Hi {{ 7*7 }}!"
    assert render(GREETING, {"person.first_name": "{% raw %}x"}) == "Hi {% raw %}x!"


def test_the_output_is_not_html_escaped() -> None:
    assert render(GREETING, {"person.first_name": "<b>Ann</b> & co"}) == "Hi <b>Ann</b> & co!"


def test_text_without_tokens_is_returned_as_written() -> None:
    assert render("50% off {not a token}", {}) == "50% off {not a token}"


@pytest.mark.parametrize(
    "source",
    [
        "Hi {{ person.__class__.__mro__ }}!",
        "Hi {{ person.first_name.upper() }}!",
        "Hi {{ 'a' * 100000000 }}!",
        "Hi {{ 9 ** 999999 }}!",
        "Hi {{ '%0999999d' % 1 }}!",
        "Hi {{ person.first_name|center(1000000000) }}!",
        "Hi {{ range(10)|list }}!",
        "Hi {{ cycler }}{{ lipsum() }}!",
        "Hi {{ person.first_name }!",
    ],
)
def test_unsafe_or_broken_templates_render_without_their_tokens(source: str) -> None:
    rendered = render(source, {"person.first_name": "Ann"})
    assert rendered.startswith("Hi ")
    assert rendered.endswith("!")
    assert len(rendered) < 100
    assert "{{" not in rendered


def test_statements_are_not_run() -> None:
    assert render("{% for i in range(99999) %}x{% endfor %}done", {}) == "xdone"


def test_strip_tokens_removes_every_kind_of_token() -> None:
    assert strip_tokens("a{{ x }}b{% if y %}c{# note #}d") == "abcd"


def test_the_visitors_language_is_chosen_with_fallbacks() -> None:
    text = {"en": "Hello", "fr": "Bonjour"}
    assert pick(text, "fr", "en") == "Bonjour"
    assert pick(text, "fr-CA", "en") == "Bonjour"
    assert pick(text, "de", "en") == "Hello"
    assert pick(text, None, "en") == "Hello"
    assert pick({"fr": "Bonjour"}, "de", "en") == "Bonjour"
    assert pick("Hello", "fr", "en") == "Hello"


def test_a_localised_text_is_personalised_in_the_chosen_language() -> None:
    text = {"en": "Hello {{ person.first_name }}", "fr": "Bonjour {{ person.first_name }}"}
    assert render(text, {"person.first_name": "Zoé"}, language="fr", default_language="en") == "Bonjour Zoé"
