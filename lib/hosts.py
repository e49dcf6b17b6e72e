"""Host names as ALLOWED_HOSTS and requests give them, without Django (the settings read this too)."""

import ipaddress


def is_address(host: str) -> bool:
    """Whether `host` (no port; an IPv6 one in brackets or not) is a number rather than a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
