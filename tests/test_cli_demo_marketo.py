"""`overture demo` and its fake Marketo, as real processes: the banner names the fake's URL, client id and secret,
the fake answers there while the demo runs, and --no-marketo leaves it out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx2

from processes import free_port, running

MARKETO_LINE = re.compile(
    r"Marketo \(fake\): (http://127\.0\.0\.1:\d+)  client id (\S+), secret (\S+) — connect it on Integrations > Marketo"
)


def banner_of(process: subprocess.Popen[str]) -> str:
    """The banner a running demo printed: its lines up to "Stop with Ctrl+C." (flushed before it serves)."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if "Stop with Ctrl+C." in line:
            return "".join(lines)
    raise AssertionError(f"the demo ended without its banner: {''.join(lines)}")


def test_the_demo_prints_its_fake_marketo_whose_token_endpoint_takes_the_printed_id_and_secret(
    tmp_path: Path,
) -> None:
    port = free_port()
    with running(["demo", "--port", str(port), "--data-dir", str(tmp_path / "demo")], {}, port) as process:
        banner = banner_of(process)
        found = MARKETO_LINE.search(banner)
        assert found, banner
        url, client_id, secret = found.groups()
        token = httpx2.get(
            f"{url}/identity/oauth/token",
            params={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
    assert (client_id, secret) == ("overture", "secret")
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"


def test_the_demo_without_marketo_prints_no_fake_marketo(tmp_path: Path) -> None:
    port = free_port()
    args = ["demo", "--no-marketo", "--port", str(port), "--data-dir", str(tmp_path / "demo")]
    with running(args, {}, port) as process:
        banner = banner_of(process)
    assert "Admin:" in banner
    assert "Marketo" not in banner
