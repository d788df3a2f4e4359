"""The booking race of the meetings issue: 50 visitors book the same time with the same (only) agent at once,
through the widget's HTTP API, against 4 web processes sharing one PostgreSQL database. Exactly one meeting must
result; the 49 others must get fresh times (not an error).

Prints `booking race: N meetings, B booked, F offered fresh times, E errors` (target: 1, 1, 49, 0).

Run: .venv-dev/bin/python bench/booking_race.py   (PostgreSQL on 127.0.0.1:5432, or OVERTURE_BENCH_DATABASE_URL)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).parent))
from serving import server_process  # noqa: E402

from scratch import scratch_database  # noqa: E402

VISITORS = 50
PROCESSES = 4
SERVER = os.environ.get("OVERTURE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DIALOGUE = {
    "key": "demo",
    "name": "Book a demo",
    "site": "default",
    "flow": {
        "start": "book",
        "cards": {
            "book": {
                "book_meeting": {"routing": "round_robin", "team": "sales"},
                "on_booked": "booked",
                "on_unavailable": "sorry",
            },
            "booked": {"say": "Booked!", "end": True},
            "sorry": {"say": "Nobody can meet.", "end": True},
        },
    },
}


def seed(database_url: str) -> None:
    """One agent with the built-in calendar, free all day every day, in team "sales"; the dialogue, live."""
    from overture.calendars.models import CalendarConnection
    from overture.db import Database, migrate
    from overture.dialogues import service as dialogues
    from overture.people.fields import FieldSchema
    from overture.scheduling import rotation
    from overture.users import service as users

    db = Database.from_url(database_url)
    migrate(db.engine)
    now = datetime.now(UTC)
    with db.write() as session:
        user = users.create_user(session, "rita@example.com", "agent", "Rita Rep")
        agent = rotation.create_agent(session, user)
        agent.weekly_hours = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        session.add(CalendarConnection(agent_id=agent.id, provider="builtin", settings={}))
        rotation.add_member(session, rotation.create_team(session, "sales", "Sales"), agent)
        dialogue = dialogues.create(session, DIALOGUE, "dialogue", now)
        dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=now)
    db.dispose()


def serve(data_dir: str, port: int) -> None:
    import uvicorn

    from overture.settings import Settings
    from overture.web.app import create_app

    settings = Settings(data_dir=data_dir, database_url=os.environ["OVERTURE_DATABASE_URL"], log_level="WARNING")
    uvicorn.run(create_app(settings, start_jobs=False), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)  # fmt: skip


def to_the_times(base: str, number: int) -> dict[str, Any]:
    """One visitor: starts the dialogue, gives an email, and gets the offered times."""
    client = httpx2.Client(base_url=base, timeout=60)
    started = client.post("/api/v1/widget/conversations", json={"dialogue": "demo", "time_zone": "UTC"}).json()
    headers = {"X-Conversation-Token": started["token"]}
    path = f"/api/v1/widget/conversations/{started['conversation_id']}"
    answer = client.post(f"{path}/replies", headers=headers,
                         json={"step": started["step"], "text": f"visitor{number}@race.example"}).json()  # fmt: skip
    return {"client": client, "path": path, "headers": headers, "answer": answer}


def main() -> None:
    with (
        scratch_database(SERVER, "race") as database_url,
        tempfile.TemporaryDirectory() as data_dir,
        contextlib.ExitStack() as stack,
    ):
        seed(database_url)
        os.environ["OVERTURE_DATABASE_URL"] = database_url
        bases = [stack.enter_context(server_process(__file__, data_dir, "/healthz")) for _ in range(PROCESSES)]
        visitors = [to_the_times(bases[n % PROCESSES], n) for n in range(VISITORS)]
        wanted = visitors[0]["answer"]["meeting"]["days"][0]["times"][0]
        barrier = threading.Barrier(VISITORS)

        def pick(visitor: dict[str, Any]) -> str:
            body = {"step": visitor["answer"]["step"], "start": wanted}
            barrier.wait()
            response = visitor["client"].post(f"{visitor['path']}/meeting", headers=visitor["headers"], json=body)
            if response.status_code != 200:
                return "error"
            answer = response.json()
            if answer["status"] == "completed":
                return "booked"
            fresh = [time for day in answer["meeting"]["days"] for time in day["times"]]
            return "fresh" if answer["expected"]["kind"] == "meeting" and wanted not in fresh else "error"

        with ThreadPoolExecutor(max_workers=VISITORS) as pool:
            outcomes = Counter(pool.map(pick, visitors))
        from overture.scheduling.models import Meeting

        engine = create_engine(database_url)
        with engine.connect() as connection:
            meetings = connection.scalar(select(func.count()).select_from(Meeting))
        engine.dispose()
    print(  # noqa: T201
        f"booking race: {meetings} meetings, {outcomes['booked']} booked, {outcomes['fresh']} offered fresh times, "
        f"{outcomes['error']} errors ({VISITORS} visitors, {PROCESSES} web processes, PostgreSQL)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
