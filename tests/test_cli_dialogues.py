"""`overture dialogues ...`: validate and test YAML files without a database, import them (each file all-or-nothing,
optionally published), export them back, and list them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select

from overture.cli import main
from overture.db import Database
from overture.dialogues.models import Dialogue, DialogueVersion

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "dialogues"
EXAMPLE_KEYS = {
    "qualify": "flow",
    "newsletter": "dialogue",
    "pricing-demo": "dialogue",
    "qualify-lead": "dialogue",
    "welcome": "dialogue",
}

GOOD = """\
key: good
name: A good one
flow:
  start: greet
  cards:
    greet:
      say: Hi!
      buttons:
        - {label: Sure, goto: bye}
        - {label: No thanks, goto: bye}
    bye: {say: Thanks!, end: true}
tests:
  - name: Sure ends the conversation
    answers: [Sure]
    expect: {path: [greet, bye], ends: completed}
"""

# The shape is right, so it can be saved as a draft; the rules across parts are not.
BROKEN = """\
key: broken
name: A broken one
flow:
  start: greet
  cards:
    greet:
      say: "Hi {{ person.first_name }}!"
      goto: nowhere
    bye: {say: Thanks!, end: true}
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def stored(db: Database) -> dict[str, Dialogue]:
    with db.read() as session:
        rows = list(session.scalars(select(Dialogue)))
        for dialogue in rows:
            dialogue.versions  # noqa: B018 (loaded while the session is open)
        return {dialogue.key: dialogue for dialogue in rows}


def drafts(db: Database) -> dict[str, tuple[str, dict[str, Any]]]:
    return {key: (dialogue.kind, dialogue.draft) for key, dialogue in stored(db).items()}


def forget_every_dialogue(db: Database) -> None:
    with db.write() as session:
        session.execute(delete(DialogueVersion))
        session.execute(delete(Dialogue))


# --- validate ------------------------------------------------------------------------------------------------------


def test_validate_accepts_every_example_without_a_database() -> None:
    result = run("dialogues", "validate", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert f"✓ {EXAMPLES / 'flows' / 'qualify.yaml'}: valid flow" in result.output
    for name in ("newsletter", "pricing-demo", "qualify-lead", "welcome"):
        assert f"✓ {EXAMPLES / name}.yaml: valid dialogue" in result.output


def test_validate_finds_the_flow_a_dialogue_calls_in_the_flows_folder_beside_it() -> None:
    result = run("dialogues", "validate", str(EXAMPLES / "qualify-lead.yaml"))
    assert result.exit_code == 0, result.output


def test_validate_exits_1_listing_every_problem_with_its_file_and_place(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.yaml", BROKEN)
    good = write(tmp_path, "good.yaml", GOOD)
    result = run("dialogues", "validate", str(tmp_path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"✗ {broken}: 3 problems" in lines
    assert "    flow.cards.greet.goto: The card 'greet' goes to 'nowhere', which is not a card of this flow." in (
        result.output
    )
    assert (
        "    flow.cards.greet.say: The token {{ person.first_name }} has no default: write "
        "{{ person.first_name or '...' }}." in lines
    )
    assert "    flow.cards.bye: The card 'bye' is never reached from the start card 'greet'." in lines
    assert f"✓ {good}: valid dialogue" in lines, "the good file is still checked"


def test_validate_names_the_line_of_a_yaml_mistake_and_of_a_key_given_twice(tmp_path: Path) -> None:
    syntax = write(tmp_path, "syntax.yaml", "key: syntax\nname: [unclosed\nflow: {}\n")
    twice = write(tmp_path, "twice.yaml", GOOD.replace("name: A good one\n", "name: A good one\nname: Again\n"))
    result = run("dialogues", "validate", str(syntax), str(twice))
    assert result.exit_code == 1
    assert f"✗ {syntax}: 1 problem" in result.output
    assert "    line 3, column 5: This is not valid YAML:" in result.output
    assert f"✗ {twice}: 1 problem" in result.output
    assert "    line 3: The key 'name' is given twice in one place (first on line 2)." in result.output


# --- test ----------------------------------------------------------------------------------------------------------


def test_test_prints_a_pass_line_per_scenario_of_the_examples() -> None:
    result = run("dialogues", "test", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert f"PASS {EXAMPLES / 'flows' / 'qualify.yaml'} :: A new visitor answers every question" in result.output
    assert f"PASS {EXAMPLES / 'newsletter.yaml'} :: A French reader declines" in result.output
    assert "FAIL" not in result.output
    assert result.output.splitlines()[-1] == "14 passed, 0 failed"


def test_a_failing_scenario_prints_fail_with_what_went_wrong_and_exits_1(tmp_path: Path) -> None:
    failing = GOOD + (
        "  - name: No thanks goes back to greet\n    answers: [No thanks]\n    expect: {path: [greet, bye, greet]}\n"
    )
    path = write(tmp_path, "good.yaml", failing)
    result = run("dialogues", "test", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"PASS {path} :: Sure ends the conversation" in lines
    assert f"FAIL {path} :: No thanks goes back to greet" in lines
    assert "      expected the path greet → bye → greet; it went greet → bye" in lines
    assert lines[-1] == "1 passed, 1 failed"


def test_test_counts_an_invalid_file_as_failed(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = run("dialogues", "test", str(path))
    assert result.exit_code == 1
    assert f"✗ {path}: 3 problems" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"


# --- import ----------------------------------------------------------------------------------------------------------


def test_import_creates_every_example_as_a_draft_then_updates_by_key(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    first = run("dialogues", "import", str(EXAMPLES), env=env)
    assert first.exit_code == 0, first.output
    assert f"✓ {EXAMPLES / 'flows' / 'qualify.yaml'}: flow 'qualify' created" in first.output
    assert f"✓ {EXAMPLES / 'pricing-demo.yaml'}: dialogue 'pricing-demo' created" in first.output
    rows = stored(db)
    assert {key: row.kind for key, row in rows.items()} == EXAMPLE_KEYS
    assert {row.status for row in rows.values()} == {"draft"}
    assert rows["pricing-demo"].draft["trigger"] == {"on": "time_on_page", "seconds": 5}

    renamed = (
        (EXAMPLES / "pricing-demo.yaml")
        .read_text(encoding="utf-8")
        .replace("name: Pricing page — book a demo", "name: Pricing — demo")
    )
    path = write(tmp_path / "edited", "pricing-demo.yaml", renamed)
    second = run("dialogues", "import", str(path), env=env)
    assert second.exit_code == 0, second.output
    assert f"✓ {path}: dialogue 'pricing-demo' draft updated" in second.output
    updated = stored(db)["pricing-demo"]
    assert (updated.name, updated.draft["name"], updated.revision, updated.status) == (
        "Pricing — demo",
        "Pricing — demo",
        2,
        "draft",
    )
    assert len(stored(db)) == len(EXAMPLE_KEYS)


def test_import_with_publish_publishes_each_file_and_list_shows_it(env: dict[str, str], db: Database) -> None:
    result = run("dialogues", "import", str(EXAMPLES), "--publish", env=env)
    assert result.exit_code == 0, result.output
    assert f"✓ {EXAMPLES / 'qualify-lead.yaml'}: dialogue 'qualify-lead' created, published as version 1" in (
        result.output
    )
    rows = stored(db)
    assert {key: (row.status, row.published_version) for key, row in rows.items()} == {
        key: ("published", 1) for key in EXAMPLE_KEYS
    }
    assert rows["newsletter"].versions[0].document == rows["newsletter"].draft

    listed = run("dialogues", "list", env=env)
    assert listed.exit_code == 0
    lines = {line.split()[1]: line.split() for line in listed.output.splitlines()}
    assert lines["qualify"][:4] == ["flow", "qualify", "published", "v1"]
    assert lines["pricing-demo"][:4] == ["dialogue", "pricing-demo", "published", "v1"]


def test_list_shows_drafts_as_never_published(env: dict[str, str]) -> None:
    run("dialogues", "import", str(EXAMPLES / "pricing-demo.yaml"), env=env)
    listed = run("dialogues", "list", env=env)
    assert "pricing-demo" in listed.output and "draft" in listed.output and "never published" in listed.output


def test_import_is_all_or_nothing_per_file(env: dict[str, str], db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    good = write(folder, "good.yaml", GOOD)
    broken = write(folder, "broken.yaml", BROKEN)
    result = run("dialogues", "import", str(folder), "--publish", env=env)
    assert result.exit_code == 1
    assert f"✓ {good}: dialogue 'good' created, published as version 1" in result.output
    assert f"✗ {broken}: 3 problems" in result.output
    assert "    flow.cards.greet.goto: The card 'greet' goes to 'nowhere'" in result.output
    rows = stored(db)
    assert list(rows) == ["good"], "the broken one was created, then rolled back with its file"
    assert (rows["good"].status, rows["good"].published_version) == ("published", 1)


def test_a_refused_import_leaves_the_existing_draft_as_it_was(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    fixed = BROKEN.replace("goto: nowhere", "goto: bye").replace("first_name }}", "first_name or 'there' }}")
    run("dialogues", "import", str(write(tmp_path / "v1", "broken.yaml", fixed)), env=env)
    before = stored(db)["broken"]
    assert before.revision == 1

    result = run("dialogues", "import", str(write(tmp_path / "v2", "broken.yaml", BROKEN)), "--publish", env=env)
    assert result.exit_code == 1
    after = stored(db)["broken"]
    assert (after.draft, after.revision, after.status, after.versions) == (before.draft, 1, "draft", [])


def test_import_skips_a_file_that_is_not_yaml_and_goes_on(env: dict[str, str], db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write(folder, "good.yaml", GOOD)
    not_yaml = write(folder, "a-not-yaml.yaml", "key: [oops\n")
    shape = write(folder, "b-shape.yaml", "key: shape\nname: Shape\n")
    result = run("dialogues", "import", str(folder), env=env)
    assert result.exit_code == 1
    assert f"✗ {not_yaml}: 1 problem" in result.output
    assert f"✗ {shape}: 1 problem" in result.output
    assert "    flow: This is required." in result.output
    assert list(stored(db)) == ["good"]


def test_import_with_publish_works_in_a_process_of_its_own(env: dict[str, str], db: Database) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "overture", "dialogues", "import", str(EXAMPLES / "flows"), "--publish"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored(db)["qualify"].published_version == 1


# --- export ----------------------------------------------------------------------------------------------------------


def test_export_prints_yaml_that_imports_back_to_the_same_document(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    run("dialogues", "import", str(EXAMPLES), env=env)
    before = drafts(db)
    result = run("dialogues", "export", "newsletter", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == (EXAMPLES / "newsletter.yaml").read_text(encoding="utf-8"), "as written, comments kept"

    forget_every_dialogue(db)
    path = write(tmp_path / "back", "newsletter.yaml", result.stdout)
    assert run("dialogues", "import", str(path), env=env).exit_code == 0
    assert drafts(db) == {"newsletter": before["newsletter"]}


def test_export_of_the_published_version_differs_from_a_newer_draft(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    run("dialogues", "import", str(path), "--publish", env=env)
    run("dialogues", "import", str(write(tmp_path, "good.yaml", GOOD.replace("A good one", "A better one"))), env=env)
    assert "name: A better one" in run("dialogues", "export", "good", env=env).stdout
    published = run("dialogues", "export", "good", "--published", env=env)
    assert published.exit_code == 0
    assert "name: A good one" in published.stdout


def test_export_all_writes_dialogues_and_flows_that_reimport_to_the_same_drafts(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    run("dialogues", "import", str(EXAMPLES), str(write(tmp_path / "more", "good.yaml", GOOD)), env=env)
    before = drafts(db)
    backup = tmp_path / "backup"
    result = run("dialogues", "export", "--all", str(backup), env=env)
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(backup)) for p in backup.rglob("*.yaml")) == [
        "flows/qualify.yaml",
        "good.yaml",
        "newsletter.yaml",
        "pricing-demo.yaml",
        "qualify-lead.yaml",
        "welcome.yaml",
    ]
    assert f"wrote {backup / 'flows' / 'qualify.yaml'}" in result.output

    forget_every_dialogue(db)
    again = run("dialogues", "import", str(backup), env=env)
    assert again.exit_code == 0, again.output
    assert drafts(db) == before
    originals = {path.stem: path for path in [*EXAMPLES.rglob("*.yaml"), tmp_path / "more" / "good.yaml"]}
    for key in before:
        folder = backup / "flows" if key == "qualify" else backup
        written = (folder / f"{key}.yaml").read_text(encoding="utf-8")
        assert written == originals[key].read_text(encoding="utf-8"), "each file as it was written"


def test_export_needs_a_key_or_a_folder(env: dict[str, str]) -> None:
    neither = run("dialogues", "export", env=env)
    assert neither.exit_code == 1
    assert "Error: give a KEY, or --all DIR" in neither.output


def test_export_of_an_unknown_key_says_so(env: dict[str, str]) -> None:
    result = run("dialogues", "export", "nope", env=env)
    assert result.exit_code == 1
    assert "Error: There is no dialogue or flow with the key 'nope'." in result.output
