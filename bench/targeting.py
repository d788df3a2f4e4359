"""The targeting benchmark of the people issue, with 500 published dialogues (mixed page and audience rules) and
100,000 people:

- `selection: N us` — the pure selector alone, median per decision (target: under 50 us);
- `visit/no-op ratio: R` — visit calls per second through HTTP on SQLite divided by requests per second of a no-op
  endpoint of the same app, in the same run, both with the same concurrent clients (target: at least 0.5). Every
  visit writes its page view and the visitor's visit data, durable before the answer is sent.

Run: .venv-dev/bin/python bench/targeting.py   (about a minute; the server runs in its own process, on loopback)
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).parent))
from serving import serve_with_noop, server_process  # noqa: E402
from targeting_selection import DIALOGUES, SITES, documents, selection_microseconds, url  # noqa: E402

PEOPLE = 100_000
CLIENTS = 16
SECONDS = 5.0


def prepare(data_dir: str) -> list[str]:
    """Publishes the dialogues and adds the people; returns some of their visitor ids."""
    from sqlalchemy import insert

    from overture.db import Database, migrate, utcnow
    from overture.dialogues import service as dialogues
    from overture.people.fields import FieldSchema
    from overture.people.models import Company, Person, VisitorIdentity
    from overture.settings import Settings
    from overture.sites.models import Site

    db = Database.from_url(Settings(data_dir=Path(data_dir)).database_url)
    migrate(db.engine)
    now = utcnow()
    with db.write() as session:
        for key, facts in SITES.items():
            session.add(Site(key=key, name=key, origins=["https://*.example.com"], chat_enabled=facts.chat_enabled))
        session.flush()
        for document in documents(random.Random(4)):
            dialogue = dialogues.create(session, document, "dialogue", now)
            dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=now)
    rng = random.Random(7)
    industries = ["Software", "Fintech", "Retail", "Health", "Media"]
    with db.engine.begin() as connection:
        connection.execute(
            insert(Company.__table__),
            [
                {"id": i, "name": f"Company {i}", "industry": rng.choice(industries), "employees": rng.randint(1, 5000),
                 "fields": {}, "created_at": now, "updated_at": now}
                for i in range(1, 10_001)
            ],
        )  # fmt: skip
        connection.execute(
            insert(Person.__table__),
            [
                {"id": i, "email": f"p{i}@example.com" if i % 3 else None, "first_name": f"P{i}",
                 "company_id": rng.randint(1, 10_000) if i % 2 else None, "fields": {}, "source": {}, "visit": {},
                 "created_at": now, "last_seen_at": now, "session_number": 1, "visit_count": 1}
                for i in range(1, PEOPLE + 1)
            ],
        )  # fmt: skip
        connection.execute(
            insert(VisitorIdentity.__table__),
            [{"visitor_id": f"v_bench{i:08d}", "person_id": i, "created_at": now} for i in range(1, PEOPLE + 1)],
        )
    db.dispose()
    return [f"v_bench{rng.randint(1, PEOPLE):08d}" for _ in range(5_000)]


async def rate(base: str, call: str, visitors: list[str]) -> float:
    """Requests per second with CLIENTS concurrent clients, each waiting for its answer before the next call."""
    count = 0
    deadline = time.perf_counter() + SECONDS

    async def client_loop(number: int) -> None:
        nonlocal count
        rng = random.Random(number)
        async with httpx2.AsyncClient(base_url=base, timeout=30) as client:
            while time.perf_counter() < deadline:
                if call == "noop":
                    response = await client.get("/bench/noop")
                else:
                    response = await client.post(
                        "/api/v1/widget/visit",
                        json={
                            "site": "www",
                            "visitor_id": rng.choice(visitors),
                            "url": url(rng),
                        },
                        headers={"Origin": "https://www.example.com"},
                    )
                assert response.status_code == 200, response.text
                count += 1

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(CLIENTS)))
    return count / (time.perf_counter() - started)


def main() -> None:
    print(f"selection: {selection_microseconds():.1f} us")  # noqa: T201
    with tempfile.TemporaryDirectory() as data_dir:
        visitors = prepare(data_dir)
        with server_process(__file__, data_dir, "/bench/noop") as base:
            asyncio.run(rate(base, "visit", visitors))  # warm up: the selector is built, pages are cached
            noop_rate = asyncio.run(rate(base, "noop", visitors))
            visit_rate = asyncio.run(rate(base, "visit", visitors))
    print(f"{DIALOGUES} dialogues, {PEOPLE} people, {CLIENTS} concurrent clients")  # noqa: T201
    print(f"no-op requests/s: {noop_rate:.0f}")  # noqa: T201
    print(f"visits/s: {visit_rate:.0f}")  # noqa: T201
    print(f"visit/no-op ratio: {visit_rate / noop_rate:.2f}")  # noqa: T201


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_with_noop(sys.argv[2], int(sys.argv[3]))
    else:
        main()
