"""`overture dialogues ...`: validate, test, import and export dialogue YAML files.

A file inside a folder named `flows` holds a reusable flow; any other file holds a dialogue. Validating or testing
files needs no database: the flows they call are looked for among the files given and in a `flows/` folder beside
each file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from overture.cli.common import console, fail, with_session
from overture.cli.tables import print_table
from overture.conversations.scenarios import ScenarioResult, run_scenarios, scenario_check
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import Document, DocumentKind, FlowDocument, document_to_data
from overture.dialogues.validation import validate
from overture.dialogues.yaml_io import dump_yaml, load_yaml
from overture.errors import OvertureError, Problem
from overture.people.fields import FieldSchema
from overture.people.service import field_schema
from overture.settings import Settings

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Loaded:
    path: Path
    kind: DocumentKind
    data: Any
    problems: list[Problem]
    text: str | None = None


def kind_of(path: Path) -> DocumentKind:
    return "flow" if "flows" in path.parent.parts[-1:] else "dialogue"


def yaml_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, and the YAML files inside the folders named (flows first, so dialogues find them)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES))
        else:
            found.append(path)
    return sorted(dict.fromkeys(found), key=lambda p: (kind_of(p) != "flow", str(p)))


def read(path: Path) -> Loaded:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Loaded(path, kind_of(path), None, [Problem("file", f"Cannot read it: {exc.strerror}.")])
    data, problems = load_yaml(text)
    return Loaded(path, kind_of(path), data, problems, text)


def sibling_flows(files: list[Path]) -> dict[str, FlowDocument]:
    """Flows among the given files and in flows/ folders beside them (parsed leniently: errors show elsewhere)."""
    candidates = set(files)
    for path in files:
        folder = path.parent / "flows"
        if folder.is_dir():
            candidates.update(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES)
    flows: dict[str, FlowDocument] = {}
    for path in candidates:
        if kind_of(path) != "flow":
            continue
        loaded = read(path)
        document, _ = validate(loaded.data, fields=FieldSchema.builtin(), flows=None, kind="flow")
        if isinstance(document, FlowDocument):
            flows[document.key] = document
    return flows


def check_files(files: list[Path]) -> list[tuple[Loaded, Document | None, list[Problem]]]:
    flows = sibling_flows(files)
    results = []
    for path in files:
        loaded = read(path)
        document, problems = (None, loaded.problems)
        if not loaded.problems:
            document, problems = validate(loaded.data, fields=FieldSchema.builtin(), flows=flows, kind=loaded.kind)
        results.append((loaded, document, problems))
    return results


def print_problems(path: Path, problems: list[Problem]) -> None:
    console.print(f"[red]✗[/] {path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    for problem in problems:
        console.print(f"    {problem.path}: {problem.message}")


@click.group(name="dialogues")
def dialogues_group() -> None:
    """Validate, test, import and export dialogues and reusable flows as YAML files."""


@dialogues_group.command(name="validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check dialogue YAML FILES (or folders); exit 1 listing every problem with its place."""
    bad = 0
    for loaded, _, problems in check_files(yaml_files(files)):
        if problems:
            bad += 1
            print_problems(loaded.path, problems)
        else:
            console.print(f"[green]✓[/] {loaded.path}: valid {loaded.kind}")
    if bad:
        raise SystemExit(1)


def print_results(path: Path, results: list[ScenarioResult]) -> None:
    for result in results:
        mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
        console.print(f"{mark} {path} :: {result.name}")
        for failure in result.failures:
            console.print(f"      {failure}")


@dialogues_group.command(name="test")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def test_command(files: tuple[Path, ...]) -> None:
    """Run the scenarios in the `tests:` section of each dialogue file; exit 1 if any fails."""
    checked = check_files(yaml_files(files))
    flows = sibling_flows(yaml_files(files))
    passed = failed = 0
    for loaded, document, problems in checked:
        if problems or document is None:
            print_problems(loaded.path, problems)
            failed += 1
            continue
        results = run_scenarios(document, flows, utcnow())
        print_results(loaded.path, results)
        passed += sum(r.passed for r in results)
        failed += sum(not r.passed for r in results)
    console.print(f"{passed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


@dialogues_group.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish each imported document (refused if it has any problem).")
def import_command(paths: tuple[Path, ...], publish: bool) -> None:
    """Create or update dialogues and flows from YAML files or folders, matched by `key`.

    Each file is all-or-nothing: a file with any problem changes nothing, and the others still go in.
    """
    files = yaml_files(paths)

    def run(session: Session, _settings: Settings) -> int:
        failures = 0
        for path in files:
            loaded = read(path)
            if loaded.problems:
                print_problems(path, loaded.problems)
                failures += 1
                continue
            savepoint = session.begin_nested()
            try:
                dialogue, created = dialogues.upsert(session, loaded.data, loaded.kind, utcnow(), text=loaded.text)
                note = "created" if created else "draft updated"
                if publish:
                    version = dialogues.publish(
                        session, dialogue, fields=field_schema(session), now=utcnow(), checks=[scenario_check]
                    )
                    note += f", published as version {version.number}"
                savepoint.commit()
                console.print(f"[green]✓[/] {path}: {dialogue.kind} '{dialogue.key}' {note}")
            except OvertureError as exc:
                savepoint.rollback()
                print_problems(path, exc.problems or [Problem("document", exc.message)])
                failures += 1
        return failures

    if with_session(run):
        raise SystemExit(1)


@dialogues_group.command(name="export")
@click.argument("key", required=False)
@click.option("--all", "everything", type=click.Path(file_okay=False, path_type=Path), help="Write every one to DIR.")
@click.option("--published", is_flag=True, help="Export the published version instead of the draft.")
def export_command(key: str | None, everything: Path | None, published: bool) -> None:
    """Print the dialogue KEY as YAML, or with --all DIR write every dialogue (and flows into DIR/flows)."""
    if bool(key) == bool(everything):
        fail("give a KEY, or --all DIR")

    def yaml_of(session: Session, key: str) -> str:
        dialogue = dialogues.get(session, key)
        if published:
            if dialogue.published_version is None:
                raise OvertureError(f"'{key}' was never published.")
            return dump_yaml(dict(dialogues.version(session, dialogue, dialogue.published_version).document))
        # The draft as it was written, comments included, when it came as YAML.
        return dialogue.draft_text or dump_yaml(document_to_data(dialogues.draft_document(dialogue)))

    def run(session: Session, _settings: Settings) -> None:
        if key:
            click.echo(yaml_of(session, key), nl=False)
            return
        assert everything is not None
        for dialogue in dialogues.list_all(session):
            folder = everything / "flows" if dialogue.kind == "flow" else everything
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{dialogue.key}.yaml"
            target.write_text(yaml_of(session, dialogue.key), encoding="utf-8")
            console.print(f"wrote {target}")

    with_session(run)


@dialogues_group.command(name="list")
def list_command() -> None:
    """List dialogues and flows with their state and published version."""

    def run(session: Session, _settings: Settings) -> None:
        columns = ("Kind", "Key", "State", "Version", "Name")
        rows = [
            (
                dialogue.kind,
                dialogue.key,
                dialogue.status,
                f"v{dialogue.published_version}" if dialogue.published_version else "never published",
                dialogue.name,
            )
            for dialogue in dialogues.list_all(session, archived=True)
        ]
        print_table(console, columns, rows)

    with_session(run)
