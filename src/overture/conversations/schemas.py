"""The widget conversation API's shapes: what the widget sends and what it gets back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date as date_type
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from overture.conversations.engine import (
    BookMeeting,
    BotMessage,
    Effect,
    Ended,
    Expected,
    GoalReached,
    SetField,
    TranscriptEntry,
)
from overture.dialogues.document import KEY_PATTERN

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
LANGUAGE_TAG = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"


TIME_ZONE = Field(
    default=None,
    max_length=64,
    pattern=r"^[A-Za-z0-9_+/-]+$",
    description="The visitor's IANA time zone (Intl.DateTimeFormat().resolvedOptions().timeZone): meeting times "
    "are offered and sent in it.",
)


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dialogue: str = Field(
        max_length=80, pattern=KEY_PATTERN, description="The key of a live dialogue, or of a published reusable flow."
    )
    visitor_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The id the widget keeps; new if absent."
    )
    page_url: str = Field(default="", max_length=2000, pattern=NO_CONTROL_CHARACTERS)
    language: str | None = Field(default=None, max_length=16, pattern=LANGUAGE_TAG, description="Shortcut for one.")
    languages: list[Annotated[str, Field(max_length=16, pattern=LANGUAGE_TAG)]] = Field(
        default_factory=list,
        max_length=10,
        description="The visitor's languages in the site's order of preference (e.g. the page's lang, the URL "
        "parameter, the browser's); the first one the dialogue speaks is used, else its default language.",
    )
    region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO country, for phone numbers.")
    time_zone: str | None = TIME_ZONE
    channel: Literal["landing_page"] | None = Field(
        default=None,
        description="Where the conversation was opened when not in a site's widget: `landing_page` (the dialogue's "
        "full page, /chat/{site}/{dialogue}). Recorded on the conversation's dialogue.triggered activity.",
    )


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: int = Field(ge=0, le=1_000_000, description="The step this call answers (from the last answer).")


class ReplyIn(Step):
    choice: str | None = Field(default=None, max_length=20, description="The id of the chosen button or option.")
    text: str | None = Field(default=None, max_length=2000, description="A typed answer.")
    time_zone: str | None = TIME_ZONE


class PickTime(Step):
    """The meeting time the visitor picked, one of the offered `meeting.days[].times`."""

    start: AwareDatetime = Field(description="The start of the chosen time, as offered (ISO 8601 with offset).")
    time_zone: str | None = TIME_ZONE


class OfferedDay(BaseModel):
    date: date_type = Field(description="The day, on the visitor's clock.")
    times: list[datetime] = Field(description="Start times that day, with the visitor's offset.")


class MeetingBooked(BaseModel):
    """The meeting just booked, for the widget's confirmation card (times on the visitor's clock)."""

    start: datetime
    end: datetime
    zone: str
    agent_name: str
    email: str = Field(description="Where the invitation goes.")


class MeetingOffer(BaseModel):
    """The times the visitor may book, grouped by day on their clock."""

    zone: str = Field(description="The IANA zone the times are shown in.")
    duration_minutes: int
    agent_name: str | None = Field(default=None, description="Who the visitor would meet, when it is known.")
    days: list[OfferedDay]


class LinkClick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, pattern=NO_CONTROL_CHARACTERS)


EventType = Literal["goal_reached", "field_captured", "meeting_booked", "completed"]


class ConversationEvent(BaseModel):
    """Something the host page may want to know, from this answer's step: the widget passes it on through
    `Overture.on`. A captured field is named, never its value: the host page's analytics must not receive it."""

    type: EventType
    goal: str | None = Field(default=None, description="goal_reached: the goal's name.")
    field: str | None = Field(default=None, description="field_captured: the field's name (never its value).")


def events_of(effects: Sequence[Effect]) -> list[ConversationEvent]:
    """The host-page events of a turn's effects, in order: goals reached, fields the visitor answered (not those a
    card set silently, nor those going back restored), a meeting booked, the conversation completed."""
    events: list[ConversationEvent] = []
    for effect in effects:
        match effect:
            case GoalReached(name=name):
                events.append(ConversationEvent(type="goal_reached", goal=name))
            case SetField(field=field, source="capture" | "button"):
                events.append(ConversationEvent(type="field_captured", field=field))
            case BookMeeting():
                events.append(ConversationEvent(type="meeting_booked"))
            case Ended(completed=True):
                events.append(ConversationEvent(type="completed"))
            case _:
                pass
    return events


class ConversationOut(BaseModel):
    conversation_id: str
    visitor_id: str
    token: str | None = Field(default=None, description="Send it as X-Conversation-Token; given once per start.")
    step: int
    status: Literal["active", "completed", "dismissed", "dropped"]
    messages: list[BotMessage] = Field(description="The bot's new messages, to show in order.")
    expected: Expected = Field(description="The input to offer next (kind none when the conversation is over).")
    transcript: list[TranscriptEntry] | None = Field(default=None, description="The whole transcript, on resume.")
    events: list[ConversationEvent] = Field(
        default_factory=list, description="What this step did that the host page may track, in order."
    )
    meeting: MeetingOffer | None = Field(
        default=None, description="When expected.kind is meeting: the times to offer (post one to .../meeting)."
    )
    booked: MeetingBooked | None = Field(default=None, description="The meeting this step booked, to confirm it.")
