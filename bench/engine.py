"""The engine benchmark of the dialogues issue: pure engine steps per second on a 50-card flow, and replies per
second through the widget API on SQLite beside a no-op endpoint of the same app, in the same run.

Target: one reply through the API costs at most 3x a no-op request (the `reply/no-op cost ratio` line).
Run: .venv-dev/bin/python bench/engine.py   (about 20 seconds; the server runs in its own process, on loopback)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).parent))
from engine_pure import build, converse  # noqa: E402
from serving import serve_with_noop, server_process  # noqa: E402

from overture.conversations.engine import Context  # noqa: E402

SECONDS = 4.0
REPLIES_PER_CONVERSATION = 10
# A question asked again and again: each reply is one full step through the API (token, step check, engine,
# effects, activities, commit).
LOOP = {
    "key": "bench-loop",
    "name": "Bench loop",
    "flow": {
        "start": "ask",
        "cards": {
            "ask": {
                "say": "Hi {{ person.first_name or 'there' }}, again?",
                "buttons": [
                    {"label": "Again", "goto": "ask", "store": "person.title", "value": "again"},
                    {"label": "Stop", "goto": "bye"},
                ],
            },
            "bye": {"say": "Bye.", "end": True},
        },
    },
}


def prepare(data_dir: str) -> None:
    from overture.db import Database, migrate, utcnow
    from overture.dialogues import service as dialogues
    from overture.people.fields import FieldSchema
    from overture.settings import Settings

    db = Database.from_url(Settings(data_dir=Path(data_dir)).database_url)
    migrate(db.engine)
    with db.write() as session:
        dialogue = dialogues.create(session, LOOP, "dialogue", utcnow())
        dialogues.publish(session, dialogue, fields=FieldSchema.builtin(), now=utcnow())
    db.dispose()


def rate(client: httpx2.Client, call: object) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SECONDS:
        call()  # type: ignore[operator]
        count += 1
    return count / elapsed


def replies(client: httpx2.Client) -> tuple[float, float]:
    """Replies per second, each reply timed alone, and the same with the start of each conversation counted too.
    A new visitor every REPLIES_PER_CONVERSATION replies, as on a real site."""
    replied, reply_time, start_time, started = 0, 0.0, 0.0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        began = time.perf_counter()
        answer = client.post("/api/v1/widget/conversations",
                             json={"dialogue": "bench-loop", "page_url": "https://example.com/"}).json()  # fmt: skip
        start_time += time.perf_counter() - began
        headers = {"X-Conversation-Token": answer["token"]}
        path = f"/api/v1/widget/conversations/{answer['conversation_id']}/replies"
        step = answer["step"]
        for _ in range(REPLIES_PER_CONVERSATION):
            began = time.perf_counter()
            step = client.post(path, json={"step": step, "choice": "0"}, headers=headers).json()["step"]
            reply_time += time.perf_counter() - began
            replied += 1
    return replied / reply_time, replied / (reply_time + start_time)


def main() -> None:
    program = build()
    context = Context(now=datetime(2026, 3, 15, tzinfo=UTC))
    converse(program, context)
    steps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SECONDS:
        steps += converse(program, context)
    print(f"engine steps/s: {steps / elapsed:.0f}")  # noqa: T201

    with tempfile.TemporaryDirectory() as data_dir:
        prepare(data_dir)
        with (
            server_process(__file__, data_dir, "/bench/noop") as base,
            httpx2.Client(base_url=base, timeout=10) as client,
        ):
            noop_rate = rate(client, lambda: client.get("/bench/noop"))
            reply_rate, with_starts_rate = replies(client)
    print(f"no-op requests/s: {noop_rate:.0f}")  # noqa: T201
    print(f"replies/s: {reply_rate:.0f}")  # noqa: T201
    print(f"reply/no-op cost ratio: {noop_rate / reply_rate:.2f} (target: at most 3)")  # noqa: T201
    print(  # noqa: T201
        f"with a new conversation every {REPLIES_PER_CONVERSATION} replies, its start counted: "
        f"{noop_rate / with_starts_rate:.2f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_with_noop(sys.argv[2], int(sys.argv[3]))
    else:
        main()
