"""Which address other devices in the room can reach this machine at."""

from __future__ import annotations

import ipaddress

import psutil


def lan_addresses() -> list[str]:
    """IPv4 addresses of interfaces that are up, not loopback or link-local; private ones first."""
    stats = psutil.net_if_stats()
    found: list[ipaddress.IPv4Address] = []
    for name, addresses in psutil.net_if_addrs().items():
        if name in stats and not stats[name].isup:
            continue
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.address)
            except ValueError:
                continue
            if isinstance(ip, ipaddress.IPv4Address) and not (ip.is_loopback or ip.is_link_local):
                found.append(ip)
    found.sort(key=lambda ip: (not ip.is_private, int(ip)))
    return [str(ip) for ip in found]


def public_base_url(host: str, port: int, public_url: str | None) -> tuple[str, str | None]:
    """The base URL for join links and QR codes, and a warning if phones may not reach it."""
    if public_url:
        return public_url.rstrip("/"), None
    if host in ("0.0.0.0", "::", ""):
        lan = lan_addresses()
        if lan:
            return f"http://{lan[0]}:{port}", None
        return (
            f"http://127.0.0.1:{port}",
            "no network address found: phones cannot reach this machine (use --public-url)",
        )
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    warning = (
        "listening on loopback only: phones cannot join; use --host 0.0.0.0 or --public-url"
        if loopback
        else None
    )
    netloc = f"[{host}]" if ":" in host else host
    return f"http://{netloc}:{port}", warning
