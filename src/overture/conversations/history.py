"""A person's conversations, transcripts and activities as the admin reads them.

The people directory (`people.directory`, layer 1) cannot see conversations or activities; this module adds them
to its profile. Transcripts are text the visitor typed: they are returned as plain text, for the caller to escape.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.conversations.turns import State
from overture.dialogues.models import Dialogue
from overture.errors import NotFound
from overture.people import directory
from overture.people.schemas import (
    ActivityOut,
    ConversationOut,
    ConversationTranscript,
    PersonProfile,
    TranscriptLine,
)

RECENT_CONVERSATIONS = 50
RECENT_ACTIVITIES = 50


def _out(conversation: Conversation, dialogue: Dialogue) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        dialogue_key=dialogue.key,
        dialogue_name=dialogue.name,
        status=conversation.status,
        started_at=conversation.started_at,
        ended_at=conversation.ended_at,
        steps=conversation.step,
        page_url=conversation.page_url,
    )


def conversations_of(session: Session, person_id: int, limit: int = RECENT_CONVERSATIONS) -> list[ConversationOut]:
    """The person's most recent conversations, newest first."""
    rows = session.execute(
        select(Conversation, Dialogue)
        .join(Dialogue, Dialogue.id == Conversation.dialogue_id)
        .where(Conversation.person_id == person_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(limit)
    ).all()
    return [_out(conversation, dialogue) for conversation, dialogue in rows]


def activities_of(session: Session, person_id: int, limit: int = RECENT_ACTIVITIES) -> list[ActivityOut]:
    """The person's most recent activities, newest first, with the name of the dialogue each belongs to."""
    rows = session.execute(
        select(Activity, Dialogue.name)
        .outerjoin(Dialogue, Dialogue.id == Activity.dialogue_id)
        .where(Activity.person_id == person_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    ).all()
    return [
        ActivityOut(type=a.type, occurred_at=a.occurred_at, dialogue_name=name, attributes=a.attributes or {})
        for a, name in rows
    ]


def person_profile(session: Session, person_id: int) -> PersonProfile:
    """The whole profile: the directory's part, the conversations and the activities. Raises NotFound."""
    found = directory.profile(session, person_id)
    return found.model_copy(
        update={
            "conversations": conversations_of(session, person_id),
            "activities": activities_of(session, person_id),
        }
    )


def transcript(session: Session, person_id: int, conversation_id: int) -> ConversationTranscript:
    """One conversation of the person with its transcript. Raises NotFound when the person has no such
    conversation (another person's conversation is not shown under this one)."""
    row = session.execute(
        select(Conversation, Dialogue)
        .join(Dialogue, Dialogue.id == Conversation.dialogue_id)
        .where(Conversation.id == conversation_id, Conversation.person_id == person_id)
    ).first()
    if row is None:
        raise NotFound(f"Person {person_id} has no conversation with id {conversation_id}.")
    conversation, dialogue = row
    lines = transcript_lines(conversation)
    return ConversationTranscript(**_out(conversation, dialogue).model_dump(), transcript=lines)


def transcript_lines(conversation: Conversation) -> list[TranscriptLine]:
    """What the bot said and the visitor answered, in order (empty once the person was deleted)."""
    state = State.model_validate(conversation.state) if conversation.state else State()
    return [TranscriptLine(role=e.role, text=e.text, retracted=e.retracted) for e in state.transcript]
