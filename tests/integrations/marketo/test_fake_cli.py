"""`overture integrations marketo fake`: the fake Marketo started from the command line, as the demo and the
benchmarks start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2

import overture
from processes import free_port

# The tests run in a temporary folder: the command imports this same package whatever PYTHONPATH said.
SOURCE = os.pathsep.join([str(Path(overture.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])


def test_the_fake_command_serves_a_generated_marketo_and_prints_how_to_connect() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "overture",
            "integrations",
            "marketo",
            "fake",
            "--port",
            str(port),
            "--leads",
            "250",
            "--companies",
            "20",
            "--seed",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": SOURCE},
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(5)]  # the fifth line is printed once it listens
        assert printed[1].split() == ["REST", "base", "URL:", f"http://127.0.0.1:{port}"]
        assert printed[2].split() == ["Client", "id:", "overture"] and "Ctrl+C" in printed[4]
        answer = httpx2.get(
            f"http://127.0.0.1:{port}/identity/oauth/token",
            params={"grant_type": "client_credentials", "client_id": "overture", "client_secret": "secret"},
        )
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        lead = httpx2.get(f"http://127.0.0.1:{port}/rest/v1/lead/250.json", headers=bearer).json()["result"]
        assert [item["id"] for item in lead] == [250]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
