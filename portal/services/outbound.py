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

Both use `is_public`. An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4,
Teredo) is judged by that IPv4 address, since that is where the packets end up.

Whatever the setting, only http and https are spoken: the opener has no FTP, file or data
handler, and a redirect is followed only to http(s), each hop through the same check (an
FTP redirect would otherwise connect anywhere and echo the reply into the pull's error).

Set OUTBOUND_ALLOW_PRIVATE=1 when receivers live on the merchant's own network (and for a
receiver on the same machine while trying Meterbill out).
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import current_app

from portal.billing.errors import ValidationError

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
ALLOW_SETTING = "OUTBOUND_ALLOW_PRIVATE"
MAX_REDIRECTS = 5

_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address
_REFUSED_V6 = tuple(ipaddress.ip_network(net) for net in (
    "::/96",           # IPv4-compatible (deprecated; also :: and ::1)
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): the IPv4 sits where the local prefix says
    "3fff::/20",       # documentation (RFC 9637), not yet in every Python's tables
))


class PrivateAddressError(OSError):
    """A request would reach a private address while OUTBOUND_ALLOW_PRIVATE is off."""


def private_allowed() -> bool:
    """Whether this install may post to private addresses (OUTBOUND_ALLOW_PRIVATE)."""
    return bool(current_app.config.get(ALLOW_SETTING))


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable; the one check of saved hosts and of
    every connection, so both refuse the same addresses.

    :param address: an IPv4 or IPv6 address, as getaddrinfo gives it (a zone is ignored).
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        return _is_public_v6(ip)
    return _is_public_v4(ip)


def _is_public_v4(ip: ipaddress.IPv4Address) -> bool:
    """Globally routable unicast (Python's `is_global` alone lets multicast through)."""
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address is a way to reach (empty for a plain IPv6).
    Python calls most of these forms global whatever IPv4 address they carry."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip in _NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:  # (server, client): the relay and the host behind it
        return ip.teredo
    return ()


def _is_public_v6(ip: ipaddress.IPv6Address) -> bool:
    """Global unicast (2000::/3) outside the non-global ranges; an address carrying an IPv4
    one is judged by it. Site-local, unique-local, link-local and the rest fall outside."""
    if any(ip in net for net in _REFUSED_V6):
        return False
    embedded = _embedded_v4(ip)
    if embedded:
        return all(_is_public_v4(v4) for v4 in embedded)
    return ip in _GLOBAL_UNICAST and ip.is_global and not ip.is_multicast


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


class _WebRedirect(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to http(s) and at most MAX_REDIRECTS times: urllib's own
    handler also follows ftp://, which would connect without the address check. The next
    hop is opened by the same opener, so its address is checked like the first."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urlsplit(newurl).scheme.lower()
        hops = len(getattr(req, "redirect_dict", {}))
        if scheme not in ("http", "https") or hops >= MAX_REDIRECTS:
            fp.close()  # nothing of this answer is read
            why = (f"more than {MAX_REDIRECTS} redirects" if scheme in ("http", "https")
                   else "only http:// and https:// redirects are followed")
            raise urllib.error.URLError(f"redirected to {newurl[:200]}: refused, {why}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """A urllib opener for merchant-given URLs: http(s) only, public addresses only unless
    allowed. Built by hand rather than with build_opener, which adds FTP, file and data
    handlers and the environment's proxies (the address checked must be the one reached).

    :param handlers: further handlers; one that handles redirects (e.g. one refusing them)
        replaces the default, which follows http(s) redirects only.
    """
    if private_allowed():
        web = [urllib.request.HTTPHandler(), urllib.request.HTTPSHandler()]
    else:
        web = [_PublicHTTPHandler(), _PublicHTTPSHandler()]
    if not any(isinstance(h, urllib.request.HTTPRedirectHandler) for h in handlers):
        web.append(_WebRedirect())
    director = urllib.request.OpenerDirector()
    for handler in [urllib.request.UnknownHandler(), *web, urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor(), *handlers]:
        director.add_handler(handler)
    return director
