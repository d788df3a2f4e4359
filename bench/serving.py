"""What the HTTP benchmarks share: run the script's own `--serve` mode in another process on a free loopback port,
and wait until it answers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2


@contextlib.contextmanager
def server_process(script: str, data_dir: str, ready_path: str) -> Iterator[str]:
    """Starts `python script --serve DATA_DIR PORT`, yields its base URL once `ready_path` answers, stops it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, script, "--serve", data_dir, str(port)], env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # polling a starting process, at most 30 s
            try:
                httpx2.get(base + ready_path, timeout=5)
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
