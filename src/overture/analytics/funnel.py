"""A dialogue's funnel (docs/reports.md): over the conversations started in a period, how many entered each card,
how many stopped there, which answer they chose at each card of buttons or options, and, after the cards, how many
booked a meeting and how many of those meetings were held.

Summed from the funnel's rollups (funnel_rollups.py: by dialogue, version and the UTC hour the conversations
started), over the same hours as the dialogue's figures (`dialogue_report.Period.hours`). Counted from what the
conversations store: `cards` and `last_card` (written at every turn), the transcript of their `state` for the
answers (answers.py), and the meetings booked in them. A conversation whose person was deleted for privacy keeps
its cards and meeting but not its transcript: counted after the deletion, it counts in every step but the answers.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from overture.analytics.answers import Choices
from overture.analytics.models import ReportFunnelCard, ReportFunnelMeetings
from overture.analytics.schemas import AnswerCount, FunnelMeetings, FunnelStep
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.dialogues.models import Dialogue, DialogueVersion


def flow_cards(session: Session, dialogue: Dialogue, chosen: DialogueVersion | None) -> list[str]:
    """The cards of the flow the funnel lists, start card first: the chosen version's, else the live one's, else
    the newest version's; none when nothing was ever published."""
    version = _listed_version(session, dialogue, chosen)
    if version is None:
        return []
    flow = version.document["flow"]  # validated when published; JSON keeps the cards in the order written
    return list(dict.fromkeys([flow["start"], *flow["cards"]]))


def _listed_version(session: Session, dialogue: Dialogue, chosen: DialogueVersion | None) -> DialogueVersion | None:
    if chosen is not None:
        return chosen
    number = dialogue.published_version or session.scalar(
        select(DialogueVersion.number)
        .where(DialogueVersion.dialogue_id == dialogue.id)
        .order_by(DialogueVersion.number.desc())
        .limit(1)
    )
    return dialogues.version(session, dialogue, number) if number is not None else None


def started_in(
    dialogue: Dialogue, chosen: DialogueVersion | None, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    """The conditions of the conversations a funnel (and a breakdown) counts: of the dialogue (and version),
    started in [start, end)."""
    conditions = [
        Conversation.dialogue_id == dialogue.id,
        Conversation.started_at >= start,
        Conversation.started_at < end,
    ]
    if chosen is not None:
        conditions.append(Conversation.version_id == chosen.id)
    return conditions


def funnel(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, hours: tuple[datetime, datetime]
) -> list[FunnelStep]:
    """For each card, the conversations started in the UTC hours [first, end) that entered it, those that stopped
    there without completing (dismissed, dropped, or still waiting for the visitor), and at a card of choices,
    which they chose."""
    reached: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    chosen_answers: Counter[tuple[str, str]] = Counter()
    statement = select(
        ReportFunnelCard.card,
        func.sum(ReportFunnelCard.reached),
        func.sum(ReportFunnelCard.dropped),
    ).where(*_counted(ReportFunnelCard, dialogue, chosen, hours))
    for card, card_reached, card_dropped in session.execute(statement.group_by(ReportFunnelCard.card)):
        reached[card] += card_reached or 0
        dropped[card] += card_dropped or 0
    answered = select(ReportFunnelCard.card, ReportFunnelCard.answers).where(
        *_counted(ReportFunnelCard, dialogue, chosen, hours), ReportFunnelCard.answers.is_not(None)
    )
    for card, answers in session.execute(answered):
        for label, count in (answers or {}).items():
            chosen_answers[card, label] += count

    listed = flow_cards(session, dialogue, chosen)
    listed_version = _listed_version(session, dialogue, chosen)
    choices = Choices(session)
    others = sorted(set(reached) - set(listed), key=lambda card: (-reached[card], card))
    return [
        FunnelStep(
            card=card,
            reached=reached[card],
            dropped=dropped[card],
            answers=_answer_counts(card, chosen_answers, choices, listed_version),
        )
        for card in [*listed, *others]
    ]


def funnel_meetings(
    session: Session, dialogue: Dialogue, chosen: DialogueVersion | None, hours: tuple[datetime, datetime]
) -> FunnelMeetings:
    """The conversations started in the UTC hours [first, end) that booked a meeting (whatever became of it since),
    and of those, the ones whose meeting was held and the ones marked no-show."""
    booked, held, no_show = session.execute(
        select(
            func.sum(ReportFunnelMeetings.booked),
            func.sum(ReportFunnelMeetings.held),
            func.sum(ReportFunnelMeetings.no_show),
        ).where(*_counted(ReportFunnelMeetings, dialogue, chosen, hours))
    ).one()
    return FunnelMeetings(booked=booked or 0, held=held or 0, no_show=no_show or 0)


def _counted(
    model: type[ReportFunnelCard] | type[ReportFunnelMeetings],
    dialogue: Dialogue,
    chosen: DialogueVersion | None,
    hours: tuple[datetime, datetime],
) -> list[ColumnElement[bool]]:
    conditions = [model.dialogue_id == dialogue.id, model.hour >= hours[0], model.hour < hours[1]]
    if chosen is not None:
        conditions.append(model.version_id == chosen.id)
    return conditions


def _answer_counts(
    card: str, chosen: Counter[tuple[str, str]], choices: Choices, listed: DialogueVersion | None
) -> list[AnswerCount]:
    """The card's choices in the listed version's order (those nobody chose included), then any other label chosen
    at this card (an older version's), most chosen first."""
    own = [] if listed is None or ":" in card else [choice.label for choice in choices.of(listed.id, card)]
    seen = [label for ref, label in chosen if ref == card and label not in own]
    others = sorted(set(seen), key=lambda label: (-chosen[(card, label)], label))
    return [AnswerCount(answer=label, chosen=chosen[(card, label)]) for label in [*dict.fromkeys(own), *others]]
