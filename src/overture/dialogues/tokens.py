"""Personalization tokens in visible texts, read without rendering: `Hi {{ person.first_name or 'there' }}!`.

Texts use Jinja syntax. A token may name `person.X`, `company.X` or `visit.X` and must carry a default (`or 'x'`,
`| default('x')` or `... if ... else ...`) for visitors we know nothing about. A token is an allow-list: field
references, literals (texts, numbers, lists of them), the filters of FILTERS, the tests of TESTS and operators over
those; anything else (an attribute of a literal, a call, indexing, `%` formatting, a `{% %}` statement) is refused
when publishing, although the sandbox that renders texts (conversations/personalize.py) would make it harmless. This
module only reads the syntax; whether `X` is a field is for the caller, who holds the field schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

NAMESPACES = ("person", "company", "visit")
# Filters a marketer may use (the renderer's sandbox has only these); the others (center, format, replace,
# wordwrap...) can build very large texts.
FILTERS = ("default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate", "string", "length")
# Tests a token may use (`person.first_name is defined`): they only compare values.
TESTS = frozenset(
    {"defined", "undefined", "none", "number", "string", "boolean", "true", "false", "eq", "ne", "lt", "le", "gt",
     "ge", "in", "lower", "upper", "odd", "even"}
)  # fmt: skip
_DEFAULT_FILTERS = frozenset({"default", "d"})
# Nodes that combine the values of their children and do nothing else.
_OPERATORS = (
    nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv,
    nodes.Pow, nodes.Concat, nodes.Compare, nodes.Operand, nodes.CondExpr, nodes.List, nodes.Tuple, nodes.Keyword,
)  # fmt: skip


@dataclass(frozen=True)
class TokenReport:
    """What a text's tokens use. `error` is the syntax error, in Jinja's words, when the text cannot be read (then
    the other parts are empty). `fields` are the dotted names used (`person.first_name`), `strangers` the variables
    that are not `namespace.name` over a known namespace (`first_name`, `user.name`), `undefaulted` the first
    variable of each `{{ }}` token without a default, `unknown_filters` filters and tests not in FILTERS and TESTS,
    `refused` the other things a token may not do (see the module's allow-list), with the text's line when it has
    several."""

    error: str | None = None
    fields: tuple[str, ...] = ()
    strangers: tuple[str, ...] = ()
    undefaulted: tuple[str, ...] = ()
    unknown_filters: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # what a token does that is not allowed, one sentence each ("calls a function")


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


def _refusals(node: nodes.Node) -> list[str]:
    """What `node`, an expression of a `{{ }}` token, does outside the allow-list, as sentence ends."""
    if isinstance(node, nodes.Name | nodes.Const):
        return []  # a name that is not a field is reported as such by `_variables`
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return []  # person.X: a field reference
    if isinstance(node, nodes.Getattr):
        return [f"reads .{node.attr} of a value: only fields (person.X, company.X, visit.X) can be read"]
    if isinstance(node, nodes.Filter | nodes.Test):
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return [f"passes * or ** arguments to {node.name}"]
    elif isinstance(node, nodes.Mod):
        return ["uses % (text formatting)"]
    elif isinstance(node, nodes.Call):
        return ["calls a function or method"]
    elif isinstance(node, nodes.Getitem | nodes.Slice):
        return ["takes an item or a slice with [ ]"]
    elif not isinstance(node, _OPERATORS):
        return [f"uses a {type(node).__name__.lower()} expression, which a text cannot"]
    return [reason for child in node.iter_child_nodes() for reason in _refusals(child)]


def _refused(template: nodes.Template, text: str) -> list[str]:
    found: list[str] = []
    several_lines = "\n" in text.strip()

    def where(node: nodes.Node) -> str:
        return f" (line {node.lineno} of the text)" if several_lines else ""

    for statement in template.find_all(nodes.Stmt):
        if not isinstance(statement, nodes.Output):
            found.append(f"uses a {{% %}} statement, which a text cannot{where(statement)}")
            break
    for output in template.find_all(nodes.Output):
        for expr in output.nodes:
            if not isinstance(expr, nodes.TemplateData):
                found.extend(reason + where(expr) for reason in _refusals(expr) if reason + where(expr) not in found)
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
        known = FILTERS if isinstance(node, nodes.Filter) else TESTS
        if node.name not in known and node.name not in unknown:
            unknown.append(node.name)
    refused = _refused(template, text)
    return TokenReport(None, tuple(fields), tuple(strangers), tuple(undefaulted), tuple(unknown), tuple(refused))
