"""Roles and the admin areas each role may open. The one table every page, API route and menu reads."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    marketer = "marketer"
    sales_admin = "sales_admin"
    agent = "agent"


class Area(StrEnum):
    dialogues = "dialogues"
    configuration = "configuration"
    calendar = "calendar"
    meetings = "meetings"
    routing = "routing"
    people = "people"
    programs = "programs"
    conversations = "conversations"
    reports = "reports"
    integrations = "integrations"
    users = "users"
    outbox = "outbox"


ROLE_LABELS: dict[Role, str] = {
    Role.admin: "Admin",
    Role.marketer: "Marketer",
    Role.sales_admin: "Sales admin",
    Role.agent: "Agent",
}

_ALL = frozenset(Role)

# Marketers build dialogues and read conversations and reports; sales admins run routing, agents and meetings; agents
# see their own calendar and meetings (the meetings issue narrows an agent's list to their own rows).
AREA_ROLES: dict[Area, frozenset[Role]] = {
    Area.dialogues: frozenset({Role.admin, Role.marketer}),
    Area.configuration: frozenset({Role.admin, Role.marketer}),
    Area.reports: frozenset({Role.admin, Role.marketer}),
    Area.people: frozenset({Role.admin, Role.marketer}),
    # Programs and static lists: who is in which campaign, at which status (marketing's work, as in Marketo).
    Area.programs: frozenset({Role.admin, Role.marketer}),
    Area.conversations: frozenset({Role.admin, Role.marketer}),
    Area.calendar: _ALL - {Role.marketer},
    Area.meetings: _ALL - {Role.marketer},
    Area.routing: frozenset({Role.admin, Role.sales_admin}),
    Area.integrations: frozenset({Role.admin}),
    Area.users: frozenset({Role.admin}),
    Area.outbox: frozenset({Role.admin}),
}


def can_open(role: Role | str, area: Area) -> bool:
    return Role(role) in AREA_ROLES[area]


def areas_for(role: Role | str) -> list[Area]:
    """The areas a role may open, in menu order."""
    return [area for area in Area if can_open(role, area)]
