"""Marketo activities into Overture's activity log, so that audiences can target them (`activity.marketo.*`,
people/fields.py): the web pages a lead visited, the forms they filled out, the links and emails they clicked, the
emails they opened, their program status changes (`TYPES`).

`import_activities(db, client)` reads the activities of those types from the stored paging token on (the first run
asks Marketo for a token `since` a moment: by default the last 90 days, the raw-data retention window, since older
activities would be purged as soon as they arrive), page after page until Marketo says there are no more, empty
pages included. Each page is applied in one transaction together with the token after it (the `activities` row of
`marketo_sync_state`, moved by compare-and-set on its version), so a run killed anywhere resumes after the last page
committed, and the next run reads only what is new.

- Only the activities of leads that are people here (`integration_records`, written by the leads sync) are
  recorded; the others are skipped and counted. Run it after the leads, so that new leads are people first.
- An activity is recorded at Marketo's `activityDate`, in no Overture visit session (`session_number` 0), with what
  it is about in `attributes["subject"]` (the page address, the form, the email, "program / new status": what
  audience conditions test) and a few details; not the lead's IP address or browser.
- Nothing is recorded twice: `attributes["marketo_guid"]` keeps Marketo's key of the activity, and a page skips the
  GUIDs already recorded. That look-up goes through the activity log's (person, type, occurred_at) index: a GUID
  recorded before is an activity of the same person and type at the same `activityDate` (Marketo never moves an
  activity in time), so the page asks for its people's activities of its types between its first and last dates.
  No table or index of its own is needed, and privacy deletion and person merges, which already look after the
  activity log, look after these too. It matters when pages are read again (a checkpoint reset, a token Marketo
  no longer takes); within normal runs the checkpoint alone already reads each page once, and two runs at once
  cannot both commit a page (the compare-and-set refuses the second).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.db import Database, Wake, wake_after_commit
from overture.errors import OvertureError
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.marketo.errors import MarketoFailure
from overture.integrations.marketo.leads_import import LEAD, records_of, text_of
from overture.integrations.marketo.schemas import Activity as MarketoActivity
from overture.integrations.marketo.sync_models import MarketoSyncState

PHASE = "activities"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the checkpoint row's fixed key (this phase has no windows)
DEFAULT_SINCE = timedelta(days=90)  # the raw-data retention window: older activities would be purged at once
SUBJECT_LENGTH = 2_000  # characters of a subject kept (URLs can be long; a page address is rarely over 2,000)
DETAIL_LENGTH = 500

# Marketo's standard activity type ids and the Overture activity each becomes. At most 10 (Marketo takes 10 type
# ids an activities call): a longer list would need a paging token, so a checkpoint, per group of 10.
TYPES: dict[int, ActivityType] = {
    1: ActivityType.marketo_visited_web_page,  # Visit Webpage: the page's address
    2: ActivityType.marketo_filled_out_form,  # Fill Out Form: the form's name
    3: ActivityType.marketo_clicked_link,  # Click Link: the link's address
    10: ActivityType.marketo_opened_email,  # Open Email: the email's name
    11: ActivityType.marketo_clicked_email,  # Click Email: the email's name
    104: ActivityType.marketo_changed_program_status,  # Change Status in Progression: the program
}
PROGRAM_STATUS = 104
# Secondary attributes kept, under these keys (what a marketer reads or an automation filters on).
DETAILS: dict[str, str] = {
    "Webpage URL": "page",
    "Referrer URL": "referrer",
    "Link": "link",
    "New Status": "status",
    "Old Status": "old_status",
    "Reason": "reason",
}

Progress = Callable[[str, int, int | None], None]
"""Called after each page: ("activities", activities read so far, None: the total is not known)."""


class ActivitiesConflict(OvertureError):
    """Another import moved the activities checkpoint this one was about to move: one runs at a time."""

    def __init__(self) -> None:
        super().__init__(
            "Another Marketo activities import is running (it moved the checkpoint); this one stopped.", [], 409
        )


@dataclass
class ActivityCounts:
    """What a run did: activities `recorded`, `already` recorded before (pages read again), skipped because their
    lead is `not_a_person` here (not synced), and the `pages` read (empty ones included)."""

    recorded: int = 0
    already: int = 0
    not_a_person: int = 0
    pages: int = 0


def import_activities(
    db: Database,
    client: MarketoClient,
    *,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> ActivityCounts:
    """Records the Marketo activities of `TYPES` since the last run (the first run: since `since`, by default
    90 days before now; later runs ignore it), as the module says. Returns what was done.

    Raises ValueError for a naive `since`; the `MarketoFailure` that stopped it (kept as the checkpoint's last
    error: the next run resumes after the last page committed); `ActivitiesConflict` when another run moved the
    checkpoint."""
    if since is not None and since.tzinfo is None:
        raise ValueError(f"The activities' since must be an aware datetime, not {since.isoformat()}.")
    report = progress or (lambda phase, done, total: None)
    since = since or client.clock() - DEFAULT_SINCE
    state_id = _checkpoint(db, since)
    counts = ActivityCounts()
    try:
        with db.read() as session:
            state = _state(session, state_id)
            token, kept = state.paging_token, (state.extra or {}).get("since")
        first = datetime.fromisoformat(kept) if kept else since
        # A token is asked for only before the first page is committed: after it, the checkpoint holds one.
        token = token or client.paging_token(first)
        seen = 0
        for page in client.activities(token, sorted(TYPES)):
            _apply_page(db, state_id, page.items, page.next_page_token, page.more, counts, client.clock())
            seen += len(page.items)
            report(PHASE, seen, None)
    except MarketoFailure as exc:
        with db.write() as session:
            state = _state(session, state_id)
            _advance(session, state, status="failed", last_error=exc.message[:4000], finished_at=client.clock())
        raise
    return counts


# --- the checkpoint --------------------------------------------------------------------------------------------


def _checkpoint(db: Database, since: datetime) -> int:
    """The id of the checkpoint row, made on the first run with the moment it reads from."""
    with db.read() as session:
        found = session.scalar(select(MarketoSyncState.id).where(MarketoSyncState.phase == PHASE))
    if found is not None:
        return found
    try:
        with db.write() as session:
            state = MarketoSyncState(phase=PHASE, window_start=EPOCH, extra={"since": since.isoformat()})
            session.add(state)
            session.flush()
            return state.id
    except IntegrityError:
        pass  # another run made it first: (phase, window_start) is unique
    with db.read() as session:
        made = session.scalar(select(MarketoSyncState.id).where(MarketoSyncState.phase == PHASE))
    if made is None:
        raise ActivitiesConflict()
    return made


def _state(session: Session, state_id: int) -> MarketoSyncState:
    state = session.get(MarketoSyncState, state_id)
    if state is None:
        raise ActivitiesConflict()
    return state


def _advance(session: Session, state: MarketoSyncState, **values: Any) -> None:
    """Moves the checkpoint by compare-and-set on its version, in the caller's transaction."""
    result = session.execute(
        update(MarketoSyncState)
        .where(MarketoSyncState.id == state.id, MarketoSyncState.version == state.version)
        .values(version=state.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ActivitiesConflict()
    session.expire(state)


# --- a page ----------------------------------------------------------------------------------------------------


def _apply_page(
    db: Database,
    state_id: int,
    items: Sequence[MarketoActivity],
    token: str,
    more: bool,
    counts: ActivityCounts,
    now: datetime,
) -> None:
    """Records one page's activities and moves the checkpoint to the token after it, in one transaction."""
    with db.write() as session:
        state = _state(session, state_id)
        recorded, already, not_a_person = record_page(session, items)
        _advance(
            session,
            state,
            paging_token=token,
            rows_applied=state.rows_applied + len(items),
            created=state.created + recorded,
            skipped=state.skipped + not_a_person,
            status="running" if more else "done",
            started_at=state.started_at or now,
            finished_at=None if more else now,
            last_error=None,
        )
    counts.recorded += recorded
    counts.already += already
    counts.not_a_person += not_a_person
    counts.pages += 1


def record_page(session: Session, items: Sequence[MarketoActivity]) -> tuple[int, int, int]:
    """Records, in the caller's transaction, the activities of `items` whose lead is a person here and whose GUID
    is not recorded yet. Returns (recorded, already recorded, skipped as not a person's)."""
    wanted = [item for item in items if item.activity_type_id in TYPES]
    links = records_of(session, LEAD, sorted({str(item.lead_id) for item in wanted}))
    people = {lead: link.person_id for lead, link in links.items() if link.person_id is not None}
    mine = [item for item in wanted if str(item.lead_id) in people]
    known = _recorded_guids(session, mine, sorted(set(people.values())))
    rows: list[dict[str, Any]] = []
    already = 0
    for item in mine:
        if item.marketo_guid in known:
            already += 1
            continue
        known.add(item.marketo_guid)  # a GUID twice in one page is one activity
        rows.append(
            {
                "person_id": people[str(item.lead_id)],
                "type": TYPES[item.activity_type_id].value,
                "occurred_at": item.activity_date.astimezone(UTC),
                "session_number": 0,  # in no Overture visit session
                "dialogue_id": None,
                "conversation_id": None,
                "attributes": attributes_of(item),
            }
        )
    if rows:
        session.execute(insert(Activity), rows)
        # The consumers of the activity feed (webhooks, automations) see them once this commits.
        wake_after_commit(session, Wake.activities)
    return len(rows), already, len(wanted) - len(mine)


def _recorded_guids(session: Session, items: Sequence[MarketoActivity], person_ids: Sequence[int]) -> set[str]:
    """The GUIDs among `items` already in the activity log (see the module docstring for why this query)."""
    if not items:
        return set()
    dates = [item.activity_date for item in items]
    guid = Activity.attributes["marketo_guid"].as_string()
    found = session.scalars(
        select(guid).where(
            Activity.person_id.in_(person_ids),
            Activity.type.in_(sorted({TYPES[item.activity_type_id].value for item in items})),
            Activity.occurred_at >= min(dates),
            Activity.occurred_at <= max(dates),
        )
    )
    page = {item.marketo_guid for item in items}
    return {value for value in found if value in page}


def attributes_of(item: MarketoActivity) -> dict[str, Any]:
    """What an activity records: its subject (what conditions test), Marketo's keys and the details kept."""
    attributes: dict[str, Any] = {"subject": subject_of(item), "marketo_guid": item.marketo_guid}
    attributes["marketo_lead_id"] = item.lead_id
    if item.primary_attribute_value_id is not None:
        attributes["marketo_primary_id"] = item.primary_attribute_value_id
    if item.activity_type_id == PROGRAM_STATUS and item.primary_attribute_value is not None:
        attributes["program"] = (text_of(item.primary_attribute_value) or "")[:DETAIL_LENGTH]
    for attribute in item.attributes:
        key = DETAILS.get(attribute.name)
        value = text_of(attribute.value)
        if key is not None and value is not None:
            attributes[key] = value[:DETAIL_LENGTH]
    return attributes


def subject_of(item: MarketoActivity) -> str:
    """What the activity is about: Marketo's primary attribute value (the page, form, link or email), the page's
    address when Marketo gives no value for a visit, and "program / new status" for a program status change."""
    subject = text_of(item.primary_attribute_value) or ""
    details = {attribute.name: text_of(attribute.value) for attribute in item.attributes}
    if not subject and item.activity_type_id == 1:
        subject = details.get("Webpage URL") or ""
    if item.activity_type_id == PROGRAM_STATUS and details.get("New Status"):
        subject = f"{subject} / {details['New Status']}"
    return subject[:SUBJECT_LENGTH]
