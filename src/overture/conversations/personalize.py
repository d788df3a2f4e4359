"""Personalised texts: picking the visitor's language and rendering `{{ }}` tokens over person, company and visit
fields (DESIGN.md section 4: "Hi {{ person.first_name or 'there' }}!").

Texts are written by marketers; field values come from visitors. So:
- templates run in Jinja's sandbox, with no globals, a short list of harmless filters, no statements (`{% %}`),
  attribute access only to field values and guards on the operators that could build huge values (`*`, `**`, `%`);
- a value is inserted as data and never evaluated again, so a first name of "{{ 7*7 }}" shows as typed;
- a text that fails to render (bad syntax, an unsafe expression) shows with its tokens removed rather than
  breaking the conversation;
- the output is plain text: the widget escapes it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from overture.dialogues.document import Text
from overture.dialogues.tokens import FILTERS  # the filters publishing allows are the ones that render

NAMESPACES = ("person", "company", "visit")
OUTPUT_MAX = 4000
_TOKENS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# What is left of a token that was never closed: from its opening to the next "}" or the end of the text.
_OPENINGS = re.compile(r"\{[{%#][^}]*\}?")
_MARKERS = ("{{", "{%", "{#")


def pick(text: Text, language: str | None, default_language: str) -> str:
    """The text in `language` ("fr-CA" falls back to "fr"), else in the default language, else the first given."""
    if isinstance(text, str):
        return text
    for locale in (language, language.split("-")[0] if language else None, default_language):
        if locale and locale in text:
            return text[locale]
    return next(iter(text.values()), "")


def render(
    text: Text,
    values: Mapping[str, Any],
    *,
    language: str | None = None,
    default_language: str = "en",
) -> str:
    """`text` in the visitor's language with its `{{ }}` tokens filled from `values` (dotted field names).

    Never raises: a token that cannot be rendered leaves nothing behind. Missing fields render as empty and are
    false, so `{{ person.first_name or 'there' }}` works.
    """
    source = pick(text, language, default_language)
    if not any(marker in source for marker in _MARKERS):
        return source
    template = _compile(source)
    if template is None:
        return strip_tokens(source)
    try:
        output = template.render(_variables(values))
    except Exception:  # a marketer's template must never break a visitor's conversation
        return strip_tokens(source)
    return output[:OUTPUT_MAX]


def strip_tokens(source: str) -> str:
    """The text with every `{{ }}`, `{% %}` and `{# #}` removed."""
    return _OPENINGS.sub("", _TOKENS.sub("", source))[:OUTPUT_MAX]


class _Namespace:
    """`person`, `company` or `visit` in a template: its fields as attributes, nothing else."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]


def _variables(values: Mapping[str, Any]) -> dict[str, _Namespace]:
    grouped: dict[str, dict[str, Any]] = {name: {} for name in NAMESPACES}
    for name, value in values.items():
        prefix, _, rest = name.partition(".")
        if prefix in grouped and rest:
            grouped[prefix][rest] = value
    return {name: _Namespace(fields) for name, fields in grouped.items()}


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, _Namespace) and not attr.startswith("_")

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "%":
            raise SecurityError("string formatting is not available in texts")
        if operator == "**" and not (_small(left, 10**6) and _small(right, 64)):
            raise SecurityError("power too large")
        if operator == "*" and (isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple)):
            count = right if isinstance(left, str | list | tuple) else left
            if not _small(count, 100):
                raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _small(value: Any, limit: int) -> bool:
    return isinstance(value, int | float) and abs(value) <= limit


@functools.cache
def _environment() -> _Sandbox:
    environment = _Sandbox(autoescape=False, undefined=ChainableUndefined, finalize=_finalize)
    environment.globals.clear()
    environment.filters = {name: environment.filters[name] for name in FILTERS}
    return environment


def _finalize(value: Any) -> Any:
    return "" if value is None else value


@functools.lru_cache(maxsize=2048)
def _compile(source: str) -> Template | None:
    """The compiled template, or None when the text is not a template we run (bad syntax, a statement)."""
    environment = _environment()
    try:
        tree = environment.parse(source)
        if any(not isinstance(node, nodes.Output) for node in tree.find_all(nodes.Stmt)):
            return None
        return environment.from_string(tree)
    except Exception:  # syntax errors and unknown filters alike mean "show the text without tokens"
        return None
