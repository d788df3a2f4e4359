"""The import direction of DESIGN.md section 2: a module imports its own layer and lower ones only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "overture"

LAYERS = {
    "settings": 0, "db": 0, "http": 0, "errors": 0, "logs": 0, "signals": 0, "group_commit": 0,
    "people": 1, "mail": 1, "users": 1, "sites": 1,
    "dialogues": 2, "activities": 2, "calendars": 2,
    "targeting": 3, "scheduling": 3,
    "conversations": 4, "analytics": 4, "visits": 4,
    "integrations": 5,
    "jobs": 6, "web": 6, "cli": 6, "migrations": 6, "__main__": 6, "__init__": 0,
}  # fmt: skip


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    assert top in LAYERS, f"{top} is not in the layer table of DESIGN.md section 2"
    return LAYERS[top]


def imports_of(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name.removeprefix("overture.") for name in found if name.startswith("overture.")]


def test_every_module_imports_its_own_layer_or_lower() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        for imported in imports_of(path):
            if layer_of(imported) > layer_of(own):
                wrong.append(f"{own} (layer {layer_of(own)}) imports {imported} (layer {layer_of(imported)})")
    assert wrong == []


def test_the_layer_table_knows_every_top_level_module() -> None:
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            layer_of(path.stem)
