"""The calendar providers are found by name in one table: each provider's name is written once, in its own module,
and nowhere else in the package (code or templates), so adding a provider is its module and one registry line."""

from __future__ import annotations

import re
from pathlib import Path

from overture.calendars import registry

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "overture"


def test_no_provider_name_is_written_outside_its_own_module() -> None:
    names = "|".join(map(re.escape, registry.PROVIDERS))
    quoted = re.compile(rf"""["']({names})["']""")
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        # Migrations are history: they may name what was stored then.
        if path.suffix not in (".py", ".html") or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in quoted.finditer(line):
                own = path.parent.name == "calendars" and path.stem == match.group(1)
                if not (own and line.startswith("NAME = ")):
                    found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_every_provider_is_keyed_by_its_own_name_and_connects_one_way() -> None:
    assert list(registry.PROVIDERS) == ["builtin", "caldav", "google", "microsoft"]
    for name, module in registry.PROVIDERS.items():
        assert module.NAME == name and module.__name__ == f"overture.calendars.{name}"  # type: ignore[attr-defined]
        assert (module.FORM is None) != (module.CONSENT is None), f"{name} must have a FORM or a CONSENT"
