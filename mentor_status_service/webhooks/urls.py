"""Which webhook URLs the service may call: the server-side request forgery rules.

A URL is refused when its scheme is not https (http only with WEBHOOK_ALLOW_HTTP), when it
carries user info, or when its host is or resolves to any address that is not public (loopback,
private, link-local, multicast, reserved...; allowed only with WEBHOOK_ALLOW_PRIVATE). The check is
made when a webhook is saved, and again at every delivery on the addresses then resolved, once:
the delivery connects to the address it checked (see delivery.py and client.py), so a name that resolves to
a public address at the check and to a private one at the connection (DNS rebinding) gets nowhere.
"""
import ipaddress
import logging
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
RELAXED_BY = ("WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE")

logger = logging.getLogger(__name__)


def warn_when_relaxed(config):
    """At start (web process and delivery process): say which setting relaxes these rules."""
    for name in RELAXED_BY:
        if config[name]:
            logger.warning("%s=true: webhook URLs are not held to the %s rule; for local development only", name,
                           "https-only" if name == "WEBHOOK_ALLOW_HTTP" else "public-address")


class RefusedURL(ValueError):
    """A URL the service will not call; the message says why, for the client or the delivery log."""


class Target(NamedTuple):
    """Where a delivery goes: the address to connect to, and the name it is for (Host, SNI)."""

    scheme: str
    hostname: str
    port: int
    address: str
    path: str  # with its query string

    @property
    def host_header(self):
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def parse(url, allow_http):
    """(scheme, hostname, port, path) of `url`; RefusedURL if its form is not allowed."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in url):
        raise RefusedURL("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedURL(f"Not a valid URL: {error}.") from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise RefusedURL("The URL must be https://" + (" or http://" if allow_http else "") +
                         " (http:// only when the operator sets WEBHOOK_ALLOW_HTTP=true).")
    if "@" in parts.netloc:
        raise RefusedURL("The URL must not contain user info (user:password@).")
    if not parts.hostname:
        raise RefusedURL("The URL has no host.")
    if parts.fragment:
        raise RefusedURL("The URL must not contain a fragment (#...).")
    if port == 0:
        raise RefusedURL("The URL's port must not be 0.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


# IPv6 prefixes whose addresses carry an IPv4 address in their low 32 bits (NAT64, RFC 6052 and 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# IPv4-translated addresses (RFC 2765, SIIT): a translator turns them into the IPv4 they carry, and
# Python's `is_global` calls them all global. None is a webhook's business: every one is refused.
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def is_public(address):
    """Whether `address` (an IP address as text) is a public unicast address, and so is any IPv4
    address it carries (mapped, NAT64, 6to4, Teredo, IPv4-compatible: each can reach that IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast or ip in _IPV4_TRANSLATED:
        return False
    return all(is_public(str(carried)) for carried in _carried_ipv4(ip))


def _carried_ipv4(ip):
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    carried = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    if any(ip in network for network in (*_NAT64, _IPV4_COMPATIBLE)):
        carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in carried if address is not None]


def resolve(hostname, port):
    """Every address `hostname` resolves to, in the resolver's order (an IP literal: itself)."""
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedURL(f"The host {hostname!r} does not resolve: {error}.") from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def check(url, allow_http, allow_private):
    """A Target for `url`, resolved once and checked: RefusedURL when it may not be called."""
    scheme, hostname, port, path = parse(url, allow_http)
    addresses = resolve(hostname, port)
    if not allow_private and not all(is_public(address) for address in addresses):
        # The host only, never the address: the answer must not tell what an internal name resolves to.
        raise RefusedURL(f"The host {hostname!r} is or resolves to an address that is not public (loopback, "
                         "private, link-local, multicast or reserved).")
    return Target(scheme, hostname, port, addresses[0], path)
