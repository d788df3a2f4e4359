"""Answers sent at the same moment to one step of one conversation, through real `overture serve` processes: two
on PostgreSQL sharing Redis (the README's scale-out), one on SQLite. Exactly one answer is taken, whichever
process it reached; the others are told the step was already answered (409)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import Person
from processes import free_port, running_all
from racing import lined_up

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
        # On PostgreSQL, the visitor's row (each answer updates it) is held until each process has an answer waiting
        # on a lock: every process has read the conversation before any answer commits.
        visitor = select(Conversation.person_id).where(Conversation.public_id == conversation).scalar_subquery()
        with lined_up(db, select(Person.id).where(Person.id == visitor), contenders=len(servers)):
            replies = [pool.submit(answer, number) for number in range(ANSWERS)]
        statuses = sorted(reply.result() for reply in replies)

    assert statuses == [200] + [409] * (ANSWERS - 1)
    now = httpx2.get(f"{servers[-1]}{URL}/{conversation}", headers=headers).json()
    assert now["step"] == step + 1
    assert [entry["text"] for entry in now["transcript"] if entry["role"] == "visitor"] == ["Yes"]
