"""The integrations, by name: the one table of them (healthchecks' `TRANSPORTS`, like calendars/registry.py).

Each integration is one module or package of integrations/ with the same entry points (`IntegrationModule`, which
mypy checks every entry of `MODULES` against). Adding one is its module and one line in `MODULES`; the service,
the Integrations pages, the CLI and the jobs find it here and name it nowhere else.

An integration's `NAME` is its key here and the value stored in `integration_connections.name`: never change it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from overture.integrations import marketo
from overture.integrations.accounts import Account, Check, ConnectForm, RemoteField, Stored
from overture.integrations.world import IntegrationWorld
from overture.people.fields import FieldSchema, FieldSpec

# What is synced: for each object of the other system ("lead"), each of its fields by API name, mapped to an
# Overture field ("person.email") or None (not synced).
FieldMapping = dict[str, dict[str, str | None]]


class IntegrationModule(Protocol):
    """What every integration module defines."""

    NAME: str
    LABEL: str  # for people: "Marketo"
    SUMMARY: str  # one sentence: what connecting it does
    FORM: ConnectForm  # the fields an admin fills in, with their help
    OBJECTS: dict[str, str]  # the other system's objects whose fields are mapped, with their labels

    def check_account(self, world: IntegrationWorld, given: Mapping[str, str]) -> Account:
        """Checks the account over the network, with no transaction open, and returns what to store. `given` is
        the form's fields. Raises InvalidInput naming the field at fault (and saying exactly what failed)."""
        ...

    def check_connection(self, world: IntegrationWorld, stored: Stored) -> Check:
        """Checks a stored connection again over the network (no transaction open). Never raises for what the
        other system answers: the `Check` says it."""
        ...

    def open_client(self, world: IntegrationWorld, stored: Stored) -> object:
        """The client of a stored connection, ready for the jobs (no network call yet). A missing key of the stored
        settings or secret raises KeyError."""
        ...

    def describe(self, settings: Mapping[str, Any]) -> str:
        """The connection in a few words, from its stored settings: "Marketo 123-ABC-456"."""
        ...

    def propose_mapping(
        self, fields: Sequence[RemoteField], schema: FieldSchema, previous: Mapping[str, Mapping[str, str | None]]
    ) -> FieldMapping:
        """Every remote field mapped to an Overture field or None, by name and type; the `previous` choices of the
        admin are kept where they still fit."""
        ...

    def check_mapping(
        self,
        given: Mapping[str, Mapping[str, str | None]],
        fields: Sequence[RemoteField],
        schema: FieldSchema,
        current: Mapping[str, Mapping[str, str | None]],
    ) -> FieldMapping:
        """The mapping after an admin's edit of the rows `given` (the others keep theirs in `current`), checked.
        Raises InvalidInput with a problem per wrong row (path "object.name")."""
        ...

    def targets(self, field: RemoteField, schema: FieldSchema) -> list[FieldSpec]:
        """The Overture fields `field` may map to (its object's side, a type that fits)."""
        ...

    def custom_field_for(self, field: RemoteField) -> FieldSpec:
        """The Overture custom field to make for an unmapped remote field: its name, a fitting type, its label."""
        ...


# One line an integration: its module (mypy checks each against IntegrationModule).
MODULES: tuple[IntegrationModule, ...] = (marketo,)
INTEGRATIONS: dict[str, IntegrationModule] = {module.NAME: module for module in MODULES}


def find(name: str) -> IntegrationModule | None:
    return INTEGRATIONS.get(name)


def pattern() -> str:
    """A regular expression that matches exactly one integration's name (a path parameter naming one)."""
    return "^(" + "|".join(INTEGRATIONS) + ")$"
