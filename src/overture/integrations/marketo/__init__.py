"""Marketo: the connector, and its entry points as integrations/registry.py expects them (`NAME`, `LABEL`, the
connect `FORM`, `check_account`, `check_connection`, `open_client`, `describe`, and the field mapping's).

Its modules: client.py, the client (one method per REST call Overture makes, `rest_base_url`), over transport.py
(token, limits, retries, envelope) with limits.py (the limits it keeps), bulk.py (the bulk lead export),
schemas.py (Marketo's answers as pydantic models) and errors.py (what can go wrong, in words for a marketer);
mapping.py, Marketo's lead and company fields mapped to Overture's fields (pure); fake.py, a local fake of the
Marketo REST and Bulk APIs for tests, the demo and benchmarks (with fake_data.py, the generated data set;
fake_store.py, its records; fake_endpoints.py and fake_outbound.py, the REST endpoints; fake_bulk.py, the bulk lead
extract; fake_server.py, its HTTP server); sync.py, the inbound sync of leads and companies (initial by bulk export,
then lead changes), with csv_stream.py (the export file read as a stream), leads_import.py (leads and companies
applied to people), lead_changes.py and sync_models.py (what was synced, the checkpoints, the skipped records);
activities_import.py, Marketo activities in; sync_run.py, the sync run on the stored connection (the command line,
the periodic job, "Sync now"), and status.py, where it stands for the page. Every client of one instance in a
process shares its limits (`shared_limits`). More to come: the outbound writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from overture.errors import InvalidInput
from overture.integrations.accounts import Account, Check, ConnectForm, FormField, RemoteField, Stored, refused
from overture.integrations.marketo import mapping
from overture.integrations.marketo.client import MarketoClient, rest_base_url
from overture.integrations.marketo.errors import (
    AccessDenied,
    BadCredentials,
    MarketoFailure,
    MarketoUnreachable,
    WrongInstance,
)
from overture.integrations.marketo.limits import Limits
from overture.integrations.world import IntegrationWorld
from overture.people.fields import FieldSchema, FieldSpec

NAME = "marketo"
LABEL = "Marketo"
SUMMARY = (
    "Reads Marketo's leads, companies and activities into Overture through Marketo's REST and Bulk APIs, so "
    "dialogues can target what people did in Marketo. (Writing chat activity back to Marketo is not built yet.)"
)
FORM = ConnectForm(
    heading="Connect Marketo",
    intro=(
        "In Marketo's Admin > LaunchPoint, create a Custom service for Overture with an API-only user whose role may "
        "read and write leads, companies and activities, then copy its client id and client secret here (View "
        "Details). Give the instance by its Munchkin id or by its REST API endpoint (Admin > Web Services)."
    ),
    fields=(
        FormField(
            "munchkin_id",
            "Munchkin id",
            20,
            required=False,
            placeholder="123-ABC-456",
            about="Admin > Munchkin. Leave empty when you give the REST base URL.",
        ),
        FormField(
            "base_url",
            "REST base URL",
            300,
            kind="url",
            required=False,
            placeholder="https://123-ABC-456.mktorest.com",
            about="Admin > Web Services > REST API Endpoint, without /rest. Leave empty when you give the Munchkin id.",
        ),
        FormField("client_id", "Client id", 200, about="LaunchPoint > your Custom service > View Details."),
        FormField(
            "client_secret",
            "Client secret",
            500,
            kind="password",
            about="Shown in the same place. Overture keeps it encrypted and never shows it again.",
        ),
    ),  # fmt: skip
    button="Connect Marketo",
    hint="Overture signs in and reads Marketo's lead and company fields before it keeps anything.",
)
OBJECTS = dict(mapping.OBJECTS)


def _one_line(given: Mapping[str, str], name: str, what: str, limit: int, required: bool = True) -> str:
    value = given.get(name, "")
    value = value if name == "client_secret" else value.strip()
    if not value:
        if required:
            raise refused(LABEL, name, f"Enter the {what}.")
        return ""
    if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise refused(LABEL, name, f"The {what} must be one line of at most {limit} characters.")
    return value


def _instance(given: Mapping[str, str]) -> tuple[str, str, str]:
    """The instance as given: its REST base URL (checked when the client is made), the Munchkin id (or ""), and
    the form field it was given in."""
    munchkin = _one_line(given, "munchkin_id", "Munchkin id", 20, required=False)
    url = _one_line(given, "base_url", "REST base URL", 300, required=False)
    if not munchkin and not url:
        raise refused(LABEL, "munchkin_id", "Enter the Munchkin id (like 123-ABC-456) or the REST base URL.")
    try:
        from_munchkin = rest_base_url(munchkin) if munchkin else ""
    except InvalidInput as exc:
        raise refused(LABEL, "munchkin_id", exc.problems[0].message) from exc
    if from_munchkin and url and urlsplit(from_munchkin).hostname != (urlsplit(url).hostname or "").lower():
        raise refused(LABEL, "base_url", f"The REST base URL and the Munchkin id {munchkin.upper()} name different "
                                         "instances: give one of them.")  # fmt: skip
    return url or from_munchkin, munchkin.upper(), "base_url" if url else "munchkin_id"


def _fields(client: MarketoClient) -> tuple[RemoteField, ...]:
    """Every lead and company field: the sign-in and the reads that prove the account works."""
    client.authenticate()
    leads = client.describe_leads().fields
    companies = client.describe_companies().fields
    return tuple(
        RemoteField(object_, f.name, f.display_name, f.data_type, f.updateable)
        for object_, described in ((mapping.LEAD, leads), (mapping.COMPANY, companies))
        for f in described
    )


def _works(client: MarketoClient, fields: Sequence[RemoteField]) -> str:
    leads = sum(1 for f in fields if f.object == mapping.LEAD)
    return (f"Connected to Marketo at {client.host}: {leads} lead fields and {len(fields) - leads} company fields "
            "can be read.")  # fmt: skip


# The limits of each Marketo instance this process talks to (Marketo counts per instance: every client of one
# instance must share them), by (instance, clock): limits count on the clock they are given, so a client on
# another clock (a test's) keeps its own.
_LIMITS: dict[tuple[str, Callable[[], datetime]], Limits] = {}
_LIMITS_LOCK = threading.Lock()


def shared_limits(base_url: str, clock: Callable[[], datetime]) -> Limits:
    """The one `Limits` of the instance at `base_url` in this process, for clients on `clock`."""
    parts = urlsplit(base_url.strip())
    key = (f"{parts.scheme}://{parts.netloc}".lower(), clock)
    with _LIMITS_LOCK:
        limits = _LIMITS.get(key)
        if limits is None:
            limits = _LIMITS[key] = Limits()
        return limits


def _client(world: IntegrationWorld, base_url: str, client_id: str, client_secret: str) -> MarketoClient:
    limits = shared_limits(base_url, world.clock)
    return MarketoClient(base_url, client_id, client_secret, http=world.http, clock=world.clock, sleep=world.sleep,
                         limits=limits)  # fmt: skip


def check_account(world: IntegrationWorld, given: Mapping[str, str]) -> Account:
    """Signs in with the form's client id and secret and reads the lead and company fields (no transaction may be
    open: these are network calls). Raises InvalidInput saying exactly what failed, on the field at fault: bad
    credentials (client_secret), an API user without permission (client_id), a wrong instance or the network
    (the instance's field)."""
    base_url, munchkin, instance_field = _instance(given)
    client_id = _one_line(given, "client_id", "client id", 200)
    client_secret = _one_line(given, "client_secret", "client secret", 500)
    try:
        client = _client(world, base_url, client_id, client_secret)
    except InvalidInput as exc:  # the URL is not a REST base URL
        raise refused(LABEL, instance_field, exc.problems[0].message if exc.problems else exc.message) from exc
    try:
        fields = _fields(client)
    except BadCredentials as exc:
        raise refused(LABEL, "client_secret", exc.message) from exc
    except AccessDenied as exc:
        raise refused(LABEL, "client_id", exc.message) from exc
    except (WrongInstance, MarketoUnreachable) as exc:
        raise refused(LABEL, instance_field, exc.message) from exc
    except MarketoFailure as exc:
        raise refused(LABEL, "", exc.message) from exc
    settings = {"base_url": client.base_url, "munchkin_id": munchkin, "client_id": client_id}
    return Account(NAME, settings, {"client_secret": client_secret}, fields, _works(client, fields))


def open_client(world: IntegrationWorld, stored: Stored) -> MarketoClient:
    """The client of the stored connection; it shares its instance's limits with the process's other clients of
    that instance (`shared_limits`). Raises KeyError when the stored details lack a key."""
    settings, secret = stored.settings, stored.secret
    return _client(world, str(settings["base_url"]), str(settings["client_id"]), str(secret["client_secret"]))


def check_connection(world: IntegrationWorld, stored: Stored) -> Check:
    """Signs in and reads the fields again, as "Test connection" does; what failed is in the `Check`."""
    client = open_client(world, stored)
    try:
        fields = _fields(client)
    except MarketoFailure as exc:
        return Check(False, exc.message, failure=type(exc).__name__)
    return Check(True, _works(client, fields), fields)


def describe(settings: Mapping[str, Any]) -> str:
    """ "Marketo 123-ABC-456", or "Marketo at <host>" for an instance given by its URL."""
    if settings.get("munchkin_id"):
        return f"{LABEL} {settings['munchkin_id']}"
    return f"{LABEL} at {urlsplit(str(settings.get('base_url', ''))).hostname or settings.get('base_url', '?')}"


def propose_mapping(
    fields: Sequence[RemoteField], schema: FieldSchema, previous: Mapping[str, Mapping[str, str | None]]
) -> dict[str, dict[str, str | None]]:
    return mapping.propose(fields, schema, previous)


def check_mapping(
    given: Mapping[str, Mapping[str, str | None]],
    fields: Sequence[RemoteField],
    schema: FieldSchema,
    current: Mapping[str, Mapping[str, str | None]],
) -> dict[str, dict[str, str | None]]:
    return mapping.check(given, fields, schema, current)


def targets(field: RemoteField, schema: FieldSchema) -> list[FieldSpec]:
    return mapping.targets(field, schema)


def custom_field_for(field: RemoteField) -> FieldSpec:
    return mapping.custom_field_for(field)
