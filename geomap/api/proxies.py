"""Who is calling, as far as the network can tell: the TCP peer's address, or what a trusted
reverse proxy says in ``X-Forwarded-For`` / ``X-Forwarded-Proto``.

Forwarded headers are believed only when the TCP peer is one of ``GEOMAP_TRUSTED_PROXIES``
(default: none). Anyone can write those headers; only a proxy we run appends the truth.
uvicorn is started with ``proxy_headers=False`` (:data:`SERVER_OPTIONS`) so that the peer's
address reaches the app unchanged and this module alone decides.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from starlette.datastructures import Headers

#: Options every uvicorn server of geomap runs with: the app, not uvicorn, reads forwarded headers.
SERVER_OPTIONS = {"proxy_headers": False}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.1``, ``10.0.0.0/8`` or ``::1`` entries as networks; ValueError names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted proxy {entry!r} is not an IP address or network") from None
    return tuple(networks)


@dataclass(frozen=True)
class Client:
    """The caller: its address and whether it reached us over HTTPS."""

    address: str
    https: bool


class TrustedProxies:
    """Resolves a request's client from its TCP peer and, behind a trusted proxy, forwarded headers."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks = parse_networks(entries)

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` is one of the configured proxies."""
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client(self, scope) -> Client:
        """The client of an ASGI ``scope``.

        Behind trusted proxies, ``X-Forwarded-For`` is read from the right: each proxy appends
        the address it saw, so the first address that is not a trusted proxy is the client.
        Entries further left were written by the client and are never believed.
        """
        peer = (scope.get("client") or ("unknown", 0))[0]
        https = scope.get("scheme") == "https"
        if not self.trusts(peer):
            return Client(peer, https)
        headers = Headers(scope=scope)
        proto = headers.get("x-forwarded-proto")
        if proto is not None:
            https = proto.split(",")[-1].strip().lower() == "https"
        hops = [h.strip() for value in headers.getlist("x-forwarded-for") for h in value.split(",")]
        address = peer
        for hop in reversed([h for h in hops if h]):
            address = hop
            if not self.trusts(hop):
                break
        return Client(address, https)
