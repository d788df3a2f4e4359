"""IP addresses are kept cut to their network (IPv4 /24, IPv6 /48) unless OVERTURE_FULL_IP_ADDRESSES: what the
cut keeps, and the server's access log as an operator reads it."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from overture.client_addresses import kept, network_of
from overture.db import Database
from processes import free_port, running


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.0"),
        ("198.51.100.255", "198.51.100.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("2001:0db8:0001:ffff::1", "2001:db8:1::"),
        ("::ffff:203.0.113.7", "203.0.113.0"),
        ("::1", "::"),
        ("testclient", "testclient"),
        ("unknown", "unknown"),
    ],
)
def test_an_address_is_cut_to_its_network(address: str, network: str) -> None:
    assert network_of(address) == network
    assert kept(address, full=False) == network
    assert kept(address, full=True) == address


def access_log(tmp_path: Path, database_url: str, **extra: str) -> str:
    (tmp_path / "data").mkdir(exist_ok=True)
    env = {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data"), **extra}
    port = free_port()
    with running(["serve", "--port", str(port)], env, port) as server:
        httpx2.get(f"http://127.0.0.1:{port}/admin/login")
        server.terminate()  # its output ends with the process
        assert server.stdout is not None
        return server.stdout.read()


def test_the_servers_access_log_shows_the_clients_network_only(tmp_path: Path, database_url: str, db: Database) -> None:
    log = access_log(tmp_path, database_url)
    assert '127.0.0.0 - "GET /admin/login HTTP/1.1" 200' in log
    assert "127.0.0.1" not in log.replace("http://127.0.0.1", "")


def test_with_full_ip_addresses_the_access_log_shows_the_whole_address(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    log = access_log(tmp_path, database_url, OVERTURE_FULL_IP_ADDRESSES="true")
    assert "127.0.0.1:" in log and '"GET /admin/login HTTP/1.1" 200' in log
