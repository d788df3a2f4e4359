"""Signing in to Marketo and saying exactly what failed: the token kept and renewed, bad credentials, a role without
permission, a wrong instance, the network (refused, dropped, too slow), and "test connection"."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from overture.errors import InvalidInput
from overture.http import HttpClient
from overture.integrations.marketo.client import MarketoClient, check_connection, rest_base_url
from overture.integrations.marketo.errors import (
    AccessDenied,
    ConnectionDropped,
    MalformedAnswer,
    MarketoUnreachable,
    WrongInstance,
)
from overture.integrations.marketo.schemas import CustomActivity

from .client_support import Clock, StartMarketo, calls_to, marketo

TOKEN = "/identity/oauth/token"
DESCRIBE = "/rest/v1/leads/describe2.json"


def test_a_munchkin_id_gives_the_instance_s_rest_base_url() -> None:
    assert rest_base_url(" 123-abc-456 ") == "https://123-ABC-456.mktorest.com"


def test_a_malformed_munchkin_id_is_refused_with_what_one_looks_like() -> None:
    with pytest.raises(InvalidInput) as refused:
        rest_base_url("123ABC456")
    assert refused.value.problems[0].path == "munchkin_id"
    assert "like 123-ABC-456" in refused.value.message


def test_a_base_url_with_a_path_is_refused_and_a_trailing_rest_is_dropped() -> None:
    http = HttpClient()
    client = MarketoClient("https://123-ABC-456.mktorest.com/rest/", "id", "secret", http=http)
    assert client.base_url == "https://123-ABC-456.mktorest.com"
    with pytest.raises(InvalidInput) as refused:
        MarketoClient("https://123-ABC-456.mktorest.com/rest/v1/leads.json", "id", "secret", http=http)
    assert refused.value.problems[0].path == "base_url"


def test_one_token_serves_every_call_while_it_has_time_left(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.describe_leads()
        clock.advance(3000)
        client.describe_companies()
        client.activity_types()
        assert calls_to(fake, TOKEN) == 1


def test_a_token_with_under_a_minute_left_is_asked_for_again_once_and_kept_until_it_expires(
    start_marketo: StartMarketo,
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.describe_leads()
        clock.advance(3600 - 30)
        client.describe_leads()  # renewed: Marketo answers the same token with 30 s left
        client.describe_leads()  # that one is used, not asked for again
        assert calls_to(fake, TOKEN) == 2
        clock.advance(31)
        client.describe_leads()
        assert calls_to(fake, TOKEN) == 3


def test_an_expired_token_is_renewed_and_the_write_made_once(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.authenticate()
        fake.expire_tokens()
        results = client.sync_leads([{"email": "kat@example.com", "firstName": "Kat"}])
        assert calls_to(fake, TOKEN) == 2
        assert [result.status for result in results] == ["created"]
        assert fake.lead(results[0].id or 0) is not None
        assert fake.lead_by_email("kat@example.com") == fake.lead(results[0].id or 0)


def test_bad_credentials_are_reported_as_such_by_test_connection(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), client_secret="not the secret") as (_, client):
        report = check_connection(client)
    assert report.ok is False
    assert report.failure == "BadCredentials"
    assert report.message.startswith("Marketo refused the client id and client secret (Bad client credentials).")


def test_a_role_without_the_permission_is_access_denied_naming_what_was_refused(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        fake.fail_next("603", path="describe2")
        with pytest.raises(AccessDenied) as refused:
            client.describe_leads()
    assert refused.value.message.startswith(
        "Marketo did not let Overture read the lead fields: the API user's role lacks a permission (603"
    )


def test_a_host_name_that_does_not_exist_is_the_wrong_instance() -> None:
    client = MarketoClient(
        "http://no-such-instance.invalid", "id", "secret", http=HttpClient(allow_private=True, sleep=Clock().sleep)
    )
    report = check_connection(client)
    assert report.failure == "WrongInstance"
    assert report.message.startswith(
        "http://no-such-instance.invalid is not a Marketo REST API endpoint: the host name no-such-instance.invalid "
        "does not exist."
    )


class _Scripted(BaseHTTPRequestHandler):
    """A server that is not quite Marketo: `answers` maps a path to its (status, content type, body); any other path
    gets a web page."""

    answers: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        status, kind, body = self.answers.get(path, (200, "text/html", b"<html><body>Welcome</body></html>"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def _serve(answers: dict[str, tuple[int, str, bytes]]) -> Iterator[str]:
    handler = type("Handler", (_Scripted,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def website() -> Iterator[str]:
    """Any web server that is not Marketo: a page for every path, a 404 for the token endpoint."""
    yield from _serve({TOKEN: (404, "text/html", b"<html><body>Not found</body></html>")})


@pytest.fixture
def garbled() -> Iterator[str]:
    """A Marketo whose lead fields come without their types."""
    token = b'{"access_token":"abc:int","token_type":"bearer","expires_in":3599,"scope":"apis@example.com"}'
    fields = b'{"requestId":"1#1","success":true,"result":[{"name":"API Lead","fields":[{"name":"email"}]}]}'
    yield from _serve({TOKEN: (200, "application/json", token), DESCRIBE: (200, "application/json", fields)})


def test_a_web_server_that_is_not_marketo_is_the_wrong_instance(website: str) -> None:
    client = MarketoClient(website, "id", "secret", http=HttpClient(allow_private=True, sleep=Clock().sleep))
    with pytest.raises(WrongInstance) as refused:
        client.describe_leads()
    assert f"{website} is not a Marketo REST API endpoint: it answered /identity/oauth/token with HTTP 404" in str(
        refused.value
    )


def test_an_answer_out_of_the_documented_shape_is_a_clear_error_naming_the_endpoint(garbled: str) -> None:
    client = MarketoClient(garbled, "id", "secret", http=HttpClient(allow_private=True, sleep=Clock().sleep))
    with pytest.raises(MalformedAnswer) as refused:
        client.describe_leads()
    assert refused.value.message.startswith(
        "Marketo's answer to GET /rest/v1/leads/describe2.json was not what its API documents "
        "(fields.0.dataType: Field required)."
    )


def test_a_private_address_is_the_wrong_instance_unless_private_addresses_are_allowed() -> None:
    client = MarketoClient("http://127.0.0.1:9", "id", "secret", http=HttpClient())
    with pytest.raises(WrongInstance) as refused:
        client.authenticate()
    assert "is a private or local address" in refused.value.message


def test_a_port_nobody_listens_on_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    client = MarketoClient(
        f"http://127.0.0.1:{port}", "id", "secret", http=HttpClient(allow_private=True, sleep=clock.sleep)
    )
    report = check_connection(client)
    assert report.failure == "ConnectionDropped"
    assert report.message.startswith("Overture could not reach Marketo at 127.0.0.1: the connection failed")


def test_an_answer_slower_than_the_deadline_is_a_timeout_error(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), deadline=0.5) as (fake, client):
        client.authenticate()
        fake.slow_next(3.0)
        with pytest.raises(MarketoUnreachable) as failed:
            client.describe_leads()
        fake.release_slow()
    assert "it did not answer in time (0.5 s) to read the lead fields" in failed.value.message


def test_a_write_whose_answer_does_not_come_in_time_is_reported_not_sent_again(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, timeout=httpx2.Timeout(0.3, connect=5.0)) as (fake, client):
        client.authenticate()
        fake.slow_next(2.0)
        with pytest.raises(MarketoUnreachable) as failed:
            client.sync_leads([{"email": "late@example.com"}])
        fake.release_slow()
    assert not isinstance(failed.value, ConnectionDropped)
    assert failed.value.message.startswith("Overture could not reach Marketo at 127.0.0.1: it did not answer in time")
    assert clock.sleeps == []


def test_a_dropped_connection_on_a_read_is_sent_again(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        client.authenticate()
        fake.drop_next_connection()
        assert client.describe_leads().fields


def test_a_dropped_connection_on_an_upsert_is_sent_again_and_the_lead_written_once(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        client.authenticate()
        fake.drop_next_connection()
        results = client.sync_leads([{"email": "lee@example.com"}])
        assert [result.status for result in results] == ["created"]
        assert clock.sleeps == [2.0]


def test_a_dropped_connection_on_adding_activities_is_reported_not_sent_again(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        lead = fake.add_lead(email="ann@example.com")
        client.authenticate()
        fake.drop_next_connection()
        activity = CustomActivity(lead, datetime(2025, 1, 15, 11, 0, tzinfo=UTC), 100001, "Pricing")
        with pytest.raises(ConnectionDropped):
            client.add_custom_activities([activity])
        assert clock.sleeps == []


def test_test_connection_reports_the_lead_fields_it_can_read(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (_, client):
        report = check_connection(client)
        fields = len(client.describe_leads().fields)
    assert report.ok is True
    assert report.message == f"Connected to Marketo at 127.0.0.1: {fields} lead fields can be read."
