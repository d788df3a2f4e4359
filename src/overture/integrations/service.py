"""Connecting an integration (integrations/registry.py): check the account, store what passed with its secret
sealed, test the connection again, map its fields, disconnect.

Connecting is two steps, so that no network call ever happens inside a database transaction:

1. `check_account` checks the account over the network with the module's `check_account` and returns an
   `Account`, what to store. A wrong id, secret or instance raises InvalidInput saying exactly what failed, on
   the field at fault: nothing is stored. Call it with no transaction open.
2. `connect` stores it as the integration's one connection: its settings, its secret sealed with `SECRETS` (never
   in clear: not in the database, not in a log), the remote fields it read and the proposed field mapping (the
   admin's earlier choices kept where they still fit).

"Test connection" is three: `stored` (read), `check_again` (network, no transaction), `record_check` (write).

**Every job of an integration checks its status before working**: the inbound sync, the outbound writes and any
later job open their client with `connected_client` (or `stored` and the module's `open_client`), which answer
None unless the integration is connected. `disconnect` marks it disconnected and forgets the secret at once, so a
job that starts afterwards finds nothing to work with and one that is running fails its next sign-in. The
settings and the mapping are kept, for the next connect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture import sealing
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.integrations.accounts import Account, Check, RemoteField, Stored
from overture.integrations.models import CONNECTED, DISCONNECTED, IntegrationConnection
from overture.integrations.registry import INTEGRATIONS, FieldMapping, IntegrationModule
from overture.integrations.world import IntegrationWorld
from overture.people import custom_fields
from overture.people.fields import FieldSchema, FieldSpec

SECRETS = b"overture integration secrets v1"  # the sealing context of integration secrets


def module_of(name: str) -> IntegrationModule:
    """The integration `name`. Raises NotFound when Overture has none of that name."""
    module = INTEGRATIONS.get(name)
    if module is None:
        raise NotFound(f"There is no integration named {name!r}. Overture knows: {', '.join(INTEGRATIONS)}.")
    return module


def find(session: Session, name: str) -> IntegrationConnection | None:
    """The integration's connection row, connected or not (None: never connected)."""
    return session.scalar(select(IntegrationConnection).where(IntegrationConnection.name == name))


def is_connected(session: Session, name: str) -> bool:
    """Whether the integration is connected now: what a job asks before each step of its work."""
    return session.scalar(select(IntegrationConnection.status).where(IntegrationConnection.name == name)) == CONNECTED


def connected(session: Session, name: str) -> IntegrationConnection:
    """The integration's connection. Raises Conflict when it is not connected."""
    row = find(session, name)
    if row is None or row.status != CONNECTED:
        raise Conflict(f"{module_of(name).LABEL} is not connected. Connect it first.")
    return row


def field_schema(session: Session) -> FieldSchema:
    """Overture's fields as a mapping may use them: the built-in ones and the custom fields in use."""
    return FieldSchema.builtin(custom_fields.active_specs(session))


def remote_fields(row: IntegrationConnection) -> list[RemoteField]:
    """The other system's fields as last read, object by object."""
    return [
        RemoteField.of(object_, stored) for object_, fields in (row.remote_fields or {}).items() for stored in fields
    ]


def _stored_fields(fields: tuple[RemoteField, ...] | list[RemoteField]) -> dict[str, list[dict[str, object]]]:
    grouped: dict[str, list[dict[str, object]]] = {}
    for field in fields:
        grouped.setdefault(field.object, []).append(field.as_json())
    return grouped


# --- connecting ----------------------------------------------------------------------------------------------------


def check_account(world: IntegrationWorld, name: str, given: Mapping[str, str]) -> Account:
    """The account the form's fields name, checked over the network (see the module doc, step 1)."""
    return module_of(name).check_account(world, given)


def connect(session: Session, account: Account, *, by: str, now: datetime, secret_key: str) -> IntegrationConnection:
    """Stores a checked `account` as its integration's connection (step 2): connected by `by` (a user's email, or
    "command line") at `now`, the secret sealed, the fields it read and the proposed mapping."""
    module = module_of(account.integration)
    schema = field_schema(session)  # read first: a new row must not be flushed half-filled
    row = find(session, account.integration)
    if row is None:
        row = IntegrationConnection(name=account.integration, mapping={}, remote_fields={})
        session.add(row)
    previous = row.mapping or {}
    row.status = CONNECTED
    row.settings = dict(account.settings)
    row.secret = sealing.seal(secret_key, SECRETS, account.secret)
    row.remote_fields = _stored_fields(account.fields)
    row.mapping = module.propose_mapping(account.fields, schema, previous)
    row.connected_by, row.connected_at = by[:320], now
    row.disconnected_at = row.disconnected_by = None
    row.checked_at, row.check_ok, row.check_message = now, True, account.message[:1000]
    session.flush()
    return row


def stored(session: Session, name: str, secret_key: str) -> Stored | None:
    """What the module opens a client from, its secret unsealed; None unless the integration is connected. Raises
    Conflict when the secret cannot be unsealed (the instance's secret key changed)."""
    row = find(session, name)
    if row is None or row.status != CONNECTED or row.secret is None:
        return None
    try:
        secret = sealing.unseal(secret_key, SECRETS, row.secret)
    except sealing.Unreadable:
        label = module_of(name).LABEL
        raise Conflict(
            f"Overture can no longer read the stored secret of {label} (the instance's secret key changed). "
            f"Connect {label} again."
        ) from None
    return Stored(dict(row.settings or {}), secret)


def connected_client(session: Session, world: IntegrationWorld, name: str) -> object | None:
    """The client of the integration's connection, ready for a job; None unless it is connected (every job checks
    this before working). The module's `open_client` says the client's type (Marketo: a MarketoClient). Raises
    Conflict when the stored details cannot be read or are incomplete."""
    found = stored(session, name, world.secret_key)
    if found is None:
        return None
    module = module_of(name)
    try:
        return module.open_client(world, found)
    except KeyError:
        raise Conflict(f"The stored details of {module.LABEL} are incomplete. Connect {module.LABEL} again.") from None


def check_again(world: IntegrationWorld, name: str, found: Stored) -> Check:
    """ "Test connection": the stored connection checked over the network (no transaction open)."""
    try:
        return module_of(name).check_connection(world, found)
    except KeyError:
        label = module_of(name).LABEL
        return Check(False, f"The stored details of {label} are incomplete. Connect {label} again.", failure="Stored")


def record_check(session: Session, name: str, check: Check, now: datetime) -> IntegrationConnection:
    """Keeps the result of `check_again`; when it worked, the fields read then (fields added in the other system
    get a proposed mapping, the admin's choices are kept). Raises Conflict when the integration was disconnected
    meanwhile."""
    row = connected(session, name)
    row.checked_at, row.check_ok, row.check_message = now, check.ok, check.message[:1000]
    if check.ok and check.fields:
        row.remote_fields = _stored_fields(check.fields)
        row.mapping = module_of(name).propose_mapping(check.fields, field_schema(session), row.mapping or {})
    session.flush()
    return row


def disconnect(session: Session, name: str, *, by: str, now: datetime) -> IntegrationConnection:
    """Marks the integration disconnected and forgets its secret: every job stops (see the module doc). The
    settings and the mapping stay for the next connect. Raises Conflict when it is not connected."""
    row = connected(session, name)
    row.status, row.secret = DISCONNECTED, None
    row.disconnected_at, row.disconnected_by = now, by[:320]
    session.flush()
    return row


# --- the field mapping ---------------------------------------------------------------------------------------------


def set_mapping(session: Session, name: str, given: Mapping[str, Mapping[str, str | None]]) -> FieldMapping:
    """Saves the admin's edit of the mapping: the rows `given` (each remote field: an Overture field, or None: not
    synced); the rows not given keep theirs. Raises InvalidInput naming each wrong row (path "object.name"),
    Conflict when the integration is not connected."""
    row = connected(session, name)
    mapped = module_of(name).check_mapping(given, remote_fields(row), field_schema(session), row.mapping or {})
    row.mapping = mapped
    session.flush()
    return mapped


def make_custom_field(session: Session, name: str, object_: str, field_name: str, now: datetime) -> FieldSpec:
    """Makes an Overture custom field for the unmapped remote field `object_`.`field_name` (a fitting type, its
    label) and maps the field to it. An existing custom field of that name is used when its type fits. Raises
    InvalidInput for an unknown field, Conflict when it is mapped already or the name is taken by a field that does
    not fit."""
    row = connected(session, name)
    module = module_of(name)
    path = f"{object_}.{field_name}"
    field = next((f for f in remote_fields(row) if f.object == object_ and f.name == field_name), None)
    if field is None:
        message = f"{module.LABEL} has no {object_} field named {field_name!r}."
        raise InvalidInput(message, [Problem(path, message)])
    mapping = {key: dict(value) for key, value in (row.mapping or {}).items()}
    current = mapping.get(object_, {}).get(field_name)
    if current:
        raise Conflict(f"{field.label or field.name} is mapped to {current} already: choose Not synced first.",
                       [Problem(path, f"Mapped to {current} already.")])  # fmt: skip
    spec = module.custom_field_for(field)
    existing = custom_fields.find(session, spec.name)
    if existing is None:
        custom_fields.add(session, spec.name, spec.label, spec.type.value, now=now)
    schema = field_schema(session)
    made = schema.get(spec.name)
    if made is None or made not in module.targets(field, schema):
        raise Conflict(
            f"There is already a field {spec.name} that {field.label or field.name} cannot map to (retired, or of "
            "another type): map the field by hand, or rename that one.",
            [Problem(path, f"{spec.name} exists and does not fit.")],
        )
    taken = {target for target in mapping.get(object_, {}).values() if target}
    if spec.name in taken:
        raise Conflict(f"{spec.name} is mapped from another {object_} field already.",
                       [Problem(path, f"{spec.name} is taken.")])  # fmt: skip
    mapping.setdefault(object_, {})[field_name] = spec.name
    row.mapping = mapping
    session.flush()
    return made
