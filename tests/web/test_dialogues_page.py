"""The Dialogues page: the list, creating from the form, the YAML editor with its problems line by line, publishing
versions, pause/resume/archive/clone, and forms that need their CSRF token."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from overture.db import Database
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue
from overture.dialogues.yaml_io import dump_yaml, load_yaml
from overture.people.fields import FieldSchema
from overture.web.pages.dialogues import starter

from support import Personas, post_form, sign_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogues"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

DEMO = """\
key: demo
name: Demo
flow:
  start: greet
  cards:
    greet:
      say: Hi!
      buttons:
        - {label: Sure, goto: bye}
        - {label: No thanks, goto: bye}
    bye:
      say: Thanks!
      end: true
"""


def example(name: str) -> dict[str, Any]:
    data, problems = load_yaml((EXAMPLES / name).read_text(encoding="utf-8"))
    assert problems == []
    return data  # type: ignore[no-any-return]


def create(db: Database, data: dict[str, Any], kind: str = "dialogue", *, publish: bool = False) -> None:
    with db.write() as session:
        dialogue = dialogues.create(session, data, kind, NOW)  # type: ignore[arg-type]
        if publish:
            dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=NOW)


def demo(db: Database, *, publish: bool = False) -> None:
    data, _ = load_yaml(DEMO)
    create(db, data, publish=publish)


def row(db: Database, key: str) -> Dialogue:
    with db.read() as session:
        dialogue = dialogues.get(session, key)
        dialogue.versions  # noqa: B018 (loaded while the session is open)
        return dialogue


def shown(response: Response) -> str:
    """The page's text with HTML entities read back (quotes in messages are escaped)."""
    return html.unescape(response.text)


def textarea(response: Response) -> str:
    match = re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert match, "the editor has its textarea"
    return html.unescape(match.group(1))


def publish_button(response: Response) -> str:
    match = re.search(r"<button[^>]*>Publish the saved draft as v\d+</button>", response.text)
    assert match, "the editor has a publish button"
    return match.group(0)


def listed_problems(response: Response) -> list[str]:
    found = re.search(r'<ul class="problems">(.*?)</ul>', response.text, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []


def save(client: TestClient, key: str, text: str, revision: int) -> Any:
    return post_form(
        client, f"/admin/dialogues/{key}", {"document": text, "revision": str(revision)}, f"/admin/dialogues/{key}"
    )


@pytest.fixture
def marketer(client: TestClient, personas: Personas) -> TestClient:
    sign_in(client, personas.mark)
    return client


# --- the list ------------------------------------------------------------------------------------------------------


def test_the_list_shows_each_dialogue_with_its_state_and_live_version(marketer: TestClient, db: Database) -> None:
    create(db, example("pricing-demo.yaml"), publish=True)
    create(db, example("flows/qualify.yaml"), "flow")
    page = marketer.get("/admin/dialogues")
    assert page.status_code == 200
    rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</tr>", page.text, re.S)
    assert len(rows) == 2
    pricing = next(r for r in rows if "pricing-demo" in r)
    assert '<a href="/admin/dialogues/pricing-demo">Pricing page — book a demo</a>' in pricing
    assert "<td>Dialogue</td>" in pricing and ">Published</span>" in pricing and "<td>v1</td>" in pricing
    qualify = next(r for r in rows if "qualify" in r)
    assert "<td>Reusable flow</td>" in qualify and ">Draft</span>" in qualify and "<td>—</td>" in qualify


def test_the_list_says_how_to_start_when_there_is_no_dialogue(marketer: TestClient) -> None:
    assert "No dialogues yet." in marketer.get("/admin/dialogues").text


# --- create --------------------------------------------------------------------------------------------------------


def test_creating_from_the_form_lands_on_the_editor_with_the_starter_document(
    marketer: TestClient, db: Database
) -> None:
    form = {"key": "spring", "name": "Spring offer", "kind": "dialogue", "site": "www"}
    created = post_form(marketer, "/admin/dialogues", form, "/admin/dialogues")
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/dialogues/spring"
    editor = marketer.get("/admin/dialogues/spring")
    assert editor.status_code == 200
    assert "'Spring offer' is created. Write its flow below, then publish it." in shown(editor)
    assert textarea(editor) == dump_yaml(starter("spring", "Spring offer", "www"))
    assert "Ready to publish" in editor.text and "disabled" not in publish_button(editor)
    assert (row(db, "spring").status, row(db, "spring").kind) == ("draft", "dialogue")


def test_creating_a_flow_from_the_form(marketer: TestClient, db: Database) -> None:
    form = {"key": "ask-role", "name": "Ask the role", "kind": "flow"}
    post_form(marketer, "/admin/dialogues", form, "/admin/dialogues")
    assert row(db, "ask-role").kind == "flow"
    assert "Reusable flow" in marketer.get("/admin/dialogues/ask-role").text


def test_creating_with_a_key_in_use_or_a_malformed_key_keeps_the_form(marketer: TestClient, db: Database) -> None:
    demo(db)
    taken = post_form(marketer, "/admin/dialogues", {"key": "demo", "name": "Another"}, "/admin/dialogues")
    assert taken.status_code == 409
    assert "A dialogue or flow with the key 'demo' exists already." in shown(taken)
    assert '<span id="key-problem" class="problem">In use.</span>' in taken.text  # beside the key
    assert 'value="Another"' in taken.text
    malformed = post_form(marketer, "/admin/dialogues", {"key": "Not A Key", "name": "Bad"}, "/admin/dialogues")
    assert malformed.status_code == 422
    assert 'value="Not A Key"' in malformed.text
    assert [d.key for d in _all(db)] == ["demo"]


def site_options(response: Response) -> list[tuple[str, bool]]:
    """The Site select of the create form: (key, preselected) of each option."""
    select = re.search(r'<select name="site"[^>]*>(.*?)</select>', response.text, re.S)
    assert select, "the create form asks for the site"
    return [(key, bool(chosen)) for key, chosen in re.findall(r'<option value="([^"]+)"( selected)?>', select.group(1))]


def test_a_new_dialogue_is_written_for_the_site_chosen_in_the_form(marketer: TestClient, db: Database) -> None:
    assert site_options(marketer.get("/admin/dialogues")) == [("default", True), ("www", False)]
    form = {"key": "spring", "name": "Spring offer", "kind": "dialogue", "site": "www"}
    post_form(marketer, "/admin/dialogues", form, "/admin/dialogues")
    assert row(db, "spring").draft["site"] == "www"
    assert "site: www" in textarea(marketer.get("/admin/dialogues/spring"))
    # Now that a dialogue is for www, the form offers www first (in the demo: its website, not the empty default).
    assert site_options(marketer.get("/admin/dialogues")) == [("default", False), ("www", True)]


def test_a_new_dialogue_for_the_default_site_shows_its_site_line(marketer: TestClient, db: Database) -> None:
    form = {"key": "spring", "name": "Spring offer", "kind": "dialogue", "site": "default"}
    post_form(marketer, "/admin/dialogues", form, "/admin/dialogues")
    assert "site: default" in textarea(marketer.get("/admin/dialogues/spring"))


def test_creating_a_dialogue_for_a_site_that_does_not_exist_is_refused(marketer: TestClient, db: Database) -> None:
    form = {"key": "spring", "name": "Spring offer", "kind": "dialogue", "site": "blog"}
    refused = post_form(marketer, "/admin/dialogues", form, "/admin/dialogues")
    assert refused.status_code == 422
    assert "Choose the site the dialogue is for." in shown(refused)
    assert """<span id="site-problem" class="problem">There is no site 'blog'.</span>""" in shown(refused)  # beside it
    assert 'value="Spring offer"' in refused.text
    assert _all(db) == []


def _all(db: Database) -> list[Dialogue]:
    with db.read() as session:
        return dialogues.list_all(session, archived=True)


# --- the editor ----------------------------------------------------------------------------------------------------


def test_the_editor_shows_the_draft_as_yaml(marketer: TestClient, db: Database) -> None:
    create(db, example("newsletter.yaml"))
    editor = marketer.get("/admin/dialogues/newsletter")
    data, problems = load_yaml(textarea(editor))
    assert problems == [] and data == row(db, "newsletter").draft
    assert 'name="revision" value="1"' in editor.text


def test_saving_yaml_with_a_syntax_error_answers_422_with_its_line_and_keeps_the_text(
    marketer: TestClient, db: Database
) -> None:
    demo(db)
    broken = DEMO.replace("      say: Thanks!\n", "      say: [Thanks!\n")
    response = save(marketer, "demo", broken, 1)
    assert response.status_code == 422
    page = shown(response)
    assert "1 problem to fix before publishing" in page
    assert "line 13, column 10" in page, "where the YAML reader found the mistake"
    assert "This is not valid YAML: expected &#39;,&#39; or &#39;]&#39;, but got &#39;:&#39;." in response.text
    assert textarea(response) == broken
    dialogue = row(db, "demo")
    assert (dialogue.revision, dialogue.draft) == (1, load_yaml(DEMO)[0]), "nothing is saved"


def test_saving_a_document_of_the_wrong_shape_answers_422_with_the_line_of_each_problem(
    marketer: TestClient, db: Database
) -> None:
    demo(db)
    broken = DEMO.replace("      end: true\n", "      end: true\n      sya: typo\n").replace("name: Demo\n", "")
    response = save(marketer, "demo", broken, 1)
    assert response.status_code == 422
    problems = listed_problems(response)
    assert len(problems) == 2
    assert '<span class="line">line 1</span> <code>name</code>' in problems[0]
    assert "This is required." in problems[0]
    assert '<span class="line">line 13</span> <code>flow.cards.bye.sya</code>' in problems[1]
    assert "Unknown key &#39;sya&#39;." in problems[1]
    assert textarea(response) == broken
    assert row(db, "demo").revision == 1


def test_saving_a_key_given_twice_shows_the_line_where_it_is_repeated(marketer: TestClient, db: Database) -> None:
    demo(db)
    twice = DEMO.replace("name: Demo\n", "name: Demo\nname: Again\n")
    response = save(marketer, "demo", twice, 1)
    assert response.status_code == 422
    assert "The key 'name' is given twice in one place (first on line 2)." in shown(response)
    assert '<span class="line">line 3</span>' in response.text
    assert '<span class="line">line 1</span>' not in response.text


def test_saving_a_draft_with_a_goto_to_nowhere_saves_it_and_lists_the_problem(
    marketer: TestClient, db: Database
) -> None:
    demo(db)
    changed = DEMO.replace("- {label: No thanks, goto: bye}", "- {label: No thanks, goto: nowhere}")
    saved = save(marketer, "demo", changed, 1)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/dialogues/demo"
    dialogue = row(db, "demo")
    assert dialogue.revision == 2
    assert dialogue.draft["flow"]["cards"]["greet"]["buttons"][1]["goto"] == "nowhere"

    editor = marketer.get("/admin/dialogues/demo")
    page = shown(editor)
    assert "The draft is saved." in page
    assert "1 problem to fix before publishing" in page
    [problem] = listed_problems(editor)
    assert '<span class="line">line 10</span> <code>flow.cards.greet.buttons.1.goto</code>' in problem
    assert "goto: nowhere" in textarea(editor).splitlines()[9], "the line as the marketer wrote it"
    assert "The card 'greet' goes to 'nowhere', which is not a card of this flow" in page
    assert "disabled" in publish_button(editor)
    assert 'name="revision" value="2"' in editor.text


def test_saving_a_stale_revision_shows_the_conflict_and_keeps_the_text(marketer: TestClient, db: Database) -> None:
    demo(db)
    assert save(marketer, "demo", DEMO.replace("Hi!", "Hello!"), 1).status_code == 303
    mine = DEMO.replace("Hi!", "Good morning!")
    stale = save(marketer, "demo", mine, 1)
    assert stale.status_code == 409
    assert "Someone else saved 'demo' meanwhile. Reload it, then make your change again." in shown(stale)
    assert textarea(stale) == mine
    dialogue = row(db, "demo")
    assert (dialogue.revision, dialogue.draft["flow"]["cards"]["greet"]["say"]) == (2, "Hello!")


def test_saving_another_key_is_refused_and_says_to_clone(marketer: TestClient, db: Database) -> None:
    demo(db)
    response = save(marketer, "demo", DEMO.replace("key: demo", "key: other"), 1)
    assert response.status_code == 422
    assert "This is 'demo'; clone it for another key." in shown(response)
    assert row(db, "demo").revision == 1


# --- publish and versions ------------------------------------------------------------------------------------------


def test_publishing_a_valid_draft_shows_version_1_and_links_to_its_read_only_page(
    marketer: TestClient, db: Database, personas: Personas
) -> None:
    demo(db)
    published = post_form(marketer, "/admin/dialogues/demo/publish", {}, "/admin/dialogues/demo")
    assert published.status_code == 303
    assert published.headers["location"] == "/admin/dialogues/demo"
    editor = marketer.get("/admin/dialogues/demo")
    page = shown(editor)
    assert "Version 1 is published and live." in page
    assert ">Published</span>" in editor.text and "live version v1" in page
    assert '<a href="/admin/dialogues/demo/versions/1">v1</a>' in editor.text
    assert "The draft is the live version (v1)" in editor.text
    dialogue = row(db, "demo")
    assert (dialogue.status, dialogue.published_version, dialogue.versions[0].published_by) == (
        "published",
        1,
        personas.mark.id,
    )

    version = marketer.get("/admin/dialogues/demo/versions/1")
    assert version.status_code == 200
    assert "Demo, version 1" in version.text and "Published versions cannot change." in version.text
    shown_yaml = re.search(r"<pre[^>]*>(.*?)</pre>", version.text, re.S)
    assert shown_yaml and html.unescape(shown_yaml.group(1)) == dump_yaml(dialogue.versions[0].document)
    assert "<textarea" not in version.text and '<form method="post" action="/admin/dialogues/demo' not in (version.text)
    assert marketer.get("/admin/dialogues/demo/versions/2").status_code == 404


def test_a_second_publish_keeps_version_1_as_it_was(marketer: TestClient, db: Database) -> None:
    demo(db, publish=True)
    save(marketer, "demo", DEMO.replace("Hi!", "Hello!"), 1)
    assert "the draft has unpublished changes" in marketer.get("/admin/dialogues/demo").text
    post_form(marketer, "/admin/dialogues/demo/publish", {}, "/admin/dialogues/demo")
    editor = marketer.get("/admin/dialogues/demo")
    assert "Version 2 is published and live." in editor.text
    assert "/admin/dialogues/demo/versions/2" in editor.text and "/admin/dialogues/demo/versions/1" in editor.text
    assert "say: Hi!" in marketer.get("/admin/dialogues/demo/versions/1").text
    assert "say: Hello!" in marketer.get("/admin/dialogues/demo/versions/2").text


def test_publishing_is_offered_only_when_the_draft_is_another_document_than_the_live_version(
    marketer: TestClient, db: Database
) -> None:
    demo(db, publish=True)
    live = marketer.get("/admin/dialogues/demo")
    assert "The draft is the live version (v1)" in live.text and "Publish the saved draft" not in live.text
    relaid = "# the same document, laid out again\n" + DEMO.replace("say: Hi!", "say:   'Hi!'")
    assert save(marketer, "demo", relaid, 1).status_code == 303
    same = marketer.get("/admin/dialogues/demo")
    assert textarea(same) == relaid
    assert "The draft is the live version (v1)" in same.text and "Publish the saved draft" not in same.text
    save(marketer, "demo", DEMO.replace("Hi!", "Hello!"), 2)
    changed = marketer.get("/admin/dialogues/demo")
    assert "disabled" not in publish_button(changed) and "Publish the saved draft as v2" in changed.text
    assert "The draft is the live version" not in changed.text


def test_publishing_a_draft_with_problems_is_refused_and_lists_them(marketer: TestClient, db: Database) -> None:
    demo(db)
    save(
        marketer,
        "demo",
        DEMO.replace("say: Hi!", "say: 'Hi {{ person.first_name }}!'").replace("goto: bye}", "goto: nowhere}"),
        1,
    )
    refused = post_form(marketer, "/admin/dialogues/demo/publish", {}, "/admin/dialogues/demo")
    assert refused.status_code == 422
    page = shown(refused)
    assert "Not published: 'demo' has 4 problems. Fix what is listed below, then publish again." in page
    assert "4 problems to fix before publishing" in page
    assert "<code>flow.cards.greet.say</code>" in refused.text
    assert "<code>flow.cards.greet.buttons.0.goto</code>" in refused.text
    assert row(db, "demo").versions == [] and row(db, "demo").status == "draft"


def test_publishing_is_refused_when_a_scenario_of_the_document_fails(marketer: TestClient, db: Database) -> None:
    demo(db)
    failing = (
        DEMO + "tests:\n  - name: No thanks loops\n    answers: [No thanks]\n    expect: {path: [greet, bye, greet]}\n"
    )
    save(marketer, "demo", failing, 1)
    refused = post_form(marketer, "/admin/dialogues/demo/publish", {}, "/admin/dialogues/demo")
    assert refused.status_code == 422
    assert "<code>tests.0</code>" in refused.text
    assert "The test 'No thanks loops' fails: expected the path greet → bye → greet" in shown(refused)
    assert row(db, "demo").versions == []


# --- pause, resume, archive, clone ---------------------------------------------------------------------------------


def act(client: TestClient, key: str, action: str, data: dict[str, str] | None = None) -> Any:
    return post_form(client, f"/admin/dialogues/{key}/{action}", data or {}, f"/admin/dialogues/{key}")


def test_pause_resume_and_archive_buttons_change_the_state(marketer: TestClient, db: Database) -> None:
    demo(db, publish=True)
    editor = marketer.get("/admin/dialogues/demo")
    assert 'action="/admin/dialogues/demo/pause"' in editor.text
    assert 'action="/admin/dialogues/demo/resume"' not in editor.text

    assert act(marketer, "demo", "pause").headers["location"] == "/admin/dialogues/demo"
    assert row(db, "demo").status == "paused"
    paused = marketer.get("/admin/dialogues/demo")
    assert "'Demo' is paused: it is no longer shown." in shown(paused)
    assert 'action="/admin/dialogues/demo/resume"' in paused.text
    assert 'action="/admin/dialogues/demo/pause"' not in paused.text

    act(marketer, "demo", "resume")
    assert row(db, "demo").status == "published"
    assert "'Demo' is live again." in shown(marketer.get("/admin/dialogues/demo"))

    act(marketer, "demo", "archive")
    assert row(db, "demo").status == "archived"
    archived = marketer.get("/admin/dialogues/demo")
    assert "'Demo' is archived." in shown(archived)
    assert re.search(r"<textarea[^>]*readonly", archived.text), "read-only"
    assert "Save draft" not in archived.text and "Publish the saved draft" not in archived.text
    assert '<a href="/admin/dialogues/demo/versions/1">v1</a>' in archived.text, "its versions stay readable"


def test_pausing_a_draft_is_explained(marketer: TestClient, db: Database) -> None:
    demo(db)
    assert act(marketer, "demo", "pause").status_code == 303
    assert "'demo' is draft; only a published one can be paused." in shown(marketer.get("/admin/dialogues/demo"))
    assert row(db, "demo").status == "draft"


def test_an_archived_dialogue_cannot_be_saved_even_by_a_crafted_post(marketer: TestClient, db: Database) -> None:
    demo(db)
    act(marketer, "demo", "archive")
    response = save(marketer, "demo", DEMO.replace("Hi!", "Hello!"), 1)
    assert response.status_code == 409
    assert "'demo' is archived; clone it to edit a copy." in shown(response)
    assert row(db, "demo").draft["flow"]["cards"]["greet"]["say"] == "Hi!"


def test_the_clone_button_copies_the_draft_under_a_new_key(marketer: TestClient, db: Database) -> None:
    demo(db, publish=True)
    cloned = act(marketer, "demo", "clone", {"new_key": "demo-b"})
    assert cloned.status_code == 303
    assert cloned.headers["location"] == "/admin/dialogues/demo-b"
    editor = marketer.get("/admin/dialogues/demo-b")
    assert "Cloned as 'demo-b', a new draft." in shown(editor)
    copy = row(db, "demo-b")
    assert (copy.name, copy.status, copy.draft["key"]) == ("Demo (copy)", "draft", "demo-b")
    assert row(db, "demo").status == "published"


def test_cloning_to_a_key_in_use_is_explained(marketer: TestClient, db: Database) -> None:
    demo(db)
    create(db, {**load_yaml(DEMO)[0], "key": "taken"})
    refused = act(marketer, "demo", "clone", {"new_key": "taken"})
    assert refused.headers["location"] == "/admin/dialogues/demo"
    page = shown(marketer.get("/admin/dialogues/demo"))
    assert "Not cloned: A dialogue or flow with the key 'taken' exists already. In use." in page


# --- CSRF and who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/dialogues", {"key": "other", "name": "Other"}),
        ("/admin/dialogues/demo", {"document": DEMO.replace("Hi!", "Hello!"), "revision": "1"}),
        ("/admin/dialogues/demo/publish", {}),
        ("/admin/dialogues/demo/archive", {}),
        ("/admin/dialogues/demo/clone", {"new_key": "demo-b"}),
    ],
)
def test_every_form_needs_its_csrf_token(marketer: TestClient, db: Database, path: str, data: dict[str, str]) -> None:
    demo(db)
    without = marketer.post(path, data=data)
    assert without.status_code == 403
    assert "This form has expired or did not come from this site." in without.text
    forged = marketer.post(path, data={**data, "csrf_token": "forged"})
    assert forged.status_code == 403
    dialogue = row(db, "demo")
    assert (dialogue.revision, dialogue.status, dialogue.versions) == (1, "draft", [])
    assert [d.key for d in _all(db)] == ["demo"]


def test_an_agent_cannot_open_the_dialogues_page(client: TestClient, db: Database, personas: Personas) -> None:
    demo(db)
    sign_in(client, personas.bob)
    assert client.get("/admin/dialogues").status_code == 403
    assert client.get("/admin/dialogues/demo").status_code == 403
    assert post_form(client, "/admin/dialogues/demo/publish", {}).status_code == 403
    assert row(db, "demo").versions == []


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/admin/dialogues/demo")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/dialogues/demo"


def test_the_editor_keeps_the_yaml_as_written_comments_included(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    post_form(client, "/admin/dialogues", {"name": "Hello", "key": "hello"}, page="/admin/dialogues")
    written = (
        "# Greets every visitor.\nkey: hello\nname: Hello\nflow:\n  start: hi\n  cards:\n"
        "    hi: {say: Hello!, end: true}   # short and sweet\n"
    )
    editor = client.get("/admin/dialogues/hello").text
    revision = re.search(r'name="revision" value="(\d+)"', editor)
    assert revision
    saved = post_form(
        client,
        "/admin/dialogues/hello",
        {"document": written, "revision": revision.group(1)},
        page="/admin/dialogues/hello",
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    shown = client.get("/admin/dialogues/hello").text
    assert "# Greets every visitor." in shown and "# short and sweet" in shown
