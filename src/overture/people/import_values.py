"""One imported cell to the value its person or company field stores, checked by the field's type.

Offline like the chat's answer checks: emails by syntax only (no DNS), phone numbers against the phonenumbers
metadata, written in E.164. The messages name the value and say what would be accepted, for the import report.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import geocoder

from overture.people import email_domains
from overture.people.fields import FieldSpec, FieldType

# Custom text fields live in JSON; this keeps one cell from bloating a row.
TEXT_MAX = 1000
# Longer than any sensible number; keeps float() away from values it would turn into infinity.
NUMBER_MAX = 30
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})
# Fields stored in integer columns: a fraction there would be silently cut.
WHOLE_NUMBERS = frozenset({"company.employees"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# 1200, 1,200, 1 200, -3.5: thousands separated by commas or spaces, a point before decimals.
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:[, ]\d{3})+|\d+)(?:\.\d+)?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class BadValue(ValueError):
    """The cell does not fit its field; the message says why in a sentence."""


def parse_value(spec: FieldSpec, raw: str, *, region: str | None = None, max_length: int | None = None) -> Any:
    """The value to store for `raw` (already stripped, not empty) in the field `spec`.

    `region` is where phone numbers without a country code are taken to be; `max_length` is the column's limit for
    text. Raises BadValue.
    """
    text = _CONTROL.sub("", raw)
    if spec.name == "company.domain":
        return parse_domain(text)
    if spec.name == "company.country":
        return _country(text)
    match spec.type:
        case FieldType.email:
            return parse_email(text)
        case FieldType.phone:
            return _phone(text, region)
        case FieldType.number:
            return _number(text, whole=spec.name in WHOLE_NUMBERS)
        case FieldType.boolean:
            return _boolean(text)
        case FieldType.date:
            return _date(text)
        case FieldType.choice:
            return _choice(text, spec.choices)
        case FieldType.text:
            return _text(text, max_length or TEXT_MAX)


def parse_email(text: str) -> str:
    if len(text) > 254:
        raise BadValue("An email address has at most 254 characters.")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise BadValue(f"'{text}' is not a valid email address.") from None
    return checked.normalized.lower()


def parse_domain(text: str) -> str:
    """A company's domain as every part of Overture stores it (`email_domains.parse_domain`)."""
    try:
        return email_domains.parse_domain(text)
    except email_domains.NotADomain as exc:
        raise BadValue(str(exc)) from None


def _country(text: str) -> str:
    """A two-letter code (ISO 3166), or a country's English name as CRMs keep it ("France", "United States")."""
    code = text.strip().upper()
    if _COUNTRY.match(code):
        return code
    named = _codes_by_name().get(_name_key(text))
    if named is None:
        raise BadValue(f"'{text}' is not a country: give its two-letter code (ISO 3166), like US or FR, or its name.")
    return named


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z]+", " ", name.casefold()).strip()


_OTHER_NAMES = {
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "korea": "KR",
    "russia": "RU",
    "czech republic": "CZ",
}


@functools.cache
def _codes_by_name() -> dict[str, str]:
    """Each country's English name (as phonenumbers' geocoder names it) and a few usual other names, to its code.
    Built on first use (a quarter of a second), not at import."""
    codes = {
        _name_key(geocoder.country_name_for_number(example, "en")): region
        for region in phonenumbers.SUPPORTED_REGIONS
        if (example := phonenumbers.example_number(region)) is not None
    }
    codes.update(_OTHER_NAMES)
    return codes


def _phone(text: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        hint = "" if region else " (or pass --region for numbers without one)"
        raise BadValue(
            f"'{text}' is not a phone number: write it with its country code, like +1 415 555 0100{hint}."
        ) from None
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        raise BadValue(f"'{text}' is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _number(text: str, *, whole: bool) -> int | float:
    if len(text) > NUMBER_MAX or not _NUMBER.match(text):
        raise BadValue(f"'{text}' is not a number, like 250 or 1,200.5.")
    value = float(text.replace(",", "").replace(" ", ""))
    if not math.isfinite(value):
        raise BadValue(f"'{text}' is not a number, like 250 or 1,200.5.")
    if value.is_integer():
        return int(value)
    if whole:
        raise BadValue(f"'{text}' is not a whole number.")
    return value


def _boolean(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadValue(f"'{text}' is not yes or no (yes/no, true/false, 1/0).")


def _date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise BadValue(f"'{text}' is not a date written as YYYY-MM-DD.") from None


def _choice(text: str, choices: tuple[str, ...]) -> str:
    for choice in choices:
        if choice.casefold() == text.casefold():
            return choice
    raise BadValue(f"'{text}' is not one of the choices: {', '.join(choices)}.")


def _text(text: str, limit: int) -> str:
    if len(text) > limit:
        raise BadValue(f"This text has {len(text)} characters; the field holds at most {limit}.")
    return text
