"""What the HTTP benchmarks share: the app with a no-op route, and running a script's own `--serve` mode in another
process on a free loopback port until it answers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2


def serve_with_noop(data_dir: str, port: int) -> None:
    """The server process: Overture's app with a no-op route added (what the ratios divide by), on uvicorn."""
    from pathlib import Path

    import uvicorn

    from overture.settings import Settings
    from overture.web.app import create_app

    app = create_app(Settings(data_dir=Path(data_dir), log_level="WARNING"), start_jobs=False)

    @app.get("/bench/noop")
    def noop() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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
