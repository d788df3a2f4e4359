"""Real `overture` processes for tests: a free port, and a command started and waited for until it serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2

STARTUP_SECONDS = 60  # generous: on a loaded test machine importing the app alone can take 15 s


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    """Starts the command and waits (bounded) until /healthz answers on `port`."""
    with running_all([(args, port)], env) as [process]:
        yield process


@contextmanager
def running_all(commands: list[tuple[list[str], int]], env: dict[str, str]) -> Iterator[list[subprocess.Popen[str]]]:
    """Starts every command (arguments, port) at once and waits (bounded) until each answers on /healthz."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "overture", *args],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for args, _ in commands
    ]
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for process, (_, port) in zip(processes, commands, strict=True):
            _wait_until_serving(process, port, deadline)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
            if process.stdout:
                process.stdout.close()


def _wait_until_serving(process: subprocess.Popen[str], port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.1)  # polling a starting process, not timing behaviour
    raise AssertionError(f"no answer on /healthz within {STARTUP_SECONDS} s")
