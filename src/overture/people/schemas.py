"""What the admin API and pages show of people and companies. Read-only models: nothing here is written back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CompanyRef(BaseModel):
    id: int
    name: str | None
    domain: str | None


class PersonSummary(BaseModel):
    """One row of the people list."""

    id: int
    name: str = Field(description="First and last name, else the email, else 'Anonymous visitor'.")
    email: str | None
    first_name: str | None
    last_name: str | None
    known: bool = Field(description="True when the person gave an email.")
    claimed_email: str | None = Field(
        default=None,
        description="An email this visitor typed in chat that belongs to another person: a claim, not proof.",
    )
    company: CompanyRef | None
    first_seen_at: datetime
    last_seen_at: datetime
    visit_count: int


class PersonPage(BaseModel):
    items: list[PersonSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class FieldValue(BaseModel):
    name: str = Field(description="The dotted field name, e.g. `person.email`.")
    label: str
    value: Any
    custom: bool = Field(description="Added by an admin (not a built-in field).")


class PageViewOut(BaseModel):
    url: str
    referrer: str | None
    occurred_at: datetime
    session_number: int


class MergeOut(BaseModel):
    merged_person_id: int
    visitor_ids: list[str]
    reason: str
    merged_at: datetime


class PrivacyActionOut(BaseModel):
    action: str
    actor: str
    occurred_at: datetime


class ConversationOut(BaseModel):
    id: int
    dialogue_key: str
    dialogue_name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    steps: int = Field(description="Answers the visitor gave.")
    page_url: str


class TranscriptLine(BaseModel):
    role: str = Field(description="bot or visitor")
    text: str
    retracted: bool = Field(description="Undone by the visitor (went back or restarted).")


class ConversationTranscript(ConversationOut):
    transcript: list[TranscriptLine]


class ActivityOut(BaseModel):
    type: str
    occurred_at: datetime
    dialogue_name: str | None
    attributes: dict[str, Any]


class PersonRef(BaseModel):
    id: int
    name: str


class PersonProfile(BaseModel):
    """Everything an admin sees on a person's page."""

    id: int
    name: str
    email: str | None
    known: bool
    claimed_email: str | None = Field(
        default=None,
        description="An email this visitor typed in chat that belongs to another person: a claim, not proof. The "
        "visitor stays a person of their own; a signed identify would merge them.",
    )
    claimed_person: PersonRef | None = Field(default=None, description="Who owns the claimed email.")
    claimed_by: list[PersonRef] = Field(
        default_factory=list, description="Visitors who typed this person's email in chat, without proof."
    )
    fields: list[FieldValue]
    company: CompanyRef | None
    visitor_ids: list[str]
    first_seen_at: datetime
    last_seen_at: datetime
    visit_count: int
    source: dict[str, Any] = Field(description="First touch: utm_*, referrer and landing page of the first visit.")
    last_visit: dict[str, Any] = Field(description="The current or latest visit.")
    page_views: list[PageViewOut] = Field(description="The most recent page views, newest first.")
    merges: list[MergeOut] = Field(description="Anonymous visitors merged into this person.")
    privacy_actions: list[PrivacyActionOut]
    conversations: list[ConversationOut] = Field(default_factory=list, description="Newest first.")
    activities: list[ActivityOut] = Field(default_factory=list, description="The most recent activities first.")


class CompanySummary(BaseModel):
    id: int
    name: str | None
    domain: str | None
    industry: str | None
    owner: str | None
    people_count: int


class CompanyPage(BaseModel):
    items: list[CompanySummary]
    page: int
    pages: int
    total: int


class CompanyDetail(CompanySummary):
    fields: list[FieldValue]
    domains: list[str]
    people: list[PersonSummary] = Field(description="The most recently seen people of the company.")


class PersonDeleted(BaseModel):
    person_id: int
    deleted: dict[str, int] = Field(description="Rows deleted, by table (the person's row is under `people`).")
    anonymised: dict[str, int] = Field(description="Rows kept for reports with the person erased, by table.")
