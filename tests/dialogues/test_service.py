"""The dialogues service on the real database: drafts saved with compare-and-set, versions frozen by publishing,
publishing refused for any problem or failing scenario, pause/resume/archive, clone, upsert and the live flows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from overture.conversations.scenarios import scenario_check
from overture.db import Database
from overture.dialogues import service as dialogues
from overture.dialogues.document import DialogueDocument, FlowDocument, document_to_data
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.dialogues.yaml_io import load_yaml
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.fields import FieldSchema

from support import Personas

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogues"
FIELDS = FieldSchema.builtin()
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def example(name: str) -> dict[str, Any]:
    data, problems = load_yaml((EXAMPLES / name).read_text(encoding="utf-8"))
    assert problems == []
    return data  # type: ignore[no-any-return]


def document(key: str = "demo", name: str = "Demo", **cards: Any) -> dict[str, Any]:
    """A small valid dialogue; `cards` replace or add to its cards."""
    base: dict[str, Any] = {
        "greet": {"say": "Hi!", "buttons": [{"label": "Sure", "goto": "bye"}, {"label": "No", "goto": "bye"}]},
        "bye": {"say": "Thanks!", "end": True},
    }
    return {"key": key, "name": name, "flow": {"start": "greet", "cards": {**base, **cards}}}


def flow_document(key: str = "ask-role", say: str = "Your role?") -> dict[str, Any]:
    return {
        "key": key,
        "name": "Ask the role",
        "flow": {
            "start": "ask",
            "cards": {"ask": {"ask": say, "capture": "person.title", "goto": "done"}, "done": {"end": True}},
        },
    }


def create(db: Database, data: dict[str, Any], kind: str = "dialogue") -> None:
    with db.write() as session:
        dialogues.create(session, data, kind, NOW)  # type: ignore[arg-type]


def publish(db: Database, key: str, **options: Any) -> int:
    with db.write() as session:
        return dialogues.publish(session, dialogues.get(session, key), fields=FIELDS, now=NOW, **options).number


def row(db: Database, key: str) -> Dialogue:
    with db.read() as session:
        dialogue = dialogues.get(session, key)
        dialogue.versions  # noqa: B018 (loaded while the session is open)
        return dialogue


def version_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(DialogueVersion)) or 0)


# --- create and the draft ----------------------------------------------------------------------------------------


def test_creating_stores_the_document_as_a_draft_at_revision_one(db: Database) -> None:
    create(db, example("pricing-demo.yaml"))
    dialogue = row(db, "pricing-demo")
    assert (dialogue.kind, dialogue.status, dialogue.revision) == ("dialogue", "draft", 1)
    assert dialogue.name == "Pricing page — book a demo"
    assert dialogue.published_version is None and dialogue.versions == []
    assert dialogue.draft_updated_at == NOW
    expected = document_to_data(DialogueDocument.model_validate(example("pricing-demo.yaml")))
    assert dialogue.draft == expected, "stored in its YAML/JSON form"


def test_creating_a_key_that_exists_is_a_conflict_even_for_another_kind(db: Database) -> None:
    create(db, document("demo"))
    with db.write() as session, pytest.raises(Conflict, match="with the key 'demo' exists already") as raised:
        dialogues.create(session, {**flow_document("demo")}, "flow", NOW)
    assert raised.value.problems == [Problem("key", "In use.")]


def test_a_document_of_the_wrong_shape_is_not_created_and_every_problem_is_listed(db: Database) -> None:
    data = document()
    del data["name"]
    data["flow"]["cards"]["bye"]["sya"] = "typo"
    with db.write() as session, pytest.raises(InvalidInput, match="The dialogue has 2 problems") as raised:
        dialogues.create(session, data, "dialogue", NOW)
    assert [p.path for p in raised.value.problems] == ["name", "flow.cards.bye.sya"]
    with db.read() as session:
        assert dialogues.list_all(session, archived=True) == []


def test_a_draft_may_have_problems_that_would_stop_its_publishing(db: Database) -> None:
    create(db, document(greet={"say": "Hi!", "goto": "nowhere"}))
    with db.read() as session:
        problems = dialogues.problems_of(session, dialogues.get(session, "demo"), FIELDS)
    assert [p.path for p in problems] == ["flow.cards.greet.goto", "flow.cards.bye"]
    assert problems[0].message.startswith("The card 'greet' goes to 'nowhere', which is not a card of this flow")


def test_saving_with_the_revision_read_replaces_the_draft_and_moves_to_the_next_revision(db: Database) -> None:
    create(db, document())
    changed = document(name="Demo, reworded", bye={"say": "Bye now!", "end": True})
    with db.write() as session:
        dialogue = dialogues.get(session, "demo")
        dialogues.update_draft(session, dialogue, changed, LATER, revision=1)
        assert dialogue.revision == 2, "the object is refreshed"
    saved = row(db, "demo")
    assert (saved.revision, saved.name, saved.draft_updated_at) == (2, "Demo, reworded", LATER)
    assert saved.draft["flow"]["cards"]["bye"] == {"say": "Bye now!", "end": True}


def test_saving_a_stale_revision_is_refused_and_keeps_the_other_save(db: Database) -> None:
    create(db, document())
    with db.read() as session:
        read_by_ana = dialogues.get(session, "demo").revision
    with db.write() as session:  # Ben saves first
        dialogues.update_draft(session, dialogues.get(session, "demo"), document(name="Ben's"), NOW, revision=1)
    with db.write() as session, pytest.raises(Conflict, match="Someone else saved 'demo' meanwhile"):
        dialogues.update_draft(
            session, dialogues.get(session, "demo"), document(name="Ana's"), LATER, revision=read_by_ana
        )
    saved = row(db, "demo")
    assert (saved.name, saved.revision, saved.draft["name"]) == ("Ben's", 2, "Ben's")


def test_saving_without_a_revision_compares_with_the_revision_loaded(db: Database) -> None:
    create(db, document())
    with db.write() as session:
        dialogues.update_draft(session, dialogues.get(session, "demo"), document(name="Again"), NOW)
        dialogues.update_draft(session, dialogues.get(session, "demo"), document(name="And again"), NOW)
    assert (row(db, "demo").revision, row(db, "demo").name) == (3, "And again")


def test_the_key_of_a_draft_cannot_change(db: Database) -> None:
    create(db, document())
    with db.write() as session, pytest.raises(InvalidInput, match="The key cannot change") as raised:
        dialogues.update_draft(session, dialogues.get(session, "demo"), document("other"), NOW, revision=1)
    assert raised.value.problems == [Problem("key", "This is 'demo'; clone it for another key.")]
    assert row(db, "demo").revision == 1


def test_a_draft_of_the_wrong_shape_is_not_saved(db: Database) -> None:
    create(db, document())
    broken = document()
    broken["flow"]["start"] = None
    with db.write() as session, pytest.raises(InvalidInput) as raised:
        dialogues.update_draft(session, dialogues.get(session, "demo"), broken, NOW, revision=1)
    assert [p.path for p in raised.value.problems] == ["flow.start"]
    assert row(db, "demo").draft == document()


# --- publish -------------------------------------------------------------------------------------------------------


def test_publishing_freezes_the_draft_as_version_one_then_version_two(db: Database) -> None:
    create(db, document())
    with db.write() as session:
        first = dialogues.publish(session, dialogues.get(session, "demo"), fields=FIELDS, now=NOW)
        assert (first.number, first.published_at, first.published_by) == (1, NOW, None)
    assert (row(db, "demo").status, row(db, "demo").published_version) == ("published", 1)

    with db.write() as session:
        dialogues.update_draft(session, dialogues.get(session, "demo"), document(name="Second"), NOW, revision=1)
    assert row(db, "demo").published_version == 1, "saving the draft does not change the live version"
    assert publish(db, "demo") == 2

    dialogue = row(db, "demo")
    assert [v.number for v in dialogue.versions] == [1, 2]
    assert dialogue.published_version == 2
    with db.read() as session:
        assert dialogues.version(session, dialogue, 1).document == document()
        assert dialogues.version(session, dialogue, 2).document["name"] == "Second"
        assert dialogues.live_version(session, dialogue).number == 2
        with pytest.raises(NotFound, match="'demo' has no version 3"):
            dialogues.version(session, dialogue, 3)


def test_publishing_records_who_published(db: Database, personas: Personas) -> None:
    create(db, document())
    with db.write() as session:
        dialogues.publish(session, dialogues.get(session, "demo"), fields=FIELDS, now=NOW, user_id=personas.mark.id)
    assert row(db, "demo").versions[0].published_by == personas.mark.id


def test_publishing_a_draft_with_problems_is_refused_with_every_problem_and_writes_nothing(db: Database) -> None:
    create(
        db,
        document(
            greet={"say": "Hi {{ person.first_name }}", "goto": "nowhere"},
            ask={"ask": "Email?", "capture": "person.emial", "goto": "bye"},
        ),
    )
    with db.write() as session:
        with pytest.raises(InvalidInput, match="'demo' has 5 problems") as raised:
            dialogues.publish(session, dialogues.get(session, "demo"), fields=FIELDS, now=NOW)
        # The transaction goes on and commits: the refusal itself wrote nothing.
    assert [p.path for p in raised.value.problems] == [
        "flow.cards.greet.goto",
        "flow.cards.greet.say",
        "flow.cards.ask.capture",
        "flow.cards.bye",
        "flow.cards.ask",
    ]
    assert "person.emial is not a field. Did you mean person.email?" in raised.value.problems[2].message
    dialogue = row(db, "demo")
    assert (dialogue.status, dialogue.published_version, dialogue.versions) == ("draft", None, [])
    assert version_count(db) == 0


def test_publishing_is_refused_when_a_test_scenario_fails(db: Database) -> None:
    data = document()
    data["tests"] = [
        {"name": "Yes leads to bye", "answers": ["Sure"], "expect": {"path": ["greet", "bye"], "ends": "completed"}},
        {"name": "No leads to greet again", "answers": ["No"], "expect": {"path": ["greet", "bye", "greet"]}},
    ]
    create(db, data)
    with db.write() as session:
        with pytest.raises(InvalidInput, match="'demo' has 1 problem\\.") as raised:
            dialogues.publish(session, dialogues.get(session, "demo"), fields=FIELDS, now=NOW, checks=[scenario_check])
    [problem] = raised.value.problems
    assert problem.path == "tests.1"
    assert problem.message.startswith("The test 'No leads to greet again' fails: expected the path greet → bye → greet")
    assert row(db, "demo").status == "draft" and version_count(db) == 0
    assert publish(db, "demo") == 1, "without the scenario check the same draft publishes"


def test_a_dialogue_calling_a_flow_publishes_once_the_flow_is_published(db: Database) -> None:
    create(db, example("flows/qualify.yaml"), "flow")
    create(db, example("qualify-lead.yaml"))
    with db.write() as session, pytest.raises(InvalidInput) as raised:
        dialogues.publish(session, dialogues.get(session, "qualify-lead"), fields=FIELDS, now=NOW)
    assert [p.path for p in raised.value.problems] == ["flow.cards.qualify.flow"]
    assert raised.value.problems[0].message == "There is no reusable flow 'qualify'. There is no reusable flow yet."

    assert publish(db, "qualify", checks=[scenario_check]) == 1
    assert publish(db, "qualify-lead", checks=[scenario_check]) == 1, "its scenarios run through the flow"


def test_every_example_publishes_with_its_scenarios(db: Database) -> None:
    create(db, example("flows/qualify.yaml"), "flow")
    for name in ("newsletter.yaml", "pricing-demo.yaml", "qualify-lead.yaml"):
        create(db, example(name))
    for key in ("qualify", "newsletter", "pricing-demo", "qualify-lead"):
        assert publish(db, key, checks=[scenario_check]) == 1


# --- pause, resume, archive ----------------------------------------------------------------------------------------


def change(db: Database, key: str, action: str) -> None:
    with db.write() as session:
        getattr(dialogues, action)(session, dialogues.get(session, key))


def test_only_a_published_dialogue_can_be_paused_and_only_a_paused_one_resumed(db: Database) -> None:
    create(db, document())
    with pytest.raises(Conflict, match="'demo' is draft; only a published one can be paused"):
        change(db, "demo", "pause")
    with pytest.raises(Conflict, match="'demo' is draft; only a paused one can be resumed"):
        change(db, "demo", "resume")
    publish(db, "demo")
    with pytest.raises(Conflict, match="'demo' is published; only a paused one can be resumed"):
        change(db, "demo", "resume")

    change(db, "demo", "pause")
    assert row(db, "demo").status == "paused"
    with pytest.raises(Conflict, match="'demo' is paused; only a published one can be paused"):
        change(db, "demo", "pause")
    with db.read() as session, pytest.raises(Conflict, match="'demo' is not live \\(it is paused\\)"):
        dialogues.live_version(session, dialogues.get(session, "demo"))

    change(db, "demo", "resume")
    assert row(db, "demo").status == "published"


def test_publishing_a_paused_dialogue_makes_it_live_again(db: Database) -> None:
    create(db, document())
    publish(db, "demo")
    change(db, "demo", "pause")
    assert publish(db, "demo") == 2
    assert row(db, "demo").status == "published"


def test_an_archived_dialogue_cannot_be_edited_published_paused_or_resumed(db: Database) -> None:
    create(db, document())
    publish(db, "demo")
    change(db, "demo", "archive")
    assert row(db, "demo").status == "archived"
    with db.write() as session, pytest.raises(Conflict, match="'demo' is archived; clone it to edit a copy"):
        dialogues.update_draft(session, dialogues.get(session, "demo"), document(name="Changed"), NOW)
    with pytest.raises(Conflict, match="'demo' is archived; clone it to publish a copy"):
        publish(db, "demo")
    with pytest.raises(Conflict, match="only a published one can be paused"):
        change(db, "demo", "pause")
    with pytest.raises(Conflict, match="only a paused one can be resumed"):
        change(db, "demo", "resume")
    dialogue = row(db, "demo")
    assert (dialogue.name, dialogue.revision, [v.number for v in dialogue.versions]) == ("Demo", 1, [1])
    with db.read() as session:
        assert dialogues.version(session, dialogue, 1).document == document(), "its versions stay readable"


def test_a_never_published_draft_can_be_archived(db: Database) -> None:
    create(db, document())
    change(db, "demo", "archive")
    assert row(db, "demo").status == "archived"


def test_archived_ones_are_left_out_of_the_list_unless_asked_for(db: Database) -> None:
    create(db, document("kept", "B kept"))
    create(db, document("retired", "A retired"))
    create(db, flow_document("ask-role"), "flow")
    change(db, "retired", "archive")
    with db.read() as session:
        assert [d.key for d in dialogues.list_all(session)] == ["kept", "ask-role"], "dialogues, then flows, by name"
        assert [d.key for d in dialogues.list_all(session, archived=True)] == ["retired", "kept", "ask-role"]
        assert [d.key for d in dialogues.list_all(session, kind="flow")] == ["ask-role"]


# --- clone -----------------------------------------------------------------------------------------------------------


def test_cloning_copies_the_draft_under_a_new_key_as_a_new_draft(db: Database) -> None:
    create(db, example("pricing-demo.yaml"))
    publish(db, "pricing-demo")
    with db.write() as session:
        copy = dialogues.clone(session, dialogues.get(session, "pricing-demo"), "pricing-demo-b", LATER)
        assert copy.key == "pricing-demo-b"
    original, copy = row(db, "pricing-demo"), row(db, "pricing-demo-b")
    assert copy.name == "Pricing page — book a demo (copy)"
    assert (copy.status, copy.published_version, copy.versions, copy.revision) == ("draft", None, [], 1)
    assert copy.draft == {**original.draft, "key": "pricing-demo-b", "name": "Pricing page — book a demo (copy)"}
    assert (original.status, original.draft["key"]) == ("published", "pricing-demo")


def test_cloning_takes_the_name_given_and_works_for_an_archived_one(db: Database) -> None:
    create(db, flow_document("ask-role"), "flow")
    change(db, "ask-role", "archive")
    with db.write() as session:
        dialogues.clone(session, dialogues.get(session, "ask-role"), "ask-role-2", NOW, name="Ask the role again")
    copy = row(db, "ask-role-2")
    assert (copy.kind, copy.name, copy.status) == ("flow", "Ask the role again", "draft")


def test_cloning_to_a_key_in_use_or_a_malformed_key_is_refused(db: Database) -> None:
    create(db, document("demo"))
    create(db, document("taken"))
    with db.write() as session, pytest.raises(Conflict, match="'taken' exists already"):
        dialogues.clone(session, dialogues.get(session, "demo"), "taken", NOW)
    with db.write() as session, pytest.raises(InvalidInput) as raised:
        dialogues.clone(session, dialogues.get(session, "demo"), "Not A Key", NOW)
    assert [p.path for p in raised.value.problems] == ["key"]
    with db.read() as session:
        assert len(dialogues.list_all(session)) == 2


# --- upsert ------------------------------------------------------------------------------------------------------


def test_upsert_creates_then_updates_the_draft_by_key(db: Database) -> None:
    with db.write() as session:
        dialogue, created = dialogues.upsert(session, document(), "dialogue", NOW)
        assert created and dialogue.key == "demo"
    publish(db, "demo")
    with db.write() as session:
        dialogue, created = dialogues.upsert(session, document(name="Renamed"), "dialogue", LATER)
        assert not created
    dialogue = row(db, "demo")
    assert (dialogue.name, dialogue.revision, dialogue.draft_updated_at) == ("Renamed", 2, LATER)
    assert (dialogue.status, dialogue.published_version) == ("published", 1), "an update is a draft, not a publish"


def test_upsert_refuses_a_document_of_the_other_kind(db: Database) -> None:
    create(db, flow_document("ask-role"), "flow")
    with db.write() as session, pytest.raises(Conflict, match="'ask-role' is a flow, not a dialogue"):
        dialogues.upsert(session, {**document("ask-role")}, "dialogue", NOW)
    assert row(db, "ask-role").draft == flow_document("ask-role")


def test_upsert_of_a_malformed_document_changes_nothing(db: Database) -> None:
    create(db, document())
    with db.write() as session, pytest.raises(InvalidInput):
        dialogues.upsert(session, {"key": "demo"}, "dialogue", NOW)
    assert row(db, "demo").revision == 1


# --- the flows dialogues may call ---------------------------------------------------------------------------------


def test_published_flows_are_the_live_versions_of_flows_only(db: Database) -> None:
    create(db, flow_document("ask-role", "Your role?"), "flow")
    create(db, flow_document("never-published"), "flow")
    create(db, flow_document("retired"), "flow")
    create(db, document("demo"))
    for key in ("ask-role", "retired", "demo"):
        publish(db, key)
    change(db, "retired", "archive")
    with db.write() as session:
        flow = dialogues.get(session, "ask-role")
        dialogues.update_draft(session, flow, flow_document("ask-role", "What do you do?"), NOW)

    with db.read() as session:
        flows = dialogues.published_flows(session)
        assert list(flows) == ["ask-role"]
        assert isinstance(flows["ask-role"], FlowDocument)
        assert flows["ask-role"].flow.cards["ask"].ask == "Your role?", "the published version, not the newer draft"
        assert dialogues.published_flows(session, ["demo", "retired"]) == {}

    publish(db, "ask-role")
    with db.read() as session:
        assert dialogues.published_flows(session, ["ask-role"])["ask-role"].flow.cards["ask"].ask == "What do you do?"


def test_published_flows_in_the_session_that_published_see_the_new_version(db: Database) -> None:
    create(db, flow_document("ask-role", "Your role?"), "flow")
    publish(db, "ask-role")
    with db.write() as session:
        flow = dialogues.get(session, "ask-role")
        assert list(dialogues.published_flows(session)) == ["ask-role"]
        dialogues.update_draft(session, flow, flow_document("ask-role", "What do you do?"), NOW)
        dialogues.publish(session, flow, fields=FIELDS, now=NOW)
        assert dialogues.published_flows(session)["ask-role"].flow.cards["ask"].ask == "What do you do?"


def test_publishing_an_unchanged_draft_again_is_refused_and_makes_no_version(db: Database) -> None:
    create(db, document())
    publish(db, "demo")
    with pytest.raises(Conflict, match="The draft is the same as the live version v1: nothing to publish."):
        publish(db, "demo")
    assert version_count(db) == 1


def test_publishing_names_a_site_that_does_not_exist(db: Database) -> None:
    create(db, {**document(), "site": "blog"})
    with pytest.raises(InvalidInput) as raised:
        publish(db, "demo")
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("site", "There is no site 'blog'. Add it in Configuration > Sites, or use one of: default, www.")
    ]
    assert row(db, "demo").published_version is None
