"""Reading from Marketo page by page: leads and companies by filter (300 values a call, long lists sent as a form
post, pages followed by token), the field descriptions, and activities and lead changes from a paging token, every
page handed over with the token to resume after it, empty pages included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .client_support import START, Clock, StartMarketo, calls_to, marketo

LEADS = "/rest/v1/leads.json"
ACTIVITIES = "/rest/v1/activities.json"
VISIT, FORM, OPEN_EMAIL = 1, 2, 10


def test_the_lead_fields_are_described_with_their_types_and_the_searchable_ones(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (_, client):
        described = client.describe_leads()
    email = next(found for found in described.fields if found.name == "email")
    assert (email.display_name, email.data_type, email.updateable) == ("Email Address", "email", True)
    assert ["email"] in described.searchable_fields


def test_the_company_fields_are_described_with_their_dedupe_field(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (_, client):
        described = client.describe_companies()
    assert described.dedupe_fields == ["externalCompanyId"]
    assert "company" in {found.name for found in described.fields}


def test_leads_by_email_are_asked_for_300_a_call_and_all_found(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        emails = [f"p{i}@example.com" for i in range(650)]
        for email in emails:
            fake.add_lead(email=email)
        found = list(client.get_leads("email", emails, ["email", "firstName"]))
        assert calls_to(fake, LEADS) == 3
    assert sorted(lead["email"] for lead in found) == sorted(emails)  # type: ignore[type-var]


def test_a_read_whose_url_would_pass_8_kb_is_sent_as_a_form_post(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        emails = [f"someone.with.a.rather.long.name.{i:04d}@example.com" for i in range(300)]
        for email in emails[:10]:
            fake.add_lead(email=email)
        found = list(client.get_leads("email", emails))
        assert [method for method, path in fake.calls if path == LEADS] == ["POST"]
    assert sorted(lead["email"] for lead in found) == emails[:10]  # type: ignore[type-var]


def test_a_filter_matching_more_than_a_page_is_read_page_after_page(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=700) as (fake, client):
        found = list(client.get_leads("leadPartitionId", ["1"], ["email"]))
        assert calls_to(fake, LEADS) == 3
    assert sorted(lead["id"] for lead in found) == list(range(1, 701))  # type: ignore[type-var]


def test_a_filter_value_with_a_comma_is_refused_before_anything_is_sent(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        with pytest.raises(ValueError, match="without commas"):
            list(client.get_leads("email", ["a@example.com", "b,c@example.com"]))
        assert fake.calls == []


def test_activities_are_read_through_empty_pages_until_marketo_says_there_are_no_more(
    start_marketo: StartMarketo,
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com")
        for minute in range(8):
            fake.add_activity(ann, VISIT, START - timedelta(minutes=60 - minute), "https://example.com/")
        opened = [fake.add_activity(ann, OPEN_EMAIL, START - timedelta(minutes=30 - i), "Webinar") for i in range(2)]
        fake.activity_window = 3
        token = client.paging_token(START - timedelta(days=1))
        pages = list(client.activities(token, [OPEN_EMAIL]))
    assert [len(page.items) for page in pages] == [0, 0, 1, 1]
    assert [page.more for page in pages] == [True, True, True, False]
    assert [item.id for page in pages for item in page.items] == opened
    assert all(page.next_page_token for page in pages)


def test_reading_from_a_page_s_token_resumes_right_after_that_page(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=40) as (fake, client):
        fake.activity_window = 20
        token = client.paging_token(START - timedelta(days=90))
        pages = list(client.activities(token, [VISIT, FORM, OPEN_EMAIL]))
        resumed = list(client.activities(pages[1].next_page_token, [VISIT, FORM, OPEN_EMAIL]))
    every = [item.marketo_guid for page in pages for item in page.items]
    after_second = [item.marketo_guid for page in pages[2:] for item in page.items]
    assert len(pages) > 3 and len(every) == len(set(every)) > 0
    assert [item.marketo_guid for page in resumed for item in page.items] == after_second


def test_activities_are_read_for_the_leads_asked_for_only(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann, bob = fake.add_lead(email="ann@example.com"), fake.add_lead(email="bob@example.com")
        fake.add_activity(ann, FORM, START - timedelta(hours=2), "Contact us")
        fake.add_activity(bob, FORM, START - timedelta(hours=1), "Contact us")
        token = client.paging_token(START - timedelta(days=1))
        pages = list(client.activities(token, [FORM], lead_ids=[bob]))
    assert [item.lead_id for page in pages for item in page.items] == [bob]


def test_more_than_ten_activity_types_or_thirty_leads_are_refused_before_anything_is_sent(
    start_marketo: StartMarketo,
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        with pytest.raises(ValueError, match="Marketo takes 1 to 10 type_ids a call, not 11"):
            next(client.activities("TOKEN", list(range(1, 12))))
        with pytest.raises(ValueError, match="Marketo takes 1 to 30 lead_ids a call, not 31"):
            next(client.activities("TOKEN", [VISIT], lead_ids=list(range(1, 32))))
        assert fake.calls == []


def test_lead_changes_carry_the_new_and_old_values_of_the_fields_asked_for(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", firstName="Ann", title="Engineer")
        fake.change_lead(ann, START - timedelta(hours=1), title="CTO")
        fake.change_lead(ann, START - timedelta(minutes=30), firstName="Anne")
        token = client.paging_token(START - timedelta(days=1))
        changes = [change for page in client.lead_changes(token, ["title"]) for change in page.items]
    assert [(change.lead_id, [(f.name, f.old_value, f.new_value) for f in change.fields]) for change in changes] == [
        (ann, [("title", "Engineer", "CTO")])
    ]


def test_a_paging_token_needs_an_aware_time(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (_, client):
        with pytest.raises(ValueError, match="since must be an aware datetime"):
            client.paging_token(START.replace(tzinfo=None))
