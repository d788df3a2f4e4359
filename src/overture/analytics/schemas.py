"""The shapes of the reports API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# What every report says of the period it counts, and what its rates are, worded once.
From = Annotated[date, Field(alias="from", description="The first day counted, in `zone`.")]
To = Annotated[date, Field(description="The last day counted, in `zone`.")]
Zone = Annotated[str, Field(description="The IANA time zone whose calendar days are counted.")]
Version = Annotated[int | None, Field(description="The version counted; null: every version.")]
EngagementRate = Annotated[float | None, Field(description="engaged / triggered; null when nothing was triggered.")]
ConversionRate = Annotated[float | None, Field(description="people_acquired / engaged; null when nobody engaged.")]


class Figures(BaseModel):
    """A dialogue's figures over a period (or one day of it). The rates are None when their denominator is 0."""

    triggered: int = Field(description="Visitor sessions in which the dialogue was shown.")
    engaged: int = Field(description="Visitor sessions in which the visitor first clicked or answered.")
    completed: int = Field(description="Conversations that reached an end card.")
    dismissed: int = Field(description="Conversations the visitor closed before the end.")
    people_acquired: int = Field(description="People who gave a valid email in this dialogue, once each.")
    meetings_booked: int = Field(description="Meetings booked in this dialogue.")
    goals: dict[str, int] = Field(description="Each goal reached, by name: the conversations that reached it.")
    engagement_rate: EngagementRate
    conversion_rate: ConversionRate


class AnswerCount(BaseModel):
    answer: str = Field(description="A button's or option's label, in the dialogue's default language.")
    chosen: int = Field(description="Conversations whose visitor chose it at this card (once each).")


class FunnelStep(BaseModel):
    card: str = Field(description='A card of the flow: "card", or "flowkey:card" for a card of a called flow.')
    reached: int = Field(description="Conversations that entered this card.")
    dropped: int = Field(description="Conversations that stopped at this card without completing.")
    answers: list[AnswerCount] = Field(
        default_factory=list,
        description="At a card of buttons or options: each choice, in the card's order, and how many chose it; "
        "then any other label chosen (an older version's). Empty at other cards.",
    )


class FunnelMeetings(BaseModel):
    """The funnel's last steps, after the cards: what became of the meetings the conversations booked."""

    booked: int = Field(description="Conversations started in the period that booked a meeting.")
    held: int = Field(description="Of those, the conversations whose meeting the agent marked held.")
    no_show: int = Field(description="Of those, the conversations whose meeting the agent marked no-show.")


class DialoguePeriod(BaseModel):
    """What a report of one dialogue counts: the dialogue, its version (or every one), the days and their zone."""

    model_config = ConfigDict(populate_by_name=True)

    dialogue: str
    version: Version
    from_: From
    to: To
    zone: Zone


class DialogueReport(DialoguePeriod, Figures):  # Figures first in the answer, then the period
    daily: dict[date, Figures] = Field(description="Each day of the period, in `zone`, with its figures.")
    funnel: list[FunnelStep] = Field(
        description="Each card of the flow, then any other card reached (a called flow's, an older version's), with "
        "the conversations started in the period that reached it and that dropped there."
    )
    funnel_meetings: FunnelMeetings = Field(
        description="The funnel followed through to the meeting: booked, then held (or no-show)."
    )


class BreakdownRow(BaseModel):
    """One group of a breakdown: what its conversations yielded. Rates are None when their denominator is 0."""

    key: str = Field(
        description='What the group is: the page, the UTM value, the company id, "known" or '
        '"anonymous"; "" for conversations without one (no UTM, no company).'
    )
    label: str = Field(description="The group as people read it.")
    conversations: int = Field(description="Conversations started in the period in this group.")
    engaged: int = Field(description="Of those, the conversations in which the visitor answered at least once.")
    completed: int = Field(description="Of those, the conversations that reached an end card.")
    people_acquired: int = Field(description="People who gave a valid email in them, once each.")
    meetings_booked: int = Field(description="Meetings booked in them.")
    engagement_rate: float | None = Field(description="engaged / conversations.")
    conversion_rate: float | None = Field(description="people_acquired / engaged.")


class Breakdown(DialoguePeriod):
    by: str = Field(description="page, utm_source, utm_campaign, company or known.")
    rows: list[BreakdownRow] = Field(description="The groups, largest first (known before anonymous).")


class DashboardFigures(Figures):
    """Every dialogue's figures summed (a person acquired by two dialogues counts in each), with the conversations."""

    conversations: int = Field(description="Conversations started.")


class TopDialogue(BaseModel):
    dialogue: str = Field(description="The dialogue's key.")
    name: str
    triggered: int
    engaged: int
    completed: int
    people_acquired: int
    meetings_booked: int
    engagement_rate: EngagementRate
    conversion_rate: ConversionRate


class TopPage(BaseModel):
    page: str = Field(description="The page's URL without its query string.")
    triggered: int
    engaged: int
    people_acquired: int


class MeetingCount(BaseModel):
    key: str = Field(description="The agent's email, the dialogue's key, or the source (`chat`, `link`).")
    label: str = Field(description="The agent's name, or the dialogue's name.")
    booked: int = Field(description="Meetings booked in the period (cancelled or moved later included).")
    held: int = Field(description="Of those, the ones marked held.")
    no_show: int = Field(description="Of those, the ones marked no-show.")


class Dashboard(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: From
    to: To
    zone: Zone
    totals: DashboardFigures
    daily: dict[date, DashboardFigures] = Field(description="Each day of the period, in `zone`, with its figures.")
    top_dialogues: list[TopDialogue] = Field(description="The most triggered dialogues first.")
    top_pages: list[TopPage] = Field(description="The pages where dialogues were most triggered first.")
    meetings_by_agent: list[MeetingCount] = Field(description="Meetings booked in the period, by agent.")
    meetings_by_dialogue: list[MeetingCount] = Field(description="Meetings booked in the period, by dialogue.")
    meetings_by_source: list[MeetingCount] = Field(
        default_factory=list,
        description="Meetings booked in the period, by where they were booked: `chat` (a dialogue's card) or `link` "
        "(a booking page).",
    )
