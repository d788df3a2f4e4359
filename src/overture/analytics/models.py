"""The reports' rollups: figures counted once per dialogue, version and UTC hour (and the sums the dashboard reads),
kept 24 months while raw activities are purged after 90 days. Written only by `analytics/rollups.py`.

No foreign keys to dialogues, versions or activities: a rollup outlives the raw rows it was counted from (a
dialogue that is deleted later simply no longer appears among the top dialogues). `version_id` 0 stands for an
activity without a conversation (none today, kept for safety).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime

PAGE_LENGTH = 500
CARD_LENGTH = 200  # conversations.last_card's length
COUNTS = ("conversations", "triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")
PAGE_COUNTS = ("triggered", "engaged", "people_acquired")


class _Figures:
    """The counts of a dialogue report (docs/reports.md), plus the conversations started."""

    conversations: Mapped[int] = mapped_column(Integer, default=0)
    triggered: Mapped[int] = mapped_column(Integer, default=0)
    engaged: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    dismissed: Mapped[int] = mapped_column(Integer, default=0)
    people_acquired: Mapped[int] = mapped_column(Integer, default=0)
    meetings_booked: Mapped[int] = mapped_column(Integer, default=0)


class ReportHour(_Figures, Base):
    """One dialogue's figures over one UTC hour, for one version: what the dialogue report sums."""

    __tablename__ = "report_hours"
    __table_args__ = (Index("ix_report_hours_hour", "hour"),)

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    goals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # goal name -> conversations reaching it


class ReportTotalHour(_Figures, Base):
    """Every dialogue's figures summed over one UTC hour: the dashboard's totals and days."""

    __tablename__ = "report_total_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    goals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class ReportDay(_Figures, Base):
    """One dialogue's figures over one UTC day, every version: the dashboard's top dialogues."""

    __tablename__ = "report_days"
    __table_args__ = (Index("ix_report_days_day", "day"),)

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class _PageFigures:
    triggered: Mapped[int] = mapped_column(Integer, default=0)
    engaged: Mapped[int] = mapped_column(Integer, default=0)
    people_acquired: Mapped[int] = mapped_column(Integer, default=0)


class ReportPageHour(_PageFigures, Base):
    """One dialogue's figures on one page (its URL without query string) over one UTC hour."""

    __tablename__ = "report_page_hours"
    __table_args__ = (Index("ix_report_page_hours_hour", "hour"),)

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    page: Mapped[str] = mapped_column(String(PAGE_LENGTH), primary_key=True)


class ReportPageTotalHour(_PageFigures, Base):
    """Every dialogue's figures on one page over one UTC hour."""

    __tablename__ = "report_page_total_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    page: Mapped[str] = mapped_column(String(PAGE_LENGTH), primary_key=True)


class ReportPageDay(_PageFigures, Base):
    """Every dialogue's figures on one page over one UTC day: the dashboard's top pages."""

    __tablename__ = "report_page_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    page: Mapped[str] = mapped_column(String(PAGE_LENGTH), primary_key=True)


class ReportPerson(Base):
    """A person acquired by a dialogue, under each key they are known by ("p:<person id>", "e:<sha-256 of the
    email>"): people acquired count once per person and dialogue, on the hour of the capture that counted. The
    email is kept only as its hash, as the privacy log keeps it."""

    __tablename__ = "report_people"
    __table_args__ = (
        Index("ix_report_people_activity_id", "activity_id"),
        Index("ix_report_people_dialogue_hour", "dialogue_id", "hour"),
    )

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    activity_id: Mapped[int] = mapped_column(Integer)  # the capture that counted (the same for all its keys)
    version_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    page: Mapped[str] = mapped_column(String(PAGE_LENGTH))


class ReportFunnelCard(Base):
    """A dialogue's funnel at one card, over the conversations started in one UTC hour on one version: how many
    entered the card, how many stopped there without completing, and which answer they chose there."""

    __tablename__ = "report_funnel_cards"
    __table_args__ = (Index("ix_report_funnel_cards_hour", "hour"),)

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    card: Mapped[str] = mapped_column(String(CARD_LENGTH), primary_key=True)  # "card", or "flowkey:card"
    reached: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    # Label (in the default language) -> conversations that chose it; NULL at a card where none was chosen.
    answers: Mapped[dict[str, int] | None] = mapped_column(JSON(none_as_null=True), default=None)


class ReportFunnelMeetings(Base):
    """The conversations started in one UTC hour on one version of a dialogue that booked a meeting, and of those
    the ones whose meeting was held or marked no-show: the end of the funnel."""

    __tablename__ = "report_funnel_meetings"
    __table_args__ = (Index("ix_report_funnel_meetings_hour", "hour"),)

    dialogue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)


class ReportCheckpoint(Base):
    """How far the rollups have read: the newest activity and conversation ids seen at `at`, and for the funnel, the
    newest change of a conversation and of a meeting read (their `updated_at`, then id: conversations change at
    every answer, meetings when held or cancelled). Catching up reads what came after the newest checkpoint; the
    periodic run reads again from one at least `rollups.SAFETY` old, because on PostgreSQL a row can commit after
    rows with higher ids (or later changes) were already read."""

    __tablename__ = "report_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    activity_id: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[int] = mapped_column(Integer)
    conversation_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    conversation_changed_id: Mapped[int] = mapped_column(Integer, default=0)
    meeting_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    meeting_changed_id: Mapped[int] = mapped_column(Integer, default=0)


# Every table of rollups (figures by hour or day, the people acquired): what retention keeps as long as outcomes.
ROLLUP_TABLES: tuple[type[Base], ...] = (
    ReportHour,
    ReportTotalHour,
    ReportDay,
    ReportPageHour,
    ReportPageTotalHour,
    ReportPageDay,
    ReportPerson,
    ReportFunnelCard,
    ReportFunnelMeetings,
)
