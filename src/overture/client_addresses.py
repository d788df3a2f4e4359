"""How Overture keeps a client's IP address: cut to its network unless OVERTURE_FULL_IP_ADDRESSES says otherwise
(docs/privacy.md). IPv4 keeps its first three bytes (/24) and IPv6 its first 48 bits (/48), the usual practice of
web analytics: enough to tell a country or a provider, not a household or a device.

Sign-in throttling must tell one address from its neighbours, so it counts failures under a keyed hash of the whole
address (HMAC-SHA256 with the secret key) rather than the address: a row of `login_throttles` cannot be turned back
into an address without the key, and IPv4's few billion addresses cannot be tried one by one against it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def network_of(address: str) -> str:
    """The address with its host part zeroed: 203.0.113.7 gives 203.0.113.0, 2001:db8:85a3:8d3::7 gives
    2001:db8:85a3::. An IPv4 address written as IPv6 (::ffff:203.0.113.7) is cut as IPv4. Anything that is not an
    IP address (a test client's name, "unknown") is returned as it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def kept(address: str, full: bool) -> str:
    """The address as it may be stored or logged: whole when `full` (OVERTURE_FULL_IP_ADDRESSES), else its network."""
    return address if full else network_of(address)


def throttle_key(address: str, full: bool, secret_key: str) -> str:
    """What sign-in failures from `address` are counted under: the address itself when `full`, else the hex
    HMAC-SHA256 of it with the secret key (64 characters, one per address, not reversible without the key)."""
    if full:
        return address
    return hmac.new(secret_key.encode(), address.strip().encode(), hashlib.sha256).hexdigest()
