"""Mail bodies from Jinja templates in mail/templates/ (plain text; HTML alternatives where a mail needs one)."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("overture.mail", "templates"),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html")),
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Renders mail/templates/TEMPLATE; a missing variable is an error, never a blank in a sent mail."""
    return _environment().get_template(template).render(**context)
