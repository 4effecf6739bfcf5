"""Where a webhook may point: http(s), no credentials in the URL, and (unless
GRIDBOARD_WEBHOOK_ALLOW_PRIVATE) only public addresses. See docs/reference.md#webhooks."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from core.errors import InvalidInput
from core.validation import FieldError, parse_text
from core.webhook_models import URL_LENGTH

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(ValueError):
    """A webhook's host resolves to an address it may not reach (checked before each send)."""


def _public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` names (a literal address names itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def allowed_addresses(host: str, port: int, *, allow_private: bool) -> list[IpAddress]:
    """The addresses of ``host`` a delivery may connect to; ``RefusedTarget`` when it names
    none, or (without ``allow_private``) any that is not public: one private answer among
    public ones is how a name is turned against an internal service."""
    try:
        addresses = resolve(host, port)
    except OSError as error:
        raise RefusedTarget(f"its host {host!r} does not resolve ({error.strerror})") from None
    if not addresses:
        raise RefusedTarget(f"its host {host!r} has no address")
    if not allow_private:
        private = [str(a) for a in addresses if not _public(a)]
        if private:
            raise RefusedTarget(
                f"its host {host!r} is a loopback, private or otherwise non-public address "
                f"({', '.join(private)}); set GRIDBOARD_WEBHOOK_ALLOW_PRIVATE=true to allow "
                "receivers on this host or network"
            )
    return addresses


def split(url: str) -> SplitResult:
    """``url`` taken apart; ``ValueError`` naming what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"must start with http:// or https://, got {parts.scheme or 'none'}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "must not hold a user name or password (user:password@host): the receiver checks "
            "the signature made with the webhook's secret instead"
        )
    if not parts.hostname:
        raise ValueError("must name a host, as in https://receiver.example.com/hook")
    if parts.fragment:
        raise ValueError("must not have a #fragment: it is never sent")
    try:
        parts.port  # noqa: B018 (a port out of range or not a number is refused here)
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
    return parts


def port_of(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def check_url(raw: object, *, allow_private: bool) -> str:
    """The URL a manager gave, checked; ``InvalidInput`` on field ``url`` naming the problem."""
    try:
        url = parse_text(raw, max_length=URL_LENGTH)
        if any(c.isspace() for c in url):
            raise FieldError("must not contain spaces")
        parts = split(url)
        allowed_addresses(parts.hostname or "", port_of(parts), allow_private=allow_private)
    except (ValueError, RefusedTarget) as error:
        raise InvalidInput.single("url", str(error)) from None
    return url
