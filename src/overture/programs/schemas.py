"""The admin API's shapes of programs, lists and their members (in and out), and the channels a program may have."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from overture.programs.models import DESCRIPTION_MAX, NAME_MAX, STATUS_NAME_MAX

STATUSES_MAX = 30


class Channel(StrEnum):
    """What kind of program it is: a fixed list, so reports and automations can count by channel (Marketo's
    channels, without the per-channel status templates: each program has its own statuses)."""

    chat = "chat"
    webinar = "webinar"
    email = "email"
    event = "event"
    content = "content"
    advertising = "advertising"
    other = "other"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.chat: "Chat",
    Channel.webinar: "Webinar",
    Channel.email: "Email",
    Channel.event: "Event",
    Channel.content: "Content",
    Channel.advertising: "Advertising",
    Channel.other: "Other",
}

# The statuses a new program of each channel starts with on the Programs page (name, success); editable.
CHANNEL_STATUSES: dict[Channel, list[tuple[str, bool]]] = {
    Channel.chat: [("Invited", False), ("Engaged", False), ("Meeting booked", True), ("Attended", True)],
    Channel.webinar: [("Invited", False), ("Registered", False), ("Attended", True), ("Attended on-demand", True)],
    Channel.email: [("Sent", False), ("Opened", False), ("Clicked", True)],
    Channel.event: [("Invited", False), ("Registered", False), ("Attended", True)],
    Channel.content: [("Engaged", False), ("Downloaded", True)],
    Channel.advertising: [("Responded", False), ("Converted", True)],
    Channel.other: [("Member", False), ("Success", True)],
}


class StatusIn(BaseModel):
    """A status as it is written: in the order of the list (its place is its step). `id` keeps an existing status
    (renamed, moved or unchanged); a status without one is new; an existing one left out is deleted."""

    id: int | None = Field(default=None, ge=1, description="The id of an existing status of this program.")
    name: str = Field(max_length=STATUS_NAME_MAX)
    success: bool = Field(default=False, description="Reaching it means the program succeeded for the member.")


class ProgramCreate(BaseModel):
    name: str = Field(max_length=NAME_MAX)
    channel: Channel
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    statuses: list[StatusIn] = Field(max_length=STATUSES_MAX, description="In order: the first is step 1.")


class ProgramUpdate(BaseModel):
    """Only the keys given change; `statuses`, when given, is the whole new list in order."""

    name: str | None = Field(default=None, max_length=NAME_MAX)
    channel: Channel | None = None
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    statuses: list[StatusIn] | None = Field(default=None, max_length=STATUSES_MAX)


class StatusPublic(BaseModel):
    id: int
    name: str
    step: int = Field(description="Its place in the order, from 1. A higher step is progression.")
    success: bool
    members: int = Field(description="How many members hold it now.")


class ProgramPublic(BaseModel):
    id: int
    name: str
    channel: Channel
    description: str
    statuses: list[StatusPublic]
    members: int
    created_at: datetime
    updated_at: datetime


class SourcePublic(BaseModel):
    kind: Literal["user", "api", "automation", "import", "merge"]
    ref: str = Field(description="The user's or automation's id, the import's name, the merged person's id.")
    label: str = Field(description="For people: 'Alice (API)', 'Automation 4', 'Import leads.csv'.")


class PersonBrief(BaseModel):
    id: int
    name: str
    email: str | None
    company: str | None


class ProgramMemberPublic(BaseModel):
    person: PersonBrief
    status: str
    step: int
    success: bool
    joined_at: datetime
    changed_at: datetime


class ProgramMemberPage(BaseModel):
    items: list[ProgramMemberPublic]
    total: int = Field(description="Members matching the filter, all pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProgramChangePublic(BaseModel):
    from_status: str | None = Field(description="None when the person joined the program.")
    from_step: int | None
    to_status: str | None = Field(description="None when the person was removed from the program.")
    to_step: int | None
    changed_at: datetime
    source: SourcePublic


class StatusSet(BaseModel):
    status: str = Field(max_length=STATUS_NAME_MAX, description="The status's name (not case-sensitive).")
    only_forward: bool = Field(
        default=False, description="Change nothing when the member is already at this step or a later one."
    )


StatusOutcome = Literal["joined", "progressed", "moved back", "unchanged", "not moved back"]
ListOutcome = Literal["added", "already a member", "removed", "not a member"]


class StatusChangeResult(BaseModel):
    outcome: StatusOutcome
    member: ProgramMemberPublic


class RemovalResult(BaseModel):
    removed: bool = Field(description="False when the person was not a member.")


class ListCreate(BaseModel):
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)


class ListUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)


class ListPublic(BaseModel):
    id: int
    name: str
    description: str
    members: int
    created_at: datetime
    updated_at: datetime


class ListMemberPublic(BaseModel):
    person: PersonBrief
    added_at: datetime


class ListMemberPage(BaseModel):
    items: list[ListMemberPublic]
    total: int
    next_cursor: str | None


class ListChangeResult(BaseModel):
    outcome: ListOutcome


class ListChangePublic(BaseModel):
    action: Literal["added", "removed"]
    changed_at: datetime
    source: SourcePublic


class ProgramRef(BaseModel):
    id: int
    name: str
    channel: Channel


class ListRef(BaseModel):
    id: int
    name: str


class ProgramMembership(BaseModel):
    """A person in one program (or once in it: `status` None after they were removed), newest change first."""

    program: ProgramRef
    status: str | None
    step: int | None
    success: bool
    history: list[ProgramChangePublic]


class ListMembership(BaseModel):
    static_list: ListRef
    member: bool
    history: list[ListChangePublic]


class PersonMemberships(BaseModel):
    programs: list[ProgramMembership]
    lists: list[ListMembership]
