"""What an automation can do: one registry of action kinds, found by the action's `type` (as calendar providers are
found by name in calendars/registry.py). Integrations add their own kinds with `register`.

Every kind does its work in the run's transaction: program statuses, lists and fields are written there, and what
leaves Overture (mail, webhooks, chat posts) is a row of an outbox written there, sent by its own job. So an
action and the run's record commit together: a crash before the commit does neither (the run is read again and
done once), a crash after it leaves both.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.dialogues.models import Dialogue
from overture.errors import OvertureError
from overture.mail.schemas import NewMessage
from overture.mail.service import enqueue
from overture.people.directory import display_name
from overture.people.fields import FieldSpec
from overture.people.import_values import parse_value
from overture.people.models import Company, Person
from overture.people.service import field_schema, set_field
from overture.programs import lists as program_lists
from overture.programs import service as programs
from overture.programs.models import Program, ProgramStatus, StaticList
from overture.programs.source import Source
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User
from overture.webhooks import service as webhooks
from overture.webhooks.models import WebhookEndpoint


class ActionFailed(Exception):
    """An action could not be done; its message says why, for the run's log."""


@dataclass
class Run:
    """What an action is given: the run's transaction and the activity it acts on, with its person and company."""

    session: Session
    now: datetime
    automation_id: int
    automation_name: str
    activity: Activity
    person: Person | None
    company: Company | None
    base_url: str
    index: int = 0  # the action's place in the automation (idempotent ids of what it queues)

    @property
    def who(self) -> str:
        if self.person is None:
            return "nobody (the activity has no person)"
        return display_name(self.person)

    def needs_person(self) -> Person:
        if self.person is None:
            raise ActionFailed("The activity has no person to act on.")
        return self.person

    @property
    def source(self) -> Source:
        return Source.automation(self.automation_id)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ActionKind:
    """One kind of action. `check` returns what is wrong with params that parse (a program that does not exist...),
    `plan` says what the action would do without doing it (the Automations page's test), `act` does it in the
    run's transaction and says what it did, or raises ActionFailed."""

    type: str
    label: str
    params: builtins.type[Params]
    check: Callable[[Session, Any], list[str]]
    plan: Callable[[Run, Any], str]
    act: Callable[[Run, Any], str]


ACTIONS: dict[str, ActionKind] = {}


def register(kind: ActionKind) -> ActionKind:
    """Adds a kind of action (integrations call it for theirs). A type is registered once."""
    if kind.type in ACTIONS:
        raise ValueError(f"The action type {kind.type} is registered already.")
    ACTIONS[kind.type] = kind
    return kind


def parse(data: dict[str, Any]) -> tuple[ActionKind, Params]:
    """The kind and params of an action as stored or given. Raises ValueError naming what is wrong."""
    kind = ACTIONS.get(str(data.get("type", "")))
    if kind is None:
        raise ValueError(f"'{data.get('type')}' is not an action: use one of {', '.join(ACTIONS)}.")
    fields = {key: value for key, value in data.items() if key != "type"}
    try:
        return kind, kind.params.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: {first['msg']}" if where else first["msg"]) from error


# --- programs and lists ---------------------------------------------------------------------------------------------


class ProgramStatusParams(Params):
    program: int = Field(ge=1, description="The program's id.")
    status: str = Field(min_length=1, max_length=60, description="One of the program's statuses, by name.")
    only_forward: bool = Field(default=True, description="Never move a member back to an earlier status.")


def _program(session: Session, program_id: int) -> Program | None:
    return session.get(Program, program_id)


def _check_program_status(session: Session, params: ProgramStatusParams) -> list[str]:
    program = _program(session, params.program)
    if program is None:
        return [f"There is no program with id {params.program}."]
    try:
        programs.find_status(session, program, params.status)
    except OvertureError as error:
        return [error.problems[0].message if error.problems else error.message]
    return []


def _plan_program_status(run: Run, params: ProgramStatusParams) -> str:
    program = _program(run.session, params.program)
    if program is None:
        return f"Would fail: there is no program with id {params.program}."
    member = programs.member_of(run.session, program.id, run.person.id) if run.person else None
    current = run.session.get(ProgramStatus, member.status_id) if member is not None else None
    now = "not a member yet" if current is None else f"now: {current.name}"
    return f"Would set {run.who}'s status in {program.name} to {params.status} ({now})."


def _act_program_status(run: Run, params: ProgramStatusParams) -> str:
    program = _program(run.session, params.program)
    if program is None:
        raise ActionFailed(f"There is no program with id {params.program} (deleted?).")
    try:
        change = programs.set_program_status(
            run.session, program, run.needs_person(), params.status, run.source, run.now, params.only_forward
        )
    except OvertureError as error:
        raise ActionFailed(error.message) from error
    return f"{program.name}: {change.outcome} ({change.status.name})."


class ListParams(Params):
    list: int = Field(ge=1, description="The static list's id.")


def _list(session: Session, list_id: int) -> StaticList | None:
    return session.get(StaticList, list_id)


def _check_list(session: Session, params: ListParams) -> list[str]:
    return [] if _list(session, params.list) else [f"There is no list with id {params.list}."]


def _list_action(adding: bool) -> tuple[Callable[[Run, ListParams], str], Callable[[Run, ListParams], str]]:
    verb = "add" if adding else "remove"

    def plan(run: Run, params: ListParams) -> str:
        row = _list(run.session, params.list)
        if row is None:
            return f"Would fail: there is no list with id {params.list}."
        member = program_lists.is_member(run.session, row.id, run.person.id) if run.person else False
        return (
            f"Would {verb} {run.who} {'to' if adding else 'from'} {row.name} ({'a' if member else 'not a'} member now)."
        )

    def act(run: Run, params: ListParams) -> str:
        row = _list(run.session, params.list)
        if row is None:
            raise ActionFailed(f"There is no list with id {params.list} (deleted?).")
        change = program_lists.add_to_list if adding else program_lists.remove_from_list
        return f"{row.name}: {change(run.session, row, run.needs_person(), run.source, run.now)}."

    return plan, act


# --- a person's field ----------------------------------------------------------------------------------------------


class SetFieldParams(Params):
    field: str = Field(pattern=r"^(person|company)\.[a-z0-9_]+$", description="A person or company field.")
    value: Any = Field(description="The value to write, of the field's type.")


def _parsed(spec: FieldSpec, value: Any) -> Any:
    """The value to store, checked as an imported cell is (people/import_values.py). Raises ValueError."""
    raw = ("true" if value else "false") if isinstance(value, bool) else "" if value is None else str(value).strip()
    if not raw:
        raise ValueError("needs a value (to empty a field, no automation is needed)")
    return parse_value(spec, raw)


def _check_set_field(session: Session, params: SetFieldParams) -> list[str]:
    spec = field_schema(session).get(params.field)
    if spec is None:
        return [f"{params.field} is not a field."]
    if not spec.writable:
        return [f"{params.field} is read-only."]
    try:
        _parsed(spec, params.value)
    except ValueError as error:
        return [f"{params.field}: {error}"]
    return []


def _plan_set_field(run: Run, params: SetFieldParams) -> str:
    return f"Would set {params.field} of {run.who} to {params.value!r}."


def _act_set_field(run: Run, params: SetFieldParams) -> str:
    spec = field_schema(run.session).get(params.field)
    if spec is None or not spec.writable:
        raise ActionFailed(f"{params.field} is not a field that can be written (retired?).")
    try:
        value = _parsed(spec, params.value)
    except ValueError as error:
        raise ActionFailed(f"{params.field}: {error}") from error
    set_field(run.session, run.needs_person(), params.field, value, run.now)
    return f"{params.field} set to {value!r}."


# --- notify by email -------------------------------------------------------------------------------------------------


class NotifyParams(Params):
    to: Literal["account_owner", "booked_agent", "user", "address"] = Field(
        description="The account owner (company.owner), the agent of the person's meeting, a user, or an address."
    )
    user: int | None = Field(default=None, ge=1, description="With to=user: the user's id.")
    address: EmailStr | None = Field(default=None, description="With to=address: the address.")
    note: str = Field(default="", max_length=1000, description="A line put first in the message.")


def _check_notify(session: Session, params: NotifyParams) -> list[str]:
    if params.to == "user":
        if params.user is None:
            return ["to=user needs the user's id in user."]
        if session.get(User, params.user) is None:
            return [f"There is no user with id {params.user}."]
    if params.to == "address" and params.address is None:
        return ["to=address needs an address."]
    return []


def _meeting_of(run: Run) -> Meeting | None:
    """The activity's meeting (a meeting activity names it), else the person's latest booked one."""
    public_id = (run.activity.attributes or {}).get("meeting")
    if public_id:
        found = run.session.scalar(select(Meeting).where(Meeting.public_id == str(public_id)))
        if found is not None:
            return found
    if run.person is None:
        return None
    return run.session.scalar(
        select(Meeting).where(Meeting.person_id == run.person.id).order_by(Meeting.created_at.desc()).limit(1)
    )


def _recipient(run: Run, params: NotifyParams) -> str:
    match params.to:
        case "address":
            return str(params.address)
        case "user":
            user = run.session.get(User, params.user)
            if user is None or not user.is_active:
                raise ActionFailed(f"The user {params.user} is gone or deactivated.")
            return user.email
        case "account_owner":
            owner = run.company.owner if run.company is not None else None
            if not owner:
                raise ActionFailed(f"{run.who} has no account owner (company.owner is empty).")
            return owner
        case _:
            meeting = _meeting_of(run)
            agent = run.session.get(Agent, meeting.agent_id) if meeting is not None else None
            user = run.session.get(User, agent.user_id) if agent is not None else None
            if user is None:
                raise ActionFailed(f"{run.who} has no meeting booked with an agent.")
            return user.email


def summary(session: Session, activity: Activity) -> str:
    """The activity in a few words: its type and what it names (the goal, the field, the link...)."""
    attributes = activity.attributes or {}
    named = [
        f"{key} {attributes[key]}" for key in ("goal", "field", "url", "status", "program", "list") if key in attributes
    ]
    dialogue = session.get(Dialogue, activity.dialogue_id) if activity.dialogue_id is not None else None
    if dialogue is not None:
        named.append(f"in {dialogue.name}")
    return " ".join([activity.type, *named])


def message(run: Run, note: str) -> tuple[str, str]:
    """The subject and text of a notification: the person, company, what happened and where to read it."""
    person, base = run.person, run.base_url.rstrip("/")
    company = run.company.name if run.company is not None and run.company.name else None
    subject = f"{run.automation_name}: {run.who}" + (f" ({company})" if company else "")
    lines = [note] if note else []
    lines += [
        f"Person: {run.who}" + (f" <{person.email}>" if person is not None and person.email else ""),
        f"Company: {company or 'unknown'}",
        f"What happened: {summary(run.session, run.activity)}, {run.activity.occurred_at:%Y-%m-%d %H:%M} UTC",
    ]
    conversation = run.session.get(Conversation, run.activity.conversation_id) if run.activity.conversation_id else None
    if conversation is not None:
        lines.append(f"Transcript: {base}/admin/conversations/{conversation.public_id}")
    if person is not None:
        lines.append(f"Their page: {base}/admin/people/{person.id}")
    lines += ["", f'Sent by the automation "{run.automation_name}" of Overture.']
    return subject, "\n".join(lines)


def _plan_notify(run: Run, params: NotifyParams) -> str:
    try:
        to = _recipient(run, params)
    except ActionFailed as error:
        return f"Would fail: {error}"
    return f'Would email {to}: "{message(run, params.note)[0]}".'


def _act_notify(run: Run, params: NotifyParams) -> str:
    to = _recipient(run, params)
    subject, text = message(run, params.note)
    enqueue(run.session, NewMessage(to=[to], subject=subject[:300], text_body=text, kind="automation"))
    return f"Emailed {to}."


# --- webhooks and chat tools ------------------------------------------------------------------------------------------


class WebhookParams(Params):
    endpoint: int = Field(ge=1, description="The webhook endpoint's id (Integrations > Webhooks).")


class ChatParams(WebhookParams):
    note: str = Field(default="", max_length=1000, description="A line put first in the post.")


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint | None:
    return session.get(WebhookEndpoint, endpoint_id)


def _check_endpoint(session: Session, params: WebhookParams) -> list[str]:
    return [] if _endpoint(session, params.endpoint) else [f"There is no webhook endpoint with id {params.endpoint}."]


def _message_id(run: Run) -> str:
    """The webhook-id of what this action sends for this activity: queued again, it is the same delivery."""
    return f"msg_auto_{run.automation_id}_{run.activity.id}_{run.index}"


def automation_event(run: Run) -> dict[str, Any]:
    """The data of an `automation.triggered` event (docs/webhooks.md)."""
    person = run.person
    return {
        "automation": {"id": run.automation_id, "name": run.automation_name},
        "activity": {
            "id": run.activity.id,
            "type": run.activity.type,
            "occurred_at": run.activity.occurred_at.isoformat(),
            "attributes": dict(run.activity.attributes or {}),
        },
        "person": None
        if person is None
        else {"id": person.id, "email": person.email, "first_name": person.first_name, "last_name": person.last_name},
        "company": None if run.company is None else {"id": run.company.id, "name": run.company.name},
    }


def _plan_webhook(run: Run, params: WebhookParams) -> str:
    endpoint = _endpoint(run.session, params.endpoint)
    if endpoint is None:
        return f"Would fail: there is no webhook endpoint with id {params.endpoint}."
    return f"Would send an automation.triggered event to {endpoint.url}."


def _live_endpoint(run: Run, params: WebhookParams) -> WebhookEndpoint:
    endpoint = _endpoint(run.session, params.endpoint)
    if endpoint is None:
        raise ActionFailed(f"There is no webhook endpoint with id {params.endpoint} (deleted?).")
    if not endpoint.enabled:
        raise ActionFailed(f"The webhook endpoint {endpoint.url} is disabled.")
    return endpoint


def _act_webhook(run: Run, params: WebhookParams) -> str:
    endpoint = _live_endpoint(run, params)
    webhooks.queue_delivery(
        run.session, endpoint, "automation.triggered", automation_event(run), run.now, event_id=_message_id(run)
    )
    return f"Queued an automation.triggered event for {endpoint.url}."


def chat_text(run: Run, note: str) -> str:
    subject, text = message(run, note)
    return f"*{subject}*\n{text}"


def _plan_chat(run: Run, params: ChatParams) -> str:
    endpoint = _endpoint(run.session, params.endpoint)
    if endpoint is None:
        return f"Would fail: there is no webhook endpoint with id {params.endpoint}."
    return f'Would post to {endpoint.url}: "{message(run, params.note)[0]}".'


def _act_chat(run: Run, params: ChatParams) -> str:
    endpoint = _live_endpoint(run, params)
    webhooks.queue_delivery(
        run.session, endpoint, "automation.chat", {}, run.now,
        event_id=_message_id(run), raw_body={"text": chat_text(run, params.note)},
    )  # fmt: skip
    return f"Queued a chat post for {endpoint.url}."


_add_plan, _add_act = _list_action(adding=True)
_remove_plan, _remove_act = _list_action(adding=False)
for _kind in (
    ActionKind("program_status", "Set program status", ProgramStatusParams,
               _check_program_status, _plan_program_status, _act_program_status),
    ActionKind("add_to_list", "Add to list", ListParams, _check_list, _add_plan, _add_act),
    ActionKind("remove_from_list", "Remove from list", ListParams, _check_list, _remove_plan, _remove_act),
    ActionKind("set_field", "Set a field", SetFieldParams, _check_set_field, _plan_set_field, _act_set_field),
    ActionKind("notify", "Notify by email", NotifyParams, _check_notify, _plan_notify, _act_notify),
    ActionKind("webhook", "Call a webhook", WebhookParams, _check_endpoint, _plan_webhook, _act_webhook),
    ActionKind("chat", "Post to a chat tool", ChatParams, _check_endpoint, _plan_chat, _act_chat),
):  # fmt: skip
    register(_kind)
