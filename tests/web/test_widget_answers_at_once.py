"""Answers sent at the same moment to one step of one conversation, through real `overture serve` processes: two
on PostgreSQL sharing Redis (the README's scale-out), one on SQLite. Exactly one answer is taken, whichever
process it reached; the others are told the step was already answered (409)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select, text

from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import Person
from processes import free_port, running_all

from support import ENGINE, publish

URL = "/api/v1/widget/conversations"
ANSWERS = 10
QUESTION = {
    "key": "question",
    "name": "One question",
    "site": "default",
    "flow": {
        "start": "ask",
        "cards": {
            "ask": {"say": "Shall we talk?", "buttons": [{"label": "Yes", "goto": "done"}]},
            "done": {"say": "Great.", "end": True},
        },
    },
}


@pytest.fixture
def servers(db: Database, database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """The base URLs of the web processes serving the test's database."""
    env = {
        "OVERTURE_DATABASE_URL": database_url,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "OVERTURE_SECRET_KEY": "shared-by-every-process-" + "x" * 20,
        "OVERTURE_REDIS_URL": "redis://127.0.0.1:6379/14",  # a database of its own on the machine's Redis
    }
    ports: list[int] = []
    while len(ports) < (2 if ENGINE == "postgresql" else 1):
        port = free_port()
        ports += [] if port in ports else [port]
    with running_all([(["serve", "--port", str(port)], port) for port in ports], env):
        yield [f"http://127.0.0.1:{port}" for port in ports]


@contextmanager
def held_until_every_process_waits(db: Database, conversation: str, processes: int) -> Iterator[None]:
    """On PostgreSQL, holds the conversation's visitor row locked (each answer updates it) until `processes`
    transactions wait on a lock, then lets them go: each process has then read the conversation and has an answer
    under way, so their answers overlap for certain. On SQLite, with its one process and one writer, nothing."""
    if ENGINE != "postgresql":
        yield
        return
    with db.engine.connect() as holder:
        person = select(Conversation.person_id).where(Conversation.public_id == conversation).scalar_subquery()
        holder.execute(select(Person.id).where(Person.id == person).with_for_update())
        yield
        deadline = time.monotonic() + 30
        while waiting_on_locks(db) < processes and time.monotonic() < deadline:
            time.sleep(0.05)  # polling other processes' progress (bounded), not timing behaviour
        assert waiting_on_locks(db) == processes, "every process has an answer waiting"
        holder.rollback()


def waiting_on_locks(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )) or 0)  # fmt: skip


def test_ten_answers_sent_at_once_to_one_step_are_taken_once(db: Database, servers: list[str]) -> None:
    publish(db, QUESTION)
    started = httpx2.post(f"{servers[0]}{URL}", json={"dialogue": "question", "page_url": "https://example.com/"})
    assert started.status_code == 201, started.text
    conversation, token, step = started.json()["conversation_id"], started.json()["token"], started.json()["step"]
    headers = {"X-Conversation-Token": token}
    at_once = threading.Barrier(ANSWERS)

    def answer(number: int) -> int:
        with httpx2.Client(base_url=servers[number % len(servers)], timeout=60) as client:
            client.get("/healthz")  # connected before the race starts
            at_once.wait()
            reply = client.post(f"{URL}/{conversation}/replies", json={"step": step, "choice": "0"}, headers=headers)
            return reply.status_code

    with ThreadPoolExecutor(max_workers=ANSWERS) as pool:
        with held_until_every_process_waits(db, conversation, len(servers)):
            replies = [pool.submit(answer, number) for number in range(ANSWERS)]
        statuses = sorted(reply.result() for reply in replies)

    assert statuses == [200] + [409] * (ANSWERS - 1)
    now = httpx2.get(f"{servers[-1]}{URL}/{conversation}", headers=headers).json()
    assert now["step"] == step + 1
    assert [entry["text"] for entry in now["transcript"] if entry["role"] == "visitor"] == ["Yes"]
