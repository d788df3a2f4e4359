"""Reading and writing dialogue YAML.

The loader is YAML 1.2-like where it matters to marketers: only `true`/`false` are booleans (so `on:` in a trigger
stays the word "on", and `no`/`yes` answers stay text), and a key given twice in one mapping is an error that names
its line instead of a silent overwrite.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from overture.errors import Problem

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and duplicate-key detection."""

    duplicate_problems: list[Problem]


# Start from SafeLoader's resolvers but drop the YAML 1.1 boolean words (yes/no/on/off).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.duplicate_problems.append(
                Problem(f"line {line}", f"The key '{key}' is given twice in one place (first on line {seen[key]}).")
            )
        else:
            seen[key] = line
    return dict(loader.construct_pairs(node, deep=deep))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> tuple[Any, list[Problem]]:
    """Parses YAML text; returns (data, problems). Data is None when the text is not YAML at all."""
    loader = _Loader(text)
    loader.duplicate_problems = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        return None, [Problem(where, f"This is not valid YAML: {exc.problem or exc}.")]
    except yaml.YAMLError as exc:
        return None, [Problem("document", f"This is not valid YAML: {exc}.")]
    finally:
        loader.dispose()
    return data, loader.duplicate_problems


class _Dumper(yaml.SafeDumper):
    """Writes block style, keeps key order, and quotes strings that YAML 1.1 readers would take for booleans."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """Plain data (e.g. `document_to_data(...)`) as readable YAML that `load_yaml` reads back identically."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def line_of(text: str, path: str) -> int | None:
    """The line (1-based) where the dotted `path` (e.g. `flow.cards.greet.buttons.1.goto`) is written in `text`;
    the nearest enclosing part that exists when the path goes further than the text; None when unknown."""
    written = re.match(r"^line (\d+)", path)
    if written:  # problems found while reading the YAML already name their line
        return int(written.group(1))
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path.split("."):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
