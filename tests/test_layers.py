"""The shape of the package, as docs/architecture.md draws it: a module imports its own layer and lower ones only,
nothing below the edge imports the edge, the edge's packages meet only in the composition roots, the pure cores
import no database, network or settings, every table is in the model catalogue, and the layer table here is the
one the architecture page shows."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from overture.db import MODEL_MODULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "overture"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

LAYERS = {
    "settings": 0, "db": 0, "http": 0, "errors": 0, "logs": 0, "signals": 0, "group_commit": 0, "__init__": 0,
    "client_addresses": 0,
    "sealing": 0,
    "people": 1, "mail": 1, "users": 1, "sites": 1,
    "dialogues": 2, "activities": 2, "calendars": 2, "programs": 2,
    "targeting": 3, "scheduling": 3,
    "conversations": 4, "analytics": 4, "visits": 4, "webhooks": 4, "automations": 4,
    "integrations": 5,
    "jobs": 6, "web": 6, "cli": 6, "migrations": 6, "__main__": 6,
}  # fmt: skip
# The edge: what runs the rest (HTTP, the command line, the job worker, migrations).
EDGE = {"web", "cli", "jobs", "migrations", "__main__"}
# The composition roots: the only modules where one edge package may import another (the app starts the jobs, the
# CLI and its demo start the app and the worker, `python -m overture` runs the CLI).
COMPOSITION_ROOTS = {"web.app", "web.context", "cli", "cli.demo", "__main__"}
# The one place that imports modules by name: the model catalogue's loader.
DYNAMIC_IMPORTERS = {"db"}
# The pure cores: given values, they compute values. No database, network, settings or clock of their own, so
# they are tested (and benchmarked) without any of those.
PURE = ("conversations.engine", "scheduling.availability", "scheduling.clock", "scheduling.hours", "targeting")
IMPURE_MODULES = {"db", "http", "settings", "group_commit", "signals", "jobs", "logs"}
IMPURE_LIBRARIES = {"sqlalchemy", "alembic", "httpx2", "fastapi", "starlette", "redis", "psycopg", "structlog"}


@dataclass(frozen=True)
class Import:
    module: str  # dotted, without "overture." for our own modules
    ours: bool
    line: int


def module_name(path: Path) -> str:
    """`conversations.engine` for src/overture/conversations/engine.py, `cli` for cli/__init__.py."""
    name = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
    return name.removesuffix(".__init__") if name != "__init__" else name


def own_modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


def imports_of(path: Path) -> list[Import]:
    """Every import in the file, anywhere in it: `import a.b`, `from a import b`, `from overture import b` (b is a
    module of ours), relative imports, and `importlib.import_module("...")` / `__import__("...")` with a literal."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: list[Import] = []

    def add(name: str, line: int) -> None:
        if name == "overture" or name.startswith("overture."):
            found.append(Import(name.removeprefix("overture").removeprefix(".") or "__init__", True, line))
        else:
            found.append(Import(name, False, line))

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(["overture", *base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name == "overture":
                for alias in node.names:  # `from overture import signals`: the module overture.signals
                    add("overture.__init__" if alias.name.startswith("__") else f"overture.{alias.name}", node.lineno)
            else:
                for alias in node.names:  # `from overture.people import service`: the module people.service
                    add(name if not _is_module_of_ours(f"{name}.{alias.name}") else f"{name}.{alias.name}", node.lineno)
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            argument = node.args[0] if node.args else None
            literal = argument.value if isinstance(argument, ast.Constant) else "<computed>"
            found.append(Import(f"<dynamic {literal}>", True, node.lineno))
    return found


def _is_module_of_ours(name: str) -> bool:
    if not name.startswith("overture."):
        return False
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _dynamic_import(node: ast.Call) -> bool:
    function = node.func
    if isinstance(function, ast.Name):
        return function.id in ("__import__", "import_module")
    return isinstance(function, ast.Attribute) and function.attr == "import_module"


def top_of(module: str) -> str:
    return module.split(".")[0]


def layer_of(module: str) -> int:
    top = top_of(module)
    assert top in LAYERS, f"{top} is not in the layer table (tests/test_layers.py, docs/architecture.md)"
    return LAYERS[top]


def test_every_module_imports_its_own_layer_or_lower() -> None:
    wrong = []
    for own, path in own_modules():
        for imported in imports_of(path):
            if imported.ours and not imported.module.startswith("<") and layer_of(imported.module) > layer_of(own):
                wrong.append(
                    f"{own}:{imported.line} (layer {layer_of(own)}) imports {imported.module} "
                    f"(layer {layer_of(imported.module)})"
                )
    assert wrong == []


def test_modules_are_imported_by_name_only_by_the_model_loader() -> None:
    wrong = [
        f"{own}:{imported.line} imports {imported.module}"
        for own, path in own_modules()
        for imported in imports_of(path)
        if imported.module.startswith("<dynamic") and own not in DYNAMIC_IMPORTERS
    ]
    assert wrong == [], "import modules by name only in db.load_models (the model catalogue)"


def test_nothing_below_the_edge_imports_it_and_the_edge_meets_only_in_the_composition_roots() -> None:
    wrong = []
    for own, path in own_modules():
        for imported in imports_of(path):
            target = top_of(imported.module)
            if not imported.ours or target not in EDGE or target == top_of(own):
                continue
            if top_of(own) not in EDGE:
                wrong.append(f"{own}:{imported.line} is below the edge and imports {imported.module}")
            elif own not in COMPOSITION_ROOTS:
                wrong.append(f"{own}:{imported.line} imports {imported.module}: only {COMPOSITION_ROOTS} may")
    assert wrong == []


def _is_pure(module: str) -> bool:
    return any(module == core or module.startswith(core + ".") for core in PURE)


def test_the_pure_cores_import_no_database_network_or_settings() -> None:
    """Followed through every module of ours they import: a pure core that imports a helper which imports the
    database is not pure."""
    paths = dict(own_modules())
    wrong = []
    for start in [name for name in paths if _is_pure(name)]:
        seen, todo = {start}, [start]
        while todo:
            current = todo.pop()
            for imported in imports_of(paths[current]):
                name = imported.module
                if not imported.ours:
                    if name.split(".")[0] in IMPURE_LIBRARIES:
                        wrong.append(f"{start} imports {name} (through {current}:{imported.line})")
                    continue
                if name.startswith("<") or name in IMPURE_MODULES or name.endswith(".models"):
                    wrong.append(f"{start} imports {name} (through {current}:{imported.line})")
                    continue
                module = name if name in paths else name.rpartition(".")[0]  # `from a.b import c` names a.b.c
                if module in paths and module not in seen:
                    seen.add(module)
                    todo.append(module)
    assert wrong == []


def test_every_module_with_tables_is_in_the_model_catalogue() -> None:
    declaring = {
        f"overture.{own}"
        for own, path in own_modules()
        if re.search(r"^\s+__tablename__ = ", path.read_text(), re.MULTILINE)
    }
    assert declaring == set(MODEL_MODULES)


def test_the_layer_table_knows_every_top_level_module() -> None:
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            layer_of(path.stem)


def documented_layers() -> dict[str, int]:
    """The layer table of docs/architecture.md: rows `| 3 | targeting, scheduling | ... |`."""
    text = ARCHITECTURE.read_text()
    section = text[text.index("## Layers") :]
    layers: dict[str, int] = {}
    for number, names in re.findall(r"^\| (\d) \| ([^|]+) \|", section, re.MULTILINE):
        for name in re.findall(r"`([\w_]+)`", names):
            layers[name] = int(number)
    return layers


def test_the_architecture_page_shows_this_layer_table() -> None:
    assert documented_layers() == LAYERS
