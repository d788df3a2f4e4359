"""The reports benchmark of issue 14: 10 million activities over 500 dialogues and 90 days, then

- `load`: the time of the bulk load and the peak memory of this process while loading (resource.getrusage);
- `rollups`: the time to count them into the rollups the way production does (`rollups.catch_up_all`: the job's
  steps of 100,000 ids, one transaction each);
- `dialogue report` and `dashboard`: the median time of each over the default period (the last 30 days), in UTC
  and in Europe/Paris (whose days cut UTC days), read as the API reads them (catching up first: nothing new here),
  each beside the median time of `SELECT 1` on the same database and their ratio (target: under 200 ms each).

Run: .venv-dev/bin/python bench/reports.py [--activities N] [--database-url URL]
  (default: 10,000,000 activities in a temporary SQLite file; a PostgreSQL URL names a server where a database is
  created for the run and dropped after it)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, make_url, text

from scratch import scratch_database

DIALOGUES = 500
DAYS = 90
PEOPLE = 300_000
PAGES = 200
AGENTS = 10
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BATCH = 20_000  # conversations per insert batch
RUNS = 15
GOAL = json.dumps({"goal": "signed_up", "score": 0})

ACTIVITY_COLUMNS = (
    "person_id",
    "type",
    "occurred_at",
    "session_number",
    "dialogue_id",
    "conversation_id",
    "attributes",
)
CONVERSATION_COLUMNS = ("id", "public_id", "token_hash", "person_id", "visitor_id", "dialogue_id", "version_id",
                        "flow_version_ids", "state", "step", "status", "page_url", "cards", "last_card", "started_at",
                        "updated_at")  # fmt: skip
MEETING_COLUMNS = ("public_id", "uid", "sequence", "agent_id", "person_id", "conversation_id", "dialogue_id", "title",
                   "starts_at", "ends_at", "visitor_zone", "meeting_link", "status", "calendar_state",
                   "calendar_attempts", "calendar_removals", "reminders_sent", "created_at", "updated_at")  # fmt: skip


def peak_megabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


class Writer:
    """Bulk inserts through the driver: executemany on SQLite (timestamps as SQLite stores them), COPY on
    PostgreSQL."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value

    def stamp(self, value: datetime) -> Any:
        """A timestamp as the engine takes it (the rows of the load are built with it: converting costs)."""
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], ready: bool = False) -> None:
        """Inserts rows; `ready`: their timestamps and JSON are already what the driver takes."""
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if not ready:
            rows = [tuple(self.value(v) for v in row) for row in rows]
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        else:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def prepare(url: str) -> dict[str, Any]:
    """The dialogues (two versions each), the people and the agents, through the ORM (small)."""
    from overture.db import Database, migrate
    from overture.dialogues.models import Dialogue, DialogueVersion
    from overture.scheduling.models import Agent
    from overture.users.models import User

    db = Database.from_url(url)
    migrate(db.engine)
    flow = {"start": "hello", "cards": {"hello": {"say": "Hi!", "buttons": [{"label": "Tell me more", "goto": "ask"},
                                                                          {"label": "No thanks", "goto": "bye"}]},
                                        "ask": {"ask": "Email?", "capture": "person.email", "goto": "bye"},
                                        "bye": {"say": "Thanks", "goal": "signed_up", "end": True}}}  # fmt: skip
    versions: dict[int, list[int]] = {}
    with db.write() as session:
        dialogues = [
            Dialogue(key=f"dialogue-{n:03d}", name=f"Dialogue {n}", status="published", draft={}, published_version=2)
            for n in range(DIALOGUES)
        ]
        session.add_all(dialogues)
        session.flush()
        for dialogue in dialogues:
            rows = [DialogueVersion(dialogue_id=dialogue.id, number=number, published_at=NOW - timedelta(days=DAYS),
                                    document={"key": dialogue.key, "flow": flow}) for number in (1, 2)]  # fmt: skip
            session.add_all(rows)
            session.flush()
            versions[dialogue.id] = [row.id for row in rows]
        agents = []
        for n in range(AGENTS):
            user = User(email=f"agent{n}@example.com", name=f"Agent {n}", role="agent")
            session.add(user)
            session.flush()
            agent = Agent(user_id=user.id)
            session.add(agent)
            session.flush()
            agents.append(agent.id)
    with db.engine.begin() as connection:
        writer = Writer(connection)
        writer.insert("people", ("id", "email", "fields", "created_at", "last_seen_at", "session_number",
                                 "visit_count", "source", "visit"),
                      [(i, f"p{i}@example.com", {}, NOW, NOW, 1, 1, {}, {}) for i in range(1, PEOPLE + 1)])  # fmt: skip
    db.dispose()
    return {"versions": versions, "agents": agents}


def load(url: str, activities: int, made: dict[str, Any]) -> int:
    """Conversations in time order, each with the activities a visitor makes; returns the conversations."""
    rng = random.Random(14)
    dialogue_ids = sorted(made["versions"])
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(dialogue_ids))]
    pick_dialogue = rng.choices(dialogue_ids, weights, k=65_536)
    pages = [f"https://www.example.com/page-{n}" for n in range(PAGES)]
    per_conversation = 2.7  # on average, with the mix below
    count = int(activities / per_conversation) + 1
    span = DAYS * 86_400
    starts = sorted(rng.random() * span for _ in range(count))
    start_of_period = NOW - timedelta(days=DAYS)
    slots = [0] * AGENTS
    written = conversation_id = 0
    from sqlalchemy import create_engine as make

    engine = make(url)
    with engine.begin() as connection:
        writer = Writer(connection)
        for first in range(0, count, BATCH):
            conversations, rows, meetings = [], [], []
            for offset in starts[first : first + BATCH]:
                if written >= activities:
                    break
                conversation_id += 1
                started = start_of_period + timedelta(seconds=offset)
                dialogue = pick_dialogue[rng.randrange(65_536)]
                version = made["versions"][dialogue][0 if offset < span / 2 or dialogue % 2 else 1]
                person = rng.randrange(1, PEOPLE + 1)
                page = rng.choice(pages) + ("?utm_source=ads" if rng.random() < 0.3 else "")
                status = "active"
                kinds = ["dialogue.triggered"]
                if rng.random() < 0.6:
                    kinds.append("dialogue.engaged")
                    if rng.random() < 0.4:
                        kinds.append("field.captured")
                    if rng.random() < 0.05:
                        kinds.append("meeting.booked")
                    ending = rng.random()
                    if ending < 0.5:
                        kinds += (
                            ["goal.reached", "dialogue.completed"] if rng.random() < 0.6 else ["dialogue.completed"]
                        )
                        status = "completed"
                    elif ending < 0.8:
                        kinds.append("dialogue.dismissed")
                        status = "dismissed"
                    else:
                        kinds.append("dialogue.dropped")
                        status = "dropped"
                if rng.random() < 0.1:
                    kinds.append("link.clicked")
                at = writer.stamp(started)
                # What the funnel counts: the cards entered and, for those who engaged, the button chosen.
                cards, state = ["hello"], {"transcript": [{"role": "bot", "card": "hello", "text": "Hi!"}]}
                if "dialogue.engaged" in kinds:
                    answer = "Tell me more" if "field.captured" in kinds or rng.random() < 0.5 else "No thanks"
                    state["transcript"].append({"role": "visitor", "card": "hello", "text": answer})
                    cards += ["ask", "bye"] if answer == "Tell me more" else ["bye"]
                conversations.append((conversation_id, uuid.UUID(int=rng.getrandbits(128)).hex, "0" * 64, person,
                                      None, dialogue, version, "{}", json.dumps(state), len(kinds), status, page,
                                      json.dumps(cards), cards[-1], at, at))  # fmt: skip
                on_page = json.dumps({"page_url": page})
                for n, kind in enumerate(kinds):
                    attributes = on_page
                    if kind == "field.captured":
                        attributes = json.dumps({"field": "person.email", "value": f"p{person}@example.com"})
                    elif kind == "goal.reached":
                        attributes = GOAL
                    elif kind == "meeting.booked":
                        agent = rng.randrange(AGENTS)
                        slots[agent] += 1
                        meeting_start = NOW + timedelta(minutes=30 * slots[agent])
                        meetings.append((uuid.UUID(int=rng.getrandbits(128)).hex, f"{conversation_id}@bench", 0,
                                         made["agents"][agent], person, conversation_id, dialogue, "Demo",
                                         meeting_start, meeting_start + timedelta(minutes=30), "UTC", "",
                                         rng.choice(["booked", "held", "held", "no_show"]), "none", 0, [], [],
                                         started, started))  # fmt: skip
                        attributes = json.dumps({"meeting": meetings[-1][0]})
                    rows.append((person, kind, writer.stamp(started + timedelta(seconds=20 * n)), 1, dialogue,
                                 conversation_id, attributes))  # fmt: skip
                written += len(kinds)
            if not conversations:
                break
            writer.insert("conversations", CONVERSATION_COLUMNS, conversations, ready=True)
            writer.insert("activities", ACTIVITY_COLUMNS, rows, ready=True)
            if meetings:
                writer.insert("meetings", MEETING_COLUMNS, meetings)
            print(f"  loaded {written:,} activities, {conversation_id:,} conversations", end="\r", flush=True)  # noqa: T201
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    print()  # noqa: T201
    return conversation_id


def median_ms(call: Callable[[], object]) -> float:
    call()  # warm up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=10_000_000, help="activities to load (default 10 million)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    options = parser.parse_args()

    from overture.analytics import rollups
    from overture.analytics.dashboard import dashboard
    from overture.analytics.dialogue_report import dialogue_report
    from overture.db import Database

    with scratch_database(options.database_url, "bench") as url:
        engine_name = make_url(url).get_backend_name()
        print(f"{engine_name}: {options.activities:,} activities, {DIALOGUES} dialogues, {DAYS} days")  # noqa: T201
        started = time.perf_counter()
        made = prepare(url)
        conversations = load(url, options.activities, made)
        print(f"load: {time.perf_counter() - started:.0f} s ({conversations:,} conversations), "  # noqa: T201
              f"peak memory {peak_megabytes():.0f} MB")  # fmt: skip

        db = Database.from_url(url)
        started = time.perf_counter()
        rollups.catch_up_all(db, NOW, again=True)
        print(f"rollups: {time.perf_counter() - started:.0f} s")  # noqa: T201
        with db.read() as session:
            rows = session.execute(text("SELECT count(*) FROM report_hours")).scalar()
            print(f"  {rows:,} dialogue-hours")  # noqa: T201

        busiest = "dialogue-000"

        def noop() -> None:
            with db.read() as session:
                session.execute(text("SELECT 1")).scalar()

        def report(zone: str) -> Callable[[], object]:
            def call() -> object:
                rollups.refresh(db, NOW)
                with db.read() as session:
                    return dialogue_report(session, busiest, zone=zone, now=NOW)

            return call

        def board(zone: str) -> Callable[[], object]:
            def call() -> object:
                rollups.refresh(db, NOW)
                with db.read() as session:
                    return dashboard(session, zone=zone, now=NOW)

            return call

        def funnel_only() -> object:
            # The dialogue report's share that sums the funnel's rollups (its cards, answers and meetings).
            from overture.analytics.dialogue_report import period
            from overture.analytics.funnel import funnel, funnel_meetings
            from overture.dialogues import service as dialogues

            with db.read() as session:
                hours = period(None, None, "UTC", NOW).hours()
                dialogue = dialogues.get(session, busiest)
                return funnel(session, dialogue, None, hours), funnel_meetings(session, dialogue, None, hours)

        noop_ms = median_ms(noop)
        print(f"no-op query (SELECT 1): {noop_ms:.2f} ms")  # noqa: T201
        for zone in ("UTC", "Europe/Paris"):
            for name, call in (("dialogue report", report(zone)), ("dashboard", board(zone))):
                took = median_ms(call)
                print(f"{name} ({zone}, last 30 days): {took:.1f} ms, {took / noop_ms:.0f}x the no-op")  # noqa: T201
        took = median_ms(funnel_only)
        print(f"  of the dialogue report, its funnel (UTC, from its rollups): {took:.1f} ms")  # noqa: T201
        answer = report("UTC")()
        print(f"  the busiest dialogue: {getattr(answer, 'triggered', 0):,} triggered in 30 days")  # noqa: T201
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
