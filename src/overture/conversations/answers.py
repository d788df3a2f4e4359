"""Checking and normalising what a visitor typed, by the kind of input the question expects.

Pure and offline: email addresses are checked for syntax only (no DNS), phone numbers against the phonenumbers
metadata. The messages are what the visitor reads when an answer does not fit, in plain words; a card's own
`error` text replaces them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

AnswerKind = Literal["text", "email", "phone", "number", "name"]

TEXT_MAX = 1000
NAME_MAX = 100
# Longer than any phone number or sensible count; keeps float() away from values it would turn into infinity.
NUMBER_MAX = 30

MESSAGES: dict[str, str] = {
    "text": "Please type an answer.",
    "text_long": f"Please keep your answer under {TEXT_MAX} characters.",
    "email": "Please enter a valid email address, like name@company.com.",
    "phone": "Please enter a valid phone number, with the country code if you are abroad (like +1 415 555 0100).",
    "number": "Please enter a number, like 250.",
    "name": "Please enter your name.",
    "choice": "Please pick one of the choices.",
}

# Control characters have no place in an answer (and PostgreSQL text refuses NUL); tabs and new lines stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
# Digits with optional thousands separators (comma or space) and an optional decimal part: 1200, 1,200, 1 200.5.
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:[, ]\d{3})+|\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class Checked:
    """The outcome of a check: `value` is the normalised answer when `ok`, `message` says what is wrong otherwise."""

    ok: bool
    value: Any = None
    message: str | None = None


def _refused(key: str) -> Checked:
    return Checked(ok=False, value=None, message=MESSAGES[key])


def check_answer(kind: AnswerKind, text: str, *, region: str | None = None) -> Checked:
    """Checks `text` typed for a question of `kind`; returns the value to store or the message to show.

    `region` (ISO 3166 alpha-2) is where a phone number without a country code is taken to be. Never raises.
    """
    cleaned = _CONTROL.sub("", text).strip()
    match kind:
        case "email":
            return _email(cleaned)
        case "phone":
            return _phone(cleaned, region)
        case "number":
            return _number(cleaned)
        case "name":
            return _name(cleaned)
        case "text":
            return _text(cleaned)


def _text(text: str) -> Checked:
    if not text:
        return _refused("text")
    if len(text) > TEXT_MAX:
        return _refused("text_long")
    return Checked(ok=True, value=text)


def _name(text: str) -> Checked:
    name = _SPACES.sub(" ", text)
    if not 1 <= len(name) <= NAME_MAX or not any(char.isalpha() for char in name):
        return _refused("name")
    return Checked(ok=True, value=name)


def _email(text: str) -> Checked:
    if not text or len(text) > 254:
        return _refused("email")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return _refused("email")
    return Checked(ok=True, value=checked.normalized.lower())


def _phone(text: str, region: str | None) -> Checked:
    if not text or len(text) > 40:
        return _refused("phone")
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return _refused("phone")
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        return _refused("phone")
    return Checked(ok=True, value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _number(text: str) -> Checked:
    if not text or len(text) > NUMBER_MAX or not _NUMBER.match(text):
        return _refused("number")
    plain = text.replace(",", "").replace(" ", "")
    if "." not in plain:
        return Checked(ok=True, value=int(plain))
    value = float(plain)
    if not math.isfinite(value):
        return _refused("number")
    return Checked(ok=True, value=int(value) if value.is_integer() else value)
