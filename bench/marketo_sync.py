"""The Marketo initial sync: every lead (bulk export, streamed) and company of a fake Marketo into a scratch database.

    python bench/marketo_sync.py [--leads 1000000] [--companies 50000] [--database-url URL] [--fake-url URL]

The fake runs in a process of its own, as `overture integrations marketo fake --port P --leads N --companies M`
starts it (give its URL with --fake-url; without it this script starts one the same way with FakeMarketo). The
sync reads leads from two years before the fake started (the fake's leads span that) rather than from 2006, so the
figures measure the records, not 200 empty windows. Prints records per second, total time and peak memory of this
process (resource.getrusage). Targets (issue 16): under 3 minutes and under 500 MB for 1,000,000 leads.
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overture.db import Database, migrate  # noqa: E402
from overture.http import HttpClient  # noqa: E402
from overture.integrations.marketo.client import MarketoClient  # noqa: E402
from overture.integrations.marketo.limits import Limits, SlidingWindow  # noqa: E402
from overture.integrations.marketo.sync import sync_marketo  # noqa: E402

from scratch import scratch_database  # noqa: E402

SERVE_FAKE = textwrap.dedent(
    """
    import sys, threading
    from overture.integrations.marketo.fake import FakeMarketo
    fake = FakeMarketo(leads=int(sys.argv[1]), companies=int(sys.argv[2]), seed=1)
    print(fake.start("127.0.0.1", int(sys.argv[3])), flush=True)
    threading.Event().wait()
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> float:
    """CPU time of this process so far: on a shared machine, what the sync cost whatever else ran."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(url: str, fake_url: str, leads: int, companies: int) -> None:
    db = Database.from_url(url)
    migrate(db.engine)
    since = datetime.now(UTC) - timedelta(days=732)
    # The fake's own limit is Marketo's (100 calls / 20 s); this client may use all of it here.
    limits = Limits(window=SlidingWindow(100, 20.0))
    began, cpu = time.perf_counter(), _cpu_seconds()
    with HttpClient(allow_private=True, deadline=300.0, max_bytes=64 * 1024 * 1024) as http:
        client = MarketoClient(fake_url, "overture", "secret", http=http, limits=limits)
        summary = sync_marketo(db, client, start=since)
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    db.dispose()
    records = summary.leads.created + summary.leads.updated + summary.companies.created + summary.companies.updated
    print(f"leads: {summary.leads.created:,} created, {summary.leads.skipped:,} skipped (of {leads:,})")  # noqa: T201
    print(f"companies: {summary.companies.created:,} created (of {companies:,})")  # noqa: T201
    print(f"total time: {seconds:,.1f} s; {records / seconds:,.0f} records per second")  # noqa: T201
    print(f"CPU time of the sync's process: {cpu:,.1f} s ({cpu / max(records, 1) * 1e6:,.0f} µs a record)")  # noqa: T201
    print(f"peak memory: {_peak_mb():,.0f} MB")  # noqa: T201
    print(f"ratio: {seconds / 180:.2f} of the 3-minute target, {_peak_mb() / 500:.2f} of the 500 MB one")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: a SQLite file).")
    parser.add_argument("--fake-url", default=None, help="A running fake (else one is started in a process).")
    args = parser.parse_args()
    fake = None
    fake_url = args.fake_url
    if fake_url is None:
        port = _free_port()
        fake = subprocess.Popen(
            [sys.executable, "-c", SERVE_FAKE, str(args.leads), str(args.companies), str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert fake.stdout is not None
        fake_url = fake.stdout.readline().strip()
    try:
        with scratch_database(args.database_url, "marketo_sync") as url:
            run(url, fake_url, args.leads, args.companies)
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(timeout=20)


if __name__ == "__main__":
    main()
