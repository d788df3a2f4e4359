"""Writing to Marketo: leads and companies upserted in batches of 300 with one result per record in order, the
custom activity types and activities of the chat, program statuses and static lists; and the faults a write meets
(606/615 backed off and the record written once, a 5xx retried only when repeating is harmless)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overture.integrations.marketo.errors import MarketoError
from overture.integrations.marketo.schemas import AttributeSpec, CustomActivity, CustomActivityTypeSpec

from .client_support import Clock, StartMarketo, calls_to, marketo

LEADS = "/rest/v1/leads.json"
AT = datetime(2025, 1, 15, 11, 30, tzinfo=UTC)
ENGAGED = CustomActivityTypeSpec(
    api_name="overtureEngagedDialogue",
    name="Engaged with a Dialogue",
    trigger_name="Engages with a Dialogue",
    filter_name="Engaged with a Dialogue",
    primary_attribute=AttributeSpec("dialogueName", "Dialogue Name"),
)


def test_leads_are_upserted_300_a_call_with_one_result_per_lead_in_order(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        existing = fake.add_lead(email="lead-0005@example.com", firstName="Old")
        leads = [{"email": f"lead-{i:04d}@example.com", "firstName": f"Lead {i}"} for i in range(650)]
        results = client.sync_leads(leads)
        assert calls_to(fake, LEADS) == 3
        assert len(results) == 650
        assert results[5].status == "updated" and results[5].id == existing
        assert {result.status for i, result in enumerate(results) if i != 5} == {"created"}
        assert [fake.lead(result.id or 0)["email"] for result in results[:3]] == [  # type: ignore[index]
            "lead-0000@example.com",
            "lead-0001@example.com",
            "lead-0002@example.com",
        ]
        assert fake.lead(existing)["firstName"] == "Lead 5"  # type: ignore[index]


def test_a_lead_marketo_skips_comes_back_skipped_with_its_reason_in_its_place(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        fake.add_lead(email="here@example.com")
        results = client.sync_leads([{"email": "new@example.com"}, {"email": "here@example.com"}], action="createOnly")
    assert [result.status for result in results] == ["created", "skipped"]
    assert [reason.code for reason in results[1].reasons] == ["1005"]


@pytest.mark.parametrize("code", ["606", "615"])
def test_a_rate_or_concurrency_refusal_is_waited_out_and_the_lead_written_once(
    start_marketo: StartMarketo, code: str
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.authenticate()
        fake.fail_next(code, times=2, path=LEADS)
        results = client.sync_leads([{"email": "once@example.com"}])
        assert [result.status for result in results] == ["created"]
        assert clock.sleeps == [2.0, 4.0]
        assert fake.lead_by_email("once@example.com") is not None
        assert calls_to(fake, LEADS) == 3


def test_a_refusal_that_lasts_past_the_attempts_says_so(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        client.authenticate()
        fake.fail_next("606", times=10, path=LEADS)
        with pytest.raises(MarketoError) as refused:
            client.sync_leads([{"email": "never@example.com"}])
    assert refused.value.code == "606"
    assert "(still after 6 attempts; try again later)" in refused.value.message
    assert refused.value.endpoint == "POST /rest/v1/leads.json"


def test_a_server_error_on_an_upsert_is_retried_and_the_lead_written_once(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.authenticate()
        fake.fail_http_next(502, path=LEADS)
        results = client.sync_leads([{"email": "gateway@example.com"}])
        assert [result.status for result in results] == ["created"]
        assert clock.sleeps == [2.0]


def test_a_server_error_on_adding_activities_is_reported_not_sent_again(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        lead = fake.add_lead(email="ann@example.com")
        client.authenticate()
        fake.fail_http_next(503, path="/rest/v1/activities/external.json")
        with pytest.raises(MarketoError) as refused:
            client.add_custom_activities([CustomActivity(lead, AT, 100001, "Pricing")])
        assert refused.value.code == "503"
        assert clock.sleeps == []


def test_a_server_error_on_a_read_is_retried(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        client.authenticate()
        fake.fail_http_next(500, times=2, path="describe2")
        assert client.describe_leads().fields


def test_companies_are_upserted_by_external_id_and_read_back_by_it(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        results = client.sync_companies([{"externalCompanyId": "ACME-1", "company": "Acme"}])
        again = client.sync_companies([{"externalCompanyId": "ACME-1", "company": "Acme Inc"}])
        found = list(client.get_companies("externalCompanyId", ["ACME-1"], ["company"]))
    assert [results[0].status, again[0].status] == ["created", "updated"]
    assert [company["company"] for company in found] == ["Acme Inc"]


def test_a_custom_activity_type_is_created_given_attributes_approved_and_listed(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (_, client):
        draft = client.create_custom_activity_type(ENGAGED)
        client.add_custom_activity_attributes(
            ENGAGED.api_name, [AttributeSpec("pageUrl", "Page URL", "link"), AttributeSpec("status", "Status")]
        )
        approved = client.approve_custom_activity_type(ENGAGED.api_name)
        listed = {found.api_name: found.status for found in client.custom_activity_types()}
        types = {found.name: found.id for found in client.activity_types()}
    assert draft.status == "draft"
    assert approved.status == "approved"
    assert listed == {"overtureEngagedDialogue": "approved"}
    assert types["Engaged with a Dialogue"] == approved.id


def test_custom_activities_are_added_and_one_for_an_unknown_lead_is_skipped_with_its_errors(
    start_marketo: StartMarketo,
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        lead = fake.add_lead(email="visitor@example.com")
        client.create_custom_activity_type(ENGAGED)
        client.add_custom_activity_attributes(ENGAGED.api_name, [AttributeSpec("pageUrl", "Page URL", "link")])
        type_id = client.approve_custom_activity_type(ENGAGED.api_name).id or 0
        results = client.add_custom_activities(
            [
                CustomActivity(lead, AT, type_id, "Pricing bot", {"pageUrl": "https://example.com/pricing"}),
                CustomActivity(999_999, AT, type_id, "Pricing bot"),
            ]
        )
        written = fake.custom_activities
    assert [result.status for result in results] == ["added", "skipped"]
    assert [error.code for error in results[1].errors] == ["1004"]
    assert len(written) == 1 and written[0]["leadId"] == lead


def test_program_statuses_are_set_and_a_lead_already_past_it_is_skipped(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann, bob = fake.add_lead(email="ann@example.com"), fake.add_lead(email="bob@example.com")
        client.set_program_status(1001, "Attended", [bob])
        results = client.set_program_status(1001, "Registered", [ann, bob])
        members = fake.program_members(1001)
    assert [result.status for result in results] == ["created", "skipped"]
    assert [reason.code for reason in results[1].reasons] == ["1037"]
    assert members == {ann: "Registered", bob: "Attended"}


def test_leads_are_added_to_and_removed_from_a_static_list(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann, bob = fake.add_lead(email="ann@example.com"), fake.add_lead(email="bob@example.com")
        added = client.add_to_list(2001, [ann, bob, 999_999])
        removed = client.remove_from_list(2001, [ann])
        members = fake.list_members(2001)
    assert [result.status for result in added] == ["added", "added", "skipped"]
    assert [result.status for result in removed] == ["removed"]
    assert members == {bob}


def test_an_activity_with_a_naive_date_is_refused_before_anything_is_sent(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        with pytest.raises(ValueError, match="activity_date must be an aware datetime"):
            client.add_custom_activities([CustomActivity(1, datetime(2025, 1, 15, 11, 30), 100001, "Pricing")])
        assert fake.calls == []
