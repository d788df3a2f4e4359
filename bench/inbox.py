"""The Conversations inbox at a million conversations: loads them (bulk inserts, with progress, the load time and
the peak memory of this process), then times pages of the list as the admin API reads them (conversations/inbox.py):
the first page, a page half a million rows deep reached by its cursor, and the pages of the filters a marketer
uses, the person and company search alone and with other filters, each beside a no-op `SELECT 1` of the same
database, with the ratio; then the same searches on the People page (people/directory.py). Target: every page under
100 ms.

Run: .venv-dev/bin/python bench/inbox.py                       (SQLite, a temporary file)
     .venv-dev/bin/python bench/inbox.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
       (PostgreSQL: a scratch database is made on that server and dropped at the end)
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from overture.conversations import inbox
from overture.conversations.models import Conversation
from overture.db import Database, migrate
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.people import directory
from overture.people.models import Company, CompanyDomain, CompanyNameWord, Person, PersonNameWord, name_words

from scratch import scratch_database

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
DAYS = 90
DIALOGUES = 200
PEOPLE = 400_000
COMPANIES = 20_000
BATCH = 20_000
RUNS = 30
PAGES = ["/pricing", "/features", "/blog/launch", "/docs/start", "/", "/contact", "/customers", "/careers"]
LAST_NAMES = [f"{stem}{suffix}" for stem in ("Okafor", "Lovelace", "Nakamura", "Silva", "Moreau") for suffix in
              ("", "son", "berg", "ski", "ez", "ford", "man", "ley", "ton", "wick")] * 10  # fmt: skip


def rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _batches(total: int, make: Callable[[int], dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, total, BATCH):
        yield [make(n) for n in range(start, min(start + BATCH, total))]


def load(db: Database, total: int) -> None:
    """Dialogues (one takes a fifth of the traffic), companies, people (a third known, with names), and `total`
    conversations over 90 days: 30 % engaged; of those, half completed, a sixth with a goal, one in thirty with a
    meeting, a third dropped; the rest shown only (dropped or dismissed unanswered, a few still open)."""
    rng = random.Random(14)
    with db.engine.begin() as connection:
        connection.execute(insert(Dialogue), [
            {"id": n, "key": f"dialogue-{n}", "name": f"Dialogue {n}", "status": "published", "draft": {},
             "published_version": 1} for n in range(1, DIALOGUES + 1)
        ])  # fmt: skip
        connection.execute(insert(DialogueVersion), [
            {"id": n, "dialogue_id": n, "number": 1, "document": {}, "published_at": NOW}
            for n in range(1, DIALOGUES + 1)
        ])  # fmt: skip
        companies = [
            {"id": n, "name": f"Company {n} Corp", "domain": f"company{n}.example"} for n in range(1, COMPANIES + 1)
        ]
        connection.execute(insert(Company), companies)
        connection.execute(
            insert(CompanyDomain), [{"domain": row["domain"], "company_id": row["id"]} for row in companies]
        )
        # The name index, as the listeners of people/models.py write it for rows written through the ORM.
        connection.execute(insert(CompanyNameWord), [
            {"word": word, "company_id": row["id"]} for row in companies for word in name_words(row["name"])
        ])  # fmt: skip

    def person(n: int) -> dict[str, Any]:
        known = n % 3 == 0
        return {"id": n + 1, "email": f"person{n}@company{n % COMPANIES + 1}.example" if known else None,
                "first_name": "Ada" if known else None, "last_name": LAST_NAMES[n % len(LAST_NAMES)] if known else None,
                "company_id": n % COMPANIES + 1 if known else None, "created_at": NOW, "last_seen_at": NOW}  # fmt: skip

    with db.engine.begin() as connection:
        for rows in _batches(PEOPLE, person):
            connection.execute(insert(Person), rows)
            words = [
                {"word": word, "person_id": row["id"]}
                for row in rows
                for word in name_words(row["first_name"], row["last_name"])
            ]
            if words:
                connection.execute(insert(PersonNameWord), words)

    span = DAYS * 86_400

    def conversation(n: int) -> dict[str, Any]:
        # In the order they arrive, as in a real database: a later conversation has a later start and a higher id.
        started = NOW - timedelta(seconds=span * (1 - n / total) - rng.random())
        engaged = rng.random() < 0.30
        roll = rng.random()
        if engaged:
            status = "completed" if roll < 0.5 else "active" if roll < 0.55 else rng.choice(["dismissed", "dropped"])
        else:
            status = "active" if roll < 0.02 else "dropped" if roll < 0.8 else "dismissed"
        dialogue = 1 if rng.random() < 0.2 else rng.randint(2, DIALOGUES)
        page = rng.choice(PAGES)
        return {
            "public_id": f"c_{n:012d}", "token_hash": "", "person_id": rng.randint(1, PEOPLE),
            "dialogue_id": dialogue, "version_id": dialogue, "flow_version_ids": {}, "state": {}, "step": 3,
            "status": status, "page_url": f"https://www.example.com{page}?utm_source=bench", "cards": [],
            "engaged": engaged, "reached_goal": engaged and status == "completed" and rng.random() < 0.33,
            "booked_meeting": engaged and status == "completed" and rng.random() < 0.06,
            "started_at": started, "updated_at": started, "ended_at": None if status == "active" else started,
        }  # fmt: skip

    loaded = 0
    with db.engine.begin() as connection:
        for rows in _batches(total, conversation):
            connection.execute(insert(Conversation), rows)
            loaded += len(rows)
            if loaded % 100_000 == 0 or loaded == total:
                print(f"  {loaded:>9,} conversations loaded  (peak memory {rss_mb():,.0f} MB)", flush=True)  # noqa: T201
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # as PostgreSQL's autovacuum would; SQLite's `overture` never does


def median_ms(run: Callable[[], object]) -> float:
    run()  # warm: the first run reads pages from disk
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def deep_cursor(session: Session, depth: int) -> str:
    """The cursor the list gives out after `depth` rows (found once with OFFSET, which the list itself never uses)."""
    row = session.execute(
        select(Conversation.started_at, Conversation.id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .offset(depth - 1)
        .limit(1)
    ).one()
    return inbox.Cursor(row.started_at, row.id).encode(inbox.Filters())


def measure(db: Database, total: int) -> None:
    week = (NOW - timedelta(days=6)).date()
    cases: list[tuple[str, inbox.Filters, str | None]] = [
        ("first page", inbox.Filters(), None),
        ("a dialogue (1 of 200)", inbox.Filters(dialogue="dialogue-7"), None),
        ("the busiest dialogue", inbox.Filters(dialogue="dialogue-1"), None),
        ("outcome engaged", inbox.Filters(outcome="engaged"), None),
        ("outcome completed", inbox.Filters(outcome="completed"), None),
        ("outcome goal", inbox.Filters(outcome="goal"), None),
        ("outcome meeting", inbox.Filters(outcome="meeting"), None),
        ("outcome dropped", inbox.Filters(outcome="dropped"), None),
        ("last 7 days, Paris", inbox.Filters(first=week, last=NOW.date(), zone="Europe/Paris"), None),
        ("a day 60 days ago", inbox.Filters(first=date(2026, 1, 15), last=date(2026, 1, 15)), None),
        ("dialogue + meeting", inbox.Filters(dialogue="dialogue-1", outcome="meeting"), None),
        ("dialogue + engaged + 7 days", inbox.Filters(dialogue="dialogue-7", outcome="engaged", first=week), None),
        ("page /pricing", inbox.Filters(page="/pricing"), None),
        ("search a last name", inbox.Filters(q="nakamuraberg"), None),
        ("search an email", inbox.Filters(q="{email}"), None),
        ("search a company", inbox.Filters(q="company 4242"), None),
        ("search a company's domain", inbox.Filters(q="company4242.example"), None),
        ("search a first name (a third of people)", inbox.Filters(q="ada"), None),
        ("search a name prefix (2,700 people)", inbox.Filters(q="NAKAMURAB"), None),
        ("search a name + a dialogue", inbox.Filters(q="ada", dialogue="dialogue-7"), None),
        ("search a last name + engaged + 7 days", inbox.Filters(q="nakamuraberg", outcome="engaged", first=week), None),
        ("search nobody", inbox.Filters(q="zyx"), None),
    ]
    with db.read() as session:
        noop = median_ms(lambda: session.execute(text("SELECT 1")).all())
        deep = deep_cursor(session, total // 2)
        chatted = select(Person.email).join(Conversation, Conversation.person_id == Person.id)
        email = session.scalar(chatted.where(Person.email.is_not(None)).limit(1))  # someone known who chatted
        cases = [(name, inbox.Filters(q=email) if f.q == "{email}" else f, a) for name, f, a in cases]
        deep_engaged = inbox.list_conversations(session, inbox.Filters(outcome="engaged"), limit=200)
        cursor = deep_engaged.next
        for _ in range(200):  # 40,000 engaged conversations deep, page by page as a client would
            cursor = inbox.list_conversations(session, inbox.Filters(outcome="engaged"), cursor=cursor, limit=200).next
        cases.insert(1, (f"deep page ({total // 2:,} rows in), by cursor", inbox.Filters(), deep))
        cases.insert(6, ("outcome engaged, 40,000 rows in", inbox.Filters(outcome="engaged"), cursor))
        print(f"\n{'page of 50':<40} {'ms':>8} {'SELECT 1 ms':>12} {'ratio':>8} {'rows':>5}")  # noqa: T201
        worst = 0.0
        for name, filters, after in cases:
            found = inbox.list_conversations(session, filters, cursor=after)
            took = median_ms(lambda f=filters, a=after: inbox.list_conversations(session, f, cursor=a))  # type: ignore[misc]
            worst = max(worst, took)
            print(f"{name:<40} {took:>8.2f} {noop:>12.3f} {took / noop:>8.0f} {len(found.items):>5}")  # noqa: T201
        public_id = found.items[0].public_id if found.items else "c_000000000001"
        took = median_ms(lambda: inbox.get(session, public_id, NOW))
        print(f"{'one conversation (detail)':<40} {took:>8.2f} {noop:>12.3f} {took / noop:>8.0f}")  # noqa: T201
        print(f"\n{'People page, page of 50':<40} {'ms':>8} {'SELECT 1 ms':>12} {'ratio':>8} {'rows':>5}")  # noqa: T201
        for name, filters, _ in cases:
            if not name.startswith("search") or filters != inbox.Filters(q=filters.q):
                continue
            people = directory.search_people(session, filters.q)
            took = median_ms(lambda q=filters.q: directory.search_people(session, q))  # type: ignore[misc]
            worst = max(worst, took)
            print(f"{name:<40} {took:>8.2f} {noop:>12.3f} {took / noop:>8.0f} {len(people.items):>5}")  # noqa: T201
        print(f"\nslowest page: {worst:.1f} ms (target: under 100 ms)")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--conversations", type=int, default=1_000_000, help="how many to load (default 1,000,000)")
    options = parser.parse_args()
    with scratch_database(options.database_url, "inbox") as url:
        db = Database.from_url(url)
        migrate(db.engine)
        engine = db.engine.dialect.name
        print(f"inbox bench on {engine}: loading {options.conversations:,} conversations", flush=True)  # noqa: T201
        start = time.perf_counter()
        load(db, options.conversations)
        print(f"loaded in {time.perf_counter() - start:.0f} s, peak memory {rss_mb():,.0f} MB")  # noqa: T201
        measure(db, options.conversations)
        db.dispose()


if __name__ == "__main__":
    main()
