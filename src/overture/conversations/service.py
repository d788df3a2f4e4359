"""Runs the pure engine against the database: starts conversations, takes replies, applies the engine's effects to
the person and records activities, all in the caller's transaction.

The widget proves it owns a conversation with the conversation's secret token, and names the step it answers, so
a replayed, out-of-order or foreign reply changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.calendars.world import CalendarWorld
from overture.conversations import claims, engine
from overture.conversations.assignment import assign
from overture.conversations.models import Conversation
from overture.conversations.turns import note_company
from overture.dialogues import service as dialogues
from overture.dialogues.document import DialogueDocument, FlowDocument, choose_language
from overture.dialogues.experiments import with_variant
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import Conflict, InvalidInput, Problem, Unauthenticated
from overture.people import companies, identity
from overture.people import service as people
from overture.people.email_domains import blocklist
from overture.people.models import Person, PersonMerge
from overture.scheduling import booking
from overture.scheduling.clock import load_zone
from overture.scheduling.models import Agent
from overture.sites.models import DEFAULT_BLOCKED_MESSAGE, Site


@dataclass
class View:
    """What the widget gets back from every call. `offer_for` is set when the conversation waits for a meeting
    time: what to offer slots for (the caller computes them outside the transaction: it may read calendars)."""

    conversation: Conversation
    person: Person
    turn: engine.Turn
    token: str | None = None  # only when the conversation (or a new token for it) was just made
    offer_for: booking.BookingRequest | None = None
    notice: str | None = None  # e.g. "That time was just taken": said with the fresh slots
    booked: booking.Booked | None = None  # the meeting this step booked


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _called_flows(document: DialogueDocument | FlowDocument, flows: dict[str, FlowDocument]) -> set[str]:
    """The keys of the reusable flows a document may call, directly or through other flows."""
    found: set[str] = set()
    pending = [document]
    while pending:
        current = pending.pop()
        for card in current.flow.cards.values():
            if card.flow and card.flow not in found:
                found.add(card.flow)
                if card.flow in flows:
                    pending.append(flows[card.flow])
    return found


def _waiting(state: engine.State) -> engine.Turn:
    """The conversation as it stands: no new messages, the same question still waiting."""
    return engine.Turn(state=state, messages=[], expected=state.awaiting or engine.Expected(kind="none"), effects=[])


PARSED_VERSIONS_KEPT = 512


def _parsed(session: Session, version_id: int) -> DialogueDocument | FlowDocument:
    """The parsed document of a published version: a DialogueDocument for a dialogue's, a FlowDocument for a
    reusable flow's (a flow's data would pass as a dialogue with default targeting, site included, so the kind comes
    from the version's row, never from the caller's guess). Versions never change, so parsed ones are kept per
    database (the database's memo, shared by its sessions) instead of being parsed again at every reply."""
    memo = session.info.setdefault("memo", {})
    parsed: OrderedDict[int, DialogueDocument | FlowDocument] = memo.setdefault("parsed_versions", OrderedDict())
    document = parsed.get(version_id)
    if document is None:
        version = session.get(DialogueVersion, version_id)
        assert version is not None
        kind = FlowDocument if version.dialogue.kind == "flow" else DialogueDocument
        document = kind.model_validate(version.document)
        parsed[version_id] = document
        if len(parsed) > PARSED_VERSIONS_KEPT:
            parsed.popitem(last=False)
    return document


def _flow(session: Session, version_id: int) -> FlowDocument:
    document = _parsed(session, version_id)
    assert isinstance(document, FlowDocument) and not isinstance(document, DialogueDocument)
    return document


def _played(session: Session, version_id: int, variant: str | None) -> DialogueDocument | FlowDocument:
    """The document the conversation plays: its version's, as its experiment variant shows it (kept like
    `_parsed`'s, as neither ever changes)."""
    if variant is None:
        return _parsed(session, version_id)
    memo = session.info.setdefault("memo", {})
    played: OrderedDict[tuple[int, str], DialogueDocument | FlowDocument]
    played = memo.setdefault("played_variants", OrderedDict())
    document = played.get((version_id, variant))
    if document is None:
        document = with_variant(_parsed(session, version_id), variant)
        played[(version_id, variant)] = document
        if len(played) > PARSED_VERSIONS_KEPT:
            played.popitem(last=False)
    return document


def _program(session: Session, conversation: Conversation) -> engine.Program:
    flows = {key: _flow(session, vid) for key, vid in conversation.flow_version_ids.items()}
    return engine.Program(document=_played(session, conversation.version_id, conversation.variant), flows=flows)


def _context(
    session: Session,
    person: Person,
    conversation: Conversation,
    now: datetime,
    email_policy: engine.EmailPolicy | None = None,
) -> engine.Context:
    return engine.Context(
        fields=people.field_values(person, people.company_of(session, person)),
        language=conversation.language,
        region=conversation.region,
        now=now,
        meetings_available=True,
        email_policy=email_policy,
    )


def _email_policy(session: Session, program: engine.Program) -> engine.EmailPolicy | None:
    """The email domains the dialogue's site refuses (its security settings); None when it refuses none, or when
    the site has no settings yet."""
    document = program.document
    # A flow opened on its own belongs to no site: no policy.
    site = (
        session.scalar(select(Site).where(Site.key == document.site))
        if isinstance(document, DialogueDocument)
        else None
    )
    if site is None:
        return None
    domains = blocklist(site.blocked_email_domains or [], site.block_free_email)
    if not domains:
        return None
    return engine.EmailPolicy(blocked_domains=domains, message=site.blocked_email_message or DEFAULT_BLOCKED_MESSAGE)


def _record(
    session: Session,
    conversation: Conversation,
    person: Person,
    type: ActivityType,
    now: datetime,
    attributes: dict[str, Any],
) -> None:
    """Records an activity of this conversation (and its dialogue) in the caller's transaction."""
    record(
        session,
        person,
        type,
        now,
        attributes,
        dialogue_id=conversation.dialogue_id,
        conversation_id=conversation.id,
    )


def _apply(session: Session, conversation: Conversation, person: Person, turn: engine.Turn, now: datetime) -> None:
    """Writes the turn's state and applies its effects to the person, recording the activities they mean. An email
    typed here that belongs to another person is only claimed (`identity.capture`): the visitor goes on as
    themselves, and nothing they answer is written to that person.
    """
    conversation.updated_at = now
    page = {"page_url": conversation.page_url}
    for effect in turn.effects:
        match effect:
            case engine.SetField(source="back") if _absorbed_this_visitor(session, person, conversation):
                pass  # going back does not undo into a known person what they were known by before this chat
            case engine.SetField(field="person.email", value=str(email), source=source) if source != "back":
                captured = identity.capture(session, person, email, now, proven=False)
                if captured.company_before is not None:
                    note_company(turn.state, captured.company_before)
                _note_captured(session, conversation, person, source, "person.email", email, now)
            case engine.SetField(field="person.email", value=value, source="back") if person.email is None:
                person.claimed_email = value or None  # the undone email was only claimed: so was the one before
            case engine.SetField(field=field, value=value, source=source):
                people.set_field(session, person, field, value, now)
                _note_captured(session, conversation, person, source, field, value, now)
            case engine.GoalReached(name=name, score=score):
                conversation.reached_goal = True
                _record(session, conversation, person, ActivityType.goal_reached, now, {"goal": name, "score": score})
            case engine.Ended(completed=completed):
                conversation.status = "completed" if completed else conversation.status
                conversation.ended_at = now
                if completed:
                    _record(session, conversation, person, ActivityType.dialogue_completed, now, page)
            case _:
                pass  # LinkShown: a click is recorded when it happens; BookMeeting: the meetings issue
    conversation.state = turn.state.model_dump(mode="json")  # after the effects: an email notes the company
    _note_cards(conversation, turn.state.path)


def _note_cards(conversation: Conversation, path: list[str]) -> None:
    """Keeps the cards the conversation entered and the one it is at, for the reports' funnel. The columns are
    written only when they change: most answers enter cards already known."""
    if not path:
        return
    known = conversation.cards or []
    seen = set(known)
    new = [card for card in dict.fromkeys(path) if card not in seen]
    if new:
        conversation.cards = [*known, *new]
    if conversation.last_card != path[-1]:
        conversation.last_card = path[-1]


def _note_captured(
    session: Session, conversation: Conversation, person: Person, source: str, field: str, value: Any, now: datetime
) -> None:
    """Records a field the visitor gave (typed or chosen), not one the dialogue set or going back restored."""
    if source in ("capture", "button"):
        _record(session, conversation, person, ActivityType.field_captured, now, {"field": field, "value": value})


def _absorbed_this_visitor(session: Session, person: Person, conversation: Conversation) -> bool:
    """True when `person` is a known person this conversation's browser was merged into: what the conversation's
    undone answers would put back (e.g. no email) was never theirs."""
    merges = session.scalars(select(PersonMerge.visitor_ids).where(PersonMerge.survivor_id == person.id))
    return any(conversation.visitor_id in visitor_ids for visitor_ids in merges)


def start(
    session: Session,
    *,
    dialogue_key: str,
    visitor_id: str | None,
    page_url: str,
    region: str | None,
    now: datetime,
    language: str | None = None,
    languages: Sequence[str] = (),
    time_zone: str | None = None,
    channel: str | None = None,
) -> View:
    """Starts the visitor's conversation with a live dialogue or a published reusable flow (opened from the host
    page: `Overture.open`, `data-overture-flow`, `data-overture-inline`), or gives back the one already running
    in this browser (with a new token, so a reloaded page can go on): a conversation resumes only for the visitor
    id that started it, even after that person was known in another browser. Raises NotFound for an unknown key and
    Conflict for one that is not live. The conversation speaks the first of `language`, `languages` (in the site's
    order of preference) that the dialogue has texts in, else the dialogue's default language. `channel` (e.g.
    "landing_page") is recorded on the dialogue.triggered activity, for reports to count the conversation's source."""
    dialogue = dialogues.get(session, dialogue_key)
    person, visitor_id = people.visitor(session, visitor_id, now)
    running = session.scalar(
        select(Conversation)
        .where(
            Conversation.person_id == person.id,
            Conversation.visitor_id == visitor_id,
            Conversation.dialogue_id == dialogue.id,
            Conversation.status == "active",
        )
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )
    token = secrets.token_urlsafe(24)
    if running is not None:
        running.token_hash = _hash(token)
        _note_zone(running, time_zone)
        return _viewed(session, View(running, person, _waiting(engine.State.model_validate(running.state)), token))

    version = dialogues.live_version(session, dialogue)
    variant = assign(_parsed(session, version.id), person.id)
    document = _played(session, version.id, variant)
    flows = dialogues.published_flows(session)
    used = _called_flows(document, flows)
    flow_version_ids = {}
    for key in used:
        flow_row = dialogues.get(session, key)
        flow_version_ids[key] = dialogues.live_version(session, flow_row).id
    conversation = Conversation(
        public_id="c_" + secrets.token_urlsafe(16),
        token_hash=_hash(token),
        person_id=person.id,
        visitor_id=visitor_id,
        dialogue_id=dialogue.id,
        version_id=version.id,
        flow_version_ids=flow_version_ids,
        state={},
        page_url=page_url,
        language=choose_language(document, [tag.replace("_", "-") for tag in (language, *languages) if tag]),
        region=region,
        time_zone=_checked_zone(time_zone),
        variant=variant,
        started_at=now,
        updated_at=now,
    )
    session.add(conversation)
    session.flush()
    program = engine.Program(document=document, flows={k: flows[k] for k in used})
    turn = engine.start(program, _context(session, person, conversation, now))
    _record(
        session,
        conversation,
        person,
        ActivityType.dialogue_triggered,
        now,
        {
            "page_url": page_url,
            "version": version.number,
            **({"variant": variant} if variant else {}),
            **({"channel": channel} if channel else {}),
        },
    )
    _apply(session, conversation, person, turn, now)
    return _viewed(session, View(conversation, person, turn, token))


# Built once: building a statement costs about as much as running it, and this one runs at every reply.
_OWNED = (
    select(Conversation, Person)
    .join(Person, Person.id == Conversation.person_id)
    .where(Conversation.public_id == bindparam("public_id"))
)


def _owned(session: Session, public_id: str, token: str) -> tuple[Conversation, Person]:
    # One query for both (this runs at every reply). No person: deleted at their request, the conversation is an
    # anonymised record. The same answer for an unknown conversation and a wrong token: nothing to learn by guessing.
    found = session.execute(_OWNED, {"public_id": public_id}).first()
    if found is None or not secrets.compare_digest(found[0].token_hash, _hash(token)):
        raise Unauthenticated("This conversation does not exist or the token does not match it.")
    return found[0], found[1]


def _claim(session: Session, public_id: str, token: str, step: int) -> tuple[Conversation, Person]:
    """The conversation and its person, once this call has taken `step` (the conversation is now at step + 1).
    Raises Conflict when the conversation has ended or is not at `step`, also when another call just took it."""
    conversation, person = _owned(session, public_id, token)
    claims.take_step(session, conversation, step)
    return conversation, person


def _advance(
    session: Session,
    public_id: str,
    token: str,
    step: int,
    now: datetime,
    move: Callable[[engine.Program, engine.State, engine.Context], engine.Turn],
    engaged: bool,
) -> View:
    conversation, person = _claim(session, public_id, token, step)
    return _move_on(session, conversation, person, now, move, engaged)


def _move_on(
    session: Session,
    conversation: Conversation,
    person: Person,
    now: datetime,
    move: Callable[[engine.Program, engine.State, engine.Context], engine.Turn],
    engaged: bool,
) -> View:
    """Moves the conversation on from the step this call took (`_claim`)."""
    people.touch(person, now)
    program = _program(session, conversation)
    state = engine.State.model_validate(conversation.state)
    # Engagement is counted once per visitor session: it can be new only at the conversation's first answer, or
    # when the conversation was silent long enough for this answer to fall in a new session (no query otherwise).
    maybe_engaged = engaged and (
        all(entry.role != "visitor" for entry in state.transcript)
        or now - conversation.updated_at > people.SESSION_TIMEOUT
    )
    # The site's email policy matters only when the answer may be a typed email: no query otherwise.
    takes_email = state.awaiting is not None and state.awaiting.kind == "email"
    policy = _email_policy(session, program) if takes_email else None
    try:
        turn = move(program, state, _context(session, person, conversation, now, policy))
    except engine.AnswerRefused as exc:
        raise InvalidInput(exc.message, [Problem("reply", exc.message)]) from None
    if engaged and not conversation.engaged:
        conversation.engaged = True  # the inbox's outcome: this conversation was answered (its sessions aside)
    if maybe_engaged:
        _record(session, conversation, person, ActivityType.dialogue_engaged, now, {"page_url": conversation.page_url})
    _apply(session, conversation, person, turn, now)
    return _viewed(session, View(conversation, person, turn))


def reply(
    session: Session,
    public_id: str,
    token: str,
    step: int,
    answer: engine.Reply,
    now: datetime,
    time_zone: str | None = None,
) -> View:
    """Takes the visitor's answer to the current step (a typed or chosen one: meeting times go through `book`)."""
    if answer.meeting is not None:
        raise InvalidInput("A meeting time is booked through the slot, not as a reply.", [Problem("meeting", "")])
    view = _advance(session, public_id, token, step, now, lambda p, s, c: engine.answer(p, s, answer, c), True)
    _note_zone(view.conversation, time_zone)
    return view


# --- meetings ------------------------------------------------------------------------------------------------


def _checked_zone(time_zone: str | None) -> str | None:
    if time_zone is None:
        return None
    load_zone(time_zone, "time_zone")
    return time_zone


def _note_zone(conversation: Conversation, time_zone: str | None) -> None:
    if time_zone is not None:
        conversation.time_zone = _checked_zone(time_zone)


def _viewed(session: Session, view: View) -> View:
    """Adds what to offer slots for when the conversation waits for a meeting time."""
    expected = view.turn.expected
    if expected.kind == "meeting" and view.conversation.status == "active":
        view.offer_for = _booking_request(session, view.conversation, view.person, expected)
    return view


def _booking_request(
    session: Session, conversation: Conversation, person: Person, expected: engine.Expected
) -> booking.BookingRequest:
    program = _program(session, conversation)
    document = program.document if expected.flow is None else program.flows[expected.flow]
    spec = document.flow.cards[expected.card or ""].book_meeting
    if spec is None:
        raise engine.EngineError(f"The card '{expected.card}' books no meeting.")
    state = engine.State.model_validate(conversation.state)
    transcript = tuple((entry.role, entry.text) for entry in state.transcript if not entry.retracted)
    return booking.BookingRequest(
        spec=spec,
        person_id=person.id,
        values=people.field_values(person, people.company_of(session, person)),
        site_key=program.document.site if isinstance(program.document, DialogueDocument) else None,
        dialogue_id=conversation.dialogue_id,
        conversation_id=conversation.id,
        transcript=transcript,
    )


def awaiting_time(session: Session, public_id: str, token: str, step: int) -> booking.BookingRequest:
    """What a meeting time picked at `step` is booked for. Raises Conflict when the conversation is not waiting
    for a time at that step."""
    conversation, person = _owned(session, public_id, token)
    claims.require_active(conversation, step)
    state = engine.State.model_validate(conversation.state)
    if state.awaiting is None or state.awaiting.kind != "meeting":
        raise Conflict("This conversation is not waiting for a meeting time.", [Problem("slot", "Not expected.")])
    return _booking_request(session, conversation, person, state.awaiting)


def book(
    session: Session,
    world: CalendarWorld,
    public_id: str,
    token: str,
    step: int,
    prepared: booking.Prepared | booking.Unavailable,
    now: datetime,
    time_zone: str | None = None,
) -> View:
    """Books the time the visitor picked (read beforehand with `booking.prepare`) and goes on: to the card's
    on_booked, to on_unavailable when no meeting can be booked at all, or, when the time was just taken, back to
    the same question with a notice (the caller offers fresh times)."""
    conversation, person = _claim(session, public_id, token, step)
    _note_zone(conversation, time_zone)
    zone = conversation.time_zone or "UTC"
    if isinstance(prepared, booking.Unavailable):
        outcome: booking.Outcome = prepared
    else:
        outcome = booking.book(session, world, prepared, visitor_zone=zone, now=now)
    if isinstance(outcome, booking.Taken):  # the step taken is used up: the fresh offer answers the next one
        state = engine.State.model_validate(conversation.state)
        return _viewed(session, View(conversation, person, _waiting(state), notice=outcome.reason))
    if isinstance(outcome, booking.Booked):
        conversation.booked_meeting = True
        local = outcome.meeting.starts_at.astimezone(load_zone(zone))
        agent: Agent = outcome.agent
        result = engine.MeetingOutcome(
            booked=True,
            label=f"{local:%A %d %B %Y, %H:%M} ({zone})",
            agent_name=agent.name,
            agent_email=agent.email,
        )
    else:
        result = engine.MeetingOutcome(booked=False)
    answer = engine.Reply(meeting=result)
    view = _move_on(session, conversation, person, now, lambda p, s, c: engine.answer(p, s, answer, c), True)
    view.booked = outcome if isinstance(outcome, booking.Booked) else None
    return view


def no_times(session: Session, public_id: str, token: str, step: int, now: datetime) -> View:
    """Nobody can meet the visitor (no slot in the coming weeks): the dialogue goes on at on_unavailable."""
    answer = engine.Reply(meeting=engine.MeetingOutcome(booked=False))
    return _advance(session, public_id, token, step, now, lambda p, s, c: engine.answer(p, s, answer, c), False)


def back(session: Session, public_id: str, token: str, step: int, now: datetime) -> View:
    """Undoes the visitor's last answer. The company an email of that answer changed is put back first, so the
    question comes back with the company's fields as they were (a refused step rolls it back with the rest)."""
    conversation, person = _owned(session, public_id, token)
    undone = engine.State.model_validate(conversation.state).history[-1:]
    if undone and undone[0].company and not _absorbed_this_visitor(session, person, conversation):
        companies.restore(session, person, undone[0].company, now)
    return _advance(session, public_id, token, step, now, engine.go_back, engaged=False)


def restart(session: Session, public_id: str, token: str, step: int, now: datetime) -> View:
    """Starts the dialogue over from its first card (the transcript keeps what came before, retracted)."""
    return _advance(session, public_id, token, step, now, engine.restart, engaged=False)


def resume(session: Session, public_id: str, token: str) -> View:
    """The conversation as it stands, e.g. after a page reload: the transcript and the question waiting."""
    conversation, person = _owned(session, public_id, token)
    state = engine.State.model_validate(conversation.state)
    return _viewed(session, View(conversation, person, _waiting(state)))


def dismiss(session: Session, public_id: str, token: str, now: datetime) -> View:
    """The visitor closed the conversation before it ended."""
    conversation, person = _owned(session, public_id, token)
    if conversation.status == "active" and claims.end(session, conversation, "dismissed", now):
        _record(
            session,
            conversation,
            person,
            ActivityType.dialogue_dismissed,
            now,
            {"page_url": conversation.page_url, "step": conversation.step},
        )
    state = engine.State.model_validate(conversation.state)
    return View(conversation, person, _waiting(state))


def link_clicked(session: Session, public_id: str, token: str, url: str, now: datetime) -> None:
    """Records that the visitor opened a link the conversation showed them."""
    conversation, person = _owned(session, public_id, token)
    program = _program(session, conversation)
    shown = {
        card.link.url
        for document in [program.document, *program.flows.values()]
        for card in document.flow.cards.values()
        if card.link is not None
    }
    if url not in shown:
        raise InvalidInput("This link is not one the conversation showed.", [Problem("url", "Unknown link.")])
    people.touch(person, now)
    _record(
        session, conversation, person, ActivityType.link_clicked, now, {"url": url, "page_url": conversation.page_url}
    )


def drop_abandoned(session: Session, now: datetime) -> int:
    """Marks conversations with no reply for a whole visitor session as dropped; returns how many."""
    silent_since = now - people.SESSION_TIMEOUT
    stale = session.scalars(
        select(Conversation).where(Conversation.status == "active", Conversation.updated_at < silent_since)
    ).all()
    dropped = 0
    for conversation in stale:
        if not claims.end(session, conversation, "dropped", now, silent_since=silent_since):
            continue  # answered, dismissed or dropped by another call since it was read
        dropped += 1
        person = session.get(Person, conversation.person_id) if conversation.person_id is not None else None
        if person is None:
            continue
        _record(
            session,
            conversation,
            person,
            ActivityType.dialogue_dropped,
            now,
            {"page_url": conversation.page_url, "step": conversation.step},
        )
    return dropped


def for_dialogue(session: Session, dialogue: Dialogue, limit: int = 100) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.dialogue_id == dialogue.id)
            .order_by(Conversation.id.desc())
            .limit(limit)
        )
    )
