"""Personalization tokens in visible texts, read without rendering: `Hi {{ person.first_name or 'there' }}!`.

Texts use Jinja syntax. A token may name `person.X`, `company.X` or `visit.X` and must carry a default (`or 'x'`,
`| default('x')` or `... if ... else ...`) for visitors we know nothing about. This module only reads the syntax;
whether `X` is a field is for the caller, who holds the field schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

NAMESPACES = ("person", "company", "visit")
_DEFAULT_FILTERS = frozenset({"default", "d"})


@dataclass(frozen=True)
class TokenReport:
    """What a text's tokens use. `error` is the syntax error, in Jinja's words, when the text cannot be read (then
    the other parts are empty). `fields` are the dotted names used (`person.first_name`), `strangers` the variables
    that are not `namespace.name` over a known namespace (`first_name`, `user.name`), `undefaulted` the first
    variable of each `{{ }}` token without a default, `unknown_filters` filters and tests Jinja does not have."""

    error: str | None = None
    fields: tuple[str, ...] = ()
    strangers: tuple[str, ...] = ()
    undefaulted: tuple[str, ...] = ()
    unknown_filters: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Built on first use, not at import; the sandbox is what renders these texts too.
    return SandboxedEnvironment(autoescape=True)


def _has_default(expr: nodes.Node) -> bool:
    if isinstance(expr, nodes.Or):
        return True
    if isinstance(expr, nodes.CondExpr):
        return expr.expr2 is not None
    if isinstance(expr, nodes.Filter):
        if expr.name in _DEFAULT_FILTERS:
            return True
        return expr.node is not None and _has_default(expr.node)
    return False


def _variables(node: nodes.Node) -> list[str]:
    """Every variable in `node`, in order: `person.email` for an attribute of a name, else the bare name."""
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return [f"{node.node.name}.{node.attr}"]
    if isinstance(node, nodes.Name):
        return [node.name]
    found: list[str] = []
    for child in node.iter_child_nodes():
        found.extend(_variables(child))
    return found


def read_tokens(text: str) -> TokenReport:
    """Reads the tokens of one text (pure; never renders)."""
    if "{" not in text:
        return TokenReport()
    environment = _environment()
    try:
        template = environment.parse(text)
    except TemplateSyntaxError as exc:
        return TokenReport(error=exc.message or "the text cannot be read")
    fields: list[str] = []
    strangers: list[str] = []
    for variable in _variables(template):
        namespace, _, name = variable.partition(".")
        target = fields if namespace in NAMESPACES and name else strangers
        if variable not in target:
            target.append(variable)
    undefaulted: list[str] = []
    for output in template.find_all(nodes.Output):
        for expr in output.nodes:
            if isinstance(expr, nodes.TemplateData):
                continue
            used = _variables(expr)
            if used and not _has_default(expr) and used[0] not in undefaulted:
                undefaulted.append(used[0])
    unknown: list[str] = []
    for node in template.find_all((nodes.Filter, nodes.Test)):
        known = environment.filters if isinstance(node, nodes.Filter) else environment.tests
        if node.name not in known and node.name not in unknown:
            unknown.append(node.name)
    return TokenReport(None, tuple(fields), tuple(strangers), tuple(undefaulted), tuple(unknown))
