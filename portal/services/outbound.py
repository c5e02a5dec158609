"""Outbound HTTP to addresses the merchant typed in (webhook receivers, pulled usage URLs).

Meterbill posts from inside the merchant's network, so an admin (or a stolen admin session)
could aim a webhook or a usage URL at an internal service: the database's HTTP admin, a
cloud metadata endpoint (169.254.169.254), a router. Unless OUTBOUND_ALLOW_PRIVATE is set,
only public addresses are reached:

- when a URL is saved, a host that is an IP literal of a private, loopback, link-local,
  reserved or multicast network, or `localhost`, is refused with a 400 naming the field
  (no DNS lookup there: a host that does not resolve yet is not an error);
- when a request is made, the host is resolved once and every address it resolves to must
  be public; the connection goes to that checked address (not to a second lookup), so a DNS
  answer that changes between the check and the connect cannot reach a private address.

Set OUTBOUND_ALLOW_PRIVATE=1 when receivers live on the merchant's own network (and for a
receiver on the same machine while trying Meterbill out).
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from flask import current_app

from portal.billing.errors import ValidationError

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
ALLOW_SETTING = "OUTBOUND_ALLOW_PRIVATE"


class PrivateAddressError(OSError):
    """A request would reach a private address while OUTBOUND_ALLOW_PRIVATE is off."""


def private_allowed() -> bool:
    """Whether this install may post to private addresses (OUTBOUND_ALLOW_PRIVATE)."""
    return bool(current_app.config.get(ALLOW_SETTING))


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (an IPv4-mapped IPv6 is judged as IPv4).

    :param address: an IPv4 or IPv6 address, as getaddrinfo gives it (a zone is ignored).
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_saved_host(url: str, field: str) -> None:
    """Refuse a URL whose host is plainly private (an IP literal or `localhost`) unless allowed.

    :param url: an absolute http(s) URL, already checked for its form.
    :param field: the field named in the error.
    """
    if private_allowed():
        return
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    try:
        private = not is_public(host)
    except ValueError:  # a name, not an address: checked again when the request is made
        private = host in _LOCAL_NAMES or host.endswith(".localhost")
    if private:
        raise ValidationError(field, f"must reach a public address: {host} is on a private or "
                              "local network (an administrator can allow that with "
                              "OUTBOUND_ALLOW_PRIVATE=1)")


def _public_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """socket.create_connection, but only to a public address the host resolves to."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    private = [info[4][0] for info in infos if not is_public(info[4][0])]
    if private:
        raise PrivateAddressError(f"{host} resolves to {private[0]}, a private address "
                                  "(OUTBOUND_ALLOW_PRIVATE is off)")
    return socket.create_connection(infos[0][4][:2], timeout, source_address)


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    # Connects to the checked address; TLS still verifies the certificate for the host name.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


def opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """A urllib opener for merchant-given URLs: public addresses only unless allowed.
    Proxies from the environment are not used (the address checked is the one reached).

    :param handlers: further handlers (e.g. one that refuses redirects).
    """
    base = [urllib.request.ProxyHandler({}), *handlers]
    if not private_allowed():
        base += [_PublicHTTPHandler(), _PublicHTTPSHandler()]
    return urllib.request.build_opener(*base)
