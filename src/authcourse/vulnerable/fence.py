"""The fence around the vulnerable servers: they listen on a loopback address, or not at all."""

from __future__ import annotations

import ipaddress

from ..errors import ConfigurationError


def vulnerable_require_loopback(host: str) -> None:
    """Refuse any address but loopback: the vulnerable servers never listen where others can reach."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(f"the vulnerable servers listen on loopback only (127.0.0.1, ::1), not {host!r}")
